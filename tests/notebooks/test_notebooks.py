"""The notebooks in notebooks/ run top to bottom on the real data, in the "Kedro (f1_kedro)"
kernel as `make jupyter` starts it: quiet (the extension loaded once), and logging as a run does.

The committed notebooks are also checked for what they carry: no error outputs, and execution
counts only from one fresh top-to-bottom run (or none at all).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.conftest import PROJECT_ROOT
from tests.support import KEDRO, copy_built

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "kedro_f1_kedro"  # the kernel `kedro jupyter lab` creates: kedro_<package_name>


def test_the_three_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore_features.ipynb", "02_develop_model.ipynb", "03_race_week.ipynb",
    ]  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_stale_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == KERNEL
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} carries error outputs"
    counts = [c.execution_count for c in code]
    if any(n is not None for n in counts):
        assert counts == list(range(1, len(code) + 1)), (
            f"{path.name}: execution counts {counts} are not one fresh run; clear its outputs "
            "(jupyter nbconvert --clear-output --inplace) or re-run it top to bottom"
        )
    else:
        assert not any(c.outputs for c in code), f"{path.name} has outputs without a run"
    first = code[0].source
    assert "%load_ext kedro.ipython" in first


# a last cell added to the first notebook's copy: one line through the logging the kernel set up
PROBE = 'import logging\nlogging.getLogger("f1_kedro.notebook").info("probe from the kernel")'


@pytest.fixture(scope="module")
def executed(
    built_full: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, nbformat.NotebookNode]]:
    """Each notebook run top to bottom in the "Kedro (f1_kedro)" kernel, started as `make jupyter`
    starts it, on a copy of a whole `kedro run` on the full data: FORMULA1.ML.FEATURES (01, 02)
    and a served model's predictions, explanations and monitoring (03)."""
    from nbclient import NotebookClient

    tmp = tmp_path_factory.mktemp("notebooks")
    project = copy_built(built_full, tmp / "built")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        # the kernel as `kedro jupyter lab` installs it (ipykernel + `--ext kedro.ipython`), into
        # a scratch Jupyter data dir instead of ~/.local/share/jupyter; nbclient looks there
        patch.setenv("JUPYTER_DATA_DIR", str(tmp / "jupyter"))
        # as `make jupyter`: the kernel starts in notebooks/, the logging config named absolutely
        patch.setenv("KEDRO_LOGGING_CONFIG", str(project / "conf" / "logging.yml"))
        subprocess.run(
            [KEDRO, "jupyter", "setup"],
            cwd=project,
            env=dict(os.environ),
            check=True,
            capture_output=True,
        )
        assert (tmp / "jupyter" / "kernels" / KERNEL / "kernel.json").exists()
        done: dict[str, nbformat.NotebookNode] = {}
        for path in NOTEBOOKS:
            nb = nbformat.read(project / "notebooks" / path.name, as_version=4)
            if path == NOTEBOOKS[0]:
                nb.cells.append(nbformat.v4.new_code_cell(PROBE))
            client = NotebookClient(
                nb,
                timeout=600,
                # the kernel loads the whole project before it answers: slow on a busy 2-core box
                startup_timeout=300,
                kernel_name=KERNEL,
                # Jupyter starts a notebook's kernel in the notebook's folder
                resources={"metadata": {"path": str(project / "notebooks")}},
            )
            try:
                client.execute()
            finally:
                nbformat.write(nb, tmp / path.name)  # kept for a failed run's post-mortem
            done[path.name] = nb
        yield done


def _text(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook's code cells printed or logged, as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif "data" in out:
                parts.append(out.data.get("text/plain", "") + "\n")
    return "".join(parts)


@pytest.mark.full_data
def test_notebooks_run_top_to_bottom_on_the_full_data(
    executed: dict[str, nbformat.NotebookNode],
) -> None:
    assert list(executed) == [p.name for p in NOTEBOOKS]
    for name, nb in executed.items():
        images = sum(
            "image/png" in o.get("data", {})
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        assert images >= 2, f"{name} drew {images} plots"


@pytest.mark.full_data
def test_the_extension_is_not_loaded_twice(executed: dict[str, nbformat.NotebookNode]) -> None:
    for name, nb in executed.items():
        assert "already loaded" not in _text(nb), name


@pytest.mark.full_data
def test_the_kernel_logs_through_the_projects_config(
    executed: dict[str, nbformat.NotebookNode],
) -> None:
    # conf/logging.yml's format: "HH:MM:SS LEVEL   message", not Kedro's default rich columns
    text = _text(executed[NOTEBOOKS[0].name])
    assert re.search(r"^\d\d:\d\d:\d\d INFO    probe from the kernel$", text, re.M), text
