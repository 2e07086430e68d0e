"""Race week on the embedded engine, on the real data cut after the qualifying of a 2024 race.

Saturday: the data stops after the qualifying of the 2024 Spanish GP (race 1130: its results,
standings, lap times and pit stops removed); `kedro run` with `score.races=next` predicts it.
The next week: its results and the Austrian GP's qualifying (race 1131) arrive; ingest, features
and score (`next` again) predict Austria, and MODEL_MONITORING evaluates Spain.
One scratch project for the module: one full `kedro run`, then three short pipelines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss

from tests.conftest import copy_project, remove_race_outcomes, run_kedro, write_subset
from tests.support import ONE_POINT_GRID, query

SPAIN, AUSTRIA = 1130, 1131  # 2024 rounds 10 and 11
PARAMS = {
    "train.seasons.train": [2019, 2021],
    "train.seasons.backtest": [2023, 2023],  # one backtest season: this test is about scoring
    "train.search.grid": ONE_POINT_GRID,
}


# the data as it stands on the Saturday night before a race (its qualifying in, its results not)
after_qualifying = remove_race_outcomes


def summary(project: Path) -> dict:
    return json.loads((project / "data/08_reporting/score_summary.json").read_text())


@pytest.fixture(scope="module")
def race_week(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[Path, Path]]:
    """The project after Saturday's `kedro run`, and the data of the next week."""
    base = tmp_path_factory.mktemp("race_week")
    saturday = write_subset(shared_data, base / "saturday", 2019, 2024, last_round=10)
    after_qualifying(saturday, SPAIN)
    next_week = write_subset(shared_data, base / "next_week", 2019, 2024, last_round=11)
    after_qualifying(next_week, AUSTRIA)
    root = copy_project(base)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        run_kedro(
            root, params={**PARAMS, "ingest.source_uri": str(saturday), "score.races": "next"}
        )
        yield root, next_week


def test_saturday_predicts_every_driver_on_the_next_grid(
    race_week: tuple[Path, Path], shared_data: Path
) -> None:
    root, _ = race_week
    qualifying = pd.read_csv(shared_data / "qualifying.csv")
    grid = qualifying[qualifying.raceId == SPAIN].driverId
    rows = query(root, "SELECT * FROM ML.PREDICTIONS")

    assert set(rows.RACE_ID) == {SPAIN} and len(rows) == len(grid) == 20
    assert set(rows.DRIVER_ID) == set(grid)
    assert rows.SCORED_BEFORE_RESULT.all() and rows.DRIVER_ID.is_unique
    race = summary(root)["race_predictions"]
    assert [(r["race_id"], r["circuit_ref"], r["date"]) for r in race] == [
        (SPAIN, "catalunya", "2024-06-23")
    ]
    assert len(race[0]["top_three"]) == 3
    spain = query(root, f"SELECT * FROM ML.MODEL_MONITORING WHERE RACE_ID = {SPAIN}")
    assert list(spain.ROWS_EVALUATED) == [0] and spain.MODEL_ACCURACY.isna().all()


def test_after_the_race_monitoring_has_it_and_predictions_keep_it(
    race_week: tuple[Path, Path],
) -> None:
    root, next_week = race_week
    saturday = query(root, "SELECT * FROM ML.PREDICTIONS ORDER BY DRIVER_ID")

    run_kedro(root, "ingest", params={"ingest.source_uri": str(next_week)})
    run_kedro(root, "features")
    run_kedro(root, "score", params={"score.races": "next"})

    rows = query(root, "SELECT * FROM ML.PREDICTIONS ORDER BY DRIVER_ID")
    assert set(rows.RACE_ID) == {SPAIN, AUSTRIA}
    pd.testing.assert_frame_equal(
        rows[rows.RACE_ID == SPAIN].reset_index(drop=True), saturday
    )  # Saturday's predictions of Spain are still there, as they were
    spain = query(
        root, f"SELECT * FROM ML.MODEL_MONITORING WHERE LEVEL = 'RACE' AND RACE_ID = {SPAIN}"
    ).iloc[0]
    assert spain.ROWS_EVALUATED == 20
    for who in ("MODEL", "GRID_RULE"):
        assert 0 <= spain[f"{who}_ACCURACY"] <= 1 and 0 <= spain[f"{who}_MACRO_F1"] <= 1
        assert spain[f"{who}_LOG_LOSS"] > 0 and 0 <= spain[f"{who}_BRIER"] <= 2
    truth = query(
        root,
        f"SELECT p.*, f.LABEL, f.GRID FROM ML.PREDICTIONS p JOIN ML.FEATURES f "
        f"USING (RACE_ID, DRIVER_ID) WHERE RACE_ID = {SPAIN}",
    )
    proba = truth[["PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"]].to_numpy()
    y = truth.LABEL.astype(int).to_numpy()
    grid = np.where(truth.GRID.between(1, 3), 0, np.where(truth.GRID.between(4, 10), 1, 2))
    assert spain.MODEL_ACCURACY == pytest.approx(accuracy_score(y, truth.PREDICTED_LABEL))
    assert spain.MODEL_MACRO_F1 == pytest.approx(
        f1_score(y, truth.PREDICTED_LABEL, average="macro", labels=[0, 1, 2], zero_division=0)
    )
    assert spain.MODEL_LOG_LOSS == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]))
    assert spain.MODEL_BRIER == pytest.approx(((proba - np.eye(3)[y]) ** 2).sum(axis=1).mean())
    assert spain.GRID_RULE_MACRO_F1 == pytest.approx(
        f1_score(y, grid, average="macro", labels=[0, 1, 2], zero_division=0)
    )
    # the warn test fires exactly when the model's macro F1 is below the grid rule's (one race)
    report = json.loads((root / "data/08_reporting/dbt_score_report.json").read_text())
    worse = spain.MODEL_MACRO_F1 < spain.GRID_RULE_MACRO_F1
    assert report["counts"].get("warn", 0) == int(worse)
    season = query(root, "SELECT * FROM ML.MODEL_MONITORING WHERE LEVEL = 'SEASON'").iloc[0]
    assert (season.SEASON, season.ROWS_EVALUATED) == (2024, 20)
    assert summary(root)["race_predictions"][0]["race_id"] == AUSTRIA
    assert (root / "data/08_reporting/model_monitoring.png").stat().st_size > 10_000
