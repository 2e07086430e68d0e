"""Helpers for the features tests: load a source into the scratch project, read FEATURES back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from tests.conftest import run_kedro, write_subset


def ingest(project: Path, source: Path) -> None:
    """Bootstrap the scratch warehouse and load `source` into RAW."""
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest", params={"ingest.source_uri": str(source)})


def read_features(project: Path) -> pd.DataFrame:
    path = project / "data" / "warehouse" / "FORMULA1.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    try:
        frame = con.execute("SELECT * FROM ML.FEATURES").df()
    finally:
        con.close()
    return frame.sort_values(["RACE_ID", "DRIVER_ID"]).reset_index(drop=True)


def truncate_after(source: Path, target: Path, season: int, round_: int) -> Path:
    """Copy `source` without any race after (season, round): as if it were the day after."""
    return write_subset(source, target, 0, season, last_round=round_)
