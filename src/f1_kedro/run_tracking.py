"""Run tracking through kedro-mlflow: one MLflow run per `kedro run`, named, with train's numbers.

kedro-mlflow's `MlflowHook` opens the run, logs every `params:` input of a node and closes the run
(config: `conf/base/mlflow.yml`). This subclass adds what its config cannot say: a distinct run
name (`train 2026-11-28 10:32:05`, where kedro-mlflow would name every run `__default__`), and the
numbers and plots of the datasets listed here, logged from the saved data (`mlflow.log_metrics`,
`log_dict`, `log_figure`), so the catalog keeps its plain datasets (kedro-viz previews them).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.utils import find_kedro_project

from f1_kedro import quiet

quiet.import_hiding(
    "kedro_mlflow.framework.hooks.mlflow_hook",
    r"Add type hints to the `predict` method|Support for class-based `config` is deprecated",
    why="MLflow's, when kedro-mlflow defines its KedroPipelineModel (the project logs no model "
    "through it: the registry's pyfunc is f1_kedro's own); pydantic's, on kedro-mlflow 2.0.3's "
    "config classes (the plugin's to migrate; shown only under pytest or -W)",
)
from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

logger = logging.getLogger(__name__)

KEY_METRICS_VIEW = "key_metrics"  # conf/base/mlflow.yml's shared view of the runs table
KEY_METRICS_TAG = f"mlflow.sharedViewState.{KEY_METRICS_VIEW}"


def project_root() -> str:
    """The Kedro project holding the working directory (notebooks/ included): `${project_root:}`."""
    return (find_kedro_project(Path.cwd()) or Path.cwd()).resolve().as_posix()


def numeric_leaves(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """`{"model": {"macro_f1": 0.7}}` -> `{"model.macro_f1": 0.7}`; lists, text, bools dropped."""
    leaves: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            leaves.update(numeric_leaves(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                leaves[name] = float(value)
    return leaves


class RunTrackingHook(MlflowHook):
    """kedro-mlflow's hook, with run names and the listed datasets as metrics and artefacts."""

    def __init__(self, metrics: Iterable[str] = (), artifacts: Iterable[str] = ()):
        super().__init__()
        self._metric_datasets = frozenset(metrics)
        self._artifact_datasets = frozenset(artifacts)
        self._catalog: Any = None  # the run's, to find where a figure's dataset wrote it
        self._node_params: dict[str, Any] | None = None  # collected by _log_param for one batch
        self._logged_params: dict[str, str] = {}  # what this run's store already has

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        # kedro-mlflow opens (or creates) the store here: deferred to the run, after the parameter
        # check and the run lock, so a rejected run, `kedro viz` or a kernel's start write nothing
        self._context = context

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        # kedro-mlflow renames its own metric datasets here, and to find them it materialises
        # every dataset of the catalog (~80, importing their libraries: matplotlib's for the
        # plots) on every command. The catalog declares none of them (tests/ux/test_run_tracking.py
        # checks both environments), so there is nothing to rename.
        return None

    def _open_store(self) -> bool:
        """kedro-mlflow's setup (tracking URI, experiment); False, with a logged reason, when the
        store cannot be opened: tracking is off for the run, which goes on (a stage that needs the
        registry, in the same file, then stops with its own message naming it)."""
        try:
            self._rebase_copied_store()
            super().after_context_created(self._context)
        except (MlflowException, SQLAlchemyError, sqlite3.Error, OSError) as error:
            server = self._context.config_loader.get("mlflow", {}).get("server", {})
            logger.warning(
                "Run tracking is off for this run: cannot open the MLflow store %s (%s)",
                server.get("mlflow_tracking_uri"),
                str(error).splitlines()[0],
            )
            return False
        return True

    def _rebase_copied_store(self) -> None:
        """In a copied or moved project, point the experiment's stored artefact paths at this
        project's folder (MLflow keeps them absolute), as the registry does for its own."""
        loader = self._context.config_loader
        loader.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
        conf = loader["mlflow"]
        uri = conf.get("server", {}).get("mlflow_tracking_uri") or ""
        experiment = conf.get("tracking", {}).get("experiment", {})
        location = (experiment.get("create_experiment_kwargs") or {}).get("artifact_location")
        database = Path(uri.removeprefix("sqlite:///"))
        if uri.startswith("sqlite:///") and location and experiment.get("name"):
            if database.exists():
                # imported here: only a run with an existing store needs it
                from f1_kedro.engines.duckdb.mlflow_store import rebase_artifact_paths

                rebase_artifact_paths(database, experiment["name"], Path(location))

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self.run_id = None  # kedro-mlflow keeps it from an earlier session of this process
        self._catalog = catalog
        self._logged_params = {}
        self._is_mlflow_enabled = self._open_store()
        if not self._is_mlflow_enabled:
            return
        if self.mlflow_config.tracking.run.name is None:
            names = run_params.get("pipeline_names") or ["__default__"]
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            self.mlflow_config.tracking.run.name = f"{'+'.join(names)} {stamp}"
        super().before_pipeline_run(run_params, pipeline, catalog)
        if self._is_mlflow_enabled:
            self._follow_experiment_tags()

    def _follow_experiment_tags(self) -> None:
        """Set mlflow.yml's experiment tags (kedro-mlflow applies them only when it creates the
        experiment), then log the link to the runs table with the key metrics."""
        tracking, ui = self.mlflow_config.tracking, self.mlflow_config.ui
        experiment_id = mlflow.active_run().info.experiment_id  # the run kedro-mlflow started
        tags = tracking.experiment.create_experiment_kwargs.tags or {}
        client = MlflowClient()  # on the tracking URI kedro-mlflow set
        for key, value in tags.items():
            client.set_experiment_tag(experiment_id, key, value)
        view = f"?viewStateShareKey={KEY_METRICS_VIEW}" if KEY_METRICS_TAG in tags else ""
        logger.info(
            "MLflow: make mlflow, then http://%s:%s/#/experiments/%s/runs%s",
            ui.host,
            ui.port,
            experiment_id,
            view,
        )

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool
    ) -> None:
        """kedro-mlflow's, with the node's parameters logged in one batch, and only those not
        logged yet: it logs one by one, a SQLite transaction each (~100 per train run, ~1 s)."""
        self._node_params = {}
        try:
            super().before_node_run(node=node, catalog=catalog, inputs=inputs, is_async=is_async)
            new = {
                name: value
                for name, value in self._node_params.items()
                if self._logged_params.get(name) != str(value)
            }
        finally:
            self._node_params = None
        if new:
            mlflow.log_params(new)  # a changed value still fails, as log_param would
            self._logged_params.update({name: str(value) for name, value in new.items()})

    def _log_param(self, name: str, value: Any) -> None:
        if self._node_params is not None and len(str(value)) <= MAX_PARAM_VAL_LENGTH:
            self._node_params[name] = value
            return
        super()._log_param(name, value)  # a long value: mlflow.yml's long_params_strategy

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if not self._is_mlflow_enabled or mlflow.active_run() is None:
            return
        if dataset_name in self._metric_datasets and isinstance(data, Mapping):
            mlflow.log_metrics(numeric_leaves(data))
        if dataset_name in self._artifact_datasets:
            if isinstance(data, Mapping):
                mlflow.log_dict(dict(data), f"{dataset_name}.json")
            elif hasattr(data, "savefig"):  # a matplotlib Figure
                self._log_figure(dataset_name, data)

    def _log_figure(self, dataset_name: str, figure: Any) -> None:
        """The PNG file its dataset just wrote, as `<dataset_name>.png` (drawing the figure again
        for `mlflow.log_figure` cost ~0.1 s a plot); a figure saved elsewhere is drawn again."""
        saved = _saved_png(self._catalog.get(dataset_name) if self._catalog else None)
        if saved is None:
            mlflow.log_figure(figure, f"{dataset_name}.png")
            return
        with tempfile.TemporaryDirectory() as folder:
            named = Path(folder) / f"{dataset_name}.png"
            shutil.copyfile(saved, named)  # log_artifact names the artefact after the file
            mlflow.log_artifact(str(named))


def _saved_png(dataset: Any) -> Path | None:
    """Where an unversioned, local, single-file dataset wrote its PNG (kedro-datasets'
    MatplotlibDataset: `_describe()` is what its repr prints); None for any other dataset."""
    describe = getattr(dataset, "_describe", None)
    details = describe() if callable(describe) else {}
    filepath, protocol = details.get("filepath"), details.get("protocol")
    if filepath is None or protocol not in ("file", None) or details.get("version") is not None:
        return None
    path = Path(str(filepath))
    return path if path.suffix == ".png" and path.is_file() else None
