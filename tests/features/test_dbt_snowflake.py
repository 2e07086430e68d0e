"""The same dbt SQL on the `snowflake` target: every SQL model and test against fakesnow.

One season of real data is typed by the project's own loader (DuckDB), copied into the fakesnow
server's RAW.FORMULA1 with CREATE TABLE and INSERT through snowflake-connector-python, then
dbt-snowflake builds the project over HTTP on 127.0.0.1. Python models (scoring) are left out:
dbt-snowflake runs them as stored procedures, which fakesnow does not emulate (ARCHITECTURE.md).
`write_pandas` is not used: it PUTs files to a stage, which the fakesnow server does not accept
(KeyError 'command' in the connector's file transfer).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.dbt_project import DbtProject
from f1_kedro.engines.duckdb import DuckDBWarehouse
from f1_kedro.ingest_spec import table_specs
from tests.conftest import PROJECT_ROOT, write_subset

# One recent season: every table has rows (lap times, pit stops, sprint results).
SEASON = 2024


def load_raw_into_fakesnow(conn: Any, source: Path, scratch: Path) -> dict[str, int]:
    """Type `source` with the ingest loader, then copy each RAW table into the emulator."""
    params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_ingest.yml").read_text())
    warehouse = DuckDBWarehouse(scratch, ("RAW",), scratch / "stage")
    specs = table_specs(params["ingest"])
    warehouse.bootstrap({"databases": {"RAW": ["FORMULA1"]}, "stage": "ML_STAGE"})
    for spec in specs:
        warehouse.load_csv_table(spec, str(source))
    cursor = conn.cursor()
    cursor.execute("CREATE DATABASE IF NOT EXISTS RAW")
    cursor.execute("CREATE DATABASE IF NOT EXISTS FORMULA1")
    cursor.execute("CREATE SCHEMA IF NOT EXISTS RAW.FORMULA1")
    rows = {}
    with warehouse.connect(read_only=True) as con:
        for spec in specs:
            columns = [
                (name, type_)
                for name, type_, *_ in con.execute(f"DESCRIBE {spec.target}").fetchall()
            ]
            cursor.execute(
                f"CREATE OR REPLACE TABLE {spec.target} "
                f"({', '.join(f'{name} {type_}' for name, type_ in columns)})"
            )
            relation = con.execute(f"SELECT * FROM {spec.target}")
            records = [
                {
                    name: None if v is None else str(v)
                    for (name, _), v in zip(columns, row, strict=True)
                }
                for row in relation.fetchall()
            ]
            cursor.execute(*_insert_json(spec.target, columns, records))
            rows[spec.target] = len(records)
    return rows


def _insert_json(
    table: str, columns: list[tuple[str, str]], records: list[dict[str, str | None]]
) -> tuple[str, tuple[str]]:
    """One INSERT of every row as a JSON array: the emulator transpiles each statement with
    sqlglot, and a single string literal parses ~50x faster than thousands of VALUES rows."""
    select = ", ".join(f"value:{name}::{type_}" for name, type_ in columns)
    statement = f"INSERT INTO {table} SELECT {select} FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%s)))"
    return statement, (json.dumps(records),)


@pytest.fixture
def snowflake_env(fakesnow_server: dict[str, Any]) -> dict[str, str]:
    """The SNOWFLAKE_* variables the `snowflake` target of dbt/profiles.yml reads."""
    return {
        "SNOWFLAKE_ACCOUNT": fakesnow_server["account"],
        "SNOWFLAKE_USER": fakesnow_server["user"],
        "SNOWFLAKE_PASSWORD": fakesnow_server["password"],
        "SNOWFLAKE_HOST": fakesnow_server["host"],
        "SNOWFLAKE_PORT": str(fakesnow_server["port"]),
        "SNOWFLAKE_PROTOCOL": fakesnow_server["protocol"],
        "SNOWFLAKE_ROLE": "",
        "SNOWFLAKE_WAREHOUSE": "",
    }


def test_every_sql_model_and_test_builds_on_the_snowflake_target(
    project: Path,
    shared_data: Path,
    tmp_path: Path,
    fakesnow_server: dict[str, Any],
    snowflake_env: dict[str, str],
) -> None:
    import snowflake.connector

    conn = snowflake.connector.connect(**fakesnow_server)
    try:
        source = write_subset(shared_data, tmp_path / "season", SEASON, SEASON)
        started = time.perf_counter()
        loaded = load_raw_into_fakesnow(conn, source, tmp_path / "duckdb")
        print(f"raw tables loaded into fakesnow in {time.perf_counter() - started:.1f} s")
        dbt = DbtProject(target="snowflake", env=snowflake_env)
        # The post-race branch of features.sql is built too, so both variants are checked.
        report = dbt.build(
            ["f1_formula1"],
            vars={"include_post_race_features": True},
            exclude=["file:*.py+"],
        )
        cursor = conn.cursor()
        cursor.execute("SELECT * FROM FORMULA1.ML.FEATURES LIMIT 0")
        columns = [d[0] for d in cursor.description]
        cursor.execute("SELECT count(*) FROM FORMULA1.ML.FEATURES")
        feature_rows = cursor.fetchone()[0]
    finally:
        conn.close()

    assert report["target"] == "snowflake"
    assert set(report["counts"]) == {"pass", "success"}, report["counts"]
    assert report["counts"]["pass"] >= 80
    assert not any(
        n["node"].startswith("model.") and "predictions" in n["node"] for n in report["nodes"]
    )
    assert columns[:3] == ["RACE_ID", "DRIVER_ID", "CONSTRUCTOR_ID"]
    assert "PIT_STOPS_IN_RACE" in columns and columns[-1] == "LABEL"
    assert 0 < feature_rows <= loaded["RAW.FORMULA1.RESULTS"]
