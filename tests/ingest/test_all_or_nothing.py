"""Ingest replaces the 14 raw tables all at once or not at all (issue 15, item 3).

A source that is missing a file, or whose last file is bad, used to fail only after the tables
before it were replaced: `features` then built on half new, half old data.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.support import README_ROW_COUNTS, run_kedro, write_subset

TABLES = list(README_ROW_COUNTS)


def raw_counts(project: Path) -> dict[str, int]:
    con = duckdb.connect(str(project / "data/warehouse/RAW.duckdb"), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM FORMULA1.{t.upper()}").fetchone()[0]
            for t in TABLES
        }
    finally:
        con.close()


def remove_status(folder: Path) -> None:
    (folder / "status.csv").unlink()  # the last table of conf/base/parameters_ingest.yml


def break_status(folder: Path) -> None:
    path = folder / "status.csv"
    path.write_text(path.read_text() + "not-a-number,Broken\n")


def misname_status_header(folder: Path) -> None:
    path = folder / "status.csv"
    path.write_text(path.read_text().replace("statusId", "status_id", 1))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (remove_status, r"status\.csv: file not found\nNo table was changed"),
        (break_status, r"status\.csv.*Line: \d+"),
        (misname_status_header, r"status\.csv: line 1 \(header\) lacks column\(s\) statusId"),
    ],
    ids=["last-file-missing", "last-file-bad-value", "last-file-bad-header"],
)
def test_a_missing_or_bad_last_file_leaves_every_table_as_it_was(
    project: Path,
    shared_data: Path,
    recent_data: Path,
    damage: Callable[[Path], None],
    expected: str,
) -> None:
    old = write_subset(shared_data, project.parent / "f1_2021_2022", 2021, 2022)
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest", params={"ingest.source_uri": str(old)})
    before = raw_counts(project)
    new = shutil.copytree(recent_data, project.parent / "new")
    damage(new)

    with pytest.raises(Exception, match=expected) as error:
        run_kedro(project, "ingest", params={"ingest.source_uri": str(new)})
    assert str(new / "status.csv") in str(error.value)  # the full path
    assert raw_counts(project) == before  # not one table replaced
    assert before["results"] != sum(1 for _ in (new / "results.csv").open()) - 1
