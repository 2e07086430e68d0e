"""`SnowflakeWarehouse.load_csv_table` on fakesnow: COPY INTO a fresh table from a stage holding a
sample of the real CSVs, then swap it in; a bad file leaves the previous table in place."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.ingest_spec import IngestError, table_specs
from tests.snowflake.conftest import SQL_DIR, EmulatedWarehouse

ROOT = Path(__file__).resolve().parents[2]
# Its own database: fakesnow cannot create database FORMULA1 after a schema RAW.FORMULA1 exists
# (DuckDB calls the name ambiguous), and the setup tests share this server.
INGEST = {
    **yaml.safe_load((ROOT / "conf/base/parameters_ingest.yml").read_text())["ingest"],
    "raw_database": "LOADTEST",
    "raw_schema": "F1",
}
STAGE = "@LOADTEST.F1.SAMPLE_STAGE"


@pytest.fixture
def emulated_warehouse(snowpark_on_fakesnow: Any) -> EmulatedWarehouse:
    return EmulatedWarehouse(snowpark_on_fakesnow, SQL_DIR, file_format="LOADTEST.F1.CSV_FORMAT")


def _count(session: Any, table: str) -> int:
    cursor = session.connection.cursor()
    cursor.execute(f"SELECT count(*) FROM {table}")
    return cursor.fetchone()[0]


def _stage(session: Any, name: str, folder: Path) -> None:
    cursor = session.connection.cursor()
    cursor.execute("CREATE DATABASE IF NOT EXISTS LOADTEST")
    cursor.execute("CREATE SCHEMA IF NOT EXISTS LOADTEST.F1")
    # and its _RAGGED twin for races.csv (without ERROR_ON_COLUMN_COUNT_MISMATCH, which fakesnow
    # lacks: the sample has no short rows)
    for file_format in ("LOADTEST.F1.CSV_FORMAT", "LOADTEST.F1.CSV_FORMAT_RAGGED"):
        cursor.execute(
            f"CREATE FILE FORMAT IF NOT EXISTS {file_format} TYPE = CSV SKIP_HEADER = 1 "
            "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('\\\\N') ESCAPE_UNENCLOSED_FIELD = NONE"
        )
    cursor.execute(f"CREATE OR REPLACE STAGE {name[1:]} URL = 'file://{folder}/'")


def test_loads_all_14_tables_and_swaps_on_reload(
    emulated_warehouse: EmulatedWarehouse, snowpark_on_fakesnow: Any, sample_stage_dir: Path
) -> None:
    _stage(snowpark_on_fakesnow, STAGE, sample_stage_dir)
    specs = table_specs(INGEST)
    # the second pass replaces existing tables (SWAP WITH, not RENAME); three keep it quick
    for batch in (specs, [s for s in specs if s.name in ("races", "results", "status")]):
        for spec in batch:
            result = emulated_warehouse.load_csv_table(spec, STAGE, {})
            rows = len((sample_stage_dir / f"{spec.name}.csv").read_text().splitlines()) - 1
            assert result == {
                "table": spec.target,
                "source": f"{STAGE}/{spec.name}.csv",
                "rows": rows,
                "rejects": 0,
            }
            assert _count(snowpark_on_fakesnow, spec.target) == rows
    print("\n" + emulated_warehouse.listing())
    paths = [r.path for r in emulated_warehouse.routes]
    assert paths.count("fakesnow (rewritten: SWAP WITH as 3 RENAMEs)") >= 3
    assert not emulated_warehouse.table_exists("LOADTEST.F1.RESULTS__LOADING")


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda text: text.replace("\n1,", "\nnot_a_number,", 1), "results.csv"),
        (lambda text: text + text.splitlines()[1] + "\n", "duplicate primary key {'resultId': 1}"),
    ],
    ids=["bad value", "duplicate key"],
)
def test_a_bad_file_keeps_the_previous_table(
    emulated_warehouse: EmulatedWarehouse,
    snowpark_on_fakesnow: Any,
    sample_stage_dir: Path,
    tmp_path: Path,
    mutate: Any,
    expected: str,
) -> None:
    spec = next(s for s in table_specs(INGEST) if s.name == "results")
    _stage(snowpark_on_fakesnow, STAGE, sample_stage_dir)
    before = emulated_warehouse.load_csv_table(spec, STAGE)["rows"]
    shutil.copy(sample_stage_dir / "results.csv", tmp_path / "results.csv")
    path = tmp_path / "results.csv"
    path.write_text(mutate(path.read_text()))
    _stage(snowpark_on_fakesnow, "@LOADTEST.F1.BAD_STAGE", tmp_path)
    with pytest.raises(IngestError, match="@LOADTEST.F1.BAD_STAGE/results.csv") as error:
        emulated_warehouse.load_csv_table(spec, "@LOADTEST.F1.BAD_STAGE")
    assert expected in str(error.value)
    assert _count(snowpark_on_fakesnow, spec.target) == before
    assert not emulated_warehouse.table_exists("LOADTEST.F1.RESULTS__LOADING")


def test_source_must_be_a_stage(emulated_warehouse: EmulatedWarehouse) -> None:
    spec = table_specs(INGEST)[0]
    with pytest.raises(ValueError, match="fully qualified"):
        emulated_warehouse.load_csv_table(spec, "/data/formula1")
    with pytest.raises(ValueError, match="storage_options"):
        emulated_warehouse.load_csv_table(spec, STAGE, {"anon": True})


def test_a_missing_last_file_changes_no_table(
    emulated_warehouse: EmulatedWarehouse,
    snowpark_on_fakesnow: Any,
    sample_stage_dir: Path,
    tmp_path: Path,
) -> None:
    """Issue 15 item 3 on Snowflake: every file is loaded and checked before the first swap."""
    specs = table_specs(INGEST)
    _stage(snowpark_on_fakesnow, STAGE, sample_stage_dir)
    emulated_warehouse.load_csv_tables(specs, STAGE, {})
    before = {s.target: _count(snowpark_on_fakesnow, s.target) for s in specs}
    partial = tmp_path / "partial"
    shutil.copytree(sample_stage_dir, partial)
    # the first file now holds 5 rows (a swap would show), the last one is missing
    first = partial / f"{specs[0].name}.csv"
    first.write_text("".join(first.read_text().splitlines(keepends=True)[:6]))
    (partial / f"{specs[-1].name}.csv").unlink()
    _stage(snowpark_on_fakesnow, "@LOADTEST.F1.PARTIAL_STAGE", partial)
    with pytest.raises(IngestError, match=f"PARTIAL_STAGE/{specs[-1].name}.csv"):
        emulated_warehouse.load_csv_tables(specs, "@LOADTEST.F1.PARTIAL_STAGE", {})
    assert {s.target: _count(snowpark_on_fakesnow, s.target) for s in specs} == before
    for spec in specs:
        assert not emulated_warehouse.table_exists(f"LOADTEST.F1.{spec.name.upper()}__LOADING")
