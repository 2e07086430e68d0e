"""The embedded engine's model registry: MLflow (sqlite store) plus a folder standing for the stage.

`MlflowModelRegistry` implements `f1_kedro.interfaces.ModelRegistry`. A version is ONE MLflow
pyfunc model holding the whole fitted snowflake-ml pipeline (`served_model`),
with an input example and signature, the train run's metrics and parameters (`mlflow_version`),
and version tags scoring reads (docs/contracts.md, "Registry"). Its audit copy (pipeline +
manifest) goes to `<stage_dir>/<stage>/<model_name>/v<version>/` (`local_stage`; written to a
temp folder, then renamed; an existing folder is never replaced). The alias `champion` marks the
version to serve.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.identifiers import identifier
from f1_kedro.registry import (
    Champion,
    RegisteredVersion,
    RegistryError,
    Trained,
    fitted_model,
    pipeline_bytes,
    stage_files,
)
from f1_kedro.registry.model_registry import PIPELINE_FILE, TAG_STAGE_LOCATION

from . import mlflow_version, served_model
from .errors import is_disk_full
from .local_stage import LocalStage
from .mlflow_store import rebase_artifact_paths
from .mlflow_version import quiet_mlflow

logger = logging.getLogger(__name__)


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
        with quiet_mlflow(stderr=False):  # "Creating initial MLflow database tables..."
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
        wrapper = served_model.PipelineProbabilities(columns, len(summary["class_labels"]))
        version: int | None = None
        path: Path | None = None  # the stage folder this call created, removed again on failure
        try:
            with tempfile.TemporaryDirectory(dir=self.artifacts_dir.parent) as folder:
                pipeline_file = Path(folder) / PIPELINE_FILE
                model = fitted_model(trained)
                pipeline_file_bytes = pipeline_bytes(model)
                pipeline_file.write_bytes(pipeline_file_bytes)
                example = mlflow_version.input_example(trained, columns)
                wrapper.pipeline = model
                signature = mlflow_version.signature(example, wrapper.predict(None, example))
                wrapper.pipeline = None  # the pipeline travels as an artefact, not in the pickle
                with (
                    quiet_mlflow(),
                    mlflow.start_run(
                        experiment_id=self._experiment_id(client),
                        run_name=f"register-{model_name}-{trained['run_id'][:8]}",
                        # under `kedro run`, kedro-mlflow's run of the whole run is active
                        nested=True,
                    ),
                ):
                    mlflow.log_params(mlflow_version.params(trained))
                    mlflow.log_metrics(metrics)
                    mlflow.set_tags({"train_run_id": str(trained["run_id"])})
                    info = mlflow_version.log_pyfunc(
                        wrapper, str(pipeline_file), signature, example
                    )
                    registered = mlflow.register_model(info.model_uri, model_name)
            version = int(registered.version)
            model_uri = f"models:/{model_name}/{version}"
            location = f"@{self.stage.stage}/{model_name}/v{version}"
            all_tags = {**tags, TAG_STAGE_LOCATION: location}
            files = stage_files(model_name, version, model_uri, all_tags, pipeline_file_bytes)
            path = self.stage.write(model_name, version, files)
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
            if is_disk_full(err):
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
