"""Bad source files: each stops the load naming the file (line, column); old table intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from f1_kedro.engines.duckdb import DuckDBWarehouse
from f1_kedro.ingest_spec import IngestError, TableSpec, table_specs
from tests.support import PROJECT_ROOT, run_kedro

PARAMS = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_ingest.yml").read_text())["ingest"]
SPECS = {spec.name: spec for spec in table_specs(PARAMS)}
STATUS_HEADER = "statusId,status\n"


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(tmp_path / "warehouse", stage_dir=tmp_path / "stage")
    wh.bootstrap({"databases": {"RAW": ["FORMULA1"], "FORMULA1": ["ML"]}, "stage": "ML_STAGE"})
    return wh


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    return folder


def load(wh: DuckDBWarehouse, folder: Path, name: str = "status", body: str | bytes = "") -> dict:
    path = folder / f"{name}.csv"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return wh.load_csv_table(SPECS[name], str(folder))


def status_rows(wh: DuckDBWarehouse) -> list[tuple]:
    with wh.connect(read_only=True) as con:
        return con.execute("SELECT * FROM RAW.FORMULA1.STATUS ORDER BY 1").fetchall()


GOOD = STATUS_HEADER + '1,"Finished"\n2,"Disqualified"\n'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (STATUS_HEADER + '1,"Finished"\nx2,"Bad"\n', ["status.csv", "Line: 3", "statusId"]),
        ("statusId,label\n1,Finished\n", ["status.csv", "line 1", "lacks column(s) status"]),
        ("status\nFinished\n", ["status.csv", "line 1", "lacks column(s) statusId"]),
        ("", ["status.csv", "empty"]),
        (STATUS_HEADER, ["status.csv", "no rows"]),
        (b"PAR1\x00\x15\x04\x15\xd0\x01binary", ["status.csv", "line 1"]),
        (STATUS_HEADER + '1,"Finished"\n1,"Again"\n', ["status.csv", "duplicate primary key"]),
        ((STATUS_HEADER + '1,"Finished"\n2,"Disq\xff"\n').encode("latin-1"), ["status.csv"]),
        (STATUS_HEADER + '1,"Finished"\n2,"Unterminated\n', ["status.csv"]),
        (STATUS_HEADER + '1,"Finished"\n2\n', ["status.csv", "Line: 3"]),
    ],
    ids=[
        "value-does-not-fit-type",
        "renamed-column",
        "missing-column",
        "empty-file",
        "header-only",
        "not-a-csv",
        "duplicate-primary-key",
        "non-utf8-byte",
        "unterminated-quote",
        "truncated-last-line",
    ],
)
def test_bad_file_names_the_file_and_keeps_the_old_table(
    warehouse: DuckDBWarehouse, source: Path, body: str | bytes, expected: list[str]
) -> None:
    load(warehouse, source, body=GOOD)
    before = status_rows(warehouse)
    with pytest.raises(IngestError) as error:
        load(warehouse, source, body=body)
    for fragment in expected:
        assert fragment in str(error.value)
    assert status_rows(warehouse) == before == [(1, "Finished"), (2, "Disqualified")]


def test_missing_file_is_named(warehouse: DuckDBWarehouse, source: Path) -> None:
    with pytest.raises(IngestError, match=r"circuits\.csv: file not found"):
        warehouse.load_csv_table(SPECS["circuits"], str(source))


def test_columns_load_by_name_in_any_order_and_extra_columns_are_ignored(
    warehouse: DuckDBWarehouse, source: Path
) -> None:
    load(warehouse, source, body='status,extra,statusId\n"Finished",zzz,1\n"Disq",yyy,2\n')
    assert status_rows(warehouse) == [(1, "Finished"), (2, "Disq")]
    with warehouse.connect(read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE RAW.FORMULA1.STATUS").fetchall()]
    assert columns == ["STATUSID", "STATUS"]


def test_null_marker_becomes_null(warehouse: DuckDBWarehouse, source: Path) -> None:
    load(warehouse, source, body=STATUS_HEADER + "1,\\N\n")
    assert status_rows(warehouse) == [(1, None)]


def test_only_races_may_have_short_rows() -> None:
    assert [name for name, spec in SPECS.items() if spec.ragged_tail] == ["races"]


def test_identifiers_from_configuration_are_checked_before_any_sql() -> None:
    bad = dict(PARAMS, raw_schema="FORMULA1; DROP TABLE X")
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        table_specs(bad)
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        _ = TableSpec(name="status", columns={"statusId": "INTEGER"}, schema="a b").target


def test_a_bad_file_stops_the_run_and_leaves_raw_as_it_was(
    project: Path, recent_data: Path
) -> None:
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest", params={"ingest.source_uri": str(recent_data)})
    broken = project.parent / "broken"
    shutil.copytree(recent_data, broken)
    results = broken / "results.csv"
    lines = results.read_text().splitlines(keepends=True)
    lines[100] = lines[100].replace(",", ",not-a-number,", 1)
    results.write_text("".join(lines))

    with pytest.raises(Exception, match=r"results\.csv.*Line: 101") as error:
        run_kedro(project, "ingest", params={"ingest.source_uri": str(broken)})
    assert "results.csv" in str(error.value)
    con = duckdb.connect(str(project / "data/warehouse/RAW.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM FORMULA1.RESULTS").fetchone()[0]
    finally:
        con.close()
    assert rows == len(lines) - 1
