"""The duckdb scoring and explaining models against a real MLflow registry: the one pyfunc
version train and register make (synthetic table, tests/register's unit), read by its tags."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from f1_kedro.contracts import PROBA_PREFIX
from f1_kedro.pipelines.register.nodes import register_model
from f1_kedro.registry.lineage import features_build_record
from f1_kedro.registry.model_registry import VERSION_TAGS
from tests.features_build import features_build_frame
from tests.register.conftest import build_trained, make_registry, register_params

ML = Path(__file__).resolve().parents[2] / "dbt" / "models" / "ml"
MODEL = "f1_race_outcome"


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    return build_trained()


@pytest.fixture(scope="module")
def explanations() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "explanations_served", ML / "prediction_explanations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _register(tmp_path: Path, trained: dict[str, Any], decision: dict | None = None) -> dict:
    unit = {k: copy.deepcopy(v) if k == "summary" else v for k, v in trained.items()}
    unit.pop("test_rows")
    unit["summary"]["features_build"] = features_build_record(features_build_frame())
    if decision is not None:
        unit["summary"]["decision"] = decision
    models = tmp_path / "06_models"
    register_model(make_registry(models), unit, register_params())
    return {
        "model_name": MODEL,
        "alias": "champion",
        "tracking_uri": f"sqlite:///{models / 'mlflow.db'}",
    }


def _built(trained: dict[str, Any], build: str | None = None) -> dict[str, Any]:
    record = features_build_record(features_build_frame())
    rows = record["features_rows"]
    return {"build": build or record["build"], "features_rows": rows, "rows_now": rows}


def _rows(trained: dict[str, Any]) -> pd.DataFrame:
    """The test rows as DuckDB hands them over: a position column as Int32 holding <NA>."""
    rows = trained["test_rows"].copy()
    rows["QUALIFYING_POSITION"] = rows["QUALIFYING_POSITION"].round().astype("Int32")
    assert rows["QUALIFYING_POSITION"].isna().any()
    return rows


def test_the_served_version_scores_as_the_fitted_pipeline(
    predictions_model: ModuleType, trained: dict[str, Any], tmp_path: Path
) -> None:
    settings = _register(tmp_path, trained)
    rows = _rows(trained)

    frame = predictions_model.score_duckdb(rows, settings, _built(trained))

    columns = trained["summary"]["input_columns"]
    numbers = rows[columns].astype({"QUALIFYING_POSITION": "float64"})
    expected = trained["classifier"].predict_proba(trained["preprocessing"].transform(numbers))
    expected = expected[[f"{PROBA_PREFIX}{k}" for k in range(3)]].to_numpy(float)
    expected /= expected.sum(axis=1, keepdims=True)
    got = frame[predictions_model.PROBABILITY_COLUMNS].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    decision = trained["summary"]["decision"]  # train's tuned rule, e.g. weighted_argmax
    weights = np.asarray(decision.get("class_weights", [1.0, 1.0, 1.0]))
    assert list(frame.PREDICTED_LABEL) == list((expected * weights).argmax(axis=1))
    assert set(frame.MODEL_VERSION) == {"1"} and set(frame.MODEL_NAME) == {MODEL}


def test_a_weighted_decision_tag_chooses_the_label(
    predictions_model: ModuleType, trained: dict[str, Any], tmp_path: Path
) -> None:
    decision = {"rule": "weighted_argmax", "class_weights": [1.0, 3.0, 1.0]}
    settings = _register(tmp_path, trained, decision)

    frame = predictions_model.score_duckdb(_rows(trained), settings, _built(trained))

    proba = frame[predictions_model.PROBABILITY_COLUMNS].to_numpy()
    weighted = (proba * np.array([1.0, 3.0, 1.0])).argmax(axis=1)
    assert list(frame.PREDICTED_LABEL) == list(weighted)
    assert (weighted != proba.argmax(axis=1)).any()  # the rule made a difference here


def test_features_of_another_build_are_refused_before_scoring(
    predictions_model: ModuleType, trained: dict[str, Any], tmp_path: Path
) -> None:
    settings = _register(tmp_path, trained)
    other = _built(trained, build="form_window=3;include_post_race_features=false")
    with pytest.raises(predictions_model.ScoringError, match="built with form_window=3.*v1"):
        predictions_model.score_duckdb(_rows(trained), settings, other)


def test_the_tags_scoring_reads_are_version_tags(predictions_model: ModuleType) -> None:
    assert set(predictions_model.SERVED_TAGS) <= set(VERSION_TAGS)


def test_explanations_come_from_the_served_pipeline(
    predictions_model: ModuleType,
    explanations: ModuleType,
    trained: dict[str, Any],
    tmp_path: Path,
) -> None:
    settings = _register(tmp_path, trained)
    rows = _rows(trained)
    scored = predictions_model.score_duckdb(rows, settings, _built(trained))
    con = duckdb.connect()
    con.register("scored", scored)
    con.register("features", rows)

    frame = explanations.explain_duckdb(
        con.sql("SELECT * FROM scored"), con.sql("SELECT * FROM features"),
        {**settings, "top_k": 3},
    )  # fmt: skip

    assert len(frame) == 3 * len(scored) and set(frame.RANK) == {1, 2, 3}
    features = set(trained["classifier"].get_input_cols())
    assert set(frame.FEATURE) <= features
    top = frame.pivot_table(index=["RACE_ID", "DRIVER_ID"], columns="RANK", values="CONTRIBUTION")
    assert (top[1].abs() >= top[3].abs()).all()
    # a whole snowflake-ml Pipeline: every step but the last transforms, the last classifies
    steps = [("impute", "a"), ("scale", "b"), ("classifier", "c")]
    assert explanations.pipeline_parts(type("P", (), {"steps": steps})()) == (["a", "b"], "c")
