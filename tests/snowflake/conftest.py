"""Fixtures for the Snowflake engine: the fakesnow server behind a real Snowpark session, a stage
holding a sample of the real CSVs, and the routing of statements the emulator lacks.

fakesnow emulates tables, stages, file formats and COPY INTO on DuckDB; it has no warehouses,
roles or grants, no schema CLONE or SWAP WITH (DuckDB cannot alter a schema) and no
`ERROR_ON_COLUMN_COUNT_MISMATCH`. Those statements take another path here, and every test records
which one, so the partition is visible.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from bench.snowflake_emulator import (
    CLONE_ROUTE,
    SCHEMA_CLONE,
    SCHEMA_SWAP,
    SWAP_ROUTE,
    clone_schema,
    swap_schemas,
)
from f1_kedro.engines.snowflake.credentials import SnowflakeCredentials
from f1_kedro.engines.snowflake.session import SnowparkSessions
from f1_kedro.engines.snowflake.warehouse import SnowflakeWarehouse

SAMPLE_ROWS = 300

# Statements sqlglot parses into a real syntax tree (not its generic `Command` fallback).
_PARSED = re.compile(
    r"^(CREATE\s+WAREHOUSE|GRANT\s+(?!ROLE\b)(?!.*\b(FUTURE|ALL)\s+\w+\s+IN\b))", re.I
)
# Statements sqlglot only accepts as `Command`: checked against the documented grammar instead.
_IDENT = r"[A-Z_][A-Z0-9_$]*"
_NAME = rf"{_IDENT}(\.{_IDENT}){{0,2}}"
_PATTERNS = {
    "CREATE ROLE": re.compile(rf"^CREATE ROLE IF NOT EXISTS {_IDENT}$"),
    "GRANT ROLE": re.compile(rf"^GRANT ROLE {_IDENT} TO ROLE {_IDENT}$"),
    "GRANT ON ALL/FUTURE": re.compile(
        rf"^GRANT [A-Z, ]+ ON (ALL|FUTURE) (TABLES|VIEWS|SCHEMAS) IN (SCHEMA|DATABASE) {_NAME} "
        rf"TO ROLE {_IDENT}$"
    ),
}
_RAGGED = re.compile(r"\s+ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE", re.I)


@dataclass
class Route:
    path: str  # fakesnow | fakesnow (rewritten: ...) | sqlglot | grammar pattern
    statement: str


class EmulatedWarehouse(SnowflakeWarehouse):
    """`SnowflakeWarehouse` with its one SQL entry point routed: fakesnow, or parsing only."""

    def __init__(
        self,
        session: Any,
        sql_dir: Path,
        scrub: Any = None,
        file_format: str = "RAW.FORMULA1.CSV_FORMAT",
    ):
        super().__init__(lambda: session, sql_dir, file_format, scrub)
        self.routes: list[Route] = []

    def _execute(self, statement: str) -> list[tuple[Any, ...]]:
        flat = " ".join(statement.split())
        if _PARSED.match(flat):
            tree = sqlglot.parse_one(flat, read="snowflake")
            assert isinstance(tree, (exp.Create, exp.Grant)), f"sqlglot fell back on: {flat}"
            self.routes.append(Route("sqlglot", flat))
            return []
        for kind, pattern in _PATTERNS.items():
            if flat.upper().startswith(kind.split()[0]) and pattern.match(flat):
                self.routes.append(Route(f"pattern ({kind})", flat))
                return []
        if flat.upper().startswith(("CREATE ROLE", "GRANT")):
            raise AssertionError(f"no emulator path accepts: {flat}")
        if clone := SCHEMA_CLONE.match(flat):  # bench/snowflake_emulator.py's routes, here too
            clone_schema(super()._execute, clone.group(1), clone.group(2))
            self.routes.append(Route(CLONE_ROUTE, flat))
            return []
        if swap := SCHEMA_SWAP.match(flat):
            swap_schemas(super()._execute, swap.group(1), swap.group(2))
            self.routes.append(Route(SWAP_ROUTE, flat))
            return []
        if _RAGGED.search(statement):
            # CSV_FORMAT_RAGGED's option; the sample holds no ragged rows (they are next
            # season's races, at the file's end), so the emulated format can do without it.
            self.routes.append(
                Route("fakesnow (rewritten: ERROR_ON_COLUMN_COUNT_MISMATCH dropped)", flat)
            )
            return super()._execute(_RAGGED.sub("", statement))
        self.routes.append(Route("fakesnow", flat))
        return super()._execute(statement)

    def listing(self) -> str:
        return "\n".join(f"{r.path:<60} {r.statement[:90]}" for r in self.routes)


@pytest.fixture(scope="session")
def _fakesnow_wide_csv_fix() -> Iterator[None]:
    """The emulator's fix of fakesnow's 10+ column CSV bug (bench/snowflake_emulator.py)."""
    import fakesnow.copy_into as copy_into

    from bench.snowflake_emulator import _fix_wide_csv

    original = _fix_wide_csv(copy_into, exp)
    yield
    copy_into._inserts = original


@pytest.fixture(scope="session")
def snowpark_on_fakesnow(
    fakesnow_server: dict[str, Any], _fakesnow_wide_csv_fix: None
) -> Iterator[Any]:
    """A real Snowpark session, made by the engine's own session code, talking to fakesnow."""
    sessions = SnowparkSessions()
    values = {**fakesnow_server, "role": "SYSADMIN", "warehouse": "TRANSFORMING"}
    sessions.configure(SnowflakeCredentials(values))
    yield sessions.get()
    sessions.close()  # fakesnow cannot cancel queries on close: the engine logs, does not raise


SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "snowflake"


@pytest.fixture
def emulated_warehouse(snowpark_on_fakesnow: Any) -> EmulatedWarehouse:
    return EmulatedWarehouse(snowpark_on_fakesnow, SQL_DIR)


@pytest.fixture(scope="session")
def sample_stage_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first rows of each real CSV: what the emulated stage holds."""
    target = tmp_path_factory.mktemp("stage")
    for source in sorted(shared_data.glob("*.csv")):
        with open(source, newline="") as handle:
            lines = [line for _, line in zip(range(SAMPLE_ROWS + 1), handle, strict=False)]
        (target / source.name).write_text("".join(lines))
    return target


@pytest.fixture
def local_session() -> Iterator[Any]:
    """Snowpark's official local testing session (no SQL, DataFrame operations emulated)."""
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    yield session
    session.close()
