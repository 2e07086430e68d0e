"""The Snowflake engine: the run's Snowpark session, the warehouse and the Snowpark table dataset.

Everything Snowflake- or Snowpark-specific in the project is in this module; nodes only see the
objects it hands them through the catalog of `conf/snowflake`. It mirrors `engines/duckdb.py`:

- `SESSIONS`: one Snowpark session per run, created lazily from the credentials, query-tagged with
  the pipeline and node, closed at the end of the run (`SnowflakeSessionHook`).
- `SnowflakeWarehouse` / `SnowflakeWarehouseDataset`: `bootstrap(layout)` runs `sql/snowflake`,
  `load_csv_table(spec, source_uri, storage_options)` runs `COPY INTO` from a stage.
- `SnowflakeTableDataset`: a warehouse table as a Snowpark DataFrame.

Secrets (password, key passphrase) are held by `SnowflakeCredentials` only, which never prints
them; every message this module raises is scrubbed of them as well.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.snowflake import SnowparkTableDataset
from snowflake.snowpark import DataFrame, Session

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import IngestError, TableSpec, table_specs
from f1_kedro.tables import BuiltTable

logger = logging.getLogger(__name__)

# -- credentials -------------------------------------------------------------------------------

# Connection parameter -> its one environment variable; the environment wins over the
# credentials file. dbt/profiles.yml reads exactly these names (a test ties the two), so one set
# of variables serves Snowpark and dbt.
ENV_VARS: dict[str, str] = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_FILE",
    "private_key_file_pwd": "SNOWFLAKE_PRIVATE_KEY_FILE_PWD",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "schema": "SNOWFLAKE_SCHEMA",
    "host": "SNOWFLAKE_HOST",
    "port": "SNOWFLAKE_PORT",
    "protocol": "SNOWFLAKE_PROTOCOL",
}
# The session's current namespace: snowflake-ml's fit creates an unqualified temporary stage and
# reads an unqualified information_schema, so a session without one fails in `train`.
DEFAULT_NAMESPACE = {"database": "FORMULA1", "schema": "ML"}
_REQUIRED = ("account", "user", "role", "warehouse")
_SECRET_KEYS = frozenset({"password", "private_key_file_pwd", "private_key", "token", "passcode"})
# The key under which the credentials file holds the connection parameters, and the file itself:
# Kedro reads conf/base plus the run environment only, so with `--env snowflake` it is
# conf/snowflake/credentials.yml (git-ignored), never conf/local.
CREDENTIALS_KEY = "snowflake"
CREDENTIALS_FILE = "conf/snowflake/credentials.yml"


class MissingSnowflakeCredentialsError(RuntimeError):
    """`kedro run --env snowflake` was started without the credentials it needs."""


class SnowflakeNamespaceError(RuntimeError):
    """SNOWFLAKE_DATABASE names another database than the one the project's objects live in."""


def check_database(credentials: SnowflakeCredentials, project_database: str) -> None:
    """dbt builds in the session's database while the catalog reads `project_database`: refuse
    a mismatch before any node, instead of dbt building elsewhere and the run failing later."""
    database = str(credentials.values.get("database", "")).upper()
    if database != project_database.upper():
        raise SnowflakeNamespaceError(
            f"SNOWFLAKE_DATABASE is {database}, but this project's Snowflake objects live in "
            f"{project_database} (params snowflake.database, conf/snowflake and sql/snowflake). "
            f"Unset SNOWFLAKE_DATABASE, or rename the project's objects as "
            "bench/snowflake_smoke.py does. Nothing was run."
        )


class SnowflakeConnectionError(RuntimeError):
    """The Snowpark session could not be created (message scrubbed of secrets)."""


@dataclass(frozen=True)
class SnowflakeCredentials:
    """Connection parameters for Snowpark; secrets stay out of repr, str and messages."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sources(
        cls, environ: Mapping[str, str], credentials_file: Mapping[str, Any] | None = None
    ) -> SnowflakeCredentials:
        """Merge `credentials.yml`'s `snowflake:` entry with the SNOWFLAKE_* environment variables.

        Non-secret connector options (host, port, protocol, authenticator) may come from the file.
        """
        values = {**DEFAULT_NAMESPACE}
        values.update(
            {k: v for k, v in dict(credentials_file or {}).items() if v not in (None, "")}
        )
        for key, name in ENV_VARS.items():
            if value := environ.get(name):
                values[key] = int(value) if key == "port" else value
        return cls(values)

    def missing(self) -> list[str]:
        """Names of the environment variables still needed, in the order a user sets them."""
        names = [ENV_VARS[k] for k in _REQUIRED[:2] if not self.values.get(k)]
        if not (self.values.get("password") or self.values.get("private_key_file")):
            names.append("SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE")
        names += [ENV_VARS[k] for k in _REQUIRED[2:] if not self.values.get(k)]
        return names

    def require(self) -> None:
        if missing := self.missing():
            raise MissingSnowflakeCredentialsError(
                "Snowflake credentials are missing: "
                + ", ".join(missing)
                + ". Set them as environment variables or under `snowflake:` in "
                f"{CREDENTIALS_FILE} (see docs/snowflake.md). Nothing was run."
            )

    def connection_parameters(self) -> dict[str, Any]:
        """The dict handed to Snowpark; call only where the session is created."""
        return dict(self.values)

    @property
    def namespace(self) -> str:
        """`DATABASE.SCHEMA` the session works in (bootstrap creates it, then uses it)."""
        return qualified(self.values["database"], self.values["schema"], what="namespace")

    def scrub(self, message: str) -> str:
        """`message` with every secret value replaced by ***."""
        for key in _SECRET_KEYS:
            secret = self.values.get(key)
            if secret:
                message = message.replace(str(secret), "***")
        return message

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_KEYS else v) for k, v in self.values.items()}
        return f"SnowflakeCredentials({shown})"

    __str__ = __repr__


# -- the run's session -------------------------------------------------------------------------


class SnowparkSessions:
    """Holds the one Snowpark session of a run: created on first use, tagged, closed at the end."""

    def __init__(self) -> None:
        self._credentials: SnowflakeCredentials | None = None
        self._session: Session | None = None
        self._owned = False
        self.query_tag = "f1_kedro"
        self._tag_warning_shown = False

    def configure(self, credentials: SnowflakeCredentials) -> None:
        self._credentials = credentials

    def use(self, session: Session) -> None:
        """Use a session made elsewhere (Snowpark local testing, a notebook); it is not closed."""
        self._session, self._owned = session, False

    def get(self) -> Session:
        if self._session is None:
            self._session, self._owned = self._create(), True
            self._apply_tag()
        return self._session

    def _create(self) -> Session:
        credentials = self._credentials or SnowflakeCredentials.from_sources(os.environ)
        credentials.require()
        params = credentials.connection_parameters()
        params.setdefault("session_parameters", {})["QUERY_TAG"] = self.query_tag
        try:
            return Session.builder.configs(params).create()
        except Exception as err:  # any connector failure: re-raise without secrets or chain
            account, user = params.get("account"), params.get("user")
            host = params.get("host") or f"{account}.snowflakecomputing.com"
            raise SnowflakeConnectionError(
                f"could not open a Snowflake session for account {account!r} at {host} as "
                f"{user!r}: " + credentials.scrub(str(err))
            ) from None

    @property
    def namespace(self) -> str:
        credentials = self._credentials or SnowflakeCredentials.from_sources(os.environ)
        return credentials.namespace

    def set_query_tag(self, tag: str) -> None:
        self.query_tag = tag
        if self._session is not None:
            self._apply_tag()

    def _apply_tag(self) -> None:
        # The tag is for finding the run's queries in QUERY_HISTORY: useful, never worth a failure
        # (the emulators used in tests, fakesnow and Snowpark local testing, reject it).
        try:
            self._session.query_tag = self.query_tag  # type: ignore[union-attr]
        except Exception as err:
            if not self._tag_warning_shown:
                logger.warning("could not set the Snowflake query tag: %s", str(err)[:200])
                self._tag_warning_shown = True

    def close(self) -> None:
        session, owned = self._session, self._owned
        self._session, self._owned, self._credentials = None, False, None
        if session is not None and owned:
            try:
                session.close()
            except Exception as err:  # closing is cleanup: report, do not mask the run's result
                logger.warning("closing the Snowflake session failed: %s", str(err)[:200])


SESSIONS = SnowparkSessions()


class SnowflakeSessionHook:
    """Checks credentials before any node runs, tags queries per node, closes the session.

    Active only when the configuration has a `snowflake` parameters group, i.e. in
    `--env snowflake` (conf/snowflake/parameters_snowflake.yml); the local engine never sees it.
    """

    def __init__(
        self, sessions: SnowparkSessions = SESSIONS, environ: Mapping[str, str] | None = None
    ):
        self._sessions = sessions
        self._environ = environ
        self._active = False
        self._file_credentials: Mapping[str, Any] = {}
        self._database = DEFAULT_NAMESPACE["database"]
        self._pipeline = "__default__"

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        settings = context.params.get("snowflake") or {}
        self._active = bool(settings)
        if self._active:
            self._file_credentials = _credentials_from_config(context.config_loader)
            self._database = settings.get("database", DEFAULT_NAMESPACE["database"])

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if not self._active:
            return
        environ = os.environ if self._environ is None else self._environ
        credentials = SnowflakeCredentials.from_sources(environ, self._file_credentials)
        credentials.require()  # fail before the first node, listing every missing variable
        check_database(credentials, self._database)
        if self._environ is None:
            _export_for_dbt(credentials)
        self._sessions.configure(credentials)
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        self._pipeline = ",".join(n for n in names if n) or "__default__"
        self._sessions.set_query_tag(query_tag(self._pipeline))

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self._active:
            self._sessions.set_query_tag(query_tag(self._pipeline, node.name))

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._active:
            self._sessions.close()

    @hook_impl
    def on_pipeline_error(self) -> None:
        if self._active:
            self._sessions.close()


def query_tag(pipeline: str, node: str | None = None) -> str:
    """The QUERY_TAG of the run's queries: `f1_kedro pipeline=<p> node=<n>`."""
    return f"f1_kedro pipeline={pipeline}" + (f" node={node}" if node else "")


def _export_for_dbt(credentials: SnowflakeCredentials) -> None:
    # dbt's profile reads environment variables only: hand it what the credentials file supplied,
    # under the same names (a key pair from the file reaches dbt as SNOWFLAKE_PRIVATE_KEY_FILE).
    for key, name in ENV_VARS.items():
        value = credentials.values.get(key)
        if value not in (None, "") and not os.environ.get(name):
            os.environ[name] = str(value)


def _credentials_from_config(config_loader: Any) -> Mapping[str, Any]:
    try:
        credentials = config_loader["credentials"]
    except Exception:  # no credentials files at all: the environment variables must do
        return {}
    return dict(credentials.get(CREDENTIALS_KEY) or {})


# -- SQL files ---------------------------------------------------------------------------------


def split_statements(sql: str) -> list[str]:
    """Split a SQL script into statements, dropping `--` comments; `;` inside quotes is kept."""
    statements, current, quoted = [], [], False
    for line in sql.splitlines():
        if not quoted and line.lstrip().startswith("--"):
            continue
        for i, char in enumerate(line):
            if char == "'" and not (i and line[i - 1] == "\\"):
                quoted = not quoted
            if char == ";" and not quoted:
                statements.append("".join(current).strip())
                current = []
            else:
                current.append(char)
        current.append("\n")
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def raw_table_ddl(spec: TableSpec) -> str:
    """`CREATE TABLE IF NOT EXISTS` for one raw table, columns upper-cased."""
    return _create_table(spec, spec.target, if_not_exists=True)


def copy_into_sql(spec: TableSpec, table: str, stage: str, file_format: str) -> str:
    """`COPY INTO table (cols) FROM @stage FILES = ('<name>.csv')`, the columns by file position."""
    columns = ", ".join(_column(c) for c in spec.columns)
    # Snowflake's FILE_FORMAT takes FORMAT_NAME *or* TYPE with options, never both: races.csv
    # (next season's rows stop after the first columns) has a named format of its own.
    name = ragged_format(file_format) if spec.ragged_tail else file_format
    options = f"FORMAT_NAME = '{qualified(*name.split('.'), what='file format')}'"
    return (
        f"COPY INTO {table} ({columns})\n"
        f"  FROM {stage_reference(stage)}\n"
        f"  FILES = ('{identifier(spec.name, 'table')}.csv')\n"
        f"  FILE_FORMAT = ({options})\n"
        "  ON_ERROR = ABORT_STATEMENT\n"
        "  FORCE = TRUE"
    )


def ragged_format(file_format: str) -> str:
    """The named file format for files whose last rows are short (sql/snowflake/03 creates it)."""
    return f"{file_format}_RAGGED"


def stage_reference(stage: str) -> str:
    """`@DB.SCHEMA.STAGE` from `DB.SCHEMA.STAGE` or `@DB.SCHEMA.STAGE`, every part validated."""
    name = stage[1:] if stage.startswith("@") else stage
    parts = name.rstrip("/").split(".")
    if len(parts) != 3:
        raise ValueError(f"stage {stage!r} must be fully qualified: @DATABASE.SCHEMA.STAGE")
    return "@" + qualified(*parts, what="stage")


def generated_sql(ingest_params: Mapping[str, Any], stage: str, file_format: str) -> dict[str, str]:
    """The two generated files of sql/snowflake, from the ingest parameters (so they cannot drift).

    Regenerate with `python -m f1_kedro.engines.snowflake` after changing parameters_ingest.yml.
    """
    specs = table_specs(ingest_params)
    header = (
        "-- GENERATED from conf/base/parameters_ingest.yml by\n"
        "-- `python -m f1_kedro.engines.snowflake`: edit the YAML, then regenerate.\n"
    )
    tables = header + "-- The 14 raw tables, columns in the CSV files' order.\n\n"
    tables += "".join(raw_table_ddl(s) + ";\n\n" for s in specs)
    copies = header + (
        "-- The guide's manual load: run it in a worksheet after 01-05 (as LOADER or SYSADMIN).\n"
        "-- `kedro run --pipelines ingest` runs the same COPY INTO into a fresh table per file\n"
        "-- and swaps it in, so bootstrap does not run this file.\n\n"
    )
    copies += "".join(copy_into_sql(s, s.target, stage, file_format) + ";\n\n" for s in specs)
    return {
        "04_raw_tables.sql": tables.rstrip() + "\n",
        "90_copy_into_raw_tables.sql": copies.rstrip() + "\n",
    }


def _create_table(spec: TableSpec, table: str, if_not_exists: bool = False) -> str:
    columns = ",\n".join(f"  {_column(c)} {_type(t)}" for c, t in spec.columns.items())
    guard = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE TABLE {guard}{table} (\n{columns}\n)"


def _column(name: str) -> str:
    return identifier(name.upper(), "column")


_TYPES = {"INTEGER", "DOUBLE", "VARCHAR", "DATE", "TIME", "BOOLEAN", "BIGINT", "TIMESTAMP"}


def _type(name: str) -> str:
    if name.upper() not in _TYPES:
        raise ValueError(f"unknown column type {name!r}; use one of {sorted(_TYPES)}")
    return "TIMESTAMP_NTZ" if name.upper() == "TIMESTAMP" else name.upper()


# -- the warehouse -----------------------------------------------------------------------------


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
        self._execute(_create_table(spec, loading))
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
            raise IngestError(f"{uri}: {_first_lines(self._scrub(str(err)))}") from None
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
        key = ", ".join(_column(c) for c in spec.primary_key)
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
        super().__init__(SnowflakeWarehouse(SESSIONS.get, sql_dir, file_format, _scrub_current))

    def _describe(self) -> dict[str, Any]:
        return {"sql_dir": str(self._resource.sql_dir), "file_format": self._resource.file_format}


def _scrub_current(message: str) -> str:
    credentials = SESSIONS._credentials or SnowflakeCredentials.from_sources(os.environ)
    return credentials.scrub(message)


# -- tables as Snowpark DataFrames -------------------------------------------------------------


class SnowflakeTableDataset(SnowparkTableDataset):
    """A Snowflake table as a Snowpark DataFrame: kedro-datasets' dataset adapted to this project.

    Why a subclass rather than `kedro_datasets.snowflake.SnowparkTableDataset` as is:
    - it uses the run's one shared session (`SESSIONS`), which the hook creates from the checked
      credentials, tags per node and closes; the parent opens its own from per-entry credentials,
      so catalog entries would need credentials and resolving the catalog would need them too;
    - it takes the three-part name `table: FORMULA1.ML.FEATURES`, like `DuckDBTableDataset`, with
      every part validated before it reaches SQL;
    - saving a `f1_kedro.tables.BuiltTable` (a table dbt built) checks that the table exists
      instead of writing it; the parent only accepts DataFrames;
    - `_exists` does not print the table (the parent calls `.show()`).
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"mode": "overwrite"}

    def __init__(
        self,
        *,
        table: str,
        save_args: dict[str, Any] | None = None,
        session: Session | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        database, schema, name = _three_part(table)
        # The parent insists on a credentials dict; it only feeds the session, which we override.
        super().__init__(
            table_name=name,
            schema=schema,
            database=database,
            save_args=save_args,
            credentials={"database": database, "schema": schema},
            session=session,
            metadata=metadata,
        )
        self._table = f"{database}.{schema}.{name}"

    @property
    def session(self) -> Session:
        return self._session or SESSIONS.get()

    def load(self) -> DataFrame:
        return self.session.table(self._table)

    def save(self, data: pd.DataFrame | DataFrame | BuiltTable) -> None:
        if isinstance(data, BuiltTable):
            data.check(self._table)
            if not self._exists():
                raise DatasetError(f"{data.built_by} did not build {self._table}")
            return
        super().save(data)

    def _exists(self) -> bool:
        try:
            self.session.table(self._table).schema  # noqa: B018 - resolving the schema is the check
        except Exception as err:  # Snowpark raises several types for "does not exist"
            logger.debug("table %s not found: %s", self._table, str(err)[:200])
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        # kedro-viz shows `path` as the dataset's location: the table's three-part name
        return {"table": self._table, "path": self._table}

    def preview(self, nrows: int = 10) -> dict[str, Any]:
        """Rows for kedro-viz's preview panel."""
        return self.load().limit(nrows).to_pandas().astype(str).to_dict(orient="split")


# -- files on a stage ---------------------------------------------------------------------------


class SnowflakeStageDataset(AbstractDataset[Any, Any]):
    """A JSON document or a joblib pickle kept in a file on a Snowflake stage.

    Under `--env snowflake` what one stage hands the next (the fitted pipeline and classifier,
    the train summary and metrics, the registered version's pointer, the run reports) lives on
    `@FORMULA1.ML.ML_STAGE`, not on the disk of the machine that ran it: train, register and
    score may run as three processes on three machines. Each save replaces the file
    (PUT OVERWRITE = TRUE, uncompressed); nothing is read until `load`. (`location`, not
    `filepath`: Kedro would turn a `filepath` into a local absolute path.)
    """

    _FORMATS = ("json", "joblib")

    def __init__(
        self,
        *,
        location: str,
        format: str = "json",
        session: Session | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        stage, _, path = location.partition("/")
        parts = [p for p in path.split("/") if p]
        if not parts or any(
            not re.fullmatch(r"[A-Za-z0-9_.-]+", p) or p in (".", "..") for p in parts
        ):
            raise DatasetError(f"stage file {location!r} must be @DB.SCHEMA.STAGE/<folder>/<file>")
        if format not in self._FORMATS:
            raise DatasetError(f"stage file format {format!r}: use one of {self._FORMATS}")
        self._location = f"{stage_reference(stage)}/{'/'.join(parts)}"
        self._format = format
        self._session = session
        self.metadata = metadata

    @property
    def session(self) -> Session:
        return self._session or SESSIONS.get()

    def load(self) -> Any:
        try:
            content = self.session.file.get_stream(self._location).read()
        except Exception as err:
            raise DatasetError(
                f"cannot read {self._location}: {_first_lines(_scrub_current(str(err)))} "
                "(did the stage that writes it run?)"
            ) from None
        if self._format == "json":
            return json.loads(content)
        return joblib.load(io.BytesIO(content))

    def save(self, data: Any) -> None:
        buffer = io.BytesIO()
        if self._format == "json":
            buffer.write(json.dumps(data, indent=2, default=str).encode())
        else:
            joblib.dump(data, buffer)
        buffer.seek(0)
        result = self.session.file.put_stream(
            buffer, self._location, auto_compress=False, overwrite=True
        )
        if result.status != "UPLOADED":
            raise DatasetError(f"PUT {self._location}: {result.status} {result.message}")

    def _exists(self) -> bool:
        try:
            self.session.file.get_stream(self._location).read(1)
        except Exception:
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        return {"location": self._location, "format": self._format}


def _three_part(table: str) -> tuple[str, str, str]:
    parts = table.split(".")
    if len(parts) != 3:
        raise DatasetError(f"table {table!r} must be DATABASE.SCHEMA.TABLE")
    database, schema, name = (identifier(p, "table name part") for p in parts)
    return database.upper(), schema.upper(), name.upper()


def _first_lines(message: str, n: int = 6) -> str:
    return "\n".join(message.strip().splitlines()[:n])


def write_generated_sql(
    project_root: Path, ingest_params: Mapping[str, Any], stage: str, file_format: str
) -> list[Path]:
    """Write the generated files into sql/snowflake; returns their paths."""
    written = []
    for name, text in generated_sql(ingest_params, stage, file_format).items():
        path = project_root / "sql" / "snowflake" / name
        path.write_text(text)
        written.append(path)
    return written


def _main(argv: Iterable[str] = ()) -> None:
    import yaml

    root = Path.cwd()
    ingest = yaml.safe_load((root / "conf/base/parameters_ingest.yml").read_text())["ingest"]
    snowflake = yaml.safe_load((root / "conf/snowflake/parameters_snowflake.yml").read_text())
    names = snowflake["snowflake"]
    for path in write_generated_sql(root, ingest, names["source_stage"], names["file_format"]):
        print(f"wrote {path.relative_to(root)}")


if __name__ == "__main__":
    _main()
