"""Fixtures of the kedro-viz tests: one scratch copy of the project and one `kedro viz build`.

kedro-viz reads the pipelines and the catalog, not the data, so the copy needs no warehouse; the
build is made once (about 30 s of CPU) and shared by the tests of this folder.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import copy_project
from tests.support import KEDRO, kedro_env


@pytest.fixture(scope="session")
def viz_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the project (conf, dbt, sql, pyproject): `kedro viz` writes into it."""
    root = copy_project(tmp_path_factory.mktemp("viz"))
    return root


@pytest.fixture(scope="session")
def viz_build(viz_project: Path) -> Path:
    """`kedro viz build --include-previews` (the Makefile's viz-build) run in the scratch copy."""
    result = subprocess.run(
        [KEDRO, "viz", "build", "--include-previews"],
        cwd=viz_project,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    build = viz_project / "build"
    if result.returncode != 0 or not (build / "api" / "main").exists():
        pytest.fail(
            f"kedro viz build failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-3000:]}"
        )
    (build / "build.log").write_text(result.stdout + result.stderr)
    return build
