"""The Snowflake engine's model registry: snowflake-ml's `Registry` and `@FORMULA1.ML.ML_STAGE`.

`SnowflakeModelRegistry` implements `f1_kedro.registry.ModelRegistry`. A version `V<n>` is the
snowflake-ml XGBoost classifier logged with `Registry.log_model` and its metrics; the fitted
preprocessing pipeline and a manifest are PUT (OVERWRITE = FALSE) under
`@<db>.<schema>.<stage>/<model_name>/v<n>/` first, so a version's stage folder is never replaced;
the model's default version is the served one (the embedded engine's `champion` alias).
The run's Snowpark session comes from `f1_kedro.engines.snowflake.SESSIONS`.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from f1_kedro.identifiers import identifier
from f1_kedro.registry import ModelArtifacts, RegisteredVersion, RegistryError, stage_manifest
from f1_kedro.registry.model_registry import MANIFEST_FILE, PREPROCESSING_FILE

logger = logging.getLogger(__name__)


class SnowflakeModelRegistry:
    """Versions of a model in the Snowflake Model Registry, their preprocessing on a stage."""

    def __init__(
        self,
        database: str = "FORMULA1",
        schema: str = "ML",
        stage: str = "ML_STAGE",
        session: Any = None,
        registry: Any = None,
        python_version: str | None = None,
        conda_dependencies: Sequence[str] = (),
    ):
        self.database = identifier(database, "database")
        # The runtime the version is served with, pinned to what fitted it (constraints.txt;
        # conf/snowflake/catalog_register.yml is the one place, a test ties the two).
        self.python_version = python_version
        self.conda_dependencies = list(conda_dependencies)
        self.schema = identifier(schema, "schema")
        self.stage = identifier(stage, "stage")
        self._session = session
        self._registry = registry  # tests pass a double: nothing emulates the registry's SQL

    @property
    def session(self) -> Any:
        if self._session is None:
            from f1_kedro.engines.snowflake import SESSIONS

            self._session = SESSIONS.get()
        return self._session

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from snowflake.ml.registry import Registry

            self._registry = Registry(
                session=self.session, database_name=self.database, schema_name=self.schema
            )
        return self._registry

    def stage_location(self, model_name: str, version: int) -> str:
        return f"@{self.database}.{self.schema}.{self.stage}/{model_name}/v{version}"

    def champion(self, model_name: str) -> dict[str, Any] | None:
        model = self._model(model_name)
        if model is None:
            return None
        default = model.default
        return {"version": _number(default.version_name), "metrics": dict(default.show_metrics())}

    def register(
        self,
        model_name: str,
        artifacts: ModelArtifacts,
        params: dict[str, Any],
        metrics: dict[str, float],
    ) -> RegisteredVersion:
        """PUT the preprocessing on the stage, then log the classifier as version V<n>.

        If `log_model` fails, the stage files are removed again (best effort) and the error
        re-raised; the default version is not touched here.
        """
        model = self._model(identifier(model_name, "model name"))
        existing = [_number(v.version_name) for v in model.versions()] if model else []
        version = max(existing, default=0) + 1
        location = self.stage_location(model_name, version)
        model_uri = f"snowflake://{self.database}.{self.schema}.{model_name}/V{version}"
        manifest = stage_manifest(model_name, version, artifacts, model_uri)
        self._put(
            location,
            {
                MANIFEST_FILE: json.dumps(manifest, indent=2).encode(),
                PREPROCESSING_FILE: artifacts.preprocessing_bytes(),
            },
        )
        try:
            logged = self.registry.log_model(
                artifacts.classifier,
                model_name=model_name,
                version_name=f"V{version}",
                comment=f"F1 race outcome classifier; preprocessing at {location}",
                metrics={**metrics, "params": params, "stage_location": location},
                conda_dependencies=self.conda_dependencies or None,
                python_version=self.python_version,
            )
        except BaseException:
            logger.error("log_model of %s V%d failed: removing %s", model_name, version, location)
            self._remove(location)
            raise
        return RegisteredVersion(
            model_name,
            version,
            logged.version_name,
            location,
            model_uri,
            {"stage_location": location},
        )

    def set_champion(self, model_name: str, version: int) -> None:
        model = self.registry.get_model(model_name)
        model.default = f"V{version}"

    def _model(self, model_name: str) -> Any:
        try:
            return self.registry.get_model(model_name)
        except ValueError:  # snowflake-ml: "Unable to find model ..."
            return None

    def _put(self, location: str, files: dict[str, bytes]) -> None:
        """PUT each file without overwriting; the manifest goes first and a SKIPPED one stops it."""
        with tempfile.TemporaryDirectory() as folder:
            for name, content in files.items():
                path = Path(folder) / name
                path.write_bytes(content)
                (result,) = self.session.file.put(
                    str(path), location, auto_compress=False, overwrite=False
                )
                if result.status != "UPLOADED":
                    raise RegistryError(
                        f"{location}/{name} already exists on the stage ({result.status}): a "
                        "version's stage folder is never overwritten"
                    )

    def _remove(self, location: str) -> None:
        try:
            self.session.sql(f"REMOVE {location}/").collect()
        except Exception as err:  # cleanup must not hide the original error
            logger.warning("could not remove %s: %s", location, str(err)[:200])


def _number(version_name: str) -> int:
    match = re.fullmatch(r"[Vv](\d+)", str(version_name))
    if not match:
        raise RegistryError(f"model version {version_name!r} is not V<number>")
    return int(match.group(1))


class SnowflakeRegistryDataset(AbstractDataset[None, SnowflakeModelRegistry]):
    """Hands the register node the Snowflake registry; the session opens on first use."""

    def __init__(
        self,
        database: str = "FORMULA1",
        schema: str = "ML",
        stage: str = "ML_STAGE",
        python_version: str | None = None,
        conda_dependencies: list[str] | None = None,
    ):
        self._registry = SnowflakeModelRegistry(
            database,
            schema,
            stage,
            python_version=python_version,
            conda_dependencies=conda_dependencies or (),
        )

    def load(self) -> SnowflakeModelRegistry:
        return self._registry

    def save(self, data: None) -> None:
        raise DatasetError("the model registry is a resource: nodes use it, they do not save it")

    def _describe(self) -> dict[str, Any]:
        r = self._registry
        return {
            "registry": f"{r.database}.{r.schema}",
            "stage": f"@{r.database}.{r.schema}.{r.stage}",
        }
