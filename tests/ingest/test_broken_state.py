"""Broken state gets a message that names the file or parameter and says what to do (issue 15,
item 6): a damaged or missing warehouse file, an unsupported source scheme, spaces in a header."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import yaml

from f1_kedro.engines.duckdb import DuckDBTableDataset, DuckDBWarehouse, WarehouseFileError
from f1_kedro.engines.duckdb.errors import is_disk_full
from f1_kedro.ingest_spec import IngestError, table_specs
from tests.support import PROJECT_ROOT

PARAMS = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_ingest.yml").read_text())["ingest"]
STATUS = next(spec for spec in table_specs(PARAMS) if spec.name == "status")
LAYOUT = {"databases": {"RAW": ["FORMULA1"], "FORMULA1": ["ML"]}, "stage": "ML_STAGE"}
REBUILD = "kedro run --pipelines=bootstrap,ingest,features"


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(tmp_path / "warehouse", stage_dir=tmp_path / "stage")
    wh.bootstrap(LAYOUT)
    return wh


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "status.csv").write_text('statusId,status\n1,"Finished"\n2,"Disqualified"\n')
    return folder


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def overwrite(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 100)


@pytest.mark.parametrize("damage", [truncate, overwrite], ids=["truncated", "overwritten"])
def test_a_damaged_warehouse_file_is_named_with_how_to_rebuild(
    warehouse: DuckDBWarehouse, source: Path, damage
) -> None:
    warehouse.load_csv_table(STATUS, str(source))
    raw = warehouse.database_path("RAW")
    damage(raw)
    with pytest.raises(WarehouseFileError) as error:
        warehouse.load_csv_table(STATUS, str(source))
    message = str(error.value)
    assert str(raw.resolve()) in message
    assert f"Delete {raw.parent.resolve()}/*.duckdb" in message
    assert REBUILD in message
    # A reader (train's feature table) gets the same advice.
    with pytest.raises(WarehouseFileError, match="cannot be opened.*Delete"):
        DuckDBTableDataset("RAW.FORMULA1.STATUS", directory=str(raw.parent)).load()


def test_a_missing_warehouse_file_is_never_created_empty(
    warehouse: DuckDBWarehouse, source: Path
) -> None:
    formula1 = warehouse.database_path("FORMULA1")
    formula1.unlink()
    dataset = DuckDBTableDataset("FORMULA1.ML.FEATURES", directory=str(warehouse.directory))
    for attempt in (
        dataset.load,  # train reads FEATURES
        lambda: dataset.save(pd.DataFrame({"A": [1]})),  # a write to a table
        lambda: warehouse.load_csv_table(STATUS, str(source)),  # ingest
    ):
        with pytest.raises(WarehouseFileError) as error:
            attempt()
        assert f"{formula1.resolve()} does not exist" in str(error.value)
        assert REBUILD in str(error.value)
        assert not formula1.exists()
    warehouse.bootstrap(LAYOUT)  # bootstrap alone creates the files
    assert formula1.exists()


def test_an_unsupported_source_scheme_names_the_parameter(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(IngestError) as error:
        warehouse.load_csv_table(STATUS, "ftp://example.invalid/formula1/")
    message = str(error.value)
    assert "ingest.source_uri" in message and "ftp://" in message
    assert "s3://" in message and "https://" in message
    assert len(message.splitlines()) == 1


def test_spaces_around_header_names_are_stripped(warehouse: DuckDBWarehouse, source: Path) -> None:
    (source / "status.csv").write_text(' statusId , status \n1,"Finished"\n2,"Disqualified"\n')
    assert warehouse.load_csv_table(STATUS, str(source))["rows"] == 2
    with warehouse.connect(read_only=True) as con:
        rows = con.execute("SELECT * FROM RAW.FORMULA1.STATUS ORDER BY 1").fetchall()
        columns = [r[0] for r in con.execute("DESCRIBE RAW.FORMULA1.STATUS").fetchall()]
    assert rows == [(1, "Finished"), (2, "Disqualified")]
    assert columns == ["STATUSID", "STATUS"]


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
import yaml
from f1_kedro.engines.duckdb import DuckDBWarehouse
from f1_kedro.ingest_spec import table_specs

params = yaml.safe_load(open(sys.argv[1]))["ingest"]
warehouse = DuckDBWarehouse(sys.argv[2])
limit = warehouse.database_path("RAW").stat().st_size + 200_000
# The kernel refuses to grow any file past the limit (EFBIG), as a full disk refuses (ENOSPC).
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
warehouse.load_csv_tables(table_specs(params), sys.argv[3])
"""


def test_a_full_disk_during_ingest_names_the_file_and_changes_no_table(
    warehouse: DuckDBWarehouse, source: Path, recent_data: Path
) -> None:
    import subprocess
    import sys

    warehouse.load_csv_table(STATUS, str(source))
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK]
        + [str(PROJECT_ROOT / "conf/base/parameters_ingest.yml"), str(warehouse.directory)]
        + [str(recent_data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    raw = warehouse.database_path("RAW").resolve()
    assert done.returncode != 0
    assert f"WarehouseFileError: cannot write {raw}" in done.stderr, done.stderr[-2000:]
    assert "File too large" in done.stderr and "No table was changed" in done.stderr
    with warehouse.connect(read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        rows = con.execute("SELECT count(*) FROM RAW.FORMULA1.STATUS").fetchone()[0]
    assert (tables, rows) == ({"STATUS"}, 2)


@pytest.mark.parametrize(
    ("error", "full"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EFBIG, "File too large"), True),
        (OSError(errno.ENOENT, "No such file or directory"), False),
        (RuntimeError('Could not write file "x.duckdb": Disk quota exceeded'), True),
        (RuntimeError("disk full"), False),  # words the OS never uses
    ],
)
def test_a_full_disk_is_recognised_as_the_os_or_duckdb_reports_it(
    error: BaseException, full: bool
) -> None:
    assert is_disk_full(error) is full


def test_a_full_disk_is_recognised_inside_the_error_mlflow_wraps_it_in() -> None:
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as cause:
            raise RuntimeError("(sqlite3.OperationalError) while logging the model") from cause
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped)


def test_the_dbt_project_on_duckdb_refuses_a_missing_warehouse_file(
    warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from f1_kedro.engines.duckdb import DuckDBDbtProjectDataset

    monkeypatch.chdir(PROJECT_ROOT)  # where dbt/dbt_project.yml is
    dataset = DuckDBDbtProjectDataset(env={"F1_WAREHOUSE_DIR": str(warehouse.directory)})
    assert dataset.load().env["F1_WAREHOUSE_DIR"] == str(warehouse.directory)
    formula1 = warehouse.database_path("FORMULA1")
    formula1.unlink()
    # dbt-duckdb would create an empty FORMULA1.duckdb and score on it: refused before dbt starts
    with pytest.raises(
        WarehouseFileError, match=rf"{formula1.resolve()} does not exist.*{REBUILD}"
    ):
        dataset.load()
    assert not formula1.exists()
