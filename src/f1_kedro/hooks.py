"""Project hooks: one run at a time per project, summaries marked unfinished while a run rewrites
them, and a log that says how long each stage took."""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from f1_kedro.run_summary import closing_summary

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
        handle = open(path, "a+")
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


class UnfinishedRunHook:
    """Marks summary files as unfinished while a run that rewrites them is under way.

    A run killed before it writes `score_summary` (SIGKILL, power loss) would leave the previous
    run's summary beside this run's new PREDICTIONS. So, just before the first node that can
    write anything (a node with a persisted output) starts, each named dataset the run will write
    is replaced by a marker (`status: unfinished`, when, which pid, the last complete summary
    under `previous`); the node overwrites it when it succeeds, and a failure turns it into
    `status: failed` with the error. A run refused before that point (a bad parameter, a request
    checked against the data by an in-memory node) leaves the summary untouched. Nodes stay pure.
    """

    def __init__(self, datasets: tuple[str, ...], rerun: str):
        self._datasets = datasets
        self._rerun = rerun  # the command that writes them again, for the marker's message
        self._pending: list[str] = []
        self._marked: list[str] = []
        self._run: dict[str, Any] = {}

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any) -> None:
        self._pending = [name for name in self._datasets if name in pipeline.all_outputs()]
        self._marked = []
        self._run = run_params

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any) -> None:
        if self._pending and any(_persisted(catalog, name) for name in node.outputs):
            self._mark(catalog)

    def _mark(self, catalog: Any) -> None:
        self._marked, self._pending = self._pending, []
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        pipelines = ",".join(self._run.get("pipeline_names") or ["__default__"])
        for name in self._marked:
            marker = {
                "status": "unfinished",
                "message": (
                    f"a kedro run (pipelines {pipelines}, pid {os.getpid()}) started at "
                    f"{started} to rewrite this file and has not finished: it is running, or it "
                    f"was killed. Nothing here describes its results; for a complete summary, "
                    f"run {self._rerun}. `previous` is the last complete one."
                ),
                "started_at": started,
                "pid": os.getpid(),
                "previous": _last_complete(catalog, name),
            }
            catalog.save(name, marker)

    @hook_impl
    def on_pipeline_error(self, error: Exception, catalog: Any) -> None:
        for name in self._marked:
            marker = catalog.load(name)
            if isinstance(marker, dict) and marker.get("status") == "unfinished":
                reason = " ".join(str(error).split())[:2000]  # the whole message, one line
                marker["status"] = "failed"
                marker["message"] = (
                    f"the kedro run that started at {marker['started_at']} to rewrite this file "
                    f"failed ({type(error).__name__}: {reason}). Nothing here describes its "
                    f"results; fix the cause and run {self._rerun}. `previous` is the last "
                    f"complete summary."
                )
                catalog.save(name, marker)
        self._marked = []

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._marked, self._pending = [], []


def _persisted(catalog: Any, name: str) -> bool:
    """Whether saving `name` writes somewhere (not a MemoryDataset, nor an undeclared one)."""
    kind = catalog.get_type(name)
    return kind is not None and not kind.endswith("MemoryDataset")


def _last_complete(catalog: Any, name: str) -> Any:
    """The dataset's content if it is a complete summary, else the one its marker keeps."""
    if not catalog.exists(name):
        return None
    try:
        content = catalog.load(name)
    except Exception:  # an unreadable file is not a summary to keep
        logger.debug("%s could not be read; no previous summary kept", name, exc_info=True)
        return None
    if isinstance(content, dict) and content.get("status") in {"unfinished", "failed"}:
        return content.get("previous")
    return content


class StageTimingHook:
    """Logs each node as it starts and ends, with its stage, its place in the run and its duration,
    then the time of each stage and of the whole run (also when a node fails).

    A stage is the registered pipeline (bootstrap, ingest, ... in `RUN_ORDER`) that holds the node.
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._durations: dict[str, float] = {}
        self._stage_of: dict[str, str] = {}
        self._count = 0
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self, pipeline: Any) -> None:
        self._durations.clear()
        self._started.clear()
        self._count = len(pipeline.nodes)
        self._stage_of = _stages_of_nodes()
        self._run_started = time.perf_counter()

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        position = len(self._durations) + len(self._started) + 1
        logger.info("▶ [%d/%d] %s: %s", position, self._count, self._stage(node), node.name)
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        seconds = time.perf_counter() - self._started.pop(node.name, time.perf_counter())
        self._durations[node.name] = seconds
        logger.info(
            "✔ [%d/%d] %s: %s took %s",
            len(self._durations),
            self._count,
            self._stage(node),
            node.name,
            _seconds(seconds),
        )

    @hook_impl
    def on_node_error(self, node: Any) -> None:
        seconds = time.perf_counter() - self._started.pop(node.name, time.perf_counter())
        logger.error("✘ %s: %s failed after %s", self._stage(node), node.name, _seconds(seconds))

    @hook_impl
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        self._summary("Stage timings")
        last_stage = next((self._stage_of.get(name) for name in reversed(self._durations)), None)
        lines = closing_summary(catalog, pipeline.all_outputs(), last_stage)
        if lines:
            logger.info("Done.\n%s", "\n".join(f"  {line}" for line in lines))

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._summary("Stage timings up to the failure")

    def _stage(self, node: Any) -> str:
        return self._stage_of.get(node.name, "-")

    def _summary(self, title: str) -> None:
        if not self._durations:
            return
        stages: dict[str, list[tuple[str, float]]] = {}
        for name, seconds in self._durations.items():
            stages.setdefault(self._stage_of.get(name, "-"), []).append((name, seconds))
        lines = []
        for stage, nodes in stages.items():
            lines.append(f"  {stage:<12} {_seconds(sum(s for _, s in nodes)):>9}")
            lines.extend(f"    {name:<38} {_seconds(seconds):>9}" for name, seconds in nodes)
        total = _seconds(time.perf_counter() - self._run_started)
        logger.info("%s:\n%s\n  %-12s %9s", title, "\n".join(lines), "total", total)


def _stages_of_nodes() -> dict[str, str]:
    """Node name -> the first registered stage (in run order) whose pipeline holds it."""
    from kedro.framework.project import pipelines

    from f1_kedro.pipeline_registry import RUN_ORDER

    stage_of: dict[str, str] = {}
    try:
        for stage in RUN_ORDER:
            if stage in pipelines:
                for node in pipelines[stage].nodes:
                    stage_of.setdefault(node.name, stage)
    except Exception:
        logger.debug("no stage names for the run log", exc_info=True)
    return stage_of


def _seconds(seconds: float) -> str:
    """`4.2 s` or, from a minute on, `3 min 05 s`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class LazyEngineHook:
    """Imports an engine's hook only in runs whose parameters have that engine's group.

    The Snowflake hook pulls in Snowpark (seconds of imports); local runs never need it.
    """

    def __init__(self, target: str, when_param: str):
        self._target = target
        self._when_param = when_param
        self._hook: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._hook = None
        if context.params.get(self._when_param):
            module, name = self._target.split(":")
            self._hook = getattr(importlib.import_module(module), name)()
            self._hook.after_context_created(context=context)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self._hook:
            self._hook.before_pipeline_run(run_params=run_params)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self._hook:
            self._hook.before_node_run(node=node)

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._hook:
            self._hook.after_pipeline_run()

    @hook_impl
    def on_pipeline_error(self) -> None:
        if self._hook:
            self._hook.on_pipeline_error()
