"""`SnowflakeWarehouse.load_csv_tables` on fakesnow: COPY INTO each table of a clone of the raw
schema from a stage holding a sample of the real CSVs, then ONE schema swap; a bad or missing
file leaves every table of the raw schema as it was (issue 15, item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.snowflake_emulator import CLONE_ROUTE, SWAP_ROUTE
from f1_kedro.engines.snowflake.raw_load import schema_grants
from f1_kedro.engines.snowflake.sql import split_statements
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
FILE_FORMAT = "LOADTEST.F1.CSV_FORMAT"


@pytest.fixture
def emulated_warehouse(snowpark_on_fakesnow: Any) -> EmulatedWarehouse:
    return EmulatedWarehouse(snowpark_on_fakesnow, SQL_DIR, file_format=FILE_FORMAT)


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


def _schemas(session: Any) -> set[str]:
    cursor = session.connection.cursor()
    cursor.execute("SELECT schema_name FROM LOADTEST.INFORMATION_SCHEMA.SCHEMATA")
    return {row[0] for row in cursor.fetchall()}


@pytest.fixture(scope="module")
def loaded(snowpark_on_fakesnow: Any, sample_stage_dir: Path) -> tuple[EmulatedWarehouse, dict]:
    """The 14 tables loaded from the sample, once per module: the tests below that break a load
    start from here (each asserts that it left every table as it was, so the next one can too)."""
    _stage(snowpark_on_fakesnow, STAGE, sample_stage_dir)
    warehouse = EmulatedWarehouse(snowpark_on_fakesnow, SQL_DIR, file_format=FILE_FORMAT)
    return warehouse, warehouse.load_csv_tables(table_specs(INGEST), STAGE, {})


def _loaded_counts(sample_stage_dir: Path) -> dict[str, int]:
    """Every raw table's rows as the sample loads them (what a failed load must leave)."""
    return {
        spec.target: len((sample_stage_dir / f"{spec.name}.csv").read_text().splitlines()) - 1
        for spec in table_specs(INGEST)
    }


def test_loads_all_14_tables_in_one_swap_and_reloads(
    loaded: tuple[EmulatedWarehouse, dict], snowpark_on_fakesnow: Any, sample_stage_dir: Path
) -> None:
    emulated_warehouse, report = loaded
    specs = table_specs(INGEST)
    for spec in specs:
        rows = len((sample_stage_dir / f"{spec.name}.csv").read_text().splitlines()) - 1
        assert report[spec.name] == {
            "table": spec.target,
            "source": f"{STAGE}/{spec.name}.csv",
            "rows": rows,
            "rejects": 0,
        }
        assert _count(snowpark_on_fakesnow, spec.target) == rows
    paths = [r.path for r in emulated_warehouse.routes]
    assert (paths.count(CLONE_ROUTE), paths.count(SWAP_ROUTE)) == (1, 1)
    # the stage and file formats of the swapped schema came along: a second load reads them
    status = next(s for s in specs if s.name == "status")
    assert emulated_warehouse.load_csv_table(status, STAGE)["rows"] == report["status"]["rows"]
    print("\n" + emulated_warehouse.listing())
    assert "F1__LOADING" not in _schemas(snowpark_on_fakesnow)


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
    assert "F1__LOADING" not in _schemas(snowpark_on_fakesnow)


def test_source_must_be_a_stage(emulated_warehouse: EmulatedWarehouse) -> None:
    spec = table_specs(INGEST)[0]
    with pytest.raises(ValueError, match="fully qualified"):
        emulated_warehouse.load_csv_table(spec, "/data/formula1")
    with pytest.raises(ValueError, match="storage_options"):
        emulated_warehouse.load_csv_table(spec, STAGE, {"anon": True})


def _missing_last(folder: Path, specs: list[Any]) -> str:
    (folder / f"{specs[-1].name}.csv").unlink()
    return specs[-1].name


def _bad_middle(folder: Path, specs: list[Any]) -> str:
    middle = specs[len(specs) // 2]
    path = folder / f"{middle.name}.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:2], f"not,a,row,of,{middle.name}\n", *lines[2:]]))
    return middle.name


@pytest.mark.parametrize(
    "break_one", [_missing_last, _bad_middle], ids=["last-missing", "middle-bad"]
)
def test_a_missing_or_bad_file_stops_before_the_swap(
    emulated_warehouse: EmulatedWarehouse,
    snowpark_on_fakesnow: Any,
    sample_stage_dir: Path,
    tmp_path: Path,
    break_one: Any,
    loaded: tuple[EmulatedWarehouse, dict],
) -> None:
    """Issue 15 item 3 on Snowflake: the first file changed (a swap would show), another one
    missing or bad: no table changes, the loading schema is gone, the swap never ran."""
    specs = table_specs(INGEST)
    before = _loaded_counts(sample_stage_dir)
    assert {s.target: _count(snowpark_on_fakesnow, s.target) for s in specs} == before
    changed = tmp_path / "changed"
    shutil.copytree(sample_stage_dir, changed)
    first = changed / f"{specs[0].name}.csv"
    first.write_text("".join(first.read_text().splitlines(keepends=True)[:6]))  # 5 rows
    broken = break_one(changed, specs)
    _stage(snowpark_on_fakesnow, "@LOADTEST.F1.CHANGED_STAGE", changed)
    emulated_warehouse.routes.clear()
    with pytest.raises(IngestError, match=f"CHANGED_STAGE/{broken}.csv"):
        emulated_warehouse.load_csv_tables(specs, "@LOADTEST.F1.CHANGED_STAGE", {})
    assert {s.target: _count(snowpark_on_fakesnow, s.target) for s in specs} == before
    paths = [r.path for r in emulated_warehouse.routes]
    assert CLONE_ROUTE in paths and SWAP_ROUTE not in paths
    assert "F1__LOADING" not in _schemas(snowpark_on_fakesnow)


def test_a_loading_schema_left_by_a_killed_run_is_dropped_first(
    emulated_warehouse: EmulatedWarehouse,
    snowpark_on_fakesnow: Any,
    sample_stage_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    status = next(s for s in table_specs(INGEST) if s.name == "status")
    _stage(snowpark_on_fakesnow, STAGE, sample_stage_dir)
    cursor = snowpark_on_fakesnow.connection.cursor()
    cursor.execute("CREATE SCHEMA IF NOT EXISTS LOADTEST.F1__LOADING")
    cursor.execute("CREATE TABLE LOADTEST.F1__LOADING.HALF_LOADED (A INTEGER)")
    emulated_warehouse.load_csv_table(status, STAGE)
    assert "dropping LOADTEST.F1__LOADING: a killed ingest left it" in caplog.text
    assert "F1__LOADING" not in _schemas(snowpark_on_fakesnow)
    assert not emulated_warehouse.table_exists("LOADTEST.F1.HALF_LOADED")


def test_the_raw_schema_grants_are_the_setup_files_aimed_at_the_loading_schema() -> None:
    """What the swap carries onto RAW.FORMULA1: 05_roles_grants.sql's grants on it, re-aimed."""
    files = [split_statements(p.read_text()) for p in sorted(SQL_DIR.glob("*.sql"))]
    grants = schema_grants(files, "RAW.FORMULA1", "RAW.FORMULA1__LOADING")
    assert grants == [
        "GRANT USAGE, CREATE TABLE ON SCHEMA RAW.FORMULA1__LOADING TO ROLE LOADER",
        "GRANT USAGE ON FILE FORMAT RAW.FORMULA1__LOADING.CSV_FORMAT TO ROLE LOADER",
        "GRANT USAGE ON STAGE RAW.FORMULA1__LOADING.FORMULA1_STAGE TO ROLE LOADER",
        "GRANT SELECT, INSERT, TRUNCATE ON ALL TABLES IN SCHEMA RAW.FORMULA1__LOADING "
        "TO ROLE LOADER",
        "GRANT SELECT, INSERT, TRUNCATE ON FUTURE TABLES IN SCHEMA RAW.FORMULA1__LOADING "
        "TO ROLE LOADER",
        "GRANT USAGE ON SCHEMA RAW.FORMULA1__LOADING TO ROLE TRANSFORMER",
        "GRANT SELECT ON ALL TABLES IN SCHEMA RAW.FORMULA1__LOADING TO ROLE TRANSFORMER",
        "GRANT SELECT ON FUTURE TABLES IN SCHEMA RAW.FORMULA1__LOADING TO ROLE TRANSFORMER",
    ]


def test_the_grants_run_on_the_loading_schema_before_the_swap(
    snowpark_on_fakesnow: Any, sample_stage_dir: Path, tmp_path: Path
) -> None:
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "05_roles_grants.sql").write_text(
        "GRANT USAGE ON SCHEMA LOADTEST.F1 TO ROLE LOADER;\n"
        "GRANT SELECT ON FUTURE TABLES IN SCHEMA LOADTEST.F1 TO ROLE TRANSFORMER;\n"
        "GRANT USAGE ON SCHEMA LOADTEST.OTHER TO ROLE LOADER;\n"
    )
    warehouse = EmulatedWarehouse(snowpark_on_fakesnow, sql_dir, file_format=FILE_FORMAT)
    _stage(snowpark_on_fakesnow, STAGE, sample_stage_dir)
    warehouse.load_csv_table(next(s for s in table_specs(INGEST) if s.name == "status"), STAGE)
    steps = [r.statement for r in warehouse.routes if r.path != "fakesnow"]
    assert steps == [
        "CREATE SCHEMA LOADTEST.F1__LOADING CLONE LOADTEST.F1",
        "GRANT USAGE ON SCHEMA LOADTEST.F1__LOADING TO ROLE LOADER",
        "GRANT SELECT ON FUTURE TABLES IN SCHEMA LOADTEST.F1__LOADING TO ROLE TRANSFORMER",
        "ALTER SCHEMA LOADTEST.F1__LOADING SWAP WITH LOADTEST.F1",
    ]


class _SwapFails(EmulatedWarehouse):
    """The connection lost at the swap: the statement fails (Snowflake ran it or not)."""

    def _execute(self, statement: str) -> list[tuple[Any, ...]]:
        if statement.startswith("ALTER SCHEMA"):
            raise ConnectionError("lost the connection")
        return super()._execute(statement)


def test_a_failed_swap_leaves_every_table_old_and_no_loading_schema(
    snowpark_on_fakesnow: Any,
    sample_stage_dir: Path,
    tmp_path: Path,
    loaded: tuple[EmulatedWarehouse, dict],
) -> None:
    """Where 14 table SWAPs could stop halfway (14 commits), the one schema SWAP cannot."""
    specs = table_specs(INGEST)
    before = _loaded_counts(sample_stage_dir)
    assert {s.target: _count(snowpark_on_fakesnow, s.target) for s in specs} == before
    short = tmp_path / "short"
    short.mkdir()
    for source in sample_stage_dir.glob("*.csv"):  # every file changed: any swap would show
        (short / source.name).write_text("".join(source.read_text().splitlines(True)[:4]))
    _stage(snowpark_on_fakesnow, "@LOADTEST.F1.SHORT_STAGE", short)
    failing = _SwapFails(snowpark_on_fakesnow, SQL_DIR, file_format=FILE_FORMAT)
    with pytest.raises(ConnectionError):
        failing.load_csv_tables(specs, "@LOADTEST.F1.SHORT_STAGE")
    assert {s.target: _count(snowpark_on_fakesnow, s.target) for s in specs} == before
    assert "F1__LOADING" not in _schemas(snowpark_on_fakesnow)
