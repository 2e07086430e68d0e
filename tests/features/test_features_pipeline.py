"""The features pipeline on real data (2019-2024): dbt builds every model and its tests pass;
a failing dbt test fails the node with dbt's own message."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from f1_kedro.dbt_project import DbtBuildError
from tests.support import RECENT_DATA, ingest, read_features, run_kedro

CONTRACT_COLUMNS = [
    "RACE_ID",
    "DRIVER_ID",
    "CONSTRUCTOR_ID",
    "CIRCUIT_ID",
    "SEASON",
    "ROUND",
    "RACE_DATE",
    "CIRCUIT_REF",
    "CONSTRUCTOR_REF",
    "DRIVER_REF",
    "GRID",
    "QUALIFYING_POSITION",
    "DRIVER_AGE_YEARS",
    "DRIVER_AVG_FINISH_LAST_5",
    "DRIVER_DNF_RATE_LAST_5",
    "DRIVER_PODIUM_RATE_LAST_5",
    "DRIVER_POINTS_RATE_LAST_5",
    "CONSTRUCTOR_AVG_FINISH_LAST_5",
    "CONSTRUCTOR_DNF_RATE_LAST_5",
    "CONSTRUCTOR_PODIUM_RATE_LAST_5",
    "DRIVER_CHAMPIONSHIP_POSITION_BEFORE",
    "DRIVER_POINTS_BEFORE",
    "CONSTRUCTOR_CHAMPIONSHIP_POSITION_BEFORE",
    "CONSTRUCTOR_POINTS_BEFORE",
    "DRIVER_RACES_BEFORE",
    "FINISH_POSITION",
    "LABEL",
]


def expected_rows(source: Path) -> int:
    results = pd.read_csv(source / "results.csv", na_values=["\\N"])
    return len(results.drop_duplicates(["raceId", "driverId"]))


def test_features_pipeline_builds_and_every_dbt_test_passes(built_recent: Path) -> None:
    # the session's whole `kedro run` on 2019-2024, read-only: its features stage is this one
    project, recent_data = built_recent / "f1_kedro", built_recent / RECENT_DATA

    report = json.loads((project / "data/08_reporting/dbt_features_report.json").read_text())
    assert report["target"] == "duckdb"
    assert set(report["counts"]) == {"pass", "success"}, report["counts"]
    assert report["counts"]["pass"] >= 80  # the data tests ran, not just the models
    features = read_features(project)
    assert list(features.columns[: len(CONTRACT_COLUMNS) - 2]) == CONTRACT_COLUMNS[:-2]
    assert set(CONTRACT_COLUMNS) <= set(features.columns)
    assert "PIT_STOPS_IN_RACE" not in features.columns  # post-race feature off by default
    assert len(features) == expected_rows(recent_data)
    assert sorted(features["SEASON"].unique()) == list(range(2019, 2025))
    # LABEL follows FINISH_POSITION: podium, points places, the rest (not classified included)
    podium = features["FINISH_POSITION"].between(1, 3)
    points = features["FINISH_POSITION"].between(4, 10)
    assert (features.loc[podium, "LABEL"] == 0).all()
    assert (features.loc[points, "LABEL"] == 1).all()
    assert (features.loc[~podium & ~points, "LABEL"] == 2).all()
    # round 1 has no standings before it
    first = features[features["ROUND"] == 1]
    assert first["DRIVER_CHAMPIONSHIP_POSITION_BEFORE"].isna().all()
    assert (first["DRIVER_POINTS_BEFORE"] == 0).all()


def test_a_failing_dbt_test_fails_the_node_with_dbts_message(
    project: Path, recent_data: Path
) -> None:
    ingest(project, recent_data)
    (project / "dbt/tests/assert_deliberately_fails.sql").write_text(
        "-- fails on purpose: every status row is returned\n"
        "select status_id from {{ ref('stg_status') }}\n"
    )
    params = {"features.select": ["stg_status"]}
    with pytest.raises(DbtBuildError) as err:
        run_kedro(project, "features", params=params)
    message = str(err.value)
    assert "test.f1_formula1.assert_deliberately_fails" in message
    assert "Got 139 results, configured to fail if != 0" in message
    assert not (project / "data/08_reporting/dbt_features_report.json").exists()
