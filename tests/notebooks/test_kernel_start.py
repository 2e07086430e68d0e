"""The "Kedro (f1_kedro)" kernel as `make jupyter` starts it: quiet, and logging as a run does.

No data needed: the kernel starts in notebooks/ of a scratch copy, with the environment the
Makefile's jupyter target sets (KEDRO_LOGGING_CONFIG), runs a notebook's first cell and logs one
line. The full notebooks run in tests/notebooks/test_notebooks.py (full data).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import PROJECT_ROOT, copy_project

KERNEL = "kedro_f1_kedro"


@pytest.fixture(scope="module")
def kernel_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    from jupyter_client.manager import start_new_kernel

    base = tmp_path_factory.mktemp("kernel")
    project = copy_project(base)
    env = dict(os.environ, JUPYTER_DATA_DIR=str(base / "jupyter"))
    env["KEDRO_LOGGING_CONFIG"] = str(project / "conf" / "logging.yml")  # as `make jupyter`
    kedro = str(Path(sys.executable).with_name("kedro"))
    subprocess.run(
        [kedro, "jupyter", "setup"], cwd=project, env=env, check=True, capture_output=True
    )
    first_cell = next(
        c.source
        for c in nbformat.read(PROJECT_ROOT / "notebooks" / "01_explore_features.ipynb", 4).cells
        if c.cell_type == "code"
    )
    probe = 'import logging\nlogging.getLogger("f1_kedro.notebook").info("probe from the kernel")'
    saved = dict(os.environ)
    os.environ.update(env)  # jupyter_client finds the kernel spec through JUPYTER_DATA_DIR
    try:
        manager, client = start_new_kernel(
            kernel_name=KERNEL, cwd=str(project / "notebooks"), env=env, startup_timeout=300
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    lines: list[str] = []
    try:
        for code in (first_cell, probe):
            reply = client.execute_interactive(
                code, timeout=300, output_hook=lambda msg: lines.append(_text(msg))
            )
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return "".join(lines)


def _text(msg: dict) -> str:
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return content.get("text", "")
    if msg.get("msg_type") in {"execute_result", "display_data"}:
        return content.get("data", {}).get("text/plain", "") + "\n"
    if msg.get("msg_type") == "error":
        return "\n".join(content.get("traceback", [])) + "\n"
    return ""


def test_the_extension_is_not_loaded_twice(kernel_output: str) -> None:
    assert "already loaded" not in kernel_output, kernel_output


def test_the_kernel_logs_through_the_projects_config(kernel_output: str) -> None:
    # conf/logging.yml's format: "HH:MM:SS LEVEL   message", not Kedro's default rich columns
    assert re.search(r"^\d\d:\d\d:\d\d INFO    probe from the kernel$", kernel_output, re.M), (
        kernel_output
    )
