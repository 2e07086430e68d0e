"""`make jupyter` starts JupyterLab as root (containers) and as a user, logging as a run does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


def _dry_run(tmp_path: Path, uid: str) -> str:
    """The command `make jupyter` would run, with `id -u` answering `uid`."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (fake / "id").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    return subprocess.run(
        ["make", "-n", "-o", "install", "jupyter"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize(("uid", "allow_root"), [("0", True), ("1000", False)])
def test_allow_root_only_as_root(tmp_path: Path, uid: str, allow_root: bool) -> None:
    command = _dry_run(tmp_path, uid)
    assert "kedro jupyter lab" in command
    assert ("--allow-root" in command) is allow_root


def test_the_kernel_logs_through_the_project_config(tmp_path: Path) -> None:
    command = _dry_run(tmp_path, "1000")
    assert f"KEDRO_LOGGING_CONFIG={PROJECT_ROOT}/conf/logging.yml" in command
