"""Project hooks: one run at a time per project, and a log that says how long each stage took."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


class RunLockError(RuntimeError):
    """Another `kedro run` of this project is writing the warehouse and the registry."""


class RunLockHook:
    """Holds an exclusive lock on `data/.kedro_run.lock` for the length of a run.

    The embedded warehouse (DuckDB files) and the local registry accept one writer; a second
    `kedro run` stops at once with a message naming the lock and the process that holds it.
    The lock is an OS file lock, so a run killed with SIGKILL releases it with its process.
    """

    def __init__(self, relative_path: str = "data/.kedro_run.lock"):
        self._relative_path = relative_path
        self._handle = None

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        path = Path(run_params.get("project_path") or Path.cwd()) / self._relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the run, closed in _release
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunLockError(
                f"another kedro run of this project is in progress ({holder}; lock file {path}). "
                "Wait for it to finish: the warehouse and the model registry take one writer at "
                "a time."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class StageTimingHook:
    """Logs each node as it starts and ends, with its duration, and a table of them at the end."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._durations: dict[str, float] = {}
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._durations.clear()
        self._run_started = time.perf_counter()

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        logger.info("▶ %s", node.name)
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        seconds = time.perf_counter() - self._started.pop(node.name, time.perf_counter())
        self._durations[node.name] = seconds
        logger.info("✔ %s took %.1f s", node.name, seconds)

    @hook_impl
    def after_pipeline_run(self) -> None:
        if not self._durations:
            return
        total = time.perf_counter() - self._run_started
        lines = [f"  {name:<40} {secs:7.1f} s" for name, secs in self._durations.items()]
        logger.info("Stage timings:\n%s\n  %-40s %7.1f s", "\n".join(lines), "total", total)
