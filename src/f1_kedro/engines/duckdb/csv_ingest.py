"""Reading the raw CSVs into DuckDB: find the files, copy remote ones, read them typed, check them.

`DuckDBWarehouse.load_csv_tables` calls `local_sources` (every file located and its header
checked before any is read), then `stage_csv` per table (rows read into a connection-local
temporary table, never the file, and checked), and only then swaps the tables in.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import fsspec

from f1_kedro.identifiers import identifier
from f1_kedro.ingest_spec import IngestError, TableSpec, column_type, header_mapping

from .csv_diagnostics import column_hint, lines_with_key
from .errors import WarehouseFileError, first_lines, is_disk_full, write_error

# Source URI schemes this engine reads ("" is a local path); fsspec would try any other and fail
# late with a network error (ftp:// gave a bare socket.gaierror).
_SOURCE_SCHEMES = ("", "file", "s3", "http", "https")

# A table's source: its URI, a local path to read, the header line's names.
Source = tuple[str, str, list[str]]


def local_sources(
    files: ExitStack, specs: Sequence[TableSpec], source_uri: str, options: Mapping[str, Any]
) -> dict[str, Source]:
    """Every table's file, located and its header checked, as a local path that lives as long
    as `files`; raises naming the file(s) before any is read."""
    _check_scheme(source_uri)
    uris = {spec.name: spec.file_uri(source_uri) for spec in specs}
    _check_files_exist(uris, options)
    sources = {}
    for spec in specs:
        uri = uris[spec.name]
        fs, path = fsspec.core.url_to_fs(uri, **options)
        local = files.enter_context(_local_copy(fs, path, uri))
        header = _read_header(local, uri)
        header_mapping(spec, header, uri)
        sources[spec.name] = (uri, local, header)
    return sources


def staged(spec: TableSpec) -> str:
    """The temporary table (connection-local, never in the file) that holds a table's new rows."""
    return f"temp.main.{_staged_name(spec)}"


def _staged_name(spec: TableSpec) -> str:
    return identifier("__LOADING_" + spec.name.upper(), "table")


def stage_csv(
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
            f'"{in_file[name]}"::{column_type(t)} AS {identifier(name.upper(), "column")}'
            for name, t in spec.columns.items()
        )
        table = staged(spec)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_staged_name(spec)} AS "
            f"SELECT {select} FROM __ingest_source"
        )
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if rows == 0:
            raise IngestError(f"{uri}: the file has a header but no rows")
        _check_primary_key(con, spec, uri, path, table)
    except duckdb.Error as err:
        if is_disk_full(err):  # temporary tables spill to DuckDB's temp_directory
            spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
            raise write_error(Path(spill), err) from err
        hint = column_hint(str(err), path, header)
        raise IngestError(f"{uri}: {first_lines(str(err))}{hint}") from err
    return {"table": spec.target, "source": uri, "rows": int(rows), "rejects": 0}


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
                if is_disk_full(err):
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
        lines = lines_with_key(path, values)
        raise IngestError(
            f"{uri}: duplicate primary key {values} ({duplicate[-1]} rows"
            + (f", lines {', '.join(map(str, lines))}" if lines else "")
            + f") in column(s) {', '.join(spec.primary_key)}"
        )
