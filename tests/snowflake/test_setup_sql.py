"""sql/snowflake on emulators: every statement executed on fakesnow or, where fakesnow has no such
object, parsed; the generated files match parameters_ingest.yml; COPY INTO loads real CSVs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml
from sqlglot import exp

from f1_kedro.engines.snowflake.sql import copy_into_sql, generated_sql, split_statements
from f1_kedro.ingest_spec import table_specs
from f1_kedro.project_config import resolved_config
from tests.snowflake.conftest import SQL_DIR, EmulatedWarehouse

ROOT = Path(__file__).resolve().parents[2]


def _yaml(path: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / path).read_text())


PARAMS = resolved_config("parameters", "snowflake")  # conf/ writes names once (globals.yml)
INGEST = resolved_config("parameters", "base")["ingest"]
SNOWFLAKE = PARAMS["snowflake"]
BOOTSTRAP = PARAMS["bootstrap"]


def test_generated_files_match_the_ingest_parameters() -> None:
    generated = generated_sql(INGEST, SNOWFLAKE["source_stage"], SNOWFLAKE["file_format"])
    for name, text in generated.items():
        assert (SQL_DIR / name).read_text() == text, (
            f"sql/snowflake/{name} drifted from parameters_ingest.yml: "
            "run `python -m f1_kedro.engines.snowflake.sql`"
        )


def test_raw_tables_declare_the_yaml_columns_in_order() -> None:
    specs = {s.target: s for s in table_specs(INGEST)}
    created = {}
    for statement in split_statements((SQL_DIR / "04_raw_tables.sql").read_text()):
        tree = sqlglot.parse_one(statement, read="snowflake")
        table = tree.find(exp.Table)
        name = f"{table.catalog}.{table.db}.{table.name}"
        created[name] = [c.name for c in tree.find_all(exp.ColumnDef)]
    assert set(created) == set(specs) and len(created) == 14
    for name, columns in created.items():
        assert columns == [c.upper() for c in specs[name].columns]


def test_csv_headers_are_in_the_yaml_order(shared_data: Path) -> None:
    # COPY INTO with a column list maps by position: the files' order must be the YAML's.
    for spec in table_specs(INGEST):
        header = (shared_data / f"{spec.name}.csv").read_text().split("\n", 1)[0]
        assert header.strip().split(",") == list(spec.columns), spec.name


def test_parameters_name_what_the_sql_creates() -> None:
    text = {p.name: " ".join(p.read_text().split()) for p in SQL_DIR.glob("*.sql")}
    for warehouse in SNOWFLAKE["warehouses"].values():
        assert f"CREATE WAREHOUSE IF NOT EXISTS {warehouse} " in text["02_warehouses.sql"]
    for role in SNOWFLAKE["roles"].values():
        assert f"CREATE ROLE IF NOT EXISTS {role};" in text["05_roles_grants.sql"]
    stages = text["03_file_format_stages.sql"]
    assert f"CREATE FILE FORMAT IF NOT EXISTS {SNOWFLAKE['file_format']} " in stages
    assert f"CREATE STAGE IF NOT EXISTS {SNOWFLAKE['source_stage']} " in stages
    assert f"URL = '{SNOWFLAKE['source_stage_url']}'" in stages
    assert f"CREATE STAGE IF NOT EXISTS {SNOWFLAKE['ml_stage']} " in stages
    assert f"@{SNOWFLAKE['ml_stage']}" == "@" + BOOTSTRAP["stage"]
    for database, schemas in BOOTSTRAP["databases"].items():
        assert f"CREATE DATABASE IF NOT EXISTS {database};" in text["01_databases_schemas.sql"]
        for schema in schemas:
            assert (
                f"CREATE SCHEMA IF NOT EXISTS {database}.{schema};"
                in text["01_databases_schemas.sql"]
            )
    # bootstrap runs every numbered setup file; the manual COPY file is ingest's job
    assert BOOTSTRAP["setup_sql"] == sorted(n for n in text if n[:2] < "90")


@pytest.fixture(scope="module")
def bootstrapped(snowpark_on_fakesnow: Any) -> tuple[Any, dict[str, Any]]:
    """bootstrap run twice on the emulators (IF NOT EXISTS everywhere); its second run's routes."""
    warehouse = EmulatedWarehouse(snowpark_on_fakesnow, SQL_DIR)
    warehouse.bootstrap(BOOTSTRAP)
    first = list(warehouse.routes)
    warehouse.routes.clear()
    report = warehouse.bootstrap(BOOTSTRAP)
    assert [r.path for r in warehouse.routes] == [r.path for r in first]
    return warehouse, report


def test_bootstrap_leaves_the_session_in_its_namespace(
    bootstrapped: Any, snowpark_on_fakesnow: Any
) -> None:
    """snowflake-ml's fit needs a current database and schema (issue 18, defect 1)."""
    assert snowpark_on_fakesnow.get_current_database().strip('"') == "FORMULA1"
    assert snowpark_on_fakesnow.get_current_schema().strip('"') == "ML"


def test_every_setup_statement_runs_on_fakesnow_or_parses(bootstrapped: Any) -> None:
    emulated_warehouse, report = bootstrapped
    routes = emulated_warehouse.routes
    print("\n" + emulated_warehouse.listing())
    by_path = Counter(r.path.split(" (")[0] for r in routes)
    print(dict(Counter(r.path for r in routes)))

    setup = [s for f in BOOTSTRAP["setup_sql"] for s in split_statements((SQL_DIR / f).read_text())]
    assert report["statements"] == len(setup)
    # what fakesnow executes: databases, schemas, file format, stages, tables (+ the checks)
    executed = [r.statement for r in routes if r.path.startswith("fakesnow")]
    for prefix, count in {
        "CREATE DATABASE": 2,
        "CREATE SCHEMA": 5,
        "CREATE FILE FORMAT": 2,
        "CREATE STAGE": 2,
        "CREATE TABLE": 14,
        "SELECT schema_name": 2,
        "USE SCHEMA FORMULA1.ML": 1,
    }.items():
        assert sum(s.startswith(prefix) for s in executed) == count, prefix
    # what it cannot: warehouses, roles, grants
    parsed = [r for r in routes if not r.path.startswith("fakesnow")]
    assert all(r.statement.startswith(("CREATE WAREHOUSE", "CREATE ROLE", "GRANT")) for r in parsed)
    assert sum(r.statement.startswith("CREATE WAREHOUSE") for r in parsed) == 3
    # 28 = 2 databases + 5 schemas + 2 file formats + 2 stages + 14 tables + 2 schema checks
    # + USE SCHEMA
    assert by_path == {"fakesnow": 28, "sqlglot": 21, "pattern": 15}
    assert report["databases"] == BOOTSTRAP["databases"]
    assert report["namespace"] == "FORMULA1.ML"
    assert report["stage"] == "@FORMULA1.ML.ML_STAGE"


def test_manual_copy_file_loads_the_sample(
    bootstrapped: Any, emulated_warehouse: Any, sample_stage_dir: Path, snowpark_on_fakesnow: Any
) -> None:
    cursor = snowpark_on_fakesnow.connection.cursor()
    # The one substitution: the stage points at a local sample instead of the public bucket.
    cursor.execute(
        f"CREATE OR REPLACE STAGE {SNOWFLAKE['source_stage']} URL = 'file://{sample_stage_dir}/' "
        f"FILE_FORMAT = (FORMAT_NAME = '{SNOWFLAKE['file_format']}')"
    )
    for spec in table_specs(INGEST):
        cursor.execute(f"TRUNCATE TABLE {spec.target}")
    statements = split_statements((SQL_DIR / "90_copy_into_raw_tables.sql").read_text())
    assert len(statements) == 14
    for statement in statements:
        emulated_warehouse._execute(statement)
    print("\n" + emulated_warehouse.listing())
    for spec in table_specs(INGEST):
        cursor.execute(f"SELECT count(*) FROM {spec.target}")
        rows = len((sample_stage_dir / f"{spec.name}.csv").read_text().splitlines()) - 1
        assert cursor.fetchone()[0] == rows > 0, spec.name
    # \N became NULL and quoted commas survived
    cursor.execute("SELECT count(*) FROM RAW.FORMULA1.RESULTS WHERE POSITION IS NULL")
    assert cursor.fetchone()[0] > 0
    cursor.execute("SELECT NAME FROM RAW.FORMULA1.CIRCUITS WHERE CIRCUITID = 1")
    assert cursor.fetchone()[0] == "Albert Park Grand Prix Circuit"


def test_copy_into_names_the_columns_and_the_file() -> None:
    spec = next(s for s in table_specs(INGEST) if s.name == "races")
    sql = copy_into_sql(
        spec, spec.target, "@RAW.FORMULA1.FORMULA1_STAGE", "RAW.FORMULA1.CSV_FORMAT"
    )
    tree = sqlglot.parse_one(sql, read="snowflake")
    assert isinstance(tree, exp.Copy)
    assert "FILES = ('races.csv')" in sql
    assert "(RACEID, YEAR, ROUND, CIRCUITID, NAME, DATE, TIME, URL, FP1_DATE" in sql


@pytest.mark.parametrize(
    ("table", "file_format"),
    [("races", "RAW.FORMULA1.CSV_FORMAT_RAGGED"), ("results", "RAW.FORMULA1.CSV_FORMAT")],
)
def test_copy_into_file_format_is_a_name_only(table: str, file_format: str) -> None:
    """Snowflake's FILE_FORMAT takes FORMAT_NAME or TYPE + options, never both (issue 18, #5)."""
    spec = next(s for s in table_specs(INGEST) if s.name == table)
    sql = copy_into_sql(spec, spec.target, "@RAW.FORMULA1.FORMULA1_STAGE", SNOWFLAKE["file_format"])
    assert f"FILE_FORMAT = (FORMAT_NAME = '{file_format}')\n" in sql
    # the named ragged format exists in the setup SQL, with the option the file needs
    setup = split_statements((SQL_DIR / "03_file_format_stages.sql").read_text())
    ragged = [
        s for s in setup if s.startswith("CREATE FILE FORMAT") and s.split()[6] == file_format
    ]
    assert len(ragged) == 1
    assert ("ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE" in ragged[0]) == (table == "races")


@pytest.mark.parametrize("bad", ["RAW.FORMULA1", "@RAW.FORMULA1.STAGE; DROP TABLE X", "RAW.X.Y-Z"])
def test_stage_names_are_validated(bad: str) -> None:
    spec = table_specs(INGEST)[0]
    with pytest.raises(ValueError):
        copy_into_sql(spec, spec.target, bad, "RAW.FORMULA1.CSV_FORMAT")
