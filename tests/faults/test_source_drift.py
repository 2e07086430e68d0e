"""Source drift at the pipeline level: `kedro run --pipeline=ingest` on a changed copy of the data.

Each case changes one file of the real data (seasons 2024) the way a source drifts. Columns that
move or appear load by name; everything else stops the run with the file, the line and the column,
and the table that was there keeps exactly its rows. Unit-level variants of the same inputs (on a
two-row status.csv) are in tests/ingest/test_bad_input.py; these prove the whole run's outcome.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import fingerprints, run_kedro

Lines = list[bytes]


def rewrite_columns(body: bytes, change: Callable[[list[str]], list[str]]) -> bytes:
    """Apply `change` to the header and every row (by position), keeping values as they were."""
    rows = list(csv.reader(io.StringIO(body.decode())))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(change(row) for row in rows)
    return out.getvalue().encode()


def reorder(body: bytes) -> bytes:
    return rewrite_columns(body, lambda row: row[::-1])


def add_column(body: bytes) -> bytes:
    first = [True]

    def change(row: list[str]) -> list[str]:
        value, first[0] = ("sourceNote" if first[0] else "from the feed"), False
        return row[:3] + [value] + row[3:]

    return rewrite_columns(body, change)


def drop_milliseconds(body: bytes) -> bytes:
    index = body.split(b"\n", 1)[0].decode().split(",").index("milliseconds")
    return rewrite_columns(body, lambda row: row[:index] + row[index + 1 :])


def duplicate_sixth_row(lines: Lines) -> Lines:
    return [*lines, lines[5]]  # the 5th data row (line 6) again, as the last line


def truncate_last_line(lines: Lines) -> Lines:
    return [*lines[:-1], lines[-1][: len(lines[-1]) // 2]]  # cut mid-row, no newline


def latin1_surname(lines: Lines) -> Lines:
    index = next(i for i, ln in enumerate(lines) if "Pérez".encode() in ln)
    bad = lines[index].replace("Pérez".encode(), "Pérez".encode("latin-1"))
    return [*lines[:index], bad, *lines[index + 1 :]]


# (file, change of the whole body or of its lines, expected fragments of the error or None)
CASES = {
    "columns-reordered": ("results", reorder, None),
    "extra-column": ("results", add_column, None),
    "column-missing": ("results", drop_milliseconds, ["results.csv", "line 1", "milliseconds"]),
    "duplicate-primary-key": (
        "results",
        duplicate_sixth_row,
        ["results.csv", "duplicate primary key", "lines 6, {last_line}", "resultId"],
    ),
    "non-utf8-byte": (
        "drivers",
        latin1_surname,
        ["drivers.csv", "Line: {pérez_line}", "Column surname", "not UTF-8"],
    ),
    "truncated-last-line": (
        "results",
        truncate_last_line,
        ["results.csv", "Line: {last_line}", "ends before column"],
    ),
    "empty-table": ("results", lambda lines: lines[:1], ["results.csv", "header but no rows"]),
    "empty-file": ("results", lambda body: b"", ["results.csv", "empty (no header line)"]),
}
WHOLE_BODY = {reorder, add_column, drop_milliseconds}


@pytest.mark.parametrize("case", list(CASES))
def test_drifted_source_loads_by_name_or_stops_naming_file_line_column(
    case: str, project: Path, season_2024: Path, loaded_warehouse: Path
) -> None:
    shutil.copytree(loaded_warehouse, project / "data", dirs_exist_ok=True)
    before = fingerprints(project)
    table, change, expected = CASES[case]
    drifted = shutil.copytree(season_2024, project.parent / "drifted")
    path = drifted / f"{table}.csv"
    original = path.read_bytes().splitlines(keepends=True)
    if change in WHOLE_BODY or case == "empty-file":
        path.write_bytes(change(path.read_bytes()))
    else:
        path.write_bytes(b"".join(change(original)))
    places = {
        "last_line": len(path.read_bytes().splitlines()),
        "pérez_line": 1 + next((i for i, ln in enumerate(original) if "Pérez".encode() in ln), -1),
    }

    if expected is None:
        run_kedro(project, "ingest", params={"ingest.source_uri": str(drifted)})
    else:
        with pytest.raises(Exception) as error:
            run_kedro(project, "ingest", params={"ingest.source_uri": str(drifted)})
        message = str(error.value)
        for fragment in expected:
            assert fragment.format(**places) in message, message
        assert str(drifted / f"{table}.csv") in message  # the full path, not just the name

    # Loaded by name: the same table as from the undrifted file, same columns, no extra one.
    # Stopped: the table that was there keeps exactly its rows. Either way nothing else changes.
    assert fingerprints(project) == before
