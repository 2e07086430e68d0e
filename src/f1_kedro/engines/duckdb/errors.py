"""Errors of the embedded engine: a warehouse file busy, missing or damaged; a full disk."""

from __future__ import annotations

import errno
import re
from pathlib import Path

from kedro.io import DatasetError

REBUILD = "`kedro run` (everything), or `kedro run --pipelines=bootstrap,ingest,features`"
# A full disk, a quota, a file-size limit: the OS's and SQLite's words for "this cannot grow".
_NO_SPACE = (
    "No space left on device",
    "Disk quota exceeded",
    "File too large",
    "database or disk is full",  # sqlite3.OperationalError, wrapped by SQLAlchemy and MLflow
)
_WRITE_FILE = re.compile(r'Could not write file "([^"]+)"')


class WarehouseBusyError(DatasetError):
    """Another process holds a warehouse file (DuckDB takes one writer or many readers)."""


class WarehouseFileError(DatasetError):
    """A warehouse file is missing, damaged or cannot be written; the message says what to do."""


def is_disk_full(err: BaseException) -> bool:
    """A full disk as the OS, DuckDB or SQLite reports it, in `err` or the error it wraps."""
    return any(
        getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        or any(words in str(e) for words in _NO_SPACE)
        for e in (err, err.__cause__, err.__context__)
        if e is not None
    )


def write_error(where: Path, err: BaseException) -> Exception:
    """A failed write: a full disk names the file and says what to do; anything else as is."""
    if not is_disk_full(err):
        return err if isinstance(err, Exception) else RuntimeError(str(err))
    written = _WRITE_FILE.search(str(err))
    target = written.group(1) if written else str(Path(where).resolve())
    reason = next((words for words in _NO_SPACE if words in str(err)), "no space left")
    return WarehouseFileError(
        f"cannot write {target} while replacing the raw tables ({reason}): the disk is full or "
        "a size limit was reached. No table was changed. Free space there and run "
        "`kedro run --pipelines=ingest` again."
    )


def file_error(path: Path, err: BaseException) -> WarehouseFileError:
    """A warehouse file DuckDB cannot open (damaged, truncated, not DuckDB): say how to rebuild."""
    return WarehouseFileError(
        f"warehouse file {path.resolve()} cannot be opened: {first_lines(str(err), 1)}. It is "
        f"damaged or not a DuckDB file. Delete {path.parent.resolve()}/*.duckdb and rebuild the "
        f"warehouse with {REBUILD}."
    )


def first_lines(message: str, n: int = 5) -> str:
    """DuckDB's error up to its advice and settings dump: the line, the column, the value."""
    lines: list[str] = []
    for line in message.strip().splitlines():
        if line.startswith("Possible") or "auto-detected" in line:
            break
        lines.append(line)
    return "\n".join(ln for ln in lines[:n] if ln.strip())
