"""The duckdb variant's loaders of dbt/models/ml/predictions.py, without dbt: the error paths."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest


def test_seasons_var(predictions_model: ModuleType) -> None:
    parse = predictions_model.parse_seasons
    assert parse("null") == parse("[]") == parse("") == []
    assert parse("2023") == [2023] and parse("[2024, 2023]") == [2023, 2024]
    with pytest.raises(predictions_model.ScoringError, match="score_seasons"):
        parse('["last"]')


def test_no_registry_says_to_train_and_register(
    predictions_model: ModuleType, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(predictions_model.ScoringError, match="no model registry.*--pipeline=train"):
        predictions_model.load_mlflow_champion(uri, "f1_race_outcome", "champion")
    assert not (tmp_path / "mlflow.db").exists()  # and it did not create an empty one


def test_the_label_follows_the_decision_tag(predictions_model: ModuleType) -> None:
    decide = predictions_model.decide
    proba = np.array([[0.40, 0.35, 0.25], [0.30, 0.31, 0.39], [0.34, 0.33, 0.33]])
    assert list(decide(proba, {"rule": "argmax"})) == [0, 2, 0]
    weighted = {"rule": "weighted_argmax", "class_weights": [1.0, 1.3, 1.0]}
    assert list(decide(proba, weighted)) == [1, 1, 1]  # 0.455 > 0.40, 0.403 > 0.39, 0.429
    keys = pd.DataFrame({"RACE_ID": [1, 1, 1], "DRIVER_ID": [5, 6, 7]})
    frame = predictions_model.predictions_frame(keys, proba, "m", "3", weighted)
    assert list(frame.PREDICTED_LABEL) == [1, 1, 1]
    for bad in ({"rule": "softmax"}, {"rule": "weighted_argmax", "class_weights": [1, 0, 1]}):
        with pytest.raises(predictions_model.ScoringError, match="decision"):
            decide(proba, bad)


def test_served_tags_are_read_and_checked(predictions_model: ModuleType) -> None:
    tags = {
        "input_columns": '["GRID"]',
        "class_labels": '{"0": "podium", "1": "points", "2": "no_points"}',
        "decision": '{"rule": "argmax"}',
        "features_build": "{}",
    }
    read = predictions_model.served_tags(tags, "m", "3")
    assert read["input_columns"] == ["GRID"] and read["decision"] == {"rule": "argmax"}
    with pytest.raises(predictions_model.ScoringError, match="m v3 lacks .*'decision'"):
        predictions_model.served_tags({k: v for k, v in tags.items() if k != "decision"}, "m", "3")
    swapped = {**tags, "class_labels": '{"0": "points", "1": "podium", "2": "no_points"}'}
    with pytest.raises(predictions_model.ScoringError, match="predicts classes"):
        predictions_model.served_tags(swapped, "m", "3")


ARGMAX = {"rule": "argmax"}
BUILD_5 = "form_window=5;include_post_race_features=false"
EXPECTED = {"build": BUILD_5, "vars": {"form_window": 5, "include_post_race_features": False}}


def test_features_built_differently_are_refused(predictions_model: ModuleType) -> None:
    check = predictions_model.check_features_build
    same = {"build": BUILD_5, "features_rows": 10, "rows_now": 10}
    check(EXPECTED, same, "m", "3")  # the same build, new rows or not: scored
    check({}, None, "m", "3")  # a version registered before lineage: nothing to compare
    other = {**same, "build": "form_window=3;include_post_race_features=false"}
    with pytest.raises(predictions_model.ScoringError) as refused:
        check(EXPECTED, other, "m", "3")
    message = str(refused.value)
    assert "\n" not in message and "form_window=3" in message and BUILD_5 in message
    assert (
        '--params "features.vars.form_window=5,features.vars.include_post_race_features=false"'
        in message
    )
    with pytest.raises(predictions_model.ScoringError, match="FEATURES_BUILD is missing"):
        check(EXPECTED, None, "m", "3")
    with pytest.raises(predictions_model.ScoringError, match="describes 10 FEATURES rows but.*11"):
        check(EXPECTED, {**same, "rows_now": 11}, "m", "3")


def test_nullable_integers_reach_the_model_as_floats(predictions_model: ModuleType) -> None:
    import duckdb

    rows = duckdb.connect().sql(
        "SELECT * FROM (VALUES (1, 2::INTEGER, 'rb'), (2, NULL, NULL)) AS t(K, POS, TEAM)"
    ).df().astype({"POS": "Int32"})  # fmt: skip
    frame = predictions_model.model_input(rows, ["POS", "TEAM"])
    assert list(frame.columns) == ["POS", "TEAM"] and frame["POS"].dtype == "float64"
    assert np.isnan(frame["POS"].iloc[1]) and frame["TEAM"].iloc[1] is None


def test_predictions_frame_rows_sum_to_one(predictions_model: ModuleType) -> None:
    keys = pd.DataFrame({"RACE_ID": [1, 1], "DRIVER_ID": [5, 6]})
    proba = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], dtype="float32")

    frame = predictions_model.predictions_frame(keys, proba, "m", "3", ARGMAX)

    assert list(frame.columns) == predictions_model.OUTPUT_COLUMNS
    sums = frame[predictions_model.PROBABILITY_COLUMNS].sum(axis=1)
    assert (sums - 1).abs().max() < 1e-12
    assert list(frame.PREDICTED_LABEL) == [2, 0]


def test_races_var(predictions_model: ModuleType) -> None:
    parse = predictions_model.parse_races
    assert parse("null") == parse("[]") == parse("") == []
    assert parse('"next"') == "next" and parse("[1122, 1121]") == [1121, 1122]
    with pytest.raises(predictions_model.ScoringError, match="score_races"):
        parse('["last"]')


FEATURES_SQL = """
SELECT * FROM (VALUES
    (1, 7, 2024, 1, 'max', 'rb', 1, 0),
    (1, 8, 2024, 1, 'lando', 'mcl', 2, 1),
    (2, 7, 2024, 2, 'max', 'rb', 3, NULL),
    (2, 8, 2024, 2, 'lando', 'mcl', 1, NULL),
    (3, 7, 2024, 3, 'max', 'rb', NULL, NULL)
) AS t(RACE_ID, DRIVER_ID, SEASON, ROUND, DRIVER_REF, CONSTRUCTOR_REF, GRID, LABEL)
"""


@pytest.mark.parametrize(
    ("races", "seasons", "expected"),
    [("next", [], {2}), ([1, 3], [], {1, 3}), ([], [2024], {1, 2, 3}), ([], [], {1, 2, 3})],
)
def test_selection_on_a_duckdb_relation(
    predictions_model: ModuleType, races: object, seasons: list[int], expected: set[int]
) -> None:
    import duckdb

    features = duckdb.connect().sql(FEATURES_SQL)

    rows = predictions_model.select_duckdb(features, {"races": races, "seasons": seasons})

    assert set(rows.RACE_ID) == expected


def test_selection_errors_name_what_is_missing(predictions_model: ModuleType) -> None:
    import duckdb

    con = duckdb.connect()
    with pytest.raises(predictions_model.ScoringError, match=r"score_races \[9\]: no feature"):
        predictions_model.select_duckdb(con.sql(FEATURES_SQL), {"races": [1, 9], "seasons": []})
    finished = con.sql(f"SELECT * FROM ({FEATURES_SQL}) WHERE LABEL IS NOT NULL")
    with pytest.raises(predictions_model.ScoringError, match="no race without results"):
        predictions_model.select_duckdb(finished, {"races": "next", "seasons": []})


def test_context_columns_and_label_name(predictions_model: ModuleType) -> None:
    import duckdb

    rows = duckdb.connect().sql(FEATURES_SQL).filter("RACE_ID IN (1, 2)").df()
    keys = rows[["RACE_ID", "DRIVER_ID"]]
    proba = np.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.5, 0.3, 0.2]])
    scored = predictions_model.predictions_frame(keys, proba, "m", "3", ARGMAX)

    table = predictions_model.with_context(scored, rows)

    assert list(table.columns) == predictions_model.TABLE_COLUMNS
    assert list(table.PREDICTED_LABEL_NAME) == ["podium", "no_points", "points", "podium"]
    assert list(table.SCORED_BEFORE_RESULT) == [False, False, True, True]
    assert list(table.DRIVER_REF) == ["max", "lando", "max", "lando"]


def test_snowpark_selection_and_context_match_duckdb(predictions_model: ModuleType) -> None:
    """The Snowflake target's selection and context columns, on Snowpark local testing."""
    import duckdb
    from snowflake.snowpark import Session
    from snowflake.snowpark import functions as F

    local = duckdb.connect().sql(FEATURES_SQL).df().astype({"GRID": "float64", "LABEL": "float64"})
    session = Session.builder.config("local_testing", True).create()
    features = session.create_dataframe(local)

    rows, seasons = predictions_model.select_snowpark(features, {"races": "next", "seasons": []})
    assert seasons == [2024] and sorted(rows.to_pandas().RACE_ID) == [2, 2]
    scored = predictions_model.predictions_frame(
        local[local.RACE_ID == 2][["RACE_ID", "DRIVER_ID"]],
        np.array([[0.2, 0.5, 0.3], [0.5, 0.3, 0.2]]), "m", "3", ARGMAX,
    )  # fmt: skip
    scored = scored.drop(columns="SCORED_AT")  # local testing has no TIMESTAMP_NTZ from pandas
    table = predictions_model.with_context_snowpark(
        session.create_dataframe(scored).with_column("SCORED_AT", F.lit("t")), rows
    ).to_pandas()
    expected = predictions_model.with_context(
        scored.assign(SCORED_AT="t"), local[local.RACE_ID == 2]
    )
    assert list(table.columns) == predictions_model.TABLE_COLUMNS
    assert list(table.sort_values("DRIVER_ID").PREDICTED_LABEL_NAME) == list(
        expected.sort_values("DRIVER_ID").PREDICTED_LABEL_NAME
    )
    assert table.SCORED_BEFORE_RESULT.all()


def test_rescoring_after_the_result_keeps_the_forecast_flag(predictions_model: ModuleType) -> None:
    from snowflake.snowpark import Session

    table = pd.DataFrame(
        {"RACE_ID": [1, 1, 2], "DRIVER_ID": [7, 8, 7], "MODEL_VERSION": ["3", "3", "3"],
         "SCORED_BEFORE_RESULT": [False, False, True]}
    )  # fmt: skip
    existing = pd.DataFrame(
        {"RACE_ID": [1, 1, 9], "DRIVER_ID": [7, 8, 7], "MODEL_VERSION": ["3", "2", "3"],
         "SCORED_BEFORE_RESULT": [True, True, False]}
    )  # fmt: skip
    expected = [True, False, True]  # (1, 8) was a forecast of version 2, not of version 3

    kept = predictions_model.keep_forecasts(table, existing)
    assert list(kept.SCORED_BEFORE_RESULT) == expected
    old = existing.drop(columns="SCORED_BEFORE_RESULT")  # a table from before the column
    assert list(predictions_model.keep_forecasts(table, old).SCORED_BEFORE_RESULT) == [0, 0, 1]

    session = Session.builder.config("local_testing", True).create()
    full = table.reindex(columns=predictions_model.TABLE_COLUMNS).fillna(
        {"SEASON": 2024, "ROUND": 1, "PREDICTED_LABEL": 0}
    )
    full = full.astype({"SEASON": "int64", "ROUND": "int64", "PREDICTED_LABEL": "int64"})
    for column in ("DRIVER_REF", "CONSTRUCTOR_REF", "PREDICTED_LABEL_NAME", "MODEL_NAME"):
        full[column] = "x"
    for column in ("PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"):
        full[column] = 1 / 3
    full["SCORED_AT"] = "t"
    snow = predictions_model.keep_forecasts_snowpark(
        session.create_dataframe(full), session.create_dataframe(existing)
    ).to_pandas()
    assert list(snow.sort_values(["RACE_ID", "DRIVER_ID"]).SCORED_BEFORE_RESULT) == expected
