"""The snowflake variant of dbt/models/ml/predictions.py, called as `model(dbt, session)`.

The session is Snowpark's local-testing emulator; the dbt object and the registry are fakes.
What this does NOT cover (nothing here emulates it): running the model as a Snowflake stored
procedure (dbt-snowflake wraps this file in one), resolution of `config(packages=...)` against
Snowflake's Anaconda channel, the real `snowflake.ml.registry.Registry` (`get_model().default`,
`ModelVersion.run` executing the logged XGBoost model in a warehouse), and the real snowflake-ml
preprocessing pipeline on Snowpark (it needs SQL that local testing lacks): a small Snowpark
transformer stands in for it on the stage.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import joblib
import pandas as pd
import pytest
from snowflake.snowpark import DataFrame, Session
from snowflake.snowpark import functions as F

STAGE = "@FORMULA1.ML.ML_STAGE"
MODEL = "f1_race_outcome"
FEATURE_ROWS = pd.DataFrame(
    {
        "RACE_ID": [1, 1, 1, 2, 2, 2, 3, 3],
        "DRIVER_ID": [10, 11, 12, 10, 11, 12, 10, 11],
        "SEASON": [2023, 2023, 2023, 2024, 2024, 2024, 2024, 2024],
        "ROUND": [1, 1, 1, 1, 1, 1, 2, 2],
        "DRIVER_REF": ["a", "b", "c", "a", "b", "c", "a", "b"],
        "CONSTRUCTOR_REF": ["t", "u", "v", "t", "u", "v", "t", "u"],
        "GRID": [1, 5, 15, 2, 8, 0, 12, 3],
        "LABEL": [0, 1, 2, 0, 1, 2, 2, 0],
    }
)


class GridTransformer:
    """Stands for the fitted preprocessing pipeline: a Snowpark transform, picklable by joblib."""

    def transform(self, frame: DataFrame) -> DataFrame:
        return frame.with_column("GRID_SCALED", F.col("GRID") / F.lit(20.0))


class FakeModelVersion:
    """`ModelVersion.run(df, function_name="predict_proba")`: Snowpark in, Snowpark out."""

    def __init__(self, version_name: str):
        self.version_name = version_name
        self.calls: list[str] = []

    def run(self, frame: DataFrame, function_name: str) -> DataFrame:
        self.calls.append(function_name)
        front = F.when(F.col("GRID").between(1, 3), 0.7).otherwise(0.1)
        middle = F.when(F.col("GRID").between(4, 10), 0.6).otherwise(0.2)
        return frame.with_columns(
            ["PREDICT_PROBA_0", "PREDICT_PROBA_1", "PREDICT_PROBA_2"],
            [front, middle, F.lit(1.0) - front - middle],
        )


class FakeModel:
    def __init__(self, default: FakeModelVersion | None):
        self._default = default

    @property
    def default(self) -> FakeModelVersion:
        if self._default is None:
            raise RuntimeError("the model has no default version")
        return self._default


class FakeRegistry:
    def __init__(self, models: dict[str, FakeModel]):
        self.models = models

    def get_model(self, name: str) -> FakeModel:
        if name not in self.models:
            raise ValueError(f"Unable to find model {name}")  # as snowflake-ml says it
        return self.models[name]


class FakeConfig:
    """`dbt.config(...)` in the model body and `dbt.config.meta_get(key)` from the model's meta."""

    def __init__(self, values: dict[str, Any]):
        self.values = values
        self.declared: dict[str, Any] = {}

    def __call__(self, **kwargs: Any) -> None:
        self.declared.update(kwargs)

    def meta_get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


class FakeDbt:
    def __init__(self, session: Session, seasons: Any):
        self.config = FakeConfig(
            {
                "engine": "snowflake",
                "score_seasons": json.dumps(seasons),
                "registry_model_name": MODEL,
                "snowflake_ml_stage": STAGE,
                "snowflake_registry_database": "FORMULA1",
                "snowflake_registry_schema": "ML",
            }
        )
        self._features = session.create_dataframe(FEATURE_ROWS)
        self.is_incremental = False  # the first build of PREDICTIONS (incremental since issue 12)

    def ref(self, name: str) -> DataFrame:
        assert name == "features"
        return self._features


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    # closed after the module: a session left active is picked up by later snowflake-ml calls in
    # the same worker (test_snowml_packaging then failed: "[Local Testing] Session.sql")
    session = Session.builder.config("local_testing", True).create()
    yield session
    session.close()


def _put(session: Session, location: str, content: bytes) -> None:
    session.file.put_stream(io.BytesIO(content), location, auto_compress=False, overwrite=True)


def _stage_version(session: Session, version: int) -> str:
    """Put a manifest and the transformer on the emulated stage, as register does."""
    folder = f"{STAGE}/{MODEL}/v{version}"
    manifest = {
        "model_name": MODEL,
        "version": version,
        "preprocessing_file": "preprocessing.joblib",
        "input_columns": ["GRID"],
        "feature_columns": ["GRID_SCALED"],
        "probability_columns": ["PREDICT_PROBA_0", "PREDICT_PROBA_1", "PREDICT_PROBA_2"],
    }
    _put(session, f"{folder}/manifest.json", json.dumps(manifest).encode())
    buffer = io.BytesIO()
    joblib.dump(GridTransformer(), buffer)
    _put(session, f"{folder}/preprocessing.joblib", buffer.getvalue())
    return folder


@pytest.fixture
def registry(
    predictions_model: ModuleType, monkeypatch: pytest.MonkeyPatch, session: Session
) -> FakeRegistry:
    _stage_version(session, 3)
    fake = FakeRegistry({MODEL: FakeModel(FakeModelVersion("V3"))})
    monkeypatch.setattr(predictions_model, "snowflake_registry", lambda *args: fake)
    return fake


def test_scores_the_latest_season_with_the_default_version(
    predictions_model: ModuleType, session: Session, registry: FakeRegistry
) -> None:
    dbt = FakeDbt(session, seasons=[])

    result = predictions_model.model(dbt, session).to_pandas()

    assert list(result.columns) == predictions_model.TABLE_COLUMNS
    assert sorted(zip(result.RACE_ID, result.DRIVER_ID, strict=True)) == [
        (2, 10), (2, 11), (2, 12), (3, 10), (3, 11)
    ]  # fmt: skip
    probabilities = result[["PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"]]
    assert (probabilities.sum(axis=1) - 1).abs().max() < 1e-9
    assert (result.PREDICTED_LABEL == probabilities.to_numpy().argmax(axis=1)).all()
    assert set(result.MODEL_VERSION) == {"3"} and set(result.MODEL_NAME) == {MODEL}
    assert result.SCORED_AT.nunique() == 1
    assert registry.models[MODEL].default.calls == ["predict_proba"]
    assert "snowflake-ml-python==2.6.0" in dbt.config.declared["packages"]  # pinned (issue 18)


def test_scores_the_seasons_of_the_var(
    predictions_model: ModuleType, session: Session, registry: FakeRegistry
) -> None:
    result = predictions_model.model(FakeDbt(session, seasons=[2023]), session).to_pandas()

    assert sorted(result.DRIVER_ID) == [10, 11, 12] and set(result.RACE_ID) == {1}


def test_missing_default_version_says_to_train_and_register(
    predictions_model: ModuleType,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(predictions_model, "snowflake_registry", lambda *a: FakeRegistry({}))

    with pytest.raises(predictions_model.ScoringError, match="kedro run --pipeline=train"):
        predictions_model.model(FakeDbt(session, seasons=[]), session)


def test_missing_stage_artifact_is_named(
    predictions_model: ModuleType,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeRegistry({MODEL: FakeModel(FakeModelVersion("V99"))})  # nothing staged for v99
    monkeypatch.setattr(predictions_model, "snowflake_registry", lambda *a: fake)

    with pytest.raises(predictions_model.ScoringError) as raised:
        predictions_model.model(FakeDbt(session, seasons=[]), session)
    assert f"{STAGE}/{MODEL}/v99/manifest.json" in str(raised.value)


def test_corrupt_stage_artifact_is_named(
    predictions_model: ModuleType,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = _stage_version(session, 7)
    _put(session, f"{folder}/preprocessing.joblib", b"not a pickle")
    fake = FakeRegistry({MODEL: FakeModel(FakeModelVersion("V7"))})
    monkeypatch.setattr(predictions_model, "snowflake_registry", lambda *a: fake)

    with pytest.raises(predictions_model.ScoringError) as raised:
        predictions_model.model(FakeDbt(session, seasons=[]), session)
    assert f"stage artifact {folder}/preprocessing.joblib could not be loaded" in str(raised.value)
