"""The embedded engine's model registry: MLflow (sqlite store) plus a folder standing for the stage.

`MlflowModelRegistry` implements `f1_kedro.registry.ModelRegistry`. A version is ONE MLflow pyfunc
model holding the whole fitted snowflake-ml pipeline (`f1_kedro.registry.pyfunc_model`), with an
input example and signature, the train run's metrics and parameters, and version tags scoring
reads (docs/contracts.md, "Registry"). Its audit copy (pipeline + manifest) goes to
`<stage_dir>/<stage>/<model_name>/v<version>/` (written to a temp folder, then renamed; an
existing folder is never replaced). The alias `champion` marks the version to serve.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import cloudpickle
import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.identifiers import identifier
from f1_kedro.registry import (
    Champion,
    RegisteredVersion,
    RegistryError,
    Trained,
    fitted_model,
    pipeline_bytes,
    pyfunc_model,
    version_manifest,
)
from f1_kedro.registry.model_registry import MANIFEST_FILE, PIPELINE_FILE, TAG_STAGE_LOCATION

logger = logging.getLogger(__name__)


class LocalStage:
    """A folder that stands for `@FORMULA1.ML.ML_STAGE`: versioned, write-once subfolders."""

    def __init__(self, stage_dir: str | Path, stage: str = "ML_STAGE"):
        self.root = Path(stage_dir) / stage
        self.stage = stage

    def path(self, model_name: str, version: int) -> Path:
        # The model name comes from configuration and becomes a folder: no `..`, no `/`.
        return self.root / identifier(model_name, "model name") / f"v{int(version)}"

    def write(self, model_name: str, version: int, files: dict[str, bytes]) -> Path:
        """Write `files` into the version's folder atomically; refuse if the folder exists."""
        target = self.path(model_name, version)
        if target.exists():
            raise RegistryError(
                f"stage folder {target} already exists: version {version} of {model_name} was "
                "written before and is never overwritten"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".v{version}.tmp-{uuid.uuid4().hex[:8]}"
        temp.mkdir()
        try:
            for name, content in files.items():
                with open(temp / name, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
            os.rename(temp, target)  # atomic on one filesystem; fails if target appeared meanwhile
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return target


class MlflowModelRegistry:
    """Versions of a model in an MLflow registry, their preprocessing on a local stage."""

    def __init__(
        self,
        tracking_uri: str = "sqlite:///data/06_models/mlflow.db",
        artifacts_dir: str = "data/06_models/mlartifacts",
        stage_dir: str = "data/06_models/ml_stage",
        stage: str = "ML_STAGE",
        experiment: str = "f1_race_outcome",
        alias: str = "champion",
    ):
        self.tracking_uri = tracking_uri
        self.artifacts_dir = Path(artifacts_dir)
        self.stage = LocalStage(stage_dir, stage)
        self.experiment = experiment
        self.alias = alias

    def __repr__(self) -> str:
        return f"MlflowModelRegistry(tracking_uri={self.tracking_uri!r})"

    def client(self) -> MlflowClient:
        uri = self.tracking_uri
        if uri.startswith("sqlite:///"):
            # MLflow caches its stores by URI string: a relative path would keep pointing at the
            # first project's file after a change of working directory (tests, notebooks).
            database = Path(uri.removeprefix("sqlite:///")).resolve()
            database.parent.mkdir(parents=True, exist_ok=True)
            uri = f"sqlite:///{database}"
            if database.exists():
                rebase_artifact_paths(database, self.experiment, self.artifacts_dir)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        with _quiet_mlflow(stderr=False):  # "Creating initial MLflow database tables..."
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            client.search_experiments(max_results=1)  # the store is created on first use
        return client

    def champion(self, model_name: str) -> Champion | None:
        client = self.client()
        try:
            version = client.get_model_version_by_alias(model_name, self.alias)
        except MlflowException:
            return None  # no such model yet, or no version carries the alias
        metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
        return {
            "version": int(version.version),
            "metrics": dict(metrics),
            "tags": dict(version.tags or {}),
        }

    def register(
        self,
        model_name: str,
        trained: Trained,
        metrics: dict[str, float],
        tags: dict[str, str],
    ) -> RegisteredVersion:
        """Log the whole fitted pipeline as a new MLflow version, then its audit copy to the stage.

        If anything after the version's creation fails (stage write, tags), the version is deleted
        again and the error re-raised: the registry keeps only complete versions; the alias is not
        touched here. A full disk is reported with the folder and what to do.
        """
        identifier(model_name, "model name")  # checked before MLflow creates anything
        client = self.client()
        self._drop_incomplete_versions(client, model_name)
        summary = trained["summary"]
        columns = list(summary["input_columns"])
        wrapper = pyfunc_model.PipelineProbabilities(columns, len(summary["class_labels"]))
        version: int | None = None
        path: Path | None = None  # the stage folder this call created, removed again on failure
        try:
            with tempfile.TemporaryDirectory(dir=self.artifacts_dir.parent) as folder:
                pipeline_file = Path(folder) / PIPELINE_FILE
                model = fitted_model(trained)
                pipeline_file_bytes = pipeline_bytes(model)
                pipeline_file.write_bytes(pipeline_file_bytes)
                example = _input_example(trained, columns)
                wrapper.pipeline = model
                signature = _signature(example, wrapper.predict(None, example))
                wrapper.pipeline = None  # the pipeline travels as an artefact, not in the pickle
                with (
                    _quiet_mlflow(),
                    mlflow.start_run(
                        experiment_id=self._experiment_id(client),
                        run_name=f"register-{model_name}-{trained['run_id'][:8]}",
                        # under `kedro run`, kedro-mlflow's run of the whole run is active
                        nested=True,
                    ),
                ):
                    mlflow.log_params(_params(trained))
                    mlflow.log_metrics(metrics)
                    mlflow.set_tags({"train_run_id": str(trained["run_id"])})
                    info = _log_pyfunc(wrapper, str(pipeline_file), signature, example)
                    registered = mlflow.register_model(info.model_uri, model_name)
            version = int(registered.version)
            model_uri = f"models:/{model_name}/{version}"
            location = f"@{self.stage.stage}/{model_name}/v{version}"
            all_tags = {**tags, TAG_STAGE_LOCATION: location}
            manifest = version_manifest(model_name, version, model_uri, all_tags)
            path = self.stage.write(
                model_name,
                version,
                {
                    PIPELINE_FILE: pipeline_file_bytes,
                    MANIFEST_FILE: json.dumps(manifest, indent=2).encode(),
                },
            )
            all_tags["stage_path"] = str(path)
            for key, value in all_tags.items():  # stage_path last: it marks the version complete
                client.set_model_version_tag(model_name, str(version), key, value)
        except BaseException as err:
            if version is not None:
                logger.error(
                    "Registering %s v%d failed: deleting the incomplete version",
                    model_name,
                    version,
                )
                client.delete_model_version(model_name, str(version))
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
            if _disk_full(err):
                raise RegistryError(
                    f"disk full while registering {model_name} under {self.artifacts_dir.parent}: "
                    "nothing was registered and the champion is unchanged; free space there "
                    "(or point the model_registry entry's folders elsewhere) and re-run "
                    "`kedro run --pipeline=register`"
                ) from err
            raise
        return RegisteredVersion(model_name, version, str(version), model_uri, str(path), all_tags)

    def _drop_incomplete_versions(self, client: MlflowClient, model_name: str) -> None:
        """Delete versions a killed run left without stage folder or tags, and its temp folders.

        The `except` in `register` cannot run under SIGKILL; runs are one at a time (RunLockHook),
        so an incomplete version found here is never one being written. The champion is kept.
        """
        try:
            versions = client.search_model_versions(f"name='{model_name}'")
        except MlflowException:
            return  # no such model yet
        champion = self.champion(model_name)
        for found in versions:
            version = int(found.version)
            complete = (
                "stage_path" in (found.tags or {}) and self.stage.path(model_name, version).is_dir()
            )
            if complete or (champion and champion["version"] == version):
                continue
            logger.warning(
                "Deleting %s v%d: a killed run left it without its stage folder",
                model_name,
                version,
            )
            client.delete_model_version(model_name, str(version))
        for temp in self.stage.root.joinpath(model_name).glob(".v*.tmp-*"):
            shutil.rmtree(temp, ignore_errors=True)

    def set_champion(self, model_name: str, version: int) -> None:
        self.client().set_registered_model_alias(model_name, self.alias, str(version))

    def _experiment_id(self, client: MlflowClient) -> str:
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            return experiment.experiment_id
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        # The UI opens an experiment of this kind on its runs, not on the GenAI overview (value
        # read in mlflow 3.17's UI bundle, server/js/build/static/js/main.*.js, enum
        # CUSTOM_MODEL_DEVELOPMENT, and assistant/skills/mlflow-onboarding/SKILL.md).
        return client.create_experiment(
            self.experiment,
            artifact_location=self.artifacts_dir.resolve().as_uri(),
            tags={"mlflow.experimentKind": "custom_model_development"},
        )


# Columns of MLflow 3's sqlite store that hold absolute artefact locations.
_LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def rebase_artifact_paths(database: Path, experiment: str, artifacts_dir: Path) -> int:
    """Point a copied or moved registry at this project's artefact folder; returns rows changed.

    MLflow stores absolute artefact locations and offers no API to move an experiment's: a copy
    of the project would read, and write new versions into, the original clone's folder. When the
    experiment's location is not this project's `artifacts_dir`, every stored location under the
    old folder is rewritten to the same place under the new one, in one transaction. The scoring
    model (dbt/models/ml/predictions.py) re-bases the same way when it loads a version.
    """
    new_root = artifacts_dir.resolve().as_uri()
    with sqlite3.connect(database) as con:
        tables = {
            row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "experiments" not in tables:
            return 0
        row = con.execute(
            "SELECT artifact_location FROM experiments WHERE name = ?", (experiment,)
        ).fetchone()
        if row is None or row[0] in (new_root, str(artifacts_dir.resolve())):
            return 0
        old_root = row[0]
        changed = 0
        for table, column in _LOCATION_COLUMNS:
            if table not in tables:
                continue
            columns = {c[1] for c in con.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                continue
            changed += con.execute(
                f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                f"WHERE {column} = ? OR {column} LIKE ? ESCAPE '\\'",
                (new_root, len(old_root) + 1, old_root, _like_prefix(old_root + "/")),
            ).rowcount
    logger.info(
        "Registry %s moved: artefact paths re-based from %s to %s", database, old_root, new_root
    )
    return changed


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _requirements() -> list[str]:
    """What loading the model needs, pinned to the versions that trained it."""
    return [
        f"{name}=={metadata.version(name)}"
        for name in ("snowflake-ml-python", "xgboost", "scikit-learn", "numpy", "pandas")
    ]


def _log_pyfunc(wrapper: Any, pipeline_file: str, signature: Any, example: pd.DataFrame) -> Any:
    """mlflow.pyfunc.log_model (mlflow 3.17: `name`, `python_model`, `artifacts`, read in
    mlflow/pyfunc/__init__.py); the wrapper's module is pickled by value, so loading a version
    needs no f1_kedro (a copied project whose venv points at a deleted clone still scores)."""
    cloudpickle.register_pickle_by_value(pyfunc_model)
    try:
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=wrapper,
            artifacts={"pipeline": pipeline_file},
            signature=signature,
            input_example=example,
            pip_requirements=_requirements(),  # MLflow's inference runs a slow subprocess
        )
    finally:
        cloudpickle.unregister_pickle_by_value(pyfunc_model)


@contextlib.contextmanager
def _quiet_mlflow(stderr: bool = True) -> Iterator[None]:
    """One log line per node: MLflow's chatter while it logs and registers a version is dropped.

    Its INFO lines (creating tables, validating the input example), the progress bar of that
    validation's artefact download, "Successfully registered model ..." (printed to stderr by
    mlflow/tracking/_model_registry/fluent.py `eprint`) and its WARNING that a `python_model`
    object is cloudpickled, which is deliberate here (`_log_pyfunc`). Errors still raise.
    `stderr=False` keeps stderr (where the project's own log lines may go) and quiets the rest.
    """
    logger_ = logging.getLogger("mlflow")
    level, bar = logger_.level, os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    logger_.setLevel(logging.ERROR)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    try:
        with contextlib.redirect_stderr(io.StringIO()) if stderr else contextlib.nullcontext():
            yield
    finally:
        logger_.setLevel(level)
        if bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = bar


def _input_example(trained: Trained, columns: list[str]) -> pd.DataFrame:
    """Two rows of the pipeline's input: a category the encoder knows for text columns (read off
    the fitted steps' `categories_`, snowflake-ml 2.6 OneHotEncoder), 0.0 and NULL for numbers,
    so the signature types numbers as double and scoring may pass NULLs."""
    model = fitted_model(trained)
    steps = model["preprocessing"].steps if isinstance(model, dict) else model.steps[:-1]
    categories: dict[str, Any] = {}
    for _, step in steps:
        categories.update(getattr(step, "categories_", None) or {})
    frame = pd.DataFrame(
        {
            c: [str(categories[c][0])] * 2 if c in categories else [0.0, float("nan")]
            for c in columns
        }
    )
    return frame


def _disk_full(err: BaseException) -> bool:
    """A full disk as the OS reports it, or as SQLite does through SQLAlchemy and MLflow
    (`sqlite3.OperationalError: database or disk is full`, wrapped)."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return any(
        "database or disk is full" in str(e) or "No space left on device" in str(e)
        for e in (err, err.__cause__, err.__context__)
        if e is not None
    )


def _signature(example: pd.DataFrame, output: pd.DataFrame) -> Any:
    """Inferred from the example, numbers typed Any: MLflow 3.17's schema enforcement refuses
    int64 for a double column (mlflow/models/utils.py `_enforce_mlflow_datatype`), and FEATURES
    gives int64 or, with NULLs, float64 for the same column. Names, order and texts stay typed."""
    signature = infer_signature(example, output)
    signature.inputs = Schema(
        [
            spec if spec.type == DataType.string else ColSpec(AnyType(), spec.name)
            for spec in signature.inputs.inputs
        ]
    )
    return signature


def _params(trained: Trained) -> dict[str, str]:
    summary = trained["summary"]
    values = {
        **summary.get("hyperparameters", {}),
        "fit_seasons": summary.get("fit_seasons"),
        "test_seasons": summary.get("test_seasons"),
        "input_columns": summary.get("input_columns"),
        "train_run_id": trained["run_id"],
    }
    return {k: _param(v) for k, v in values.items()}


def _param(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class MlflowRegistryDataset(ResourceDataset[MlflowModelRegistry]):
    """Hands the register node the embedded registry; nodes call it and never import MLflow."""

    kind = "model registry"

    def __init__(self, **kwargs: Any):
        super().__init__(MlflowModelRegistry(**kwargs))

    def _describe(self) -> dict[str, Any]:
        return {
            "tracking_uri": self._resource.tracking_uri,
            "stage": str(self._resource.stage.root),
        }
