"""The notebooks in notebooks/ run top to bottom on the real data, as `kedro jupyter lab` runs them.

The committed notebooks are also checked for what they carry: no error outputs, and execution
counts only from one fresh top-to-bottom run (or none at all).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import PROJECT_ROOT
from tests.support import copy_built

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


@pytest.mark.full_data
def test_notebooks_run_top_to_bottom_on_the_full_data(
    built_full: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    # the data the notebooks read: FORMULA1.ML.FEATURES on the whole data set (01, 02) and a
    # served model's predictions, explanations and monitoring (03): a whole `kedro run`, copied
    project = copy_built(built_full, tmp_path / "built")
    monkeypatch.chdir(project)

    # the kernel as `kedro jupyter lab` installs it (ipykernel + `--ext kedro.ipython`), into a
    # scratch Jupyter data dir instead of ~/.local/share/jupyter
    jupyter_dir = tmp_path / "jupyter"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(jupyter_dir))  # nbclient looks for kernels here
    kedro = str(Path(sys.executable).with_name("kedro"))
    subprocess.run(
        [kedro, "jupyter", "setup"],
        cwd=project,
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    assert (jupyter_dir / "kernels" / KERNEL / "kernel.json").exists()
    for path in NOTEBOOKS:
        nb = nbformat.read(project / "notebooks" / path.name, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            # the kernel loads the whole project before it answers: slow on a busy 2-core box
            startup_timeout=300,
            kernel_name=KERNEL,
            # Jupyter starts a notebook's kernel in the notebook's folder
            resources={"metadata": {"path": str(project / "notebooks")}},
        )
        client.execute()
        nbformat.write(nb, tmp_path / path.name)  # kept for a failed run's post-mortem
        images = sum(
            "image/png" in o.get("data", {})
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
        assert images >= 2, f"{path.name} drew {images} plots"
