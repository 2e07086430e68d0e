"""No leakage: the features of race R are identical when every race after R is removed.

The same dbt models run on real data (2019-2024): on the whole subset (the session's
`built_recent`, read-only), then on a copy cut after a mid-season race R (as on the day after
R). Every feature row of a race up to R must be the same in both; a window or a standing that
peeked at a later race would differ. A third build stops on the Saturday night before race R+1
(its qualifying in, its results not): R+1's rows, built to be scored, must equal those built
once its results exist.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import race_id_of, remove_race_outcomes, run_kedro, write_subset
from tests.features.conftest import ingest, read_features, truncate_after
from tests.support import RECENT_DATA

# Mid-season, so "before" covers both earlier seasons and earlier rounds of the same season.
CUT_SEASON, CUT_ROUND = 2022, 11
OUTCOMES = ["FINISH_POSITION", "LABEL"]
# The race's own starting grid: known with its results (Ergast), the qualifying order before.
FROM_GRID = ["GRID", "GRID_MINUS_QUALIFYING"]
# Models only (the dbt tests run in test_features_pipeline): two builds stay quick. An exclude
# replaces the default one, so the Python models (scoring needs a registered model) stay out too.
MODELS_ONLY = {"features.exclude": ["file:*.py+", "resource_type:test"]}
# Issue 17's columns from other tables than results: covered by the frame comparisons below, and
# present (not all NULL) in the rows compared, so that a missing join cannot pass unnoticed.
# Round 11 of 2022 (Austria) had a sprint.
NEWER_FEATURES = [
    "CIRCUIT_AVG_PLACES_MOVED_BEFORE",
    "SPRINT_POSITION",
    "QUALIFYING_GAP_TO_POLE_PCT",
]


def build_features(project: Path, source: Path) -> pd.DataFrame:
    ingest(project, source)
    run_kedro(project, "features", params=MODELS_ONLY)
    return read_features(project)


def whole_subset(built_recent: Path) -> tuple[pd.DataFrame, Path]:
    """FEATURES built on the whole 2019-2024 subset, and that subset's folder."""
    return read_features(built_recent / "f1_kedro"), built_recent / RECENT_DATA


def test_features_of_a_race_do_not_change_when_later_races_are_removed(
    project: Path, built_recent: Path, tmp_path: Path
) -> None:
    full, recent_data = whole_subset(built_recent)
    cut = build_features(
        project, truncate_after(recent_data, tmp_path / "cut", CUT_SEASON, CUT_ROUND)
    )

    up_to_cut = (full["SEASON"] < CUT_SEASON) | (
        (full["SEASON"] == CUT_SEASON) & (full["ROUND"] <= CUT_ROUND)
    )
    assert up_to_cut.sum() < len(full)  # the cut did remove later races
    assert cut[NEWER_FEATURES].notna().any().all()
    cut_race = (cut["SEASON"] == CUT_SEASON) & (cut["ROUND"] == CUT_ROUND)
    assert cut.loc[cut_race, "SPRINT_POSITION"].notna().all()
    assert (
        cut["SEASON"].max() == CUT_SEASON
        and cut["ROUND"][cut["SEASON"] == CUT_SEASON].max() == CUT_ROUND
    )
    pd.testing.assert_frame_equal(full[up_to_cut].reset_index(drop=True), cut, check_exact=True)


def test_features_of_an_upcoming_race_equal_those_built_after_it(
    project: Path, built_recent: Path, tmp_path: Path
) -> None:
    """Issue 12: the row scored on Saturday is the row the model would see after Sunday."""
    full, recent_data = whole_subset(built_recent)
    saturday = write_subset(
        recent_data, tmp_path / "saturday", 0, CUT_SEASON, last_round=CUT_ROUND + 1
    )
    race = race_id_of(saturday, CUT_SEASON, CUT_ROUND + 1)
    upcoming = build_features(project, remove_race_outcomes(saturday, race))

    before = upcoming[upcoming["RACE_ID"] == race].set_index("DRIVER_ID").sort_index()
    after = full[full["RACE_ID"] == race].set_index("DRIVER_ID").sort_index()
    assert len(before) >= 20 and before.index.equals(after.index)
    assert before[OUTCOMES].isna().all().all() and after["LABEL"].notna().all()
    # Ergast records the starting grid with the results: before them, GRID is the qualifying
    # position (penalties show up only once the results arrive)
    assert (before["GRID"] == before["QUALIFYING_POSITION"]).all()
    # so the penalty column, GRID minus qualifying, is 0 until the grid is known
    assert (before["GRID_MINUS_QUALIFYING"] == 0).all()
    same = [c for c in after.columns if c not in [*OUTCOMES, *FROM_GRID]]
    assert before["CIRCUIT_AVG_PLACES_MOVED_BEFORE"].notna().all()
    pd.testing.assert_frame_equal(before[same], after[same], check_exact=True)
    # and the races before it are untouched by its presence
    earlier = upcoming[upcoming["RACE_ID"] != race].reset_index(drop=True)
    up_to_cut = (full["SEASON"] < CUT_SEASON) | (
        (full["SEASON"] == CUT_SEASON) & (full["ROUND"] <= CUT_ROUND)
    )
    # (LABEL becomes a nullable integer column once the table holds NULLs: compare values)
    pd.testing.assert_frame_equal(
        full[up_to_cut].reset_index(drop=True), earlier, check_exact=True, check_dtype=False
    )
