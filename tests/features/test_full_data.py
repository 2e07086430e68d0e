"""The features pipeline on the whole real data set (1950-2024): every dbt test passes.

Reads the session's `built_full` (a whole `kedro run` with the default parameters), read-only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.support import read_features


@pytest.mark.full_data
def test_features_pipeline_on_the_full_data(built_full: Path, shared_data: Path) -> None:
    project = built_full / "f1_kedro"
    report = json.loads((project / "data/08_reporting/dbt_features_report.json").read_text())
    assert set(report["counts"]) == {"pass", "success"}, report["counts"]
    features = read_features(project)
    # one row per (race, driver) of results.csv, per season
    results = pd.read_csv(shared_data / "results.csv", na_values=["\\N"])
    races = pd.read_csv(shared_data / "races.csv", na_values=["\\N"], usecols=[0, 1])
    pairs = results.drop_duplicates(["raceId", "driverId"]).merge(races, on="raceId")
    expected = pairs.groupby("year").size()
    actual = features.groupby("SEASON").size()
    assert actual.index.min() == 1950 and actual.index.max() == 2024
    pd.testing.assert_series_equal(actual, expected, check_names=False, check_index_type=False)
    assert features["LABEL"].value_counts().to_dict().keys() == {0, 1, 2}
