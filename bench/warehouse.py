"""The scratch project's DuckDB warehouse, opened the way the feature benchmarks read it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect_warehouse(
    warehouse_dir: Path, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with the warehouse's RAW and FORMULA1 files attached; closed on exit."""
    con = duckdb.connect(":memory:")
    try:
        mode = " (READ_ONLY)" if read_only else ""
        for database in ("RAW", "FORMULA1"):
            path = str(warehouse_dir / f"{database}.duckdb").replace("'", "''")
            con.execute(f"ATTACH '{path}' AS {database}{mode}")
        yield con
    finally:
        con.close()
