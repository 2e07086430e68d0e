"""The register node on the Snowflake engine: stage PUTs on Snowpark local testing, a fake registry.

What is real: the Snowpark local-testing session's stage (`session.file.put` with
OVERWRITE = FALSE, `session.file.get`), the trained snowflake-ml artefacts, the node and the
policy. What is a test double, because nothing here emulates Snowflake's model registry SQL
(SHOW MODELS, CREATE MODEL ... FROM @stage, ALTER MODEL ... SET DEFAULT_VERSION): `FakeRegistry`,
which stands for `snowflake.ml.registry.Registry` with the methods the engine calls. So these
tests do not prove that `Registry.log_model` accepts the classifier on a real account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import pytest

from f1_kedro.engines.snowflake_registry import SnowflakeModelRegistry
from f1_kedro.registry import RegistryError


class FakeVersion:
    def __init__(self, name: str, metrics: dict[str, Any]):
        self.version_name, self._metrics = name, metrics

    def show_metrics(self) -> dict[str, Any]:
        return dict(self._metrics)


class FakeModel:
    def __init__(self) -> None:
        self._versions: dict[str, FakeVersion] = {}
        self._default: str | None = None

    def versions(self) -> list[FakeVersion]:
        return list(self._versions.values())

    @property
    def default(self) -> FakeVersion:
        return self._versions[self._default or next(iter(self._versions))]

    @default.setter
    def default(self, name: str) -> None:
        if name not in self._versions:
            raise ValueError(f"You cannot set version {name} as default version")
        self._default = name


class FakeRegistry:
    """Stands for `snowflake.ml.registry.Registry`: get_model, log_model (version names unique)."""

    def __init__(self, fail_log_model: bool = False) -> None:
        self.models: dict[str, FakeModel] = {}
        self.fail_log_model = fail_log_model
        self.logged: list[Any] = []
        self.logged_options: list[dict[str, Any]] = []

    def get_model(self, name: str) -> FakeModel:
        if name not in self.models:
            raise ValueError(f"Unable to find model {name}")
        return self.models[name]

    def log_model(self, model: Any, *, model_name: str, version_name: str, **kw: Any) -> Any:
        if self.fail_log_model:
            raise RuntimeError("warehouse suspended")
        entry = self.models.setdefault(model_name, FakeModel())
        if version_name in entry._versions:
            raise ValueError(f"version {version_name} already exists")
        entry._versions[version_name] = FakeVersion(version_name, kw.get("metrics") or {})
        self.logged.append(model)
        self.logged_options.append(kw)
        return entry._versions[version_name]


@pytest.fixture
def session():
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    yield session
    session.close()


def test_versions_stage_files_and_default_version(session, register_with, trained, tmp_path):
    fake = FakeRegistry()
    pins = ["xgboost==3.2.0", "scikit-learn==1.9.1"]
    registry = SnowflakeModelRegistry(
        session=session, registry=fake, python_version="3.11", conda_dependencies=pins
    )
    first = register_with(registry, macro_f1=0.6)
    second = register_with(registry, macro_f1=0.5)
    third = register_with(registry, macro_f1=0.7)
    assert [r["version_name"] for r in (first, second, third)] == ["V1", "V2", "V3"]
    assert fake.models["f1_race_outcome"].default.version_name == "V3"
    assert second["champion_version"] == 1 and not second["champion_moved"]
    assert first["stage_path"] == "@FORMULA1.ML.ML_STAGE/f1_race_outcome/v1"
    assert fake.logged[0] is trained["classifier"]  # the snowflake-ml estimator itself
    assert fake.logged_options[0]["conda_dependencies"] == pins
    assert fake.logged_options[0]["python_version"] == "3.11"
    assert fake.models["f1_race_outcome"].default.show_metrics()["test_macro_f1"] == 0.7
    session.file.get(f"{first['stage_path']}/manifest.json", str(tmp_path))
    session.file.get(f"{first['stage_path']}/preprocessing.joblib", str(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["version"] == 1
    # the stage copy is the fitted pipeline: it transforms the test rows into the model's inputs
    transformed = joblib.load(Path(tmp_path) / "preprocessing.joblib").transform(
        trained["test_rows"]
    )
    assert len(transformed) == len(trained["test_rows"])
    assert set(manifest["feature_columns"]) <= set(transformed.columns)
    assert not transformed[manifest["feature_columns"]].isna().any().any()


def test_an_existing_stage_folder_stops_the_version(session, register_with):
    fake = FakeRegistry()
    registry = SnowflakeModelRegistry(session=session, registry=fake)
    register_with(registry)
    fake.models.pop("f1_race_outcome")  # the registry lost the model; the stage still has v1
    with pytest.raises(RegistryError, match="never overwritten"):
        register_with(registry)
    assert "f1_race_outcome" not in fake.models  # nothing was logged over the old files


def test_a_failed_log_model_leaves_the_default_version(session, register_with):
    fake = FakeRegistry()
    registry = SnowflakeModelRegistry(session=session, registry=fake)
    register_with(registry, macro_f1=0.5)
    fake.fail_log_model = True
    with pytest.raises(RuntimeError, match="warehouse suspended"):
        register_with(registry, macro_f1=0.9)
    model = fake.models["f1_race_outcome"]
    assert model.default.version_name == "V1" and len(model.versions()) == 1
