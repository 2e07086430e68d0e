"""Helpers for the features tests: load a source into the scratch project, read FEATURES back."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd

from tests.conftest import RACE_LEVEL_TABLES, README_ROW_COUNTS, run_kedro


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
    target.mkdir(parents=True)
    with open(source / "races.csv", newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    kept = [lines[0]]
    race_ids = set()
    for line in lines[1:]:
        row = next(csv.reader([line]))
        if (int(row[1]), int(row[2])) <= (season, round_):
            kept.append(line)
            race_ids.add(row[0])
    (target / "races.csv").write_text("".join(kept))
    for name in README_ROW_COUNTS:
        if name == "races":
            continue
        with open(source / f"{name}.csv", newline="") as handle:
            lines = handle.read().splitlines(keepends=True)
        if name in RACE_LEVEL_TABLES:
            column = next(csv.reader([lines[0]])).index("raceId")
            lines = [lines[0]] + [
                ln for ln in lines[1:] if next(csv.reader([ln]))[column] in race_ids
            ]
        (target / f"{name}.csv").write_text("".join(lines))
    return target
