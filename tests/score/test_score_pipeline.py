"""Scoring for real on the embedded engine: `kedro run` from the CSVs (2019-2024) to predictions.

One scratch project for the module, a copy of the session's `built_recent` (train on 2019-2021,
choose on 2022, test on 2023-2024, a one-point grid): every stage ran for real, dbt runs the Python
model in process against the MLflow registry and stage folder that register wrote.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import run_kedro
from tests.support import copy_built, query, warehouse_files

MODEL = "f1_race_outcome"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, built_recent: Path) -> Iterator[Path]:
    """A scratch copy of the project (as tests/conftest.py's `project`) after a full `kedro run`."""
    root = copy_built(built_recent, tmp_path_factory.mktemp("score"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        yield root


def predictions(project: Path) -> pd.DataFrame:
    return query(project, "SELECT * FROM ML.PREDICTIONS ORDER BY RACE_ID, DRIVER_ID")


def test_kedro_run_ends_with_predictions_of_the_latest_season(scored: Path) -> None:
    frame = predictions(scored)
    expected = query(scored, "SELECT count(*) AS n FROM ML.FEATURES WHERE SEASON = 2024").n[0]

    assert len(frame) == expected > 400
    assert list(frame.columns) == [
        "RACE_ID", "DRIVER_ID", "SEASON", "ROUND", "DRIVER_REF", "CONSTRUCTOR_REF",
        "PREDICTED_LABEL", "PREDICTED_LABEL_NAME", "PROB_PODIUM", "PROB_POINTS",
        "PROB_NO_POINTS", "MODEL_NAME", "MODEL_VERSION", "SCORED_AT", "SCORED_BEFORE_RESULT",
    ]  # fmt: skip
    assert set(frame.MODEL_NAME) == {MODEL} and set(frame.MODEL_VERSION) == {"1"}
    uri = f"sqlite:///{scored / 'data/06_models/mlflow.db'}"
    tags = MlflowClient(uri, uri).get_model_version_by_alias(MODEL, "champion").tags
    decision = json.loads(tags["decision"])
    weights = np.asarray(decision.get("class_weights", [1.0, 1.0, 1.0]))
    proba = frame[["PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"]].to_numpy()
    assert list(frame.PREDICTED_LABEL) == list((proba * weights).argmax(axis=1))
    build = json.loads(tags["features_build"])
    assert build["build"] == "form_window=5;include_post_race_features=false"
    assert build["features_rows"] == query(scored, "SELECT count(*) AS n FROM ML.FEATURES").n[0]
    report = json.loads((scored / "data/08_reporting/dbt_score_report.json").read_text())
    assert report["counts"]["pass"] >= 10 and set(report["counts"]) <= {"pass", "success"}
    summary = json.loads((scored / "data/08_reporting/score_summary.json").read_text())
    assert summary["seasons"] == [2024] and summary["rows"] == expected
    assert summary["rows_with_results"] == expected
    assert 0.6 < summary["accuracy"] < 0.9
    explained = query(scored, "SELECT * FROM ML.PREDICTION_EXPLANATIONS ORDER BY RACE_ID, RANK")
    assert len(explained) == 5 * len(frame) and set(explained.RANK) == {1, 2, 3, 4, 5}
    top = explained.pivot_table(
        index=["RACE_ID", "DRIVER_ID"], columns="RANK", values="CONTRIBUTION"
    )
    assert (top[1].abs() >= top[2].abs()).all()
    monitoring = query(scored, "SELECT LEVEL, count(*) AS n FROM ML.MODEL_MONITORING GROUP BY 1")
    assert dict(zip(monitoring.LEVEL, monitoring.n, strict=True)) == {"RACE": 24, "SEASON": 1}
    bahrain = summary["race_predictions"][0]
    assert (bahrain["circuit_ref"], bahrain["date"], bahrain["round"]) == (
        "bahrain",
        "2024-03-02",
        1,
    )
    assert len(bahrain["top_three"]) == 3 and bahrain["top_three"][0]["prob_podium"] > 0.5


def test_rescoring_a_season_leaves_the_others_rows_untouched(scored: Path) -> None:
    before = predictions(scored)

    run_kedro(scored, "score", params={"score.seasons": [2023]})

    frame = predictions(scored)
    expected = query(scored, "SELECT count(*) AS n FROM ML.FEATURES WHERE SEASON = 2023").n[0]
    assert (frame.SEASON == 2023).sum() == expected
    pd.testing.assert_frame_equal(
        frame[frame.SEASON != 2023].reset_index(drop=True),
        before[before.SEASON != 2023].reset_index(drop=True),
    )
    summary = json.loads((scored / "data/08_reporting/score_summary.json").read_text())
    assert summary["seasons"] == [2023] and summary["rows"] == expected

    run_kedro(scored, "score", params={"score.races": "1121"})  # as --params=score.races=1121

    again = predictions(scored)
    assert again[again.RACE_ID == 1121].SCORED_AT.nunique() == 1
    assert again[again.RACE_ID == 1121].SCORED_AT.max() > frame.SCORED_AT.max()
    pd.testing.assert_frame_equal(
        again[again.RACE_ID != 1121].reset_index(drop=True),
        frame[frame.RACE_ID != 1121].reset_index(drop=True),
    )


def test_corrupt_model_artifact_fails_by_name_and_keeps_the_predictions(scored: Path) -> None:
    """Scoring reads the MLflow version (one pyfunc), never the stage folder's audit copy."""
    before = predictions(scored)
    (artifact,) = (scored / "data/06_models/mlartifacts").rglob("pipeline.joblib")
    saved = artifact.read_bytes()
    artifact.write_bytes(b"\x80\x04 damaged")
    try:
        # named by the file it read: this project's copy, not the folder the project was built in
        mlartifacts = re.escape(str(scored / "data/06_models/mlartifacts"))
        with pytest.raises(
            Exception,
            match=f"(?s)model artifact models:/{MODEL}/1 .*files in {mlartifacts}/.*could not be",
        ):
            run_kedro(scored, "score", params={"score.seasons": [2022]})
    finally:
        artifact.write_bytes(saved)

    pd.testing.assert_frame_equal(predictions(scored), before)  # dbt did not replace the table


def test_features_built_with_another_window_are_refused_then_scored_again(scored: Path) -> None:
    """Issue 15.5: the champion records its feature build; another form window is refused
    before PREDICTIONS is written, and the same build scores again. (The warehouse file is put
    back as it was instead of rebuilt: that a rebuild of the same build scores is race week's
    next-week run, tests/score/test_race_week.py.)"""
    before = predictions(scored)
    warehouse = warehouse_files(scored)["FORMULA1"]
    kept = warehouse.with_name("FORMULA1.duckdb.kept")
    shutil.copyfile(warehouse, kept)
    run_kedro(scored, "features", params={"features.vars.form_window": 3})
    try:
        with pytest.raises(
            Exception,
            match=r"FEATURES was built with form_window=3;include_post_race_features=false, "
            rf"but {MODEL} v1 \(the served version\) was trained on features built with "
            r"form_window=5;.*features\.vars\.form_window=5",
        ):
            run_kedro(scored, "score", params={"score.seasons": [2023]})
        pd.testing.assert_frame_equal(predictions(scored), before)
    finally:
        kept.replace(warehouse)

    run_kedro(scored, "score", params={"score.races": "1121"})
    again = predictions(scored)
    assert again[again.RACE_ID == 1121].SCORED_AT.min() > before.SCORED_AT.max()


def test_missing_champion_says_to_train_and_register(scored: Path) -> None:
    uri = f"sqlite:///{scored / 'data/06_models/mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.delete_registered_model_alias(MODEL, "champion")
    try:
        with pytest.raises(
            Exception, match="(?s)no 'champion' version.*kedro run --pipeline=train"
        ):
            run_kedro(scored, "score")
    finally:
        client.set_registered_model_alias(MODEL, "champion", "1")
