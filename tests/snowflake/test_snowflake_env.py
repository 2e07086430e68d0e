"""The `snowflake` Kedro environment: the catalog resolves without credentials (nothing connects)
and `kedro run --env snowflake` without credentials stops before any node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.engines.snowflake import credentials
from f1_kedro.engines.snowflake import session as sessions

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
    assert resolved["warehouse"] == "SnowflakeWarehouseDataset"
    assert resolved["model_input_table"] == "SnowflakeTableDataset"
    assert resolved["predictions"] == "SnowflakeTableDataset"
    assert resolved["model_registry"] == "SnowflakeRegistryDataset"
    assert context.params["ingest"]["source_uri"] == "@RAW.FORMULA1.FORMULA1_STAGE"
    assert context.params["ingest"]["tables"]  # soft merge kept the base tables
    assert context.params["bootstrap"]["setup_sql"][0] == "01_databases_schemas.sql"
    assert sessions.SESSIONS._session is None  # resolving connected to nothing


def _failed_snowflake_run(project: Path, pipelines: str, env: dict[str, str]) -> str:
    """`kedro run --env snowflake --pipelines <pipelines>` as a user types it; it must fail.

    Returns its output on one line (the log wraps nothing then).
    """
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "snowflake", "--pipelines", pipelines],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-2000:]
    return output


def test_run_without_credentials_fails_fast(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env.update(SNOWFLAKE_PASSWORD=SECRET, COLUMNS="400")
    output = _failed_snowflake_run(project, "bootstrap,ingest", env)
    assert (
        "Snowflake credentials are missing: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE, "
        "SNOWFLAKE_WAREHOUSE." in output
    ), output[-2000:]
    assert SECRET not in output
    assert "▶" not in output  # StageTimingHook logs every node start: none started
    assert not (project / "data" / "08_reporting" / "bootstrap_report.json").exists()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:  # nobody listens here: the connector is refused at once
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _in_credentials_file(project: Path, env: dict[str, str], values: dict[str, Any]) -> None:
    (project / credentials.CREDENTIALS_FILE).write_text(
        yaml.safe_dump({"snowflake": {**values, "login_timeout": 5}})
    )


def _in_environment(project: Path, env: dict[str, str], values: dict[str, Any]) -> None:
    env.update({credentials.ENV_VARS[k]: str(v) for k, v in values.items()})


@pytest.mark.parametrize("provide", [_in_credentials_file, _in_environment])
def test_run_reads_credentials_and_fails_only_on_connecting(project: Path, provide: Any) -> None:
    """Issue 18, defect 2: `--env snowflake` reads conf/snowflake/credentials.yml (Kedro never
    reads conf/local then) or the environment, passes the check and stops at the account's host."""
    values = {
        "account": "acme-f1",
        "user": "F1_KEDRO",
        "password": SECRET,
        "role": "TRANSFORMER",
        "warehouse": "TRANSFORMING",
        "host": "127.0.0.1",
        "port": _closed_port(),
        "protocol": "http",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env["COLUMNS"] = "400"
    provide(project, env, values)
    output = _failed_snowflake_run(project, "bootstrap", env)
    assert "credentials are missing" not in output, output[-2000:]
    assert "could not open a Snowflake session for account 'acme-f1' at 127.0.0.1" in output, (
        output[-2000:]
    )
    assert SECRET not in output
