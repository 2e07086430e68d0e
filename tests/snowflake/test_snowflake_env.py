"""The `snowflake` Kedro environment: the catalog resolves without credentials (nothing connects)
and `kedro run --env snowflake` without credentials stops before any node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from f1_kedro.engines import snowflake

SECRET = "Tr0ub4dor&3-not-a-real-password"


def test_catalog_resolves_every_dataset_without_credentials(project: Path, monkeypatch) -> None:
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    for name in [n for n in os.environ if n.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(name)
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="snowflake") as session:
        context = session.load_context()
        catalog = context.catalog
        used = set().union(*(p.datasets() for p in pipelines.values()))
        resolved = {
            name: type(catalog.get(name)).__name__ for name in sorted(used) if name in catalog
        }
    print(resolved)
    assert resolved["warehouse"] == "SnowflakeWarehouseDataset"
    if "model_input_table" in resolved:
        assert resolved["model_input_table"] == "SnowflakeTableDataset"
    assert context.params["ingest"]["source_uri"] == "@RAW.FORMULA1.FORMULA1_STAGE"
    assert context.params["ingest"]["tables"]  # soft merge kept the base tables
    assert context.params["bootstrap"]["setup_sql"][0] == "01_databases_schemas.sql"
    assert snowflake.SESSIONS._session is None  # resolving connected to nothing


def test_run_without_credentials_fails_fast(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env.update(SNOWFLAKE_PASSWORD=SECRET, COLUMNS="400")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kedro",
            "run",
            "--env",
            "snowflake",
            "--pipelines",
            "bootstrap,ingest",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-2000:]
    assert (
        "Snowflake credentials are missing: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE, "
        "SNOWFLAKE_WAREHOUSE." in output
    ), output[-2000:]
    assert SECRET not in output
    assert "▶" not in output  # StageTimingHook logs every node start: none started
    assert not (project / "data" / "08_reporting" / "bootstrap_report.json").exists()
