"""A scratch copy of the project to run `kedro run` in, so that the developer's data/ is untouched.

Kedro resolves catalog paths (data/...) against the working directory: the copy holds src/, conf/,
dbt/, sql/, pyproject.toml and .telemetry (Kedro puts the copy's src/ first on the path, so the code
measured is the code of this moment). Beside it, shared/data/formula1 links to the real data, as
the default ingest source `../shared/data/formula1` expects.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.scale import PROJECT_ROOT, REAL_DATA

COPIED = ("src", "conf", "dbt", "sql", "pyproject.toml", ".telemetry")
_IGNORED = shutil.ignore_patterns(
    "target", "logs", "dbt_packages", ".user.yml", "__pycache__", "*.egg-info"
)

_STAGES_SCRIPT = """
import json
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
bootstrap_project(".")
from f1_kedro.pipeline_registry import RUN_ORDER
print("STAGES=" + json.dumps({"run_order": list(RUN_ORDER), "registered": sorted(pipelines)}))
"""


def _copy_worktree(root: Path) -> None:
    """The files as they are now, uncommitted edits included."""
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=_IGNORED)
        elif source.exists():
            shutil.copy(source, root / name)


def _export_head(root: Path) -> None:
    """The files of the last commit: what a fresh clone would run."""
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", "HEAD"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    paths = [name for name in COPIED if name in listed]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", "--", *paths],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")


@dataclass(frozen=True)
class Stages:
    """The stages that `kedro run` runs, in order, and those of the design not there yet."""

    present: tuple[str, ...]
    missing: tuple[str, ...]


class ScratchProject:
    """A temporary copy of the project; `reset()` empties its data/ between runs."""

    def __init__(self, code: str = "worktree", parent: Path | None = None):
        self.base = Path(tempfile.mkdtemp(prefix="f1_bench_", dir=parent))
        self.root = self.base / "f1_kedro"
        self.root.mkdir()
        if code == "head":
            _export_head(self.root)
        else:
            _copy_worktree(self.root)
        (self.root / "conf" / "local").mkdir(parents=True, exist_ok=True)
        (self.base / "shared" / "data").mkdir(parents=True)
        os.symlink(REAL_DATA, self.base / "shared" / "data" / "formula1")

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    def reset(self) -> None:
        """Start the next run from an empty warehouse, registry and reports."""
        shutil.rmtree(self.root / "data", ignore_errors=True)
        shutil.rmtree(self.root / "dbt" / "target", ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def kedro(self, *args: str) -> list[str]:
        """The command line of `kedro <args>` from this virtualenv."""
        return [str(Path(sys.executable).with_name("kedro")), *args]

    def stages(self) -> Stages:
        """Read the run order and the registered pipelines from the project's registry."""
        done = subprocess.run(
            [sys.executable, "-c", _STAGES_SCRIPT], cwd=self.root, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"cannot read the pipeline registry:\n{done.stderr[-3000:]}")
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith("STAGES="))
        found = json.loads(line.removeprefix("STAGES="))
        registered = set(found["registered"])
        return Stages(
            present=tuple(s for s in found["run_order"] if s in registered),
            missing=tuple(s for s in found["run_order"] if s not in registered),
        )
