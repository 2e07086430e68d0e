"""The raw-table contract shared by both engines: names, columns, types and file layout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from f1_kedro.identifiers import identifier, qualified

if TYPE_CHECKING:
    from f1_kedro.interfaces import CsvLoader

# The column types both engines know; a type is pasted into CREATE TABLE / CAST, so it is checked.
COLUMN_TYPES = frozenset(
    {"INTEGER", "DOUBLE", "VARCHAR", "DATE", "TIME", "BOOLEAN", "BIGINT", "TIMESTAMP"}
)


def column_type(name: str) -> str:
    """`name` as the SQL type an engine pastes into CAST or CREATE TABLE; refuses any other."""
    if not isinstance(name, str) or name.upper() not in COLUMN_TYPES:
        raise ValueError(f"unknown column type {name!r}; use one of {sorted(COLUMN_TYPES)}")
    return name.upper()


class IngestError(RuntimeError):
    """A source file cannot be loaded; the message names the file (and line and column)."""


@dataclass(frozen=True)
class TableSpec:
    """One Ergast table: its CSV columns (camelCase, file order) and where it lands."""

    name: str
    columns: Mapping[str, str]
    database: str = "RAW"
    schema: str = "FORMULA1"
    primary_key: tuple[str, ...] = ()
    null_string: str = "\\N"
    # races.csv lists next season's calendar with only its first columns: pad those with NULLs.
    ragged_tail: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return qualified(self.database, self.schema, self.name.upper())

    def file_uri(self, source_uri: str) -> str:
        return source_uri.rstrip("/") + f"/{self.name}.csv"


def table_specs(params: Mapping[str, Any]) -> list[TableSpec]:
    """Build and check every table's spec from the `ingest` parameters."""
    tables = params.get("tables") or {}
    if not tables:
        raise ValueError("parameters ingest.tables is empty: nothing to load")
    specs = []
    for name, table in tables.items():
        identifier(name, "table")
        columns = dict(table["columns"])
        for column, column_type in columns.items():
            identifier(column, f"column of {name}")
            if not isinstance(column_type, str) or column_type.upper() not in COLUMN_TYPES:
                raise ValueError(
                    f"ingest.tables.{name}.columns.{column}: unknown column type "
                    f"{column_type!r}; use one of {sorted(COLUMN_TYPES)}"
                )
        for column in table.get("primary_key", []):
            if column not in columns:
                raise ValueError(
                    f"ingest.tables.{name}.primary_key names unknown column {column!r}"
                )
        specs.append(
            TableSpec(
                name=name,
                columns=columns,
                database=identifier(params.get("raw_database", "RAW"), "database"),
                schema=identifier(params.get("raw_schema", "FORMULA1"), "schema"),
                primary_key=tuple(table.get("primary_key", [])),
                null_string=params.get("null_string", "\\N"),
                ragged_tail=bool(table.get("ragged_tail", False)),
            )
        )
    return specs


def header_mapping(spec: TableSpec, header: list[str], uri: str) -> dict[str, str]:
    """Match a file's header to the spec by name: order may differ, extra columns are ignored.

    Returns the declared type of each spec column; raises naming the file and the missing column.
    """
    stripped = [h.strip() for h in header]
    missing = [c for c in spec.columns if c not in stripped]
    if missing:
        raise IngestError(
            f"{uri}: line 1 (header) lacks column(s) {', '.join(missing)}; "
            f"found {', '.join(stripped) or 'nothing'}"
        )
    duplicated = sorted({h for h in stripped if stripped.count(h) > 1})
    if duplicated:
        raise IngestError(f"{uri}: line 1 (header) repeats column(s) {', '.join(duplicated)}")
    return {name: spec.columns[name] for name in stripped if name in spec.columns}


class LoadsOneTable:
    """Gives a warehouse `load_csv_table`: one table is the all-or-nothing load of a list of one."""

    def load_csv_table(
        self: CsvLoader,
        spec: TableSpec,
        source_uri: str,
        storage_options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Load one CSV into `spec.target` (tests and notebooks load one table at a time)."""
        return self.load_csv_tables([spec], source_uri, storage_options)[spec.name]
