"""bench/ is a package run as `python -m bench.<script>`: no sys.path patches, no import cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from bench.features_compare import BENCH_ENV

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_imports(path: Path) -> set[str]:
    """The bench modules a file imports (`bench.x` -> `x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench."):
            found.add(node.module.removeprefix("bench."))
    return found


def test_no_script_patches_sys_path() -> None:
    patched = [p.name for p in BENCH.glob("*.py") if "sys.path" in p.read_text()]
    assert patched == []


def test_bench_modules_import_each_other_without_a_cycle() -> None:
    graph = {p.stem: _bench_imports(p) for p in BENCH.glob("*.py")}
    assert graph["features_compare"] >= {"features_pandas", "warehouse"}  # the graph is read
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        pytest.fail(f"bench modules import in a cycle: {err.args[1]}")


@pytest.mark.parametrize("script", ["features_pandas", "features_sql"])
def test_the_side_by_side_subprocesses_start_outside_the_project(
    script: str, tmp_path: Path
) -> None:
    """What features_compare runs in a scratch project, which has no bench/ of its own."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{script}", "--help"],
        cwd=tmp_path,
        env=BENCH_ENV,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "--timings" in done.stdout
