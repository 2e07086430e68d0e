"""The Snowflake registry engine: real packaging, a real emulated stage, a registry double.

Real: the trained unit (train's nodes on a synthetic table), the Snowpark local-testing stage
(`session.file.put` OVERWRITE = FALSE, `get`), and snowflake-ml's `ModelPackager` (what
`Registry.log_model` runs locally before its upload, model_packager.py at 2.6.0): every logged
version is packaged and loaded back from the package, so the custom model, its signature and its
pinned environment are the library's own. A double, because nothing emulates the registry's SQL
(SHOW MODELS, CREATE MODEL ... FROM @stage, ALTER MODEL ... SET DEFAULT_VERSION / DROP VERSION):
`PackagingRegistry`'s bookkeeping of versions, default and metadata, written after the Snowflake
behaviour read in the library (the first version becomes the default; a version's metadata is
saved after CREATE MODEL). Not proven here: the upload and CREATE MODEL on an account.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from f1_kedro.engines.snowflake.registry import TAGS_METRIC, SnowflakeModelRegistry
from f1_kedro.registry import RegistryError, version_tags
from f1_kedro.registry.model_registry import TAG_STAGE_LOCATION, VERSION_TAGS

MODEL = "f1_race_outcome"
PINS = ["snowflake-ml-python==2.6.0", "xgboost==3.2.0", "scikit-learn==1.9.1", "pandas==2.3.3"]
PROBA = ["PREDICT_PROBA_0", "PREDICT_PROBA_1", "PREDICT_PROBA_2"]


class PackagedVersion:
    """A logged version: the package snowflake-ml wrote, loaded back as the warehouse would."""

    def __init__(self, name: str, folder: str, meta: Any, metrics: dict[str, Any] | None):
        self.version_name, self.folder, self.meta = name, folder, meta
        self._metrics = metrics

    def show_metrics(self) -> dict[str, Any]:
        return dict(self._metrics or {})

    def load(self) -> Any:
        from snowflake.ml.model._packager import model_packager

        packager = model_packager.ModelPackager(self.folder)
        packager.load(as_custom_model=True)
        return packager.model


class PackagedModel:
    def __init__(self) -> None:
        self.store: dict[str, PackagedVersion] = {}
        self.default_name: str | None = None

    def versions(self) -> list[PackagedVersion]:
        return list(self.store.values())

    @property
    def default(self) -> PackagedVersion:
        assert self.default_name is not None
        return self.store[self.default_name]

    @default.setter
    def default(self, name: str) -> None:
        if name not in self.store:
            raise ValueError(f"version {name} does not exist")
        self.default_name = name

    def delete_version(self, name: str) -> None:
        if name == self.default_name:
            raise ValueError("cannot drop the default version")  # Snowflake refuses it too
        del self.store[name]


class PackagingRegistry:
    """Stands for `snowflake.ml.registry.Registry`; log_model really packages the model."""

    def __init__(self) -> None:
        self.models: dict[str, PackagedModel] = {}
        self.fail_after_create = False
        self.calls: list[dict[str, Any]] = []

    def get_model(self, name: str) -> PackagedModel:
        if name not in self.models:
            raise ValueError(f"Unable to find model {name}")  # as snowflake-ml 2.6 says it
        return self.models[name]

    def delete_model(self, name: str) -> None:
        del self.models[name]

    def log_model(self, model: Any, *, model_name: str, version_name: str, **kw: Any) -> Any:
        from snowflake.ml._internal.platform_capabilities import PlatformCapabilities
        from snowflake.ml.model._packager import model_packager

        entry = self.models.get(model_name)
        if entry and version_name in entry.store:
            raise ValueError(f"Model {model_name} version {version_name} already existed.")
        folder = tempfile.mkdtemp(prefix="snowreg18-")
        # the account's feature flags (SELECT SYSTEM$...) are the library's own test hook here
        with warnings.catch_warnings(), PlatformCapabilities.mock_features():
            warnings.simplefilter("ignore")
            meta = model_packager.ModelPackager(folder).save(
                name=model_name,
                model=model,
                sample_input_data=kw["sample_input_data"],
                options=kw["options"],
                conda_dependencies=kw["conda_dependencies"],
                python_version=kw["python_version"],
            )
        entry = self.models.setdefault(model_name, PackagedModel())
        entry.store[version_name] = PackagedVersion(version_name, folder, meta, None)
        entry.default_name = entry.default_name or version_name  # the first one is the default
        self.calls.append({"model": model, "version_name": version_name, **kw})
        if self.fail_after_create:  # e.g. the metadata ALTER after CREATE MODEL fails
            raise RuntimeError("warehouse suspended")
        entry.store[version_name]._metrics = kw["metrics"]
        return entry.store[version_name]


def cloudpickle_by_value() -> set[str]:
    import cloudpickle

    return set(cloudpickle.list_registry_pickle_by_value())


def snowflake_unit() -> tuple[dict[str, Any], Any]:
    """Train's `trained_model` unit (train's own nodes on the synthetic table) and test rows."""
    from f1_kedro.pipelines.train.nodes import package_trained_model
    from tests.train.conftest import train_synthetic

    out = train_synthetic()
    parts = ("preprocessing_pipeline", "classifier", "train_summary", "search", "metrics")
    return package_trained_model(*(out[p] for p in parts)), out["test_rows"]


@pytest.fixture(scope="module")
def unit() -> dict[str, Any]:
    trained, rows = snowflake_unit()
    return {"trained": trained, "test_rows": rows}


@pytest.fixture
def session():
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    yield session
    session.close()


@pytest.fixture
def fake() -> PackagingRegistry:
    return PackagingRegistry()


@pytest.fixture
def registry(session, fake) -> SnowflakeModelRegistry:
    return SnowflakeModelRegistry(
        session=session, registry=fake, python_version="3.11", conda_dependencies=PINS
    )


def _register(registry: SnowflakeModelRegistry, unit: dict[str, Any], macro_f1: float = 0.6):
    trained = unit["trained"]
    return registry.register(MODEL, trained, {"test_macro_f1": macro_f1}, version_tags(trained))


def test_one_version_serves_preprocessing_and_classifier(registry, fake, unit, session, tmp_path):
    trained, rows = unit["trained"], unit["test_rows"]
    columns = list(trained["summary"]["input_columns"])

    version = _register(registry, unit)

    assert (version.version, version.version_name) == (1, "V1")
    # the custom handler's process-wide pickle-by-value registration is undone afterwards
    assert "f1_kedro.engines.snowflake.served_model" not in cloudpickle_by_value()
    assert version.model_uri == f"snowflake://FORMULA1.ML.{MODEL}/V1"
    logged = fake.models[MODEL].store["V1"]
    assert logged.meta.model_type == "custom"  # ONE model: both fitted parts inside it
    assert set(logged.meta.models) == {MODEL, "preprocessing", "classifier"}
    signature = logged.meta.signatures["predict_proba"]
    assert [f.name for f in signature.inputs] == columns
    types = {f.name: f._dtype.name for f in signature.inputs}
    assert types["CONSTRUCTOR_REF"] == "STRING" and types["GRID"] == "DOUBLE"
    assert [f.name for f in signature.outputs] == PROBA
    assert set(PINS) <= set(logged.meta.env.conda_dependencies)  # exact: relax_version False
    assert logged.meta.env.python_version == "3.11"
    # what the warehouse runs for run(function_name="predict_proba"): the loaded package
    served = logged.load().predict_proba(rows[columns])
    expected = trained["classifier"].predict_proba(trained["preprocessing"].transform(rows))
    expected = expected[PROBA].to_numpy(dtype=float)
    assert list(served.columns) == PROBA and len(served) == len(rows)
    np.testing.assert_allclose(served.to_numpy(), expected / expected.sum(1, keepdims=True))
    np.testing.assert_allclose(served.sum(axis=1), 1.0)
    # NULL inputs are imputed by the pipeline inside the model
    with_nulls = rows[columns].head(3).assign(GRID=np.nan, QUALIFYING_POSITION=None)
    assert not logged.load().predict_proba(with_nulls).isna().any().any()
    # the version's metadata: metrics and every tag scoring reads, the stage location added
    metadata = logged.show_metrics()
    assert metadata["test_macro_f1"] == 0.6
    assert set(VERSION_TAGS) <= set(metadata[TAGS_METRIC])
    assert json.loads(metadata[TAGS_METRIC]["input_columns"]) == columns
    assert metadata[TAGS_METRIC][TAG_STAGE_LOCATION] == f"@FORMULA1.ML.ML_STAGE/{MODEL}/v1"
    # the audit copy: manifest and the fitted parts, on the (emulated) stage
    session.file.get(f"{version.stage_path}/manifest.json", str(tmp_path))
    session.file.get(f"{version.stage_path}/pipeline.joblib", str(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert (manifest["version"], manifest["model_uri"]) == (1, version.model_uri)
    assert manifest["tags"] == version.tags
    copy = joblib.load(Path(tmp_path) / "pipeline.joblib")
    assert set(copy) == {"preprocessing", "classifier"}


def test_versions_count_up_and_the_champion_is_the_default(registry, fake, unit):
    assert registry.champion(MODEL) is None
    names = [_register(registry, unit, macro_f1=f).version_name for f in (0.6, 0.5, 0.7)]
    assert names == ["V1", "V2", "V3"]
    champion = registry.champion(MODEL)
    assert champion is not None and champion["version"] == 1  # the first version, by Snowflake
    registry.set_champion(MODEL, 3)
    champion = registry.champion(MODEL)
    assert champion is not None
    assert (champion["version"], champion["metrics"]) == (3, {"test_macro_f1": 0.7})
    assert champion["tags"]["train_run_id"] == unit["trained"]["run_id"]
    assert fake.calls[0]["options"] == {"relax_version": False, "enable_explainability": False}


def test_an_existing_stage_folder_stops_the_version(registry, fake, unit):
    _register(registry, unit)
    fake.models.pop(MODEL)  # the registry lost the model; the stage still has v1
    with pytest.raises(RegistryError, match="never overwritten"):
        _register(registry, unit)
    assert MODEL not in fake.models  # nothing was logged over the old files


def test_a_failed_log_model_leaves_nothing_and_the_default(registry, fake, unit, session):
    _register(registry, unit)
    fake.fail_after_create = True
    statements: list[str] = []
    # local testing refuses session.sql, so the REMOVE is recorded, not run (ledger: never run)
    session.sql = lambda query: statements.append(query) or type("R", (), {"collect": list})()
    with pytest.raises(RuntimeError, match="warehouse suspended"):
        _register(registry, unit, macro_f1=0.9)
    model = fake.models[MODEL]
    assert [v.version_name for v in model.versions()] == ["V1"]
    assert model.default.version_name == "V1"
    assert statements == [f"REMOVE @FORMULA1.ML.ML_STAGE/{MODEL}/v2/"]


def test_a_failed_first_version_removes_the_model(registry, fake, unit):
    fake.fail_after_create = True
    with pytest.raises(RuntimeError, match="warehouse suspended"):
        _register(registry, unit)
    assert MODEL not in fake.models and registry.champion(MODEL) is None


def test_a_version_a_killed_run_left_is_dropped_next_time(registry, fake, unit):
    _register(registry, unit)
    _register(registry, unit)
    fake.models[MODEL].store["V2"]._metrics = None  # killed between CREATE MODEL and metadata
    assert _register(registry, unit).version_name == "V3"
    assert [v.version_name for v in fake.models[MODEL].versions()] == ["V1", "V3"]
