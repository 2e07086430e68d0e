"""A fakesnow server that `kedro run --env snowflake` can run against, its gaps routed and logged.

`python -m bench.snowflake_emulator --port 8765 --mirror s3://bucket/prefix/=/local/folder`
serves Snowflake's HTTP protocol on 127.0.0.1 (fakesnow 0.12, DuckDB underneath). The project
runs unchanged: SNOWFLAKE_HOST / SNOWFLAKE_PORT / SNOWFLAKE_PROTOCOL point Snowpark and dbt here.
What fakesnow cannot serve is handled in this process, never in the project's code, and each
statement's route is appended to `--routes` (JSON lines) so a run shows what really executed:

- no-op: CREATE WAREHOUSE, CREATE ROLE, GRANT, ALTER SESSION SET QUERY_TAG,
  SYSTEM$CANCEL_ALL_QUERIES (fakesnow has no such objects; tests/snowflake/test_setup_sql.py
  parses the DDL with sqlglot);
- CREATE SCHEMA a CLONE b, ALTER SCHEMA a SWAP WITH b (DuckDB cannot alter a schema): each
  table copied or moved in one DuckDB transaction, then fakesnow's rows for the schemas' file
  formats and stages copied or moved (a DuckDB transaction writes one database only);
- CREATE FILE FORMAT ... ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE: the option dropped (fakesnow
  lacks it; the mirror holds no short rows, and the row-count check would see a lost one);
- CREATE STAGE ... URL = '<mirrored url>': the URL of the local mirror holding the same files;
- PUT '<file>' '@stage/path' (the target quoted, as Snowpark sends it): the target unquoted;
- GET '@stage/path/file' '<dir>': served here, a LOCAL_FS download (fakesnow 0.12 has no GET);
- COPY INTO from a CSV with 10+ columns: fakesnow's column naming bug fixed (`column00..`).

Everything else runs on fakesnow as sent.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

NOOP = re.compile(
    r"^\s*(CREATE\s+(OR\s+REPLACE\s+)?WAREHOUSE|CREATE\s+(OR\s+REPLACE\s+)?ROLE|GRANT\s"
    r"|ALTER\s+SESSION\s+SET\s+QUERY_TAG|SELECT\s+SYSTEM\$CANCEL_ALL_QUERIES)",
    re.I,
)
_NAME = r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2}"
SCHEMA_CLONE = re.compile(rf"^\s*CREATE\s+SCHEMA\s+({_NAME})\s+CLONE\s+({_NAME})\s*;?\s*$", re.I)
SCHEMA_SWAP = re.compile(
    rf"^\s*ALTER\s+SCHEMA\s+({_NAME})\s+SWAP\s+WITH\s+({_NAME})\s*;?\s*$", re.I
)
CLONE_ROUTE = "fakesnow (rewritten: CREATE SCHEMA CLONE as table copies)"
SWAP_ROUTE = "fakesnow (rewritten: ALTER SCHEMA SWAP as table moves, one transaction)"
# fakesnow's own catalog of file formats and stages, one row per object with its schema's name
_CATALOGS = (
    "_fs_global._fs_information_schema._fs_file_formats",
    "_fs_global._fs_information_schema._fs_stages",
)
Run = Callable[[str], list[Any]]


def clone_schema(run: Run, target: str, source: str) -> None:
    """`CREATE SCHEMA target CLONE source` as fakesnow can run it: the tables copied in one
    transaction, then the source's file formats and stages (Snowflake's clone copies both)."""
    database, src = (p.upper() for p in source.split("."))
    dst = target.split(".")[1].upper()
    with _transaction(run):
        run(f"CREATE SCHEMA {database}.{dst}")
        for table in _tables(run, database, src):
            run(f"CREATE TABLE {database}.{dst}.{table} AS SELECT * FROM {database}.{src}.{table}")
    # DuckDB writes one attached database per transaction: fakesnow's catalog is another one
    with _transaction(run):
        for catalog in _CATALOGS:
            where = f"WHERE database_name = '{database}' AND schema_name"
            run(f"DELETE FROM {catalog} {where} = '{dst}'")
            run(
                f"INSERT INTO {catalog} SELECT * REPLACE ('{dst}' AS schema_name) "
                f"FROM {catalog} {where} = '{src}'"
            )


def swap_schemas(run: Run, a: str, b: str) -> None:
    """`ALTER SCHEMA a SWAP WITH b` as fakesnow can run it: every table moved a -> tmp, b -> a,
    tmp -> b in one transaction (all or nothing), then the file formats' and stages' rows."""
    database, first = (p.upper() for p in a.split("."))
    second = b.split(".")[1].upper()
    tmp = f"{first}__SWAP"
    moves = ((first, tmp), (second, first), (tmp, second))
    with _transaction(run):
        run(f"CREATE SCHEMA {database}.{tmp}")
        for src, dst in moves:
            for table in _tables(run, database, src):
                moved = f"{database}.{dst}.{table}"
                run(f"CREATE TABLE {moved} AS SELECT * FROM {database}.{src}.{table}")
                run(f"DROP TABLE {database}.{src}.{table}")
        run(f"DROP SCHEMA {database}.{tmp}")
    with _transaction(run):
        for catalog in _CATALOGS:
            for src, dst in moves:
                run(
                    f"UPDATE {catalog} SET schema_name = '{dst}' "
                    f"WHERE database_name = '{database}' AND schema_name = '{src}'"
                )


@contextlib.contextmanager
def _transaction(run: Run) -> Iterator[None]:
    run("BEGIN")
    try:
        yield
    except BaseException:
        run("ROLLBACK")
        raise
    run("COMMIT")


def _tables(run: Run, database: str, schema: str) -> list[str]:
    rows = run(
        f"SELECT table_name FROM {database}.INFORMATION_SCHEMA.TABLES "
        f"WHERE table_schema = '{schema}' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    return [row[0] for row in rows]


RAGGED = re.compile(r"\s+ERROR_ON_COLUMN_COUNT_MISMATCH\s*=\s*FALSE", re.I)
PUT_QUOTED = re.compile(r"^(\s*PUT\s+'[^']+'\s+)'(@[^'\s]+)'", re.I)
GET = re.compile(r"^\s*GET\s+'?(@[^'\s]+)'?\s+'?(file://[^'\s]+)'?", re.I)


class Routes:
    """Appends one JSON line per statement: {"route": ..., "statement": ...}."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()

    def add(self, route: str, statement: str) -> None:
        if self._path is None:
            return
        line = json.dumps({"route": route, "statement": " ".join(statement.split())[:300]})
        with self._lock, open(self._path, "a") as handle:
            handle.write(line + "\n")


def rewrite(statement: str, mirrors: dict[str, str]) -> tuple[str, str]:
    """(route, statement to run) for one statement; SWAP and GET are handled by the caller."""
    if NOOP.match(statement):
        return "no-op", statement
    if PUT_QUOTED.match(statement):
        return "fakesnow (rewritten: PUT target unquoted)", PUT_QUOTED.sub(
            lambda m: m.group(1) + m.group(2), statement, count=1
        )
    if RAGGED.search(statement) and re.match(
        r"^\s*CREATE\s+(OR\s+REPLACE\s+)?FILE", statement, re.I
    ):
        # the mirror's one season has no short rows (next season's races are not in it)
        return "fakesnow (rewritten: ERROR_ON_COLUMN_COUNT_MISMATCH dropped)", RAGGED.sub(
            "", statement
        )
    if re.match(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?STAGE\b", statement, re.I):
        for url, local in mirrors.items():
            if f"'{url}'" in statement:
                return "fakesnow (rewritten: stage URL -> local mirror)", statement.replace(
                    f"'{url}'", f"'file://{local.rstrip('/')}/'"
                )
    return "fakesnow", statement


def install(mirrors: dict[str, str], routes: Routes) -> None:
    """Patch fakesnow (in this process only) so the project's statements find their route."""
    import fakesnow.copy_into as copy_into
    import fakesnow.server as server
    from fakesnow.cursor import FakeSnowflakeCursor
    from fakesnow.instance import FakeSnow
    from fakesnow.transforms import stage
    from sqlglot import exp

    server.shared_fs = FakeSnow(nop_regexes=[NOOP.pattern])
    original_execute = FakeSnowflakeCursor.execute

    def execute(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        def run(sql: str) -> list[Any]:
            original_execute(self, sql)
            return self.fetchall()

        if clone := SCHEMA_CLONE.match(command):
            clone_schema(run, clone.group(1), clone.group(2))
            routes.add(CLONE_ROUTE, command)
            return original_execute(self, "SELECT 'Statement executed successfully.'")
        if swap := SCHEMA_SWAP.match(command):
            swap_schemas(run, swap.group(1), swap.group(2))
            routes.add(SWAP_ROUTE, command)
            return original_execute(self, "SELECT 'Statement executed successfully.'")
        if get := GET.match(command):
            routes.add("emulator (GET served from fakesnow's stage folder)", command)
            return _get(self, original_execute, get.group(1), get.group(2), stage, exp)
        route, statement = rewrite(command, mirrors)
        routes.add(route, command)
        return original_execute(self, statement, *args, **kwargs)

    FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]

    original_gcs = server.gcs_stage_info

    def stage_info(request: Any, expr: Any, data: Any) -> dict[str, Any]:
        # a download keeps LOCAL_FS: client and emulator share this machine's file system
        if data.get("command") == "DOWNLOAD":
            return data["stageInfo"]
        return original_gcs(request, expr, data)

    server.gcs_stage_info = stage_info
    _fix_wide_csv(copy_into, exp)


def _get(
    cursor: Any, execute: Callable[..., Any], target: str, local: str, stage: Any, exp: Any
) -> Any:
    """GET one file of an internal stage: answer with a LOCAL_FS download command."""
    var, _, path = target[1:].partition("/")
    conn = cursor._conn  # the fake connection knows the current namespace
    catalog, schema, name = stage.parts_from_var(var, conn.database, conn.schema)
    folder, _, filename = path.rpartition("/")
    directory = stage.internal_dir(f"{catalog}.{schema}.{name}", folder + "/" if folder else "")
    if not os.path.isfile(os.path.join(directory, filename)):
        import snowflake.connector.errors

        raise snowflake.connector.errors.ProgrammingError(
            msg=f"File '{target}' does not exist or not authorized.", errno=253006
        )
    execute(cursor, "SELECT 1")
    local_dir = local[len("file://") :]
    cursor._last_transformed.args["put_stage_data"] = {  # the server reads it
        "command": "DOWNLOAD",
        "src_locations": [filename],
        "stageInfo": {"locationType": "LOCAL_FS", "location": directory, "creds": {}},
        "localLocation": local_dir,
        "parallel": 1,
    }
    return cursor


def _fix_wide_csv(copy_into: Any, exp: Any) -> Callable[..., Any]:
    """fakesnow selects `column0..` from DuckDB's read_csv, which names the columns `column00..`
    once a file has 10 or more (races, results, sprint_results): an emulator bug, not ours.
    Returns fakesnow's own function (tests put it back)."""
    original = copy_into._inserts

    def inserts(*args: Any, **kwargs: Any) -> list[Any]:
        result = original(*args, **kwargs)
        for insert in result:
            width = len(insert.this.expressions) if insert.this.expressions else 0
            if width >= 10:
                for column in insert.expression.expressions:
                    if isinstance(column, exp.Column) and re.fullmatch(r"column\d", column.name):
                        column.set("this", exp.to_identifier(f"column0{column.name[-1]}"))
        return result

    copy_into._inserts = inserts
    return original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mirror", action="append", default=[], help="URL=LOCAL_FOLDER")
    parser.add_argument("--routes", type=Path, help="append each statement's route here")
    args = parser.parse_args(argv)
    mirrors = dict(m.split("=", 1) for m in args.mirror)
    import fakesnow

    serve = fakesnow.server  # the function: importing the submodule fakesnow.server shadows it
    install(mirrors, Routes(args.routes))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with serve(port=args.port):
        print(f"fakesnow emulator on 127.0.0.1:{args.port}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
