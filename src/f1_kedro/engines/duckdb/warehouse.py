"""The embedded engine: DuckDB files that stand for Snowflake databases.

Each database is one file, `<directory>/<DATABASE>.duckdb`, attached under its own name, so that
`RAW.FORMULA1.RESULTS` names the same table here as on Snowflake. Everything DuckDB-specific in the
project is in this module; nodes only see the objects it hands them through the catalog.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.dbt_project import DbtProject, DbtProjectDataset
from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import IngestError, TableSpec, header_mapping

logger = logging.getLogger(__name__)

_TYPES = {"INTEGER", "DOUBLE", "VARCHAR", "DATE", "TIME", "BOOLEAN", "BIGINT", "TIMESTAMP"}
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?\(PID \d+\))")
# Source URI schemes this engine reads ("" is a local path); fsspec would try any other and fail
# late with a network error (ftp:// gave a bare socket.gaierror).
_SOURCE_SCHEMES = ("", "file", "s3", "http", "https")
_REBUILD = "`kedro run` (everything), or `kedro run --pipelines=bootstrap,ingest,features`"


class WarehouseBusyError(DatasetError):
    """Another process holds a warehouse file (DuckDB takes one writer or many readers)."""


class WarehouseFileError(DatasetError):
    """A warehouse file is missing, damaged or cannot be written; the message says what to do."""


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
                        f"with {_REBUILD}."
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
                    raise _file_error(path, err) from err
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
        """Load one CSV into `spec.target` (see `load_csv_tables`)."""
        return self.load_csv_tables([spec], source_uri, storage_options)[spec.name]

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
        options = dict(storage_options or {})
        _check_scheme(source_uri)
        uris = {spec.name: spec.file_uri(source_uri) for spec in specs}
        _check_files_exist(uris, options)
        with ExitStack() as files:
            sources = {}
            for spec in specs:
                uri = uris[spec.name]
                fs, path = fsspec.core.url_to_fs(uri, **options)
                local = files.enter_context(_local_copy(fs, path, uri))
                header = _read_header(local, uri)
                header_mapping(spec, header, uri)
                sources[spec.name] = (local, header)
            with self.connect() as con:
                results = {
                    spec.name: _stage_csv(con, spec, uris[spec.name], *sources[spec.name])
                    for spec in specs
                }
                con.begin()
                try:
                    for spec in specs:
                        _replace_table(con, _staged(spec), spec.target)
                    con.commit()
                except duckdb.Error as err:
                    _rollback(con)
                    raise _write_error(self.directory, err) from err
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


class DuckDBWarehouseDataset(ResourceDataset[DuckDBWarehouse]):
    """Hands nodes the embedded warehouse; nodes call its methods and never import DuckDB."""

    kind = "warehouse"

    def __init__(
        self,
        directory: str = "data/warehouse",
        databases: list[str] | None = None,
        stage_dir: str = "data/06_models/ml_stage",
        lock_timeout: float = 30.0,
    ):
        super().__init__(
            DuckDBWarehouse(directory, databases or ("RAW", "FORMULA1"), stage_dir, lock_timeout)
        )

    def _describe(self) -> dict[str, Any]:
        return {"directory": str(self._resource.directory)}


def release_dbt_duckdb() -> None:
    """Close dbt-duckdb's in-process database, so the next reader can open the warehouse file.

    dbt-duckdb keeps one DuckDB environment (with the files attached) for the life of the process;
    a Kedro dataset that opens the same file afterwards would conflict with it.
    """
    import sys

    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        manager = connections.DuckDBConnectionManager
        environment, manager._ENV = manager._ENV, None
        if environment is not None:
            environment.close()


class DuckDBDbtProjectDataset(DbtProjectDataset):
    """The dbt project on the embedded warehouse: hands it out only when the warehouse files exist
    and open, because dbt-duckdb would otherwise create an empty FORMULA1.duckdb (score did)."""

    release = staticmethod(release_dbt_duckdb)

    def load(self) -> DbtProject:
        project = super().load()
        directory = project.env.get("F1_WAREHOUSE_DIR", "data/warehouse")
        with DuckDBWarehouse(directory).connect(read_only=True):
            pass  # a missing or damaged file raises WarehouseFileError naming it
        return project


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


def _staged(spec: TableSpec) -> str:
    """The temporary table (connection-local, never in the file) that holds a table's new rows."""
    return f"temp.main.{_staged_name(spec)}"


def _staged_name(spec: TableSpec) -> str:
    return identifier("__LOADING_" + spec.name.upper(), "table")


def _stage_csv(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, uri: str, path: str, header: list[str]
) -> dict[str, Any]:
    """Read one CSV into its temporary table and check it; raise naming the file on any problem."""
    # Header names as the file spells them (stray spaces stripped for matching, kept for reading).
    in_file = {name.strip(): name for name in header}
    # Types in the file's own column order; columns the spec does not know stay VARCHAR.
    csv_types = {name: spec.columns.get(name.strip(), "VARCHAR") for name in header}
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
            f'"{in_file[name]}"::{_type(t)} AS {identifier(name.upper(), "column")}'
            for name, t in spec.columns.items()
        )
        staged = _staged(spec)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_staged_name(spec)} AS "
            f"SELECT {select} FROM __ingest_source"
        )
        rows = con.execute(f"SELECT count(*) FROM {staged}").fetchone()[0]
        if rows == 0:
            raise IngestError(f"{uri}: the file has a header but no rows")
        _check_primary_key(con, spec, uri, path, staged)
    except duckdb.Error as err:
        if _is_disk_full(err):  # temporary tables spill to DuckDB's temp_directory
            spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
            raise _write_error(Path(spill), err) from err
        hint = _column_hint(str(err), path, header)
        raise IngestError(f"{uri}: {_first_lines(str(err))}{hint}") from err
    return {"table": spec.target, "source": uri, "rows": int(rows), "rejects": 0}


def _replace_table(con: duckdb.DuckDBPyConnection, staged: str, target: str) -> None:
    """Inside the caller's transaction: the target becomes the staged rows."""
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {staged}")


def _check_scheme(source_uri: str) -> None:
    scheme = fsspec.utils.get_protocol(source_uri) if "://" in source_uri else ""
    if scheme not in _SOURCE_SCHEMES:
        raise IngestError(
            f"ingest.source_uri {source_uri!r}: scheme {scheme}:// is not supported; use a local "
            "folder, s3://, http:// or https://"
        )


def _check_files_exist(uris: Mapping[str, str], options: Mapping[str, Any]) -> None:
    """Every source file, before any is read: one error naming all the missing ones."""
    missing = []
    for uri in uris.values():
        fs, path = fsspec.core.url_to_fs(uri, **dict(options))
        try:
            found = fs.isfile(path) if _is_local(fs) else fs.exists(path)
        except FileNotFoundError:
            found = False
        if not found:
            missing.append(f"{uri}: file not found")
    if missing:
        raise IngestError("\n".join([*missing, "No table was changed."]))


# A full disk, a quota, a file-size limit: the OS's words for "this file cannot grow".
_NO_SPACE = ("No space left on device", "Disk quota exceeded", "File too large")
_WRITE_FILE = re.compile(r'Could not write file "([^"]+)"')


def _is_disk_full(err: BaseException) -> bool:
    if getattr(err, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    return any(words in str(err) for words in _NO_SPACE)


def _write_error(where: Path, err: BaseException) -> Exception:
    """A failed write: a full disk names the file and says what to do; anything else as is."""
    if not _is_disk_full(err):
        return err if isinstance(err, Exception) else RuntimeError(str(err))
    written = _WRITE_FILE.search(str(err))
    target = written.group(1) if written else str(Path(where).resolve())
    reason = next((words for words in _NO_SPACE if words in str(err)), "no space left")
    return WarehouseFileError(
        f"cannot write {target} while replacing the raw tables ({reason}): the disk is full or "
        "a size limit was reached. No table was changed. Free space there and run "
        "`kedro run --pipelines=ingest` again."
    )


def _file_error(path: Path, err: duckdb.Error) -> WarehouseFileError:
    """A warehouse file DuckDB cannot open (damaged, truncated, not DuckDB): say how to rebuild."""
    return WarehouseFileError(
        f"warehouse file {path.resolve()} cannot be opened: {_first_lines(str(err), 1)}. It is "
        f"damaged or not a DuckDB file. Delete {path.parent.resolve()}/*.duckdb and rebuild the "
        f"warehouse with {_REBUILD}."
    )


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
            try:
                with fs.open(path, "rb") as remote, open(local, "wb") as copy:
                    shutil.copyfileobj(remote, copy, 1 << 20)
            except OSError as err:
                if _is_disk_full(err):
                    raise WarehouseFileError(
                        f"{uri}: no space left on the disk of {tmp} for its download copy; "
                        "nothing was changed. Free space (or set TMPDIR) and run the ingest again."
                    ) from err
                raise
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
    con: duckdb.DuckDBPyConnection, spec: TableSpec, uri: str, path: str, table: str
) -> None:
    if not spec.primary_key:
        return
    key = ", ".join(identifier(c.upper(), "column") for c in spec.primary_key)
    duplicate = con.execute(
        f"SELECT {key}, count(*) FROM {table} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
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
