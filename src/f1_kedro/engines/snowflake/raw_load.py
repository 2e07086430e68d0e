"""Ingest on Snowflake: every raw table replaced at once, by one schema swap (issue 15, item 3).

Snowflake commits each DDL statement on its own, so 14 `ALTER TABLE ... SWAP WITH` would be 14
commits, and a failure between two would leave RAW half new. Instead the whole raw schema is
rebuilt beside the live one and swapped in by ONE statement:

1. `DROP SCHEMA IF EXISTS RAW.FORMULA1__LOADING`: what a killed run left, if anything.
2. `CREATE SCHEMA RAW.FORMULA1__LOADING CLONE RAW.FORMULA1`: zero-copy. RAW.FORMULA1 holds,
   besides the tables, the file formats CSV_FORMAT and CSV_FORMAT_RAGGED and the external stage
   FORMULA1_STAGE (sql/snowflake/03); a schema clone copies them (and any other table) with the
   grants on them ("a clone inherits all granted privileges on the clones of all child objects"),
   but not the grants on the schema itself, and no internal stage (RAW.FORMULA1 has none).
   Snowflake docs: user-guide/object-clone, sql-reference/sql/create-clone.
3. Per table: drop the clone's copy, create it from the generated DDL, `COPY INTO`, check that
   the table holds the rows COPY reported and that its primary key is unique.
4. The `GRANT`s of sql/snowflake that name RAW.FORMULA1 (schema USAGE and CREATE TABLE, ALL and
   FUTURE TABLES, the file format and stage), run on the loading schema: read from the same
   files bootstrap runs, never copied here.
5. `ALTER SCHEMA RAW.FORMULA1__LOADING SWAP WITH RAW.FORMULA1`: one statement, one commit. It
   "swaps all objects and metadata ... also swaps all access control privileges granted on the
   schemas and objects they contain" (sql-reference/sql/alter-schema): the grants of step 4
   arrive with the new data.
6. `DROP SCHEMA IF EXISTS RAW.FORMULA1__LOADING`: now the previous data.

Any failure before step 5 drops the loading schema: RAW.FORMULA1 is entirely old. A reader
resolves names when its statement starts, so each statement sees the old schema or the new one,
never a mix; a reader running several statements across the swap (a dbt build) can see both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from f1_kedro.engines.snowflake.credentials import first_lines
from f1_kedro.engines.snowflake.sql import (
    column_sql,
    copy_into_sql,
    create_table_sql,
    split_statements,
    stage_reference,
)
from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import IngestError, TableSpec

logger = logging.getLogger(__name__)

LOADING_SUFFIX = "__LOADING"


class RawSchemaLoad:
    """Loads every file of one raw schema into a clone of it, then swaps the clone in."""

    def __init__(
        self,
        execute: Callable[[str], list[tuple[Any, ...]]],
        sql_dir: Path,
        file_format: str,
        scrub: Callable[[str], str],
    ):
        self._execute = execute
        self.sql_dir = sql_dir
        self.file_format = file_format
        self._scrub = scrub

    def load(self, specs: list[TableSpec], source_uri: str) -> dict[str, dict[str, Any]]:
        """Every file loaded and checked into the loading schema, then one swap; the report."""
        stage = stage_reference(source_uri)
        database, schema = _one_schema(specs)
        live = qualified(database, schema)
        loading = qualified(database, schema + LOADING_SUFFIX)
        grants = self._grants(live, loading)  # before any write: a bad setup file stops here
        found = self._schemas(database)
        if schema.upper() not in found:
            raise IngestError(
                f"{live} does not exist: run `kedro run --env snowflake --pipelines bootstrap` "
                "first. Nothing was loaded."
            )
        if loading.split(".")[1].upper() in found:
            logger.warning("dropping %s: a killed ingest left it", loading)
        self._execute(f"DROP SCHEMA IF EXISTS {loading}")
        report: dict[str, dict[str, Any]] = {}
        try:
            self._execute(f"CREATE SCHEMA {loading} CLONE {live}")
            for spec in specs:
                report[spec.name] = self._load_table(spec, loading, stage)
            for grant in grants:
                self._execute(grant)
            self._execute(f"ALTER SCHEMA {loading} SWAP WITH {live}")
        except BaseException:
            # before the swap the loading schema holds the new data, after it the old: either
            # way it goes, and RAW is entirely old or entirely new
            self._drop(loading)
            raise
        self._drop(loading)  # now the previous data
        return report

    def _drop(self, loading: str) -> None:
        try:
            self._execute(f"DROP SCHEMA IF EXISTS {loading}")
        except Exception as err:  # cleanup must not hide the load's error; the next run drops it
            logger.warning("could not drop %s: %s", loading, first_lines(self._scrub(str(err))))

    def _load_table(self, spec: TableSpec, loading: str, stage: str) -> dict[str, Any]:
        uri = f"{stage}/{spec.name}.csv"
        table = f"{loading}.{identifier(spec.name.upper(), 'table')}"
        self._execute(f"DROP TABLE IF EXISTS {table}")
        self._execute(create_table_sql(spec, table))
        try:
            result = self._execute(copy_into_sql(spec, table, stage, self.file_format))
            rows = sum(int(r[3] or 0) for r in result if len(r) > 3)
            rejects = sum(int(r[5] or 0) for r in result if len(r) > 5)
            if rows == 0:
                raise IngestError(f"{uri}: no rows loaded (is the file missing or empty?)")
            (counted,) = self._execute(f"SELECT count(*) FROM {table}")[0]
            if int(counted) != rows:
                raise IngestError(f"{uri}: COPY reported {rows} rows, {table} holds {counted}")
            self._check_primary_key(spec, table, uri)
        except IngestError:
            raise
        except Exception as err:  # the connector's message, scrubbed, under the file's name
            raise IngestError(f"{uri}: {first_lines(self._scrub(str(err)))}") from None
        return {"table": spec.target, "source": uri, "rows": rows, "rejects": rejects}

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

    def _schemas(self, database: str) -> set[str]:
        schemata = f"{identifier(database, 'database')}.INFORMATION_SCHEMA.SCHEMATA"
        return {row[0].upper() for row in self._execute(f"SELECT schema_name FROM {schemata}")}

    def _grants(self, live: str, loading: str) -> list[str]:
        """The setup files' GRANTs on the live schema or its objects, aimed at the loading one."""
        return schema_grants(
            (split_statements(p.read_text()) for p in sorted(self.sql_dir.glob("*.sql"))),
            live,
            loading,
        )


def schema_grants(files: Iterable[list[str]], live: str, loading: str) -> list[str]:
    """Every `GRANT` naming `live` (the schema, or an object in it), with `loading` instead."""
    name = re.compile(rf"\b{re.escape(live)}\b", re.I)
    return [
        name.sub(loading, " ".join(statement.split()))
        for statements in files
        for statement in statements
        if re.match(r"GRANT\s", statement, re.I) and name.search(statement)
    ]


def _one_schema(specs: list[TableSpec]) -> tuple[str, str]:
    schemas = {(s.database.upper(), s.schema.upper()) for s in specs}
    if len(schemas) != 1:
        raise IngestError(
            f"the raw tables must share one schema to be swapped in together, got {sorted(schemas)}"
        )
    database, schema = schemas.pop()
    return identifier(database, "database"), identifier(schema, "schema")
