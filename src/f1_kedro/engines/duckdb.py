"""The embedded engine: DuckDB files that stand for Snowflake databases.

Each database is one file, `<directory>/<DATABASE>.duckdb`, attached under its own name, so that
`RAW.FORMULA1.RESULTS` names the same table here as on Snowflake. Everything DuckDB-specific in the
project is in this module; nodes only see the objects it hands them through the catalog.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import IngestError, TableSpec, header_mapping

logger = logging.getLogger(__name__)

_TYPES = {"INTEGER", "DOUBLE", "VARCHAR", "DATE", "TIME", "BOOLEAN", "BIGINT", "TIMESTAMP"}
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?\(PID \d+\))")


class WarehouseBusyError(DatasetError):
    """Another process holds a warehouse file (DuckDB takes one writer or many readers)."""


class DuckDBWarehouse:
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
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with every database file attached under its name; closed on exit."""
        if not read_only:
            self.directory.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(":memory:")
        try:
            for database in self.databases:
                path = self.database_path(database)
                if read_only and not path.exists():
                    raise DatasetError(
                        f"warehouse file {path} does not exist: "
                        "run `kedro run --pipeline=bootstrap`"
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
                    raise
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
        with self.connect() as con:
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
        stage = self.stage_dir / identifier(layout["stage"], "stage")
        stage.mkdir(parents=True, exist_ok=True)
        return {"engine": "duckdb", "databases": created, "stage": str(stage)}

    # -- ingest --------------------------------------------------------------------------------
    def load_csv_table(
        self,
        spec: TableSpec,
        source_uri: str,
        storage_options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Load one CSV into `spec.target` and replace the old table in one transaction.

        The file is read with the declared columns and types (by name, in whatever order the file
        has them); any value that does not fit stops the load, and the previous table stays.
        """
        uri = spec.file_uri(source_uri)
        fs, path = fsspec.core.url_to_fs(uri, **dict(storage_options or {}))
        with _local_copy(fs, path, uri) as local_path:
            header = _read_header(local_path, uri)
            file_columns = header_mapping(spec, header, uri)
            return self._load_local_csv(spec, local_path, uri, header, file_columns)

    def _load_local_csv(
        self, spec: TableSpec, path: str, uri: str, header: list[str], file_columns: dict[str, str]
    ) -> dict[str, Any]:
        with self.connect() as con:
            # Types in the file's own column order; columns the spec does not know stay VARCHAR.
            csv_types = {name: file_columns.get(name, "VARCHAR") for name in header}
            try:
                relation = con.read_csv(
                    path,
                    header=True,
                    sep=",",
                    quotechar='"',
                    escapechar='"',
                    na_values=[spec.null_string],
                    columns=csv_types,
                    auto_detect=False,
                    null_padding=spec.ragged_tail,
                    encoding="utf-8",
                )
                relation.create_view("__ingest_source")
                select = ", ".join(
                    f'"{name}"::{_type(t)} AS {identifier(name.upper(), "column")}'
                    for name, t in spec.columns.items()
                )
                con.begin()
                con.execute(
                    f"CREATE OR REPLACE TABLE {spec.target} AS SELECT {select} FROM __ingest_source"
                )
                rows = con.execute(f"SELECT count(*) FROM {spec.target}").fetchone()[0]
                if rows == 0:
                    raise IngestError(f"{uri}: the file has a header but no rows")
                _check_primary_key(con, spec, uri, path)
                con.commit()
            except IngestError:
                _rollback(con)
                raise
            except duckdb.Error as err:
                _rollback(con)
                hint = _column_hint(str(err), path, header)
                raise IngestError(f"{uri}: {_first_lines(str(err))}{hint}") from err
        return {"table": spec.target, "source": uri, "rows": int(rows), "rejects": 0}

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


class DuckDBWarehouseDataset(AbstractDataset[None, DuckDBWarehouse]):
    """Hands nodes the embedded warehouse; nodes call its methods and never import DuckDB."""

    def __init__(
        self,
        directory: str = "data/warehouse",
        databases: list[str] | None = None,
        stage_dir: str = "data/06_models/ml_stage",
        lock_timeout: float = 30.0,
    ):
        self._warehouse = DuckDBWarehouse(
            directory, databases or ("RAW", "FORMULA1"), stage_dir, lock_timeout
        )

    def load(self) -> DuckDBWarehouse:
        return self._warehouse

    def save(self, data: None) -> None:
        raise DatasetError("the warehouse is a resource: nodes use it, they do not save it")

    def _describe(self) -> dict[str, Any]:
        return {"directory": str(self._warehouse.directory)}


class DuckDBTableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A warehouse table as a pandas DataFrame (read through Arrow); saves replace it atomically.

    A node whose SQL (dbt) already built the table returns a `f1_kedro.tables.BuiltTable`; saving
    that checks that the table exists instead of writing it again.
    """

    def __init__(
        self,
        table: str,
        directory: str = "data/warehouse",
        databases: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        lock_timeout: float = 30.0,
    ):
        self._table = qualified(*table.split("."))
        self._warehouse = DuckDBWarehouse(
            directory, databases or ("RAW", "FORMULA1"), lock_timeout=lock_timeout
        )
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return self._warehouse.read_table(self._table)

    def save(self, data: Any) -> None:
        from f1_kedro.tables import BuiltTable

        if isinstance(data, BuiltTable):
            data.check(self._table)
            if not self._warehouse.table_exists(self._table):
                raise DatasetError(f"{data.built_by} did not build {self._table}")
            return
        self._warehouse.replace_table(self._table, data)

    def _exists(self) -> bool:
        try:
            return self._warehouse.table_exists(self._table)
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        # kedro-viz shows `path` as the dataset's location: the table's three-part name
        return {
            "table": self._table,
            "path": self._table,
            "directory": str(self._warehouse.directory),
        }

    def preview(self, nrows: int = 10) -> TablePreview:
        """Rows for kedro-viz's preview panel (it picks the panel by this return annotation)."""
        frame = self._warehouse.read_table(self._table, limit=nrows)
        return frame.astype(str).to_dict(orient="split")


@contextmanager
def _local_copy(fs: fsspec.AbstractFileSystem, path: str, uri: str) -> Iterator[str]:
    """A local path for the file: itself when local, else a streamed temporary copy.

    DuckDB's httpfs extension cannot be downloaded here, and its fsspec bridge needs calls
    (`modified()`) that HTTP file systems lack, so remote files are copied through fsspec.
    """
    try:
        if _is_local(fs):
            if not fs.isfile(path):
                raise FileNotFoundError(path)
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="f1_ingest_") as tmp:
            local = str(Path(tmp) / Path(path).name)
            with fs.open(path, "rb") as remote, open(local, "wb") as copy:
                shutil.copyfileobj(remote, copy, 1 << 20)
            yield local
    except FileNotFoundError as err:
        raise IngestError(f"{uri}: file not found") from err


def _read_header(path: str, uri: str) -> list[str]:
    with open(path, "rb") as handle:
        first = handle.read(1 << 16).split(b"\n", 1)[0]
    if not first.strip():
        raise IngestError(f"{uri}: the file is empty (no header line)")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestError(
            f"{uri}: line 1 is not UTF-8 text ({err.reason}); is it a CSV file?"
        ) from err
    return next(csv.reader(io.StringIO(text)))


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def _type(name: str) -> str:
    if name.upper() not in _TYPES:
        raise ValueError(f"unknown column type {name!r}; use one of {sorted(_TYPES)}")
    return name.upper()


def _check_primary_key(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, uri: str, path: str
) -> None:
    if not spec.primary_key:
        return
    key = ", ".join(identifier(c.upper(), "column") for c in spec.primary_key)
    duplicate = con.execute(
        f"SELECT {key}, count(*) FROM {spec.target} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if duplicate:
        values = dict(zip(spec.primary_key, duplicate[:-1], strict=True))
        lines = _lines_with_key(path, values)
        raise IngestError(
            f"{uri}: duplicate primary key {values} ({duplicate[-1]} rows"
            + (f", lines {', '.join(map(str, lines))}" if lines else "")
            + f") in column(s) {', '.join(spec.primary_key)}"
        )


def _lines_with_key(path: str, values: Mapping[str, Any]) -> list[int]:
    """Physical line numbers of the rows whose key columns hold `values` (the error path only)."""
    wanted = {name: str(value) for name, value in values.items()}
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        return [
            reader.line_num
            for row in reader
            if all((row.get(name) or "").strip() == value for name, value in wanted.items())
        ][:10]


def _column_hint(message: str, path: str, header: list[str]) -> str:
    """Name the column where DuckDB's CSV error names only the line: a bad byte, a short row."""
    match = _CSV_LINE.search(message)
    if match is None or "converting column" in message:
        return ""  # no line, or DuckDB already names the column
    with open(path, "rb") as handle:
        raw = next(itertools.islice(handle, int(match.group(1)) - 1, None), b"")
    # latin-1 maps every byte to one character, so the fields keep their exact bytes
    fields = next(csv.reader([raw.decode("latin-1").rstrip("\r\n")]), [])
    for name, field in zip(header, fields, strict=False):
        try:
            field.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return f"\nColumn {name} holds bytes that are not UTF-8"
    if len(fields) < len(header):
        return (
            f"\nThe line has {len(fields)} of {len(header)} columns: it ends before column "
            f"{header[len(fields)]} (a truncated line?)"
        )
    if len(fields) > len(header):
        return f"\nThe line has {len(fields)} fields, the header {len(header)} columns"
    return ""


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.rollback()
    except duckdb.Error:
        pass  # no transaction was open


def _first_lines(message: str, n: int = 5) -> str:
    """DuckDB's error up to its advice and settings dump: the line, the column, the value."""
    lines: list[str] = []
    for line in message.strip().splitlines():
        if line.startswith("Possible") or "auto-detected" in line:
            break
        lines.append(line)
    return "\n".join(ln for ln in lines[:n] if ln.strip())


def _sql_string(value: object) -> str:
    return str(value).replace("'", "''")
