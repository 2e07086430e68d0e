"""The embedded warehouse: DuckDB files that stand for Snowflake databases.

Each database is one file, `<directory>/<DATABASE>.duckdb`, attached under its own name, so that
`RAW.FORMULA1.RESULTS` names the same table here as on Snowflake. Nodes only see the objects the
catalog hands them (`datasets.py`); reading the CSVs is in `csv_ingest.py`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from kedro.io import DatasetError

from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import LoadsOneTable, TableSpec

from . import csv_ingest
from .errors import REBUILD, WarehouseBusyError, WarehouseFileError, file_error, write_error

logger = logging.getLogger(__name__)

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?\(PID \d+\))")


class DuckDBWarehouse(LoadsOneTable):
    """The embedded warehouse: attach the database files, create schemas, load and swap tables."""

    def __init__(
        self,
        directory: str | Path = "data/warehouse",
        databases: tuple[str, ...] | list[str] = ("RAW", "FORMULA1"),
        stage_dir: str | Path = "data/06_models/ml_stage",
        lock_timeout: float = 30.0,
    ):
        self.directory = Path(directory)
        self.databases = tuple(identifier(d, "database") for d in databases)
        self.stage_dir = Path(stage_dir)
        # How long to wait for another process's lock on a file (a run's load, a notebook's read).
        self.lock_timeout = float(lock_timeout)

    def __repr__(self) -> str:
        return f"DuckDBWarehouse(directory={str(self.directory)!r})"

    def database_path(self, database: str) -> Path:
        return self.directory / f"{identifier(database, 'database')}.duckdb"

    @contextmanager
    def connect(
        self, read_only: bool = False, create: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with every database file attached under its name; closed on exit.

        Only `create=True` (bootstrap) makes missing files: any other use of a missing file
        fails naming it, so no stage ever builds on an empty warehouse that it created itself.
        """
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(":memory:")
        try:
            for database in self.databases:
                path = self.database_path(database)
                if not create and not path.exists():
                    raise WarehouseFileError(
                        f"warehouse file {path.resolve()} does not exist. Build the warehouse "
                        f"with {REBUILD}."
                    )
                self._attach(con, path, database, read_only)
            yield con
        finally:
            con.close()

    def _attach(
        self, con: duckdb.DuckDBPyConnection, path: Path, database: str, read_only: bool
    ) -> None:
        """ATTACH one file; while another process holds its lock, retry up to `lock_timeout`.

        DuckDB's file lock does not wait: a reader fails while a writer has the file open, and a
        writer fails while any reader has. Loads and reads are short, so waiting usually suffices.
        """
        mode = " (READ_ONLY)" if read_only else ""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                con.execute(f"ATTACH '{_sql_string(path)}' AS {database}{mode}")
                return
            except duckdb.IOException as err:
                holder = _LOCK_HOLDER.search(str(err))
                if holder is None:
                    raise file_error(path, err) from err
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"warehouse file {path.resolve()} is locked by another process "
                        f"({holder.group(1)}) and stayed locked for {self.lock_timeout:g} s; a "
                        "`kedro run`, dbt or a notebook is using it. Try again when it is done."
                    ) from err
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    # -- bootstrap -----------------------------------------------------------------------------
    def bootstrap(self, layout: Mapping[str, Any]) -> dict[str, Any]:
        """Create the database files, their schemas and the ML stage folder; idempotent."""
        created: dict[str, list[str]] = {}
        with self.connect(create=True) as con:
            for database, schemas in layout["databases"].items():
                identifier(database, "database")
                if database not in self.databases:
                    raise ValueError(
                        f"bootstrap layout names database {database!r}, but the warehouse "
                        f"attaches only {list(self.databases)}"
                    )
                for schema in schemas:
                    name = qualified(database, schema, what="schema")
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
                created[database] = list(schemas)
        # `stage` names the ML stage as on Snowflake (DATABASE.SCHEMA.NAME): its folder is NAME
        parts = [identifier(part, "stage") for part in str(layout["stage"]).split(".")]
        stage = self.stage_dir / parts[-1]
        stage.mkdir(parents=True, exist_ok=True)
        return {"engine": "duckdb", "databases": created, "stage": str(stage)}

    # -- ingest (`load_csv_table`, one table, comes from LoadsOneTable) -----------------------
    def load_csv_tables(
        self,
        specs: Sequence[TableSpec],
        source_uri: str,
        storage_options: Mapping[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Load every table's CSV and replace all the tables at once, or none of them.

        First every file is located and its header checked; then each file is read with the
        declared columns and types (by name, in whatever order the file has them) into a temporary
        table and checked (rows, primary key); only then are all targets replaced in ONE
        transaction. Any problem stops the load naming the file, and every table stays as it was.
        """
        with ExitStack() as files:
            sources = csv_ingest.local_sources(
                files, specs, source_uri, dict(storage_options or {})
            )
            with self.connect() as con:
                results = {
                    spec.name: csv_ingest.stage_csv(con, spec, *sources[spec.name])
                    for spec in specs
                }
                con.begin()
                try:
                    for spec in specs:
                        _replace_table(con, csv_ingest.staged(spec), spec.target)
                    con.commit()
                except duckdb.Error as err:
                    _rollback(con)
                    raise write_error(self.directory, err) from err
        return results

    # -- tables --------------------------------------------------------------------------------
    def read_table(self, table: str, limit: int | None = None) -> pd.DataFrame:
        name = qualified(*table.split("."))
        query = f"SELECT * FROM {name}" + (f" LIMIT {int(limit)}" if limit is not None else "")
        with self.connect(read_only=True) as con:
            try:
                # DATE as datetime64, not datetime.date objects: snowflake-ml refuses object columns
                return con.sql(query).to_arrow_table().to_pandas(date_as_object=False)
            except duckdb.CatalogException as err:
                raise DatasetError(f"table {name} does not exist in the warehouse: {err}") from err

    def replace_table(self, table: str, data: pd.DataFrame) -> None:
        """Write `data` as `table`, replacing the old one atomically."""
        name = qualified(*table.split("."))
        with self.connect() as con:
            con.register("__frame", data)
            con.begin()
            try:
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM __frame")
                con.commit()
            except duckdb.Error:
                _rollback(con)
                raise

    def table_exists(self, table: str) -> bool:
        database, schema, name = table.split(".")
        with self.connect(read_only=True) as con:
            return bool(
                con.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE upper(table_catalog)=? "
                    "AND upper(table_schema)=? AND upper(table_name)=?",
                    [database.upper(), schema.upper(), name.upper()],
                ).fetchone()[0]
            )


def _replace_table(con: duckdb.DuckDBPyConnection, staged: str, target: str) -> None:
    """Inside the caller's transaction: the target becomes the staged rows."""
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {staged}")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.rollback()
    except duckdb.Error:
        pass  # no transaction was open


def _sql_string(value: object) -> str:
    return str(value).replace("'", "''")
