"""The snowflake variant of dbt/models/ml/predictions.py, called as `model(dbt, session)`.

Real: Snowpark's local-testing session, the trained unit (train's nodes on a synthetic table),
the register engine (`SnowflakeModelRegistry.register`) and snowflake-ml's `ModelPackager`, which
packages every version as `log_model` does before its upload. `ModelVersion.run` is a double that
does what the warehouse does with the package: the library's own check of a Snowpark input
against the version's signature (`model_signature._validate_snowpark_data`, what `run` calls at
2.6.0), the loaded package's `predict_proba`, and the input columns back beside the outputs
(`output_with_input_features`, model_ops.py at 2.6.0). Not covered (nothing emulates it): dbt
wrapping this file in a stored procedure, `config(packages=...)` against Snowflake's Anaconda
channel, the registry's SQL (SHOW VERSIONS, the model function running in a warehouse).
"""

from __future__ import annotations

import ast
import json
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from snowflake.snowpark import DataFrame, Session

from f1_kedro.engines.snowflake.registry import TAGS_METRIC, SnowflakeModelRegistry
from f1_kedro.registry import version_tags
from tests.dbt_python_models import ML
from tests.register.test_snowflake_registry import (
    PINS,
    PROBA,
    PackagedVersion,
    PackagingRegistry,
    snowflake_unit,
)

MODEL = "f1_race_outcome"
CONTEXT = ["RACE_ID", "DRIVER_ID", "SEASON", "ROUND", "DRIVER_REF", "CONSTRUCTOR_REF", "LABEL"]


class ServedVersion:
    """`ModelVersion` of a packaged version: `run` as the warehouse runs the logged model."""

    def __init__(self, packaged: PackagedVersion, session: Session):
        self.packaged, self.session = packaged, session
        self.version_name = packaged.version_name
        self.calls: list[str] = []

    def show_metrics(self) -> dict[str, Any]:
        return self.packaged.show_metrics()

    def run(self, frame: DataFrame, function_name: str) -> DataFrame:
        from snowflake.ml.model import model_signature

        self.calls.append(function_name)
        signature = self.packaged.meta.signatures[function_name]
        model_signature._validate_snowpark_data(frame, signature.inputs)
        local = frame.to_pandas().reset_index(drop=True)
        inputs = local[[spec.name for spec in signature.inputs]]
        outputs = getattr(self.packaged.load(), function_name)(inputs)
        return self.session.create_dataframe(pd.concat([local, outputs], axis=1))


class ServingRegistry:
    def __init__(self, fake: PackagingRegistry, session: Session):
        self.fake, self.session = fake, session

    def get_model(self, name: str) -> Any:
        model = self.fake.get_model(name)
        self.served = ServedVersion(model.default, self.session)
        return type("Model", (), {"default": self.served})()


BUILD = "form_window=5;include_post_race_features=false"  # FEATURES_BUILD's


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
    def __init__(self, features: DataFrame, seasons: Any, build: str = BUILD):
        self.config = FakeConfig(
            {
                "engine": "snowflake",
                "score_seasons": json.dumps(seasons),
                "registry_model_name": MODEL,
                "snowflake_registry_database": "FORMULA1",
                "snowflake_registry_schema": "ML",
            }
        )
        self._features = features
        self._build = build
        self.is_incremental = False  # the first build of PREDICTIONS (incremental since issue 12)

    def ref(self, name: str) -> DataFrame:
        if name == "features_build":  # FORMULA1.ML.FEATURES_BUILD's one row (lineage, 15.5)
            row = {"BUILD": [self._build], "FEATURES_ROWS": [self._features.count()]}
            return self._features.session.create_dataframe(pd.DataFrame(row))
        assert name == "features"
        return self._features


@pytest.fixture(scope="module")
def unit() -> dict[str, Any]:
    """Train's unit as register gets it and a FEATURES-shaped table (the synthetic one)."""
    from tests.train.conftest import make_features

    trained, _ = snowflake_unit()
    columns = list(trained["summary"]["input_columns"])
    return {"trained": trained, "table": make_features()[list(dict.fromkeys([*CONTEXT, *columns]))]}


@pytest.fixture
def session():
    session = Session.builder.config("local_testing", True).create()
    yield session
    session.close()


def _serve(session: Session, unit: dict[str, Any], decision: dict[str, Any] | None = None):
    """Register the unit (really packaged) and return the scoring model's registry view."""
    fake = PackagingRegistry()
    registry = SnowflakeModelRegistry(
        session=session, registry=fake, python_version="3.11", conda_dependencies=PINS
    )
    tags = version_tags(unit["trained"])
    if decision is not None:
        tags["decision"] = json.dumps(decision)
    registry.register(MODEL, unit["trained"], {"test_macro_f1": 0.5}, tags)
    return fake, ServingRegistry(fake, session)


def _expected(unit: dict[str, Any], rows: pd.DataFrame) -> np.ndarray:
    trained = unit["trained"]
    proba = trained["classifier"].predict_proba(trained["preprocessing"].transform(rows))
    proba = proba[PROBA].to_numpy(dtype=float)
    return proba / proba.sum(axis=1, keepdims=True)


def _score(
    predictions_model, session, serving, unit, seasons, monkeypatch, build: str = BUILD
) -> pd.DataFrame:
    monkeypatch.setattr(predictions_model, "snowflake_registry", lambda *args: serving)
    features = session.create_dataframe(unit["table"])
    dbt = FakeDbt(features, seasons, build)
    result = predictions_model.model(dbt, session).to_pandas()
    assert "snowflake-ml-python==2.6.0" in dbt.config.declared["packages"]  # pinned (issue 18)
    return result.sort_values(["RACE_ID", "DRIVER_ID"]).reset_index(drop=True)


def test_the_default_version_scores_the_latest_season_in_the_warehouse(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    fake, serving = _serve(session, unit)
    result = _score(predictions_model, session, serving, unit, [], monkeypatch)

    rows = unit["table"].query("SEASON == 2020").sort_values(["RACE_ID", "DRIVER_ID"])
    assert list(result.columns) == predictions_model.TABLE_COLUMNS
    assert list(result.RACE_ID) == list(rows.RACE_ID)
    probabilities = result[["PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"]].to_numpy()
    np.testing.assert_allclose(probabilities, _expected(unit, rows), atol=1e-6)
    decision = json.loads(version_tags(unit["trained"])["decision"])  # train's tuned rule
    weights = decision.get("class_weights", [1.0, 1.0, 1.0])
    assert (result.PREDICTED_LABEL == (probabilities * weights).argmax(axis=1)).all()
    assert set(result.MODEL_VERSION) == {"1"} and set(result.MODEL_NAME) == {MODEL}
    assert result.SCORED_AT.nunique() == 1


def test_the_decision_tag_chooses_the_label(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    weights = [3.0, 1.0, 0.5]
    _, serving = _serve(session, unit, {"rule": "weighted_argmax", "class_weights": weights})
    result = _score(predictions_model, session, serving, unit, [2020], monkeypatch)

    probabilities = result[["PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"]].to_numpy()
    weighted = (probabilities * np.array(weights)).argmax(axis=1)
    assert (result.PREDICTED_LABEL == weighted).all()
    assert (weighted != probabilities.argmax(axis=1)).any()  # the weights changed some labels


@pytest.mark.parametrize(
    "decision",
    [
        {"rule": "threshold"},
        {"rule": "weighted_argmax", "class_weights": [1, 2]},
        {"rule": "weighted_argmax", "class_weights": [1, 0, 2]},
    ],
)
def test_an_unknown_decision_tag_is_named(
    predictions_model: ModuleType, session: Session, unit, monkeypatch, decision
) -> None:
    _, serving = _serve(session, unit, decision)
    with pytest.raises(predictions_model.ScoringError, match="decision tag"):
        _score(predictions_model, session, serving, unit, [2020], monkeypatch)
    assert serving.served.calls == []  # refused before the model ran


def test_features_built_with_other_vars_are_refused_before_the_model_runs(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    fake = PackagingRegistry()
    registry = SnowflakeModelRegistry(
        session=session, registry=fake, python_version="3.11", conda_dependencies=PINS
    )
    tags = version_tags(unit["trained"])
    tags["features_build"] = json.dumps({"build": BUILD, "vars": {"form_window": 5}})
    registry.register(MODEL, unit["trained"], {"test_macro_f1": 0.5}, tags)
    serving = ServingRegistry(fake, session)
    other = BUILD.replace("form_window=5", "form_window=3")
    with pytest.raises(predictions_model.ScoringError, match="built with form_window=3"):
        _score(predictions_model, session, serving, unit, [2020], monkeypatch, build=other)
    assert serving.served.calls == []  # refused before the model ran
    result = _score(predictions_model, session, serving, unit, [2020], monkeypatch)
    assert len(result) and set(result.SEASON) == {2020}  # the same build scores


def test_scores_the_seasons_of_the_var(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    _, serving = _serve(session, unit)
    result = _score(predictions_model, session, serving, unit, [2019], monkeypatch)
    assert set(result.SEASON) == {2019}


def test_missing_default_version_says_to_train_and_register(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    serving = ServingRegistry(PackagingRegistry(), session)
    with pytest.raises(predictions_model.ScoringError, match="kedro run --pipeline=train"):
        _score(predictions_model, session, serving, unit, [], monkeypatch)


def test_a_version_without_tags_is_named(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    fake, serving = _serve(session, unit)
    fake.models[MODEL].store["V1"]._metrics = {"test_macro_f1": 0.5}  # a pre-issue-18 version
    with pytest.raises(predictions_model.ScoringError, match="V1 .*no decision, input_columns"):
        _score(predictions_model, session, serving, unit, [], monkeypatch)


def test_a_missing_input_column_is_named(
    predictions_model: ModuleType, session: Session, unit, monkeypatch
) -> None:
    _, serving = _serve(session, unit)
    table = unit["table"].drop(columns="QUALIFYING_POSITION")
    with pytest.raises(predictions_model.ScoringError, match="QUALIFYING_POSITION"):
        _score(predictions_model, session, serving, {**unit, "table": table}, [], monkeypatch)


def test_the_tags_key_is_the_register_engines(predictions_model: ModuleType) -> None:
    assert predictions_model.SNOWFLAKE_TAGS_METRIC == TAGS_METRIC


def test_explanations_run_the_versions_contributions_function(
    predictions_model: ModuleType,
    explanations_model: ModuleType,
    session: Session,
    unit,
    monkeypatch,
) -> None:
    import xgboost

    _, serving = _serve(session, unit)
    predictions = session.create_dataframe(
        _score(predictions_model, session, serving, unit, [2020], monkeypatch)
    )
    explanations = explanations_model
    monkeypatch.setattr(explanations, "snowflake_registry", lambda *args: serving)
    dbt = FakeDbt(session.create_dataframe(unit["table"]), [])
    dbt.config.values["explanation_top_k"] = 3
    dbt.ref = {"predictions": predictions, "features": dbt._features}.__getitem__

    frame = explanations.model(dbt, session).to_pandas().sort_values(["RACE_ID", "DRIVER_ID"])

    rows = unit["table"].query("SEASON == 2020").sort_values(["RACE_ID", "DRIVER_ID"])
    assert list(frame.columns) == explanations.OUTPUT_COLUMNS
    assert len(frame) == 3 * len(rows) and set(frame.RANK) == {1, 2, 3}
    # the same numbers as the duckdb path: XGBoost's pred_contribs of the served classifier
    trained = unit["trained"]
    first = rows.head(1)
    columns = list(trained["classifier"].get_input_cols())
    values = trained["preprocessing"].transform(first)[columns].astype("float64")
    booster = trained["classifier"].to_xgboost().get_booster()
    expected = booster.predict(xgboost.DMatrix(values, feature_names=columns), pred_contribs=True)
    label = int(predictions.to_pandas().sort_values(["RACE_ID", "DRIVER_ID"]).PREDICTED_LABEL[0])
    chosen = expected[0, label, :-1]
    top = frame[
        frame.DRIVER_ID.eq(int(first.DRIVER_ID.iloc[0]))
        & frame.RACE_ID.eq(int(first.RACE_ID.iloc[0]))
    ].sort_values("RANK")
    np.testing.assert_allclose(
        top.CONTRIBUTION, chosen[np.argsort(-np.abs(chosen), kind="stable")[:3]], rtol=1e-5
    )


def test_the_explanations_function_is_the_served_models(explanations_model: ModuleType) -> None:
    """Explanations call what register logs (their copied loaders: test_explanations_model)."""
    from f1_kedro.engines.snowflake import served_model

    assert explanations_model.CONTRIBUTIONS == served_model.CONTRIBUTIONS


def test_the_explanations_procedure_runs_the_scoring_runtime() -> None:
    from tests.snowflake.test_runtime_pins import _pins

    tree = ast.parse((ML / "prediction_explanations.py").read_text())
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and any(k.arg == "packages" for k in node.keywords)
    )
    config = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert config["packages"] == _pins()["conda_dependencies"]
    assert config["python_version"] == _pins()["python_version"]
