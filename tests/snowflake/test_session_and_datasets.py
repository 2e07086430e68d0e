"""The run's Snowpark session, the credentials check, secrets, and the Snowpark table dataset
(on Snowpark's local testing mode)."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from kedro.io import DatasetError

from f1_kedro.engines.snowflake import (
    MissingSnowflakeCredentialsError,
    SnowflakeConnectionError,
    SnowflakeCredentials,
    SnowflakeNamespaceError,
    SnowflakeSessionHook,
    SnowflakeTableDataset,
    SnowflakeWarehouse,
    SnowparkSessions,
)
from f1_kedro.tables import BuiltTable

SECRET = "Tr0ub4dor&3-not-a-real-password"
ALL_MISSING = (
    "SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE, "
    "SNOWFLAKE_ROLE, SNOWFLAKE_WAREHOUSE"
)


def _context(params: dict[str, Any], credentials: dict[str, Any] | None = None) -> Any:
    return SimpleNamespace(params=params, config_loader={"credentials": credentials or {}})


def test_missing_credentials_are_listed_together() -> None:
    with pytest.raises(MissingSnowflakeCredentialsError, match=ALL_MISSING):
        SnowflakeCredentials.from_sources({}).require()
    partial = SnowflakeCredentials.from_sources(
        {"SNOWFLAKE_ACCOUNT": "a", "SNOWFLAKE_PRIVATE_KEY_FILE": "/k.p8"}, {"role": "R"}
    )
    assert partial.missing() == ["SNOWFLAKE_USER", "SNOWFLAKE_WAREHOUSE"]


def test_environment_wins_over_credentials_file() -> None:
    credentials = SnowflakeCredentials.from_sources(
        {"SNOWFLAKE_USER": "env_user", "SNOWFLAKE_PORT": "8080"}, {"user": "file_user", "role": "R"}
    )
    assert credentials.values == {
        "user": "env_user",
        "role": "R",
        "port": 8080,
        "database": "FORMULA1",
        "schema": "ML",
    }


def test_session_gets_a_current_database_and_schema() -> None:
    """Issue 18, defect 1: Snowpark gets a namespace (defaults, or SNOWFLAKE_DATABASE/SCHEMA)."""
    params = SnowflakeCredentials.from_sources({}).connection_parameters()
    assert (params["database"], params["schema"]) == ("FORMULA1", "ML")
    chosen = SnowflakeCredentials.from_sources(
        {"SNOWFLAKE_DATABASE": "F1_SMOKE", "SNOWFLAKE_SCHEMA": "ML"}, {"database": "IGNORED"}
    )
    assert chosen.namespace == "F1_SMOKE.ML"


def test_dbt_profile_reads_the_variables_snowpark_reads() -> None:
    """Issue 18, defect 3: one name per variable; a key pair reaches dbt too."""
    import re

    import yaml

    from f1_kedro.engines.snowflake.credentials import ENV_VARS

    profile = (Path(__file__).resolve().parents[2] / "dbt" / "profiles.yml").read_text()
    output = yaml.safe_load(profile)["f1_formula1"]["outputs"]["snowflake"]
    read = {
        key: re.search(r"env_var\('([A-Z_]+)'", str(value)).group(1)
        for key, value in output.items()
        if "env_var" in str(value)
    }
    dbt_key = {
        "private_key_path": "private_key_file",
        "private_key_passphrase": "private_key_file_pwd",
    }
    for key, name in read.items():
        assert ENV_VARS[dbt_key.get(key, key)] == name, key
    assert read["private_key_path"] == "SNOWFLAKE_PRIVATE_KEY_FILE"


def test_credentials_file_values_are_exported_for_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key pair given only in the credentials file reaches dbt under the name it reads."""
    from f1_kedro.engines.snowflake.credentials import export_for_dbt

    environ = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    monkeypatch.setattr(os, "environ", environ)  # the export writes os.environ: keep it here
    export_for_dbt(
        SnowflakeCredentials.from_sources({}, {"private_key_file": "/k.p8", "account": "a"})
    )
    assert os.environ["SNOWFLAKE_PRIVATE_KEY_FILE"] == "/k.p8"
    assert os.environ["SNOWFLAKE_ACCOUNT"] == "a"
    assert os.environ["SNOWFLAKE_DATABASE"] == "FORMULA1"


def test_secrets_never_printed() -> None:
    credentials = SnowflakeCredentials.from_sources(
        {"SNOWFLAKE_PASSWORD": SECRET, "SNOWFLAKE_PRIVATE_KEY_FILE_PWD": SECRET + "2"}
    )
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert SECRET not in text and "***" in text
    with pytest.raises(MissingSnowflakeCredentialsError) as error:
        credentials.require()
    assert SECRET not in str(error.value)
    assert credentials.scrub(f"login failed for {SECRET}") == "login failed for ***"


def test_hook_fails_before_any_node_and_only_on_snowflake(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    local = SnowflakeSessionHook(SnowparkSessions(), environ={})
    local.after_context_created(_context({"ingest": {}}))
    local.before_pipeline_run({"pipeline_names": None})  # local engine: nothing to check

    hook = SnowflakeSessionHook(SnowparkSessions(), environ={"SNOWFLAKE_PASSWORD": SECRET})
    hook.after_context_created(_context({"snowflake": {"ml_stage": "X"}}, {"snowflake": {}}))
    with pytest.raises(MissingSnowflakeCredentialsError) as error:
        hook.before_pipeline_run({"pipeline_names": ["ingest"]})
    message = str(error.value)
    assert "SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE, SNOWFLAKE_WAREHOUSE" in message
    assert SECRET not in message and SECRET not in caplog.text


def test_hook_refuses_a_database_the_project_does_not_live_in() -> None:
    """SNOWFLAKE_DATABASE=OTHER would make dbt build in OTHER while the catalog reads FORMULA1."""
    complete = {
        "SNOWFLAKE_ACCOUNT": "a",
        "SNOWFLAKE_USER": "u",
        "SNOWFLAKE_PASSWORD": SECRET,
        "SNOWFLAKE_ROLE": "R",
        "SNOWFLAKE_WAREHOUSE": "W",
    }
    sessions = SnowparkSessions()
    hook = SnowflakeSessionHook(sessions, environ={**complete, "SNOWFLAKE_DATABASE": "OTHER"})
    hook.after_context_created(_context({"snowflake": {"database": "FORMULA1"}}))
    with pytest.raises(SnowflakeNamespaceError, match="SNOWFLAKE_DATABASE is OTHER.*FORMULA1"):
        hook.before_pipeline_run({"pipeline_names": ["features"]})
    same = SnowflakeSessionHook(sessions, environ={**complete, "SNOWFLAKE_DATABASE": "formula1"})
    same.after_context_created(_context({"snowflake": {"database": "FORMULA1"}}))
    same.before_pipeline_run({"pipeline_names": ["features"]})  # configures, does not connect


def test_connection_failure_message_has_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:  # a port nobody listens on: the connector fails at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sessions = SnowparkSessions()
    sessions.configure(
        SnowflakeCredentials(
            {
                "account": "acme",
                "user": "u",
                "password": SECRET,
                "role": "R",
                "warehouse": "W",
                "host": "127.0.0.1",
                "port": port,
                "protocol": "http",
                "login_timeout": 3,
                "network_timeout": 3,
            }
        )
    )
    with pytest.raises(
        SnowflakeConnectionError, match="account 'acme' at 127.0.0.1 as 'u'"
    ) as error:
        sessions.get()
    assert SECRET not in str(error.value) and error.value.__cause__ is None
    assert SECRET not in caplog.text


def test_warehouse_errors_are_scrubbed(tmp_path: Any, local_session: Any) -> None:
    (tmp_path / "01.sql").write_text(f"SELECT '{SECRET}';")
    credentials = SnowflakeCredentials({"password": SECRET})

    def failing_session() -> Any:
        raise RuntimeError(f"server said: bad statement SELECT '{SECRET}'")

    warehouse = SnowflakeWarehouse(failing_session, tmp_path, scrub=credentials.scrub)
    with pytest.raises(RuntimeError, match=r"01.sql: statement 1 failed") as error:
        warehouse.bootstrap({"setup_sql": ["01.sql"], "databases": {}, "stage": "A.B.C"})
    assert SECRET not in str(error.value) and "***" in str(error.value)


def test_query_tag_names_pipeline_and_node(
    local_session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = SnowparkSessions()
    sessions.use(local_session)
    environ = {
        "SNOWFLAKE_ACCOUNT": "a",
        "SNOWFLAKE_USER": "u",
        "SNOWFLAKE_PASSWORD": SECRET,
        "SNOWFLAKE_ROLE": "r",
        "SNOWFLAKE_WAREHOUSE": "w",
    }
    hook = SnowflakeSessionHook(sessions, environ=environ)
    hook.after_context_created(_context({"snowflake": {"ml_stage": "X"}}))
    hook.before_pipeline_run({"pipeline_names": ["ingest"]})
    hook.before_node_run(SimpleNamespace(name="load_raw_tables_node"))
    assert sessions.query_tag == "f1_kedro pipeline=ingest node=load_raw_tables_node"
    # local testing runs no SQL, so ALTER SESSION SET QUERY_TAG is refused: warned once, not fatal
    hook.before_node_run(SimpleNamespace(name="other_node"))
    assert caplog.text.count("could not set the Snowflake query tag") == 1
    assert sessions.get() is local_session
    hook.after_pipeline_run()
    assert sessions._session is None  # released; a session it did not create is not closed


def test_table_dataset_round_trip(local_session: Any) -> None:
    dataset = SnowflakeTableDataset(table="formula1.ml.features", session=local_session)
    assert not dataset.exists()
    frame = pd.DataFrame({"RACE_ID": [1, 2], "LABEL": [0, 2]})
    dataset.save(frame)
    assert dataset.exists()
    loaded = dataset.load()
    assert loaded.sort("RACE_ID").to_pandas().equals(frame)
    dataset.save(loaded.filter(loaded["LABEL"] == 0))  # a Snowpark DataFrame saves too
    assert dataset.load().count() == 1
    assert dataset.preview(5) == {
        "index": [0],
        "columns": ["RACE_ID", "LABEL"],
        "data": [["1", "0"]],
    }
    assert "FORMULA1.ML.FEATURES" in repr(dataset)


def test_table_dataset_checks_a_table_dbt_built(local_session: Any) -> None:
    dataset = SnowflakeTableDataset(table="FORMULA1.ML.FEATURES", session=local_session)
    with pytest.raises(DatasetError, match="dbt did not build FORMULA1.ML.FEATURES"):
        dataset.save(BuiltTable("FORMULA1.ML.FEATURES"))
    local_session.create_dataframe(pd.DataFrame({"A": [1]})).write.save_as_table(
        "FORMULA1.ML.FEATURES"
    )
    dataset.save(BuiltTable("formula1.ml.features"))  # exists: nothing written
    with pytest.raises(DatasetError, match="catalog entry is FORMULA1.ML.FEATURES"):
        dataset.save(BuiltTable("FORMULA1.ML.OTHER"))


def test_table_dataset_uses_the_runs_session(local_session: Any, monkeypatch: Any) -> None:
    from f1_kedro.engines.snowflake import datasets

    shared = SnowparkSessions()
    shared.use(local_session)
    monkeypatch.setattr(datasets, "SESSIONS", shared)
    dataset = SnowflakeTableDataset(table="RAW.FORMULA1.STATUS")
    assert dataset.session is local_session


@pytest.mark.parametrize("table", ["FEATURES", "ML.FEATURES", "FORMULA1.ML.FEATURES; DROP x"])
def test_table_names_are_three_validated_parts(table: str) -> None:
    with pytest.raises(Exception, match="DATABASE.SCHEMA.TABLE|not a plain SQL identifier"):
        SnowflakeTableDataset(table=table)
