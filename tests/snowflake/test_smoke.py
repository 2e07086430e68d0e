"""Issue 18: the real-account smoke command (bench/snowflake_smoke.py) cannot run here, so what it
generates is tested: its names, the renamed project (SQL parsed by sqlglot's Snowflake dialect,
no object outside the smoke namespace), the drop at the end (also after a failure), the dry run.
Its renamed project's bootstrap, ingest and features run on the emulator in test_emulated_run.py."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml
from sqlglot import exp

from bench import snowflake_smoke as smoke
from f1_kedro.identifiers import identifier
from f1_kedro.project_config import resolved_config

NAMES = smoke.SmokeNames.at(dt.datetime(2026, 11, 28, 10, 30, 5, tzinfo=dt.UTC))
P = "F1_SMOKE_20261128T103005"
# sqlglot keeps these as an opaque Command: checked by their leading words instead
COMMANDS = ("CREATE ROLE", "GRANT ROLE", "GRANT")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("smoke") / P
    smoke.scratch_project(project, NAMES)
    return project


def test_names_are_one_valid_prefix() -> None:
    assert NAMES.prefix == P and NAMES.database == P and NAMES.raw_database == f"{P}_RAW"
    for statement in NAMES.drops():
        identifier(statement.split()[-1], "smoke object")


def _created(statements: list[str]) -> dict[str, set[str]]:
    created: dict[str, set[str]] = {"DATABASE": set(), "WAREHOUSE": set(), "ROLE": set()}
    for statement in statements:
        words = statement.split()
        if words[0] == "CREATE" and words[1] in created:
            created[words[1]].add(words[-1] if words[1] == "ROLE" else words[5])
    return created


def test_the_renamed_setup_sql_parses_and_stays_in_the_namespace(scratch: Path) -> None:
    statements = smoke.setup_statements(scratch)
    assert len(statements) == len(smoke.setup_statements(smoke.ROOT)) == 61  # nothing lost
    for statement in statements:
        tree = sqlglot.parse_one(statement, read="snowflake")
        if isinstance(tree, exp.Command):
            assert statement.startswith(COMMANDS), statement
        for table in tree.find_all(exp.Table):
            if table.catalog:
                assert table.catalog.startswith(P), statement
        # every name of a database, warehouse or role carries the prefix; the RAW schema keeps
        # its name (RAW.FORMULA1 -> <P>_RAW.FORMULA1)
        unquoted = re.sub(r"'[^']*'", "''", statement)  # comments and URLs are not names
        for word in unquoted.replace(";", " ").replace(",", " ").split():
            assert word.split(".")[0] not in {"RAW", "FORMULA1", "LOADING", "LOADER"}, statement
    created = _created(statements)
    assert created == {
        "DATABASE": {P, f"{P}_RAW"},
        "WAREHOUSE": {f"{P}_{w}" for w in smoke.WAREHOUSES},
        "ROLE": {f"{P}_{r}" for r in smoke.ROLES},
    }
    # the cleanup drops exactly what the setup creates
    dropped = {(s.split()[1], s.split()[-1]) for s in NAMES.drops()}
    assert dropped == {(kind, name) for kind, names in created.items() for name in names}
    for statement in NAMES.drops():
        assert isinstance(sqlglot.parse_one(statement, read="snowflake"), exp.Drop)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_the_renamed_conf_and_dbt_name_only_smoke_objects(scratch: Path) -> None:
    files = [*scratch.glob("conf/*/*.yml"), scratch / "dbt/dbt_project.yml"]
    files += [scratch / "dbt/models/staging/__sources.yml"]
    names = [s for f in files for s in _strings(yaml.safe_load(f.read_text()) or {})]
    for name in [n for n in names if n != "FORMULA1"]:  # alone, FORMULA1 is RAW's schema
        head = name.lstrip("@").split(".")[0].split("__")[0]
        assert head not in {"RAW", "FORMULA1"}, name
    assert f"{P}_RAW.FORMULA1.{{table}}" in names
    # the names written once in conf/base/globals.yml reach every entry as Kedro resolves them
    catalog = resolved_config("catalog", "snowflake", project_root=scratch)
    assert (
        catalog["trained_model"]["location"] == f"@{P}.ML.ML_STAGE/kedro/train/trained_model.joblib"
    )
    assert catalog["model_registry"]["database"] == P
    assert catalog["warehouse"]["file_format"] == f"{P}_RAW.FORMULA1.CSV_FORMAT"
    sources = yaml.safe_load((scratch / "dbt/models/staging/__sources.yml").read_text())
    assert sources["sources"][0]["database"] == f"{P}_RAW"
    assert sources["sources"][0]["schema"] == "FORMULA1"
    dbt_vars = yaml.safe_load((scratch / "dbt/dbt_project.yml").read_text())["vars"]
    assert dbt_vars["snowflake_registry_database"] == P
    params = resolved_config("parameters", "snowflake", project_root=scratch)
    assert params["snowflake"]["database"] == P  # what the run checks SNOWFLAKE_DATABASE against
    assert params["snowflake"]["ml_stage"] == params["bootstrap"]["stage"] == f"{P}.ML.ML_STAGE"
    assert params["ingest"]["source_uri"] == f"@{P}_RAW.FORMULA1.FORMULA1_STAGE"
    # the tables the score build reports back (each checked against its catalog entry's name)
    tables = {k: v for k, v in params["score"].items() if k.endswith("_table")}
    assert len(tables) == 4 and all(v.startswith(f"{P}.ML.") for v in tables.values()), tables
    assert tables["predictions_table"] == catalog["predictions"]["table"]


def test_the_dry_run_prints_every_statement_and_connects_to_nothing(
    scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import snowflake.connector

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the dry run connected")

    monkeypatch.setattr(snowflake.connector, "connect", refuse)
    lines: list[str] = []
    smoke.dry_run(NAMES, tmp_path, lines.append)
    printed = "\n".join(lines)
    for statement in smoke.setup_statements(scratch):
        assert f"{statement};" in lines
    for command in smoke.commands(NAMES):
        assert " ".join(command) in printed
    assert lines[-len(NAMES.drops()) :] == [f"{s};" for s in NAMES.drops()]
    assert "train.search.grid.max_depth=[3]" in printed  # the one-point grid
    assert f"SELECT count(*) FROM {P}.ML.FEATURES;" in printed


def test_the_dry_run_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [smoke.sys.executable, "-m", "bench.snowflake_smoke", "--dry-run"],
        cwd=smoke.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},  # no SNOWFLAKE_* at all
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.rstrip().endswith("_REPORTER;")
    assert "DROP DATABASE IF EXISTS F1_SMOKE_" in result.stdout


class _Recorder:
    def __init__(self) -> None:
        self.executed: list[str] = []
        self.closed = False

    def cursor(self) -> _Recorder:
        return self

    def execute(self, statement: str) -> _Recorder:
        self.executed.append(statement)
        return self

    def fetchall(self) -> list[tuple[int]]:
        return [(1,)]

    def close(self) -> None:
        self.closed = True


def test_a_failed_stage_still_drops_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _Recorder()
    monkeypatch.setattr(smoke, "_connect", lambda project: connection)
    stages: list[str] = []

    def kedro(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        stages.append(command[command.index("--pipelines") + 1])
        return subprocess.CompletedProcess(command, 1 if stages[-1] == "ingest" else 0)

    monkeypatch.setattr(smoke.subprocess, "run", kedro)
    with pytest.raises(RuntimeError, match="ingest failed"):
        smoke.run(NAMES, tmp_path)
    assert stages == ["bootstrap", "ingest"]
    assert connection.executed == NAMES.drops() and connection.closed
