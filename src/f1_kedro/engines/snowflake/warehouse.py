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
from f1_kedro.engines.snowflake.credentials import first_lines
from f1_kedro.engines.snowflake.session import SESSIONS, scrub_current
from f1_kedro.engines.snowflake.sql import (
    column_sql,
    copy_into_sql,
    create_table_sql,
    split_statements,
    stage_reference,
)
from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import IngestError, TableSpec


class SnowflakeWarehouse:
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
        stage = stage_reference(layout["ml_stage"])
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
        """All files first: each is COPYed into its __LOADING table and checked, and only when
        every one is, the tables are swapped in. A missing or bad file drops every __LOADING
        table and leaves every RAW table as it was (issue 15, item 3).

        Snowflake commits each DDL statement on its own, so the 14 `SWAP WITH`s cannot share one
        transaction: each is atomic, and a failure between two of them (a lost connection) could
        still leave a mix. A schema-level `ALTER SCHEMA ... SWAP WITH` would close that window.
        """
        staged: dict[str, dict[str, Any]] = {}
        loading: dict[str, str] = {}
        try:
            for spec in specs:
                staged[spec.name], loading[spec.name] = self._stage(
                    spec, source_uri, storage_options
                )
        except BaseException:
            for table in loading.values():
                self._execute(f"DROP TABLE IF EXISTS {table}")
            raise
        for spec in specs:
            self._swap_in(loading[spec.name], spec.target)
        return staged

    def load_csv_table(
        self,
        spec: TableSpec,
        source_uri: str,
        storage_options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """COPY one file from the stage into a fresh table, then swap it in for `spec.target`.

        `source_uri` is a stage, `@DATABASE.SCHEMA.STAGE`; its files are `<table>.csv`. The old
        table stays untouched until the new one is loaded and checked; on failure the half-loaded
        table is dropped and the error names the file. `storage_options` belong to the stage
        definition on Snowflake, so they must be empty here.
        """
        result, loading = self._stage(spec, source_uri, storage_options)
        self._swap_in(loading, spec.target)
        return result

    def _stage(
        self, spec: TableSpec, source_uri: str, storage_options: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], str]:
        """COPY one file into a fresh __LOADING table and check it; returns the report and it."""
        if storage_options:
            raise ValueError(
                "on Snowflake the stage holds the storage settings: storage_options must be empty"
            )
        stage = stage_reference(source_uri)
        uri = f"{stage}/{spec.name}.csv"
        loading = qualified(spec.database, spec.schema, f"{spec.name.upper()}__LOADING")
        self._execute(f"DROP TABLE IF EXISTS {loading}")
        self._execute(create_table_sql(spec, loading))
        try:
            result = self._execute(copy_into_sql(spec, loading, stage, self.file_format))
            rows = sum(int(r[3] or 0) for r in result if len(r) > 3)
            rejects = sum(int(r[5] or 0) for r in result if len(r) > 5)
            if rows == 0:
                raise IngestError(f"{uri}: no rows loaded (is the file missing or empty?)")
            self._check_primary_key(spec, loading, uri)
        except IngestError:
            self._execute(f"DROP TABLE IF EXISTS {loading}")
            raise
        except Exception as err:
            self._execute(f"DROP TABLE IF EXISTS {loading}")
            raise IngestError(f"{uri}: {first_lines(self._scrub(str(err)))}") from None
        return {"table": spec.target, "source": uri, "rows": rows, "rejects": rejects}, loading

    def _swap_in(self, loading: str, target: str) -> None:
        # SWAP WITH is atomic and keeps the target's grants; it needs the target to exist.
        if self.table_exists(target):
            self._execute(f"ALTER TABLE {loading} SWAP WITH {target}")
            self._execute(f"DROP TABLE {loading}")  # now the previous data
        else:
            self._execute(f"ALTER TABLE {loading} RENAME TO {target}")

    def _check_primary_key(self, spec: TableSpec, table: str, uri: str) -> None:
        if not spec.primary_key:
            return
        key = ", ".join(column_sql(c) for c in spec.primary_key)
        duplicate = self._execute(
            f"SELECT {key}, count(*) FROM {table} GROUP BY {key} HAVING count(*) > 1 LIMIT 1"
        )
        if duplicate:
            values = dict(zip(spec.primary_key, duplicate[0][:-1], strict=True))
            raise IngestError(
                f"{uri}: duplicate primary key {values} ({duplicate[0][-1]} rows) in column(s) "
                f"{', '.join(spec.primary_key)}"
            )

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
