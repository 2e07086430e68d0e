"""No leakage: the features of race R are identical when every race after R is removed.

The same dbt models run twice on real data (2019-2024): on the whole subset, then on a copy cut
after a mid-season race R (as on the day after R). Every feature row of a race up to R must be
the same in both; a window or a standing that peeked at a later race would differ.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import run_kedro
from tests.features.conftest import ingest, read_features, truncate_after

# Mid-season, so "before" covers both earlier seasons and earlier rounds of the same season.
CUT_SEASON, CUT_ROUND = 2022, 11
# Models only (the dbt tests run in test_features_pipeline): two builds stay quick.
MODELS_ONLY = {"features.select": ["+features"], "features.exclude": ["resource_type:test"]}


def build_features(project: Path, source: Path) -> pd.DataFrame:
    ingest(project, source)
    run_kedro(project, "features", params=MODELS_ONLY)
    return read_features(project)


def test_features_of_a_race_do_not_change_when_later_races_are_removed(
    project: Path, recent_data: Path, tmp_path: Path
) -> None:
    full = build_features(project, recent_data)
    cut = build_features(
        project, truncate_after(recent_data, tmp_path / "cut", CUT_SEASON, CUT_ROUND)
    )

    up_to_cut = (full["SEASON"] < CUT_SEASON) | (
        (full["SEASON"] == CUT_SEASON) & (full["ROUND"] <= CUT_ROUND)
    )
    assert up_to_cut.sum() < len(full)  # the cut did remove later races
    assert (
        cut["SEASON"].max() == CUT_SEASON
        and cut["ROUND"][cut["SEASON"] == CUT_SEASON].max() == CUT_ROUND
    )
    pd.testing.assert_frame_equal(full[up_to_cut].reset_index(drop=True), cut, check_exact=True)
