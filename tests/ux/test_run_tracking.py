"""kedro-mlflow tracks every `kedro run` into the registry's store, one named run each.

Three cheap runs (the bootstrap stage) in a scratch copy of the project: where the store is (the
project's `data/06_models/mlflow.db`, also for a run from notebooks/, where kernels start), the
experiment and its kind, distinct run names, the parameters, nothing at the project root.
The metrics and plots of train are checked on the full run of tests/ux/test_quiet_run.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from f1_kedro.run_tracking import numeric_leaves
from tests.conftest import PROJECT_ROOT, copy_project
from tests.support import KEDRO, kedro_env, seed_mlflow_store

EXPERIMENT = "f1_kedro_runs"


def test_numeric_leaves_flattens_numbers_only() -> None:
    metrics = {
        "model": {"macro_f1": 0.7, "per_class": {"podium": {"recall": 0.5}}},
        "test_seasons": [2023, 2024],
        "model_beats_baseline": True,
        "folds": 9,
        "log_loss": float("nan"),
    }
    assert numeric_leaves(metrics) == {
        "model.macro_f1": 0.7,
        "model.per_class.podium.recall": 0.5,
        "folds": 9.0,
    }


def store_runs(project: Path) -> list:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project}/data/06_models/mlflow.db")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    assert experiment.tags.get("mlflow.experimentKind") == "custom_model_development"
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])


# A run from a notebook (kedro.ipython's session: the project found upward from notebooks/).
NOTEBOOK_RUN = """
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
root = Path.cwd().parent
bootstrap_project(root)
with KedroSession.create(project_path=root) as session:
    session.run(pipeline_names=["bootstrap"])
"""


def _run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=kedro_env(), capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bootstrap run from notebooks/ (the store is made then), then two from the root."""
    project = copy_project(tmp_path_factory.mktemp("tracking"), mlflow_store=False)
    _run([str(Path(KEDRO).with_name("python")), "-c", NOTEBOOK_RUN], project / "notebooks")
    assert (project / "data" / "06_models" / "mlflow.db").exists()
    for _ in range(2):
        output = _run([KEDRO, "run", "--pipelines", "bootstrap"], project)
        assert "Warning: " not in output, output
        assert "/#/experiments/" in output and "/runs?viewStateShareKey=key_metrics" in output
    return project


def test_each_run_is_one_named_mlflow_run_in_the_project_store(tracked: Path) -> None:
    runs = store_runs(tracked)
    assert len(runs) == 3
    names = [run.info.run_name for run in runs]
    assert len(set(names)) == 3, names
    assert all(name.startswith("bootstrap 20") for name in names), names
    assert all(run.info.status == "FINISHED" for run in runs)
    for run in runs[1:]:  # the notebook's run has no command line
        assert run.data.tags["kedro_command"] == "kedro run --pipeline=bootstrap"
    for run in runs:
        assert run.data.params["bootstrap.stage"]  # a `params:bootstrap` input, flattened


def test_nothing_is_written_outside_data(tracked: Path) -> None:
    for stray in ("mlruns", "mlflow.db", "mlartifacts"):
        assert not (tracked / stray).exists(), stray
        assert not (tracked / "notebooks" / stray).exists(), stray
    assert not (tracked / "notebooks" / "data" / "06_models" / "mlflow.db").exists()


def test_the_key_metrics_view_is_on_the_experiment(tracked: Path) -> None:
    """mlflow.yml's shared view: the runs table with train's key metrics as columns."""
    import json

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tracked}/data/06_models/mlflow.db")
    tags = client.get_experiment_by_name(EXPERIMENT).tags
    view = json.loads(tags["mlflow.sharedViewState.key_metrics"])
    assert "metrics.`model.macro_f1`" in view["selectedColumns"]


def test_run_tracking_and_the_registry_share_one_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """mlflow.yml's store is the register stage's (conf/base/catalog_register.yml): MLflow keeps
    one global tracking URI, so the registry's calls and kedro-mlflow's run must find one file."""
    from kedro.config import OmegaConfigLoader

    from f1_kedro.settings import CONFIG_LOADER_ARGS

    monkeypatch.chdir(PROJECT_ROOT / "notebooks")  # ${project_root:} finds the project upward
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env="local", **CONFIG_LOADER_ARGS)
    loader.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**"]
    tracking = loader["mlflow"]["server"]["mlflow_tracking_uri"]
    registry = loader["catalog"]["model_registry"]["tracking_uri"]
    assert registry.startswith("sqlite:///") and not registry.startswith("sqlite:////")
    assert tracking == f"sqlite:///{PROJECT_ROOT.as_posix()}/{registry.removeprefix('sqlite:///')}"


def test_a_copied_project_tracks_into_its_own_folders(
    tracked: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """MLflow keeps absolute artefact paths: a copy's runs must not write into the original."""
    import shutil

    copy = tmp_path_factory.mktemp("tracking_copy") / "f1_kedro"
    shutil.copytree(tracked, copy, symlinks=True)
    _run([KEDRO, "run", "--pipelines", "bootstrap"], copy)
    newest = store_runs(copy)[-1]
    assert newest.info.artifact_uri.startswith((copy / "data" / "06_models").as_uri())


def test_a_plot_is_logged_as_the_file_its_dataset_wrote(tmp_path: Path) -> None:
    """Not drawn a second time for MLflow (issue 13): the artefact is the saved file's bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow
    from kedro.io import DataCatalog, MemoryDataset
    from kedro_datasets.matplotlib import MatplotlibDataset

    from f1_kedro.run_tracking import RunTrackingHook

    figure = plt.figure()
    dataset = MatplotlibDataset(filepath=str(tmp_path / "plot.png"))
    dataset.save(figure)
    (tmp_path / "plot.png").write_bytes(b"the saved file")  # a second drawing would differ
    hook = RunTrackingHook(artifacts=("a_plot", "in_memory_plot"))
    hook._is_mlflow_enabled = True
    hook._catalog = DataCatalog({"a_plot": dataset, "in_memory_plot": MemoryDataset()})
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{seed_mlflow_store(tmp_path)}")
    try:
        experiment = mlflow.create_experiment("t", artifact_location=(tmp_path / "a").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            hook.after_dataset_saved("a_plot", figure)
            hook.after_dataset_saved("in_memory_plot", figure)  # no file: drawn for MLflow
        logged = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id))
    finally:
        mlflow.set_tracking_uri(previous)
    assert (logged / "a_plot.png").read_bytes() == b"the saved file"
    assert (logged / "in_memory_plot.png").read_bytes().startswith(b"\x89PNG")


def test_a_nodes_parameters_are_logged_in_one_batch_and_only_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kedro-mlflow logs a node's parameters one transaction each, again for every node that
    reads them: here one batch per node, of the values this run has not logged yet (issue 13)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from f1_kedro.run_tracking import RunTrackingHook

    hook = RunTrackingHook()
    hook._is_mlflow_enabled, hook.run_id = True, None
    # what kedro-mlflow reads from conf/base/mlflow.yml when the store opens
    hook.flatten, hook.recursive, hook.sep, hook.long_params_strategy = True, True, ".", "truncate"
    batches: list[dict] = []
    log_params = mlflow.log_params
    monkeypatch.setattr(mlflow, "log_params", lambda p: batches.append(p) or log_params(p))
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{seed_mlflow_store(tmp_path)}")
    try:
        experiment = mlflow.create_experiment("t", artifact_location=(tmp_path / "a").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            train = {"seasons": {"train": [2010, 2021]}, "n_jobs": 1}
            hook.before_node_run(None, None, {"params:train": train, "rows": 1}, False)
            hook.before_node_run(None, None, {"params:train": train}, False)
            long = {"params:score": {"races": "x" * 7000, "seasons": [2024]}}
            hook.before_node_run(None, None, long, False)
        params = MlflowClient().get_run(run.info.run_id).data.params
    finally:
        mlflow.set_tracking_uri(previous)
    assert batches == [
        {"train.seasons.train": [2010, 2021], "train.n_jobs": 1},
        {"score.seasons": [2024]},  # the long value: kedro-mlflow's truncate, alone
    ]
    assert params["train.seasons.train"] == "[2010, 2021]" and params["train.n_jobs"] == "1"
    assert params["score.races"] == "x" * 6000  # MLflow's limit


@pytest.mark.parametrize("env", [None, "snowflake"])
def test_the_catalog_declares_no_kedro_mlflow_dataset(env: str | None) -> None:
    """RunTrackingHook skips kedro-mlflow's after_catalog_created, which only renames
    kedro-mlflow's own metric datasets (and materialises the whole catalog to find them)."""
    from f1_kedro.project_config import resolved_config

    types = {
        name: str(entry.get("type", "")) for name, entry in resolved_config("catalog", env).items()
    }
    assert types and not [n for n, t in types.items() if t.startswith("kedro_mlflow")], types
