"""The Snowflake warehouse nodes see: the setup SQL (bootstrap), COPY from a stage (ingest).

Every statement goes through `SnowflakeWarehouse._execute`, the one place SQL reaches Snowflake
(tests and the emulator route it); docs/snowflake.md's ledger lists each statement's proof.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from snowflake.snowpark import Session

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.engines.snowflake.raw_load import RawSchemaLoad
from f1_kedro.engines.snowflake.session import SESSIONS, scrub_current
from f1_kedro.engines.snowflake.sql import split_statements, stage_reference
from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import LoadsOneTable, TableSpec


class SnowflakeWarehouse(LoadsOneTable):
    """A Snowflake account seen by nodes: run the setup SQL, load CSVs from a stage."""

    def __init__(
        self,
        session: Callable[[], Session] = SESSIONS.get,
        sql_dir: str | Path = "sql/snowflake",
        file_format: str = "RAW.FORMULA1.CSV_FORMAT",
        scrub: Callable[[str], str] | None = None,
        namespace: Callable[[], str] | None = None,
    ):
        self._session = session
        self._namespace = namespace or (lambda: SESSIONS.namespace)
        self.sql_dir = Path(sql_dir)
        self.file_format = qualified(*file_format.split("."), what="file format")
        self._scrub = scrub or (lambda message: message)

    def __repr__(self) -> str:
        return f"SnowflakeWarehouse(sql_dir={str(self.sql_dir)!r})"

    def _execute(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one statement; the one place SQL reaches Snowflake (tests route it to emulators)."""
        cursor = self._session().connection.cursor()
        try:
            cursor.execute(statement)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    # -- bootstrap -----------------------------------------------------------------------------
    def bootstrap(self, layout: Mapping[str, Any]) -> dict[str, Any]:
        """Run the setup files that `layout["setup_sql"]` lists, in order; all are idempotent.

        Then check that every database and schema of the layout exists, so that a setup file
        and the parameters cannot disagree silently.
        """
        statements = 0
        for name in layout["setup_sql"]:
            path = self.sql_dir / name
            for statement in split_statements(path.read_text()):
                try:
                    self._execute(statement)
                except Exception as err:
                    raise RuntimeError(
                        f"{path}: statement {statements + 1} failed: {self._scrub(str(err))[:500]}"
                    ) from None
                statements += 1
        created = {}
        for database, schemas in layout["databases"].items():
            schemata = f"{identifier(database, 'database')}.INFORMATION_SCHEMA.SCHEMATA"
            found = {row[0].upper() for row in self._execute(f"SELECT schema_name FROM {schemata}")}
            absent = [s for s in schemas if identifier(s, "schema").upper() not in found]
            if absent:
                raise RuntimeError(
                    f"after {list(layout['setup_sql'])}, database {database} lacks schema(s) "
                    f"{absent}: the setup SQL and parameters bootstrap.databases disagree"
                )
            created[database] = list(schemas)
        # Now that it exists, work in the session's namespace (at login it may not have existed).
        namespace = self._namespace()
        self._execute(f"USE SCHEMA {namespace}")
        stage = stage_reference(layout["stage"])
        return {
            "engine": "snowflake",
            "databases": created,
            "stage": stage,
            "statements": statements,
            "namespace": namespace,
        }

    # -- ingest --------------------------------------------------------------------------------
    def load_csv_tables(
        self,
        specs: list[TableSpec],
        source_uri: str,
        storage_options: Mapping[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """COPY every `<table>.csv` of the stage `source_uri` (`@DATABASE.SCHEMA.STAGE`) into a
        clone of the raw schema, check each, then swap the clone in by one statement
        (`raw_load.RawSchemaLoad`): a missing or bad file leaves every RAW table as it was and
        the error names the file (issue 15, item 3). `storage_options` belong to the stage
        definition on Snowflake, so they must be empty here.
        """
        if storage_options:
            raise ValueError(
                "on Snowflake the stage holds the storage settings: storage_options must be empty"
            )
        load = RawSchemaLoad(self._execute, self.sql_dir, self.file_format, self._scrub)
        return load.load(specs, source_uri)

    def table_exists(self, table: str) -> bool:
        database, schema, name = (identifier(p, "table") for p in table.split("."))
        rows = self._execute(
            f"SELECT count(*) FROM {database}.INFORMATION_SCHEMA.TABLES "
            f"WHERE table_schema = '{schema.upper()}' AND table_name = '{name.upper()}'"
        )
        return bool(rows and rows[0][0])


class SnowflakeWarehouseDataset(ResourceDataset[SnowflakeWarehouse]):
    """Hands nodes the Snowflake warehouse; building it does not connect (the first query does)."""

    kind = "warehouse"

    def __init__(
        self, sql_dir: str = "sql/snowflake", file_format: str = "RAW.FORMULA1.CSV_FORMAT"
    ):
        super().__init__(SnowflakeWarehouse(SESSIONS.get, sql_dir, file_format, scrub_current))

    def _describe(self) -> dict[str, Any]:
        return {"sql_dir": str(self._resource.sql_dir), "file_format": self._resource.file_format}
