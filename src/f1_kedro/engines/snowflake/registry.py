"""The Snowflake engine's model registry: snowflake-ml's `Registry` and `@FORMULA1.ML.ML_STAGE`.

`SnowflakeModelRegistry` implements `f1_kedro.registry.ModelRegistry` (docs/contracts.md,
"Registry"). A version `V<n>` is ONE logged model, `Registry.log_model` of the custom model in
`served_model` holding preprocessing and classifier (why not a snowflake-ml `Pipeline`:
that module's docstring); scoring calls `model_version.run(rows, function_name="predict_proba")`.
The version's metadata (its "metrics", a JSON dict: snowflake-ml 2.6 has no per-version tags,
`Model.set_tag` tags the whole model with a Snowflake TAG object) holds the registered metrics
and, under `version_tags`, the tags scoring reads. `log_model` writes that metadata last
(registry/_manager/model_manager.py at 2.6.0), so a version without it is incomplete. The
fitted model and a manifest are PUT (OVERWRITE = FALSE) under `@<db>.<schema>.<stage>/<model>/
v<n>/` for audit; scoring never reads them. The default version is the served one (`champion`).
The run's Snowpark session comes from `f1_kedro.engines.snowflake.session.SESSIONS`.
"""

from __future__ import annotations

import logging
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.engines.snowflake.packaging import (
    custom_model_of,
    forget_pickle_by_value,
    sample_input,
)
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
from f1_kedro.registry.model_registry import TAG_STAGE_LOCATION

logger = logging.getLogger(__name__)

# The key of a version's metadata that holds its tags (dbt/models/ml/predictions.py reads it;
# tests/score/test_snowflake_model.py ties the two).
TAGS_METRIC = "version_tags"
# log_model options (type_hints.BaseModelSaveOption at 2.6.0): exact pins, as constraints.txt;
# explainability is refused for custom models (custom.py raises NotImplementedError).
SAVE_OPTIONS = {"relax_version": False, "enable_explainability": False}


class SnowflakeModelRegistry:
    """Versions of a model in the Snowflake Model Registry, their audit copy on a stage."""

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
        self.schema = identifier(schema, "schema")
        self.stage = identifier(stage, "stage")
        # The runtime the version is served with, pinned to what fitted it (constraints.txt;
        # conf/snowflake/catalog_register.yml is the one place, a test ties the two).
        self.python_version = python_version
        self.conda_dependencies = list(conda_dependencies)
        self._session = session
        self._registry = registry  # tests pass a double: nothing emulates the registry's SQL

    @property
    def session(self) -> Any:
        if self._session is None:
            from f1_kedro.engines.snowflake.session import SESSIONS

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

    def champion(self, model_name: str) -> Champion | None:
        model = self._model(model_name)
        if model is None:
            return None
        default = model.default
        metadata = dict(default.show_metrics())
        return {
            "version": _number(default.version_name),
            "metrics": _numbers(metadata),
            "tags": {str(k): str(v) for k, v in (metadata.get(TAGS_METRIC) or {}).items()},
        }

    def register(
        self,
        model_name: str,
        trained: Trained,
        metrics: dict[str, float],
        tags: dict[str, str],
    ) -> RegisteredVersion:
        """PUT the audit copy on the stage, then log the whole fitted model as version V<n>.

        Versions a killed run left incomplete are dropped first (never the default one). If
        anything fails, the stage folder and the half-made version are removed again and the
        error re-raised; the default version is not touched here.
        """
        model_name = identifier(model_name, "model name")
        model = self._model(model_name)
        # numbered before the drop: a dropped version's number (and stage folder) is not reused
        existing = [_number(v.version_name) for v in model.versions()] if model else []
        version = max(existing, default=0) + 1
        if model is not None:
            self._drop_incomplete_versions(model, model_name)
        location = self.stage_location(model_name, version)
        model_uri = f"snowflake://{self.database}.{self.schema}.{model_name}/V{version}"
        all_tags = {**tags, TAG_STAGE_LOCATION: location}
        fitted = fitted_model(trained)
        self._put(
            location,
            stage_files(model_name, version, model_uri, all_tags, pipeline_bytes(fitted)),
        )
        try:
            with warnings.catch_warnings():
                # the custom model's sample run warns on the sample's NULLs (imputed, expected)
                warnings.filterwarnings("ignore", "Null value detected", UserWarning)
                logged = self.registry.log_model(
                    custom_model_of(fitted),
                    model_name=model_name,
                    version_name=f"V{version}",
                    comment=f"F1 race outcome: preprocessing + XGBoost, train run "
                    f"{trained['run_id']}; audit copy at {location}",
                    metrics={**metrics, TAGS_METRIC: all_tags},
                    conda_dependencies=self.conda_dependencies or None,
                    python_version=self.python_version,
                    sample_input_data=sample_input(trained),
                    options=dict(SAVE_OPTIONS),
                )
        except BaseException:
            logger.error("log_model of %s V%d failed: removing what it made", model_name, version)
            self._delete_version(model_name, f"V{version}")
            self._remove(location)
            raise
        finally:
            forget_pickle_by_value()
        return RegisteredVersion(
            model_name=model_name,
            version=version,
            version_name=str(logged.version_name),
            model_uri=model_uri,
            stage_path=location,
            tags=all_tags,
        )

    def set_champion(self, model_name: str, version: int) -> None:
        self.registry.get_model(model_name).default = f"V{version}"

    def _model(self, model_name: str) -> Any:
        try:
            return self.registry.get_model(model_name)
        except ValueError:  # snowflake-ml 2.6: "Unable to find model ..." (model_manager.py)
            return None

    def _drop_incomplete_versions(self, model: Any, model_name: str) -> None:
        """Delete versions without their tags: a killed register left them (runs are one at a
        time, RunLockHook, so none is being written). The default version is kept."""
        default = str(model.default.version_name)
        for found in model.versions():
            name = str(found.version_name)
            if name != default and TAGS_METRIC not in (found.show_metrics() or {}):
                logger.warning(
                    "Deleting %s %s: a killed run left it without tags", model_name, name
                )
                model.delete_version(name)

    def _delete_version(self, model_name: str, version_name: str) -> None:
        """Remove the version a failed log_model may have created (best effort: the failure may
        have come before CREATE MODEL). Its only version: the model goes (Snowflake refuses to
        drop a model's default version)."""
        try:
            model = self._model(model_name)
            names = [str(v.version_name) for v in model.versions()] if model else []
            if version_name not in names:
                return
            if names == [version_name]:
                self.registry.delete_model(model_name)
            else:
                model.delete_version(version_name)
        except Exception as err:  # cleanup must not hide the original error
            logger.warning("could not delete %s %s: %s", model_name, version_name, str(err)[:200])

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
                        "version's stage folder is never overwritten; if the registry has no "
                        f"such version (a killed run left it), `REMOVE {location}/` and re-run"
                    )

    def _remove(self, location: str) -> None:
        try:
            self.session.sql(f"REMOVE {location}/").collect()
        except Exception as err:  # cleanup must not hide the original error
            logger.warning("could not remove %s: %s", location, str(err)[:200])


def _numbers(metadata: dict[str, Any]) -> dict[str, float]:
    return {
        str(k): float(v)
        for k, v in metadata.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _number(version_name: str) -> int:
    match = re.fullmatch(r"[Vv](\d+)", str(version_name))
    if not match:
        raise RegistryError(f"model version {version_name!r} is not V<number>")
    return int(match.group(1))


class SnowflakeRegistryDataset(ResourceDataset[SnowflakeModelRegistry]):
    """Hands the register node the Snowflake registry; the session opens on first use."""

    kind = "model registry"

    def __init__(
        self,
        database: str = "FORMULA1",
        schema: str = "ML",
        stage: str = "ML_STAGE",
        python_version: str | None = None,
        conda_dependencies: list[str] | None = None,
    ):
        super().__init__(
            SnowflakeModelRegistry(
                database,
                schema,
                stage,
                python_version=python_version,
                conda_dependencies=conda_dependencies or (),
            )
        )

    def _describe(self) -> dict[str, Any]:
        r = self._resource
        return {
            "registry": f"{r.database}.{r.schema}",
            "stage": f"@{r.database}.{r.schema}.{r.stage}",
        }
