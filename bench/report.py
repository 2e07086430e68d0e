"""What a benchmark run prints, kept line by line for the JSON results file beside the numbers."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.scale import PROJECT_ROOT

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
PACKAGES = ("kedro", "dbt-core", "dbt-duckdb", "duckdb", "pandas", "pyarrow", "numpy")


class Report:
    """Prints lines as they come and keeps them, with structured results, for the JSON file."""

    def __init__(self) -> None:
        self.started = datetime.now(timezone.utc)
        self.lines: list[str] = []
        self.data: dict[str, Any] = {
            "date": self.started.isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": versions(),
            "git": git_state(),
        }

    def print(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Print a plain aligned table: first column left, the others right."""
        cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
        for row in cells:
            rest = (c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
            self.print("  " + "  ".join([row[0].ljust(widths[0]), *rest]))

    def save(self, directory: Path = RESULTS_DIR) -> Path:
        """Write everything to <directory>/<timestamp>.json (atomically: .tmp, then rename)."""
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        path = directory / f"{stamp}.json"
        payload = self.data | {"printed": self.lines}
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        tmp.replace(path)
        return path


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu_count": os.cpu_count(),
        "memory_gib": round(memory / 1024**3, 1),
        "platform": platform.platform(),
        # other work on the machine slows wall times: the 1-minute load average at the start
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
    }


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def git_state() -> dict[str, str]:
    """The commit measured, and the last commit that touched the dbt models."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "head": git("rev-parse", "--short", "HEAD"),
        "dbt_last_commit": git("log", "-1", "--format=%h %s", "--", "dbt"),
        "dirty_paths": git("status", "--porcelain", "--", "src", "conf", "dbt"),
    }
