"""The `snowflake` Kedro environment: the catalog resolves without credentials (nothing connects)
and `kedro run --env snowflake` without credentials stops before any node."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.engines.snowflake import credentials
from f1_kedro.engines.snowflake import session as sessions
from tests.support import run_kedro

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


def _failed_in_process(
    project: Path,
    pipeline: str,
    values: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """The same run in this process, the environment holding `values` only (as SNOWFLAKE_*).

    Returns, on one line, the error with its whole chain as formatted, every log record and all
    that was printed: what a user could see of it (the CLI prints the message of that error).
    """
    for name in credentials.ENV_VARS.values():
        # recorded, then removed: the run's export for dbt is undone after the test too
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for key, value in values.items():
        monkeypatch.setenv(credentials.ENV_VARS[key], value)
    with caplog.at_level(logging.INFO), pytest.raises(Exception) as failure:
        run_kedro(project, pipeline, env="snowflake")
    seen = [*traceback.format_exception(failure.value), caplog.text, *capsys.readouterr()]
    assert sessions.SESSIONS._session is None  # nothing left open for the next test
    return " ".join(" ".join(seen).split())


def test_run_without_credentials_fails_fast(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    """In process: the CLI's own output is checked on a run that fails the same way (a node's
    connection error, through the same hook) by the subprocess test below."""
    seen = _failed_in_process(
        project, "bootstrap", {"password": SECRET}, monkeypatch, caplog, capsys
    )
    assert (
        "Snowflake credentials are missing: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE, "
        "SNOWFLAKE_WAREHOUSE." in seen
    ), seen[-2000:]
    assert SECRET not in seen
    assert "▶" not in caplog.text  # StageTimingHook logs every node start: none started
    assert not (project / "data" / "08_reporting" / "bootstrap_report.json").exists()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:  # nobody listens here: the connector is refused at once
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _values() -> dict[str, str]:
    return {
        "account": "acme-f1",
        "user": "F1_KEDRO",
        "password": SECRET,
        "role": "TRANSFORMER",
        "warehouse": "TRANSFORMING",
        "host": "127.0.0.1",
        "port": str(_closed_port()),
        "protocol": "http",
    }


CONNECT_FAILED = "could not open a Snowflake session for account 'acme-f1' at 127.0.0.1"


def test_run_reads_the_credentials_file_and_fails_only_on_connecting(project: Path) -> None:
    """Issue 18, defect 2: `kedro run --env snowflake` reads conf/snowflake/credentials.yml (Kedro
    never reads conf/local then), passes the check and stops at the account's host. A subprocess,
    as a user runs it: the CLI's printed message and logs/last_error.log hold no secret."""
    values: dict[str, Any] = {**_values(), "login_timeout": 5}
    values["port"] = int(values["port"])
    (project / credentials.CREDENTIALS_FILE).write_text(yaml.safe_dump({"snowflake": values}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env["COLUMNS"] = "400"
    output = _failed_snowflake_run(project, "bootstrap", env)
    assert "credentials are missing" not in output, output[-2000:]
    assert CONNECT_FAILED in output, output[-2000:]
    assert "bootstrap_warehouse_node" in output  # the node that connected first
    assert SECRET not in output
    assert SECRET not in (project / "logs" / "last_error.log").read_text()


def test_run_reads_credentials_from_the_environment_and_fails_only_on_connecting(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    """The same from SNOWFLAKE_* variables, no credentials file; in process (the CLI's output is
    the test above's)."""
    assert not (project / credentials.CREDENTIALS_FILE).exists()
    seen = _failed_in_process(project, "bootstrap", _values(), monkeypatch, caplog, capsys)
    assert "credentials are missing" not in seen, seen[-2000:]
    assert CONNECT_FAILED in seen, seen[-2000:]
    assert SECRET not in seen
    assert "▶" in caplog.text  # the node started: the log is captured here (see the test above)
