"""Wall time and peak memory of a command and every process it starts (Linux, no psutil).

Peak memory is the larger of two readings: the kernel's `ru_maxrss` of the child from `wait4`
(the largest single process, its own and its waited-for children's), and the largest sum of RSS
over the process tree sampled from /proc every `interval` seconds (catches concurrent children).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Measurement:
    """One run of one command."""

    seconds: float
    cpu_seconds: float  # user + system, all processes: less sensitive than wall time to load
    peak_rss_mib: float
    returncode: int

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(runs: Sequence[Measurement]) -> dict[str, Any]:
    """Min and median of time and peak memory over the successful runs."""
    good = [r for r in runs if r.ok]
    summary: dict[str, Any] = {"runs": [r.as_dict() for r in runs], "ok": len(good) == len(runs)}
    if good:
        seconds = [r.seconds for r in good]
        memory = [r.peak_rss_mib for r in good]
        summary |= {
            "min_s": min(seconds),
            "median_s": statistics.median(seconds),
            "median_cpu_s": statistics.median(r.cpu_seconds for r in good),
            "min_rss_mib": min(memory),
            "median_rss_mib": statistics.median(memory),
        }
    return summary


def measure(
    command: Sequence[str],
    cwd: Path,
    log_path: Path,
    env: dict[str, str] | None = None,
    interval: float = 0.05,
) -> Measurement:
    """Run `command` in `cwd` with its output to `log_path`; time it and track its memory."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
        sampler = _TreeSampler(process.pid, interval)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    peak = max(usage.ru_maxrss * 1024, sampler.peak_bytes)  # ru_maxrss is in KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(round(seconds, 3), round(cpu, 3), round(peak / MIB, 1), process.returncode)


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped."""

    def __init__(self, root: int, interval: float):
        super().__init__(daemon=True)
        self._root = root
        self._interval = interval
        self._stopped = threading.Event()
        self.peak_bytes = 0

    def run(self) -> None:
        while not self._stopped.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self._root))
            self._stopped.wait(self._interval)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def tree_rss_bytes(root: int) -> int:
    """The summed resident memory of `root` and all its descendants, now."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            parent = _parent_pid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_bytes(pid)
        todo.extend(children.get(pid, []))
    return total


def _parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None  # the process ended meanwhile
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0
