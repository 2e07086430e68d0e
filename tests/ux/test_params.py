"""Parameter schemas: every group of conf/base and conf/snowflake passes, each mistake is named.

The run-level test drives a real KedroSession on a scratch project: a bad parameter stops the run
before the first node, and nothing is written under data/.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.params import ParameterError, problems_of, schema_for
from f1_kedro.project_config import resolved_config
from tests.conftest import PROJECT_ROOT, run_kedro

BASE = resolved_config("parameters", "base")


def _snowflake_params() -> dict[str, Any]:
    return resolved_config("parameters", "snowflake")  # conf/snowflake soft-merged over base


@pytest.mark.parametrize("env_params", [BASE, _snowflake_params()], ids=["base", "snowflake"])
def test_the_shipped_parameters_pass(env_params: dict[str, Any]) -> None:
    assert problems_of(env_params) == []


@pytest.mark.parametrize("group", ["bootstrap", "ingest", "features", "snowflake"])
def test_my_groups_have_a_schema(group: str) -> None:
    assert schema_for(group) is not None


def _with(group: str, dotted: str, value: Any) -> dict[str, Any]:
    params = _snowflake_params() if group == "snowflake" else copy.deepcopy(BASE)
    level = params[group]
    *parents, leaf = dotted.split(".")
    for part in parents:
        level = level[part]
    level[leaf] = value
    return {group: params[group]}


@pytest.mark.parametrize(
    ("group", "key", "value", "expected"),
    [
        ("features", "vars.form_window", 0, "features.vars.form_window: Input should be greater"),
        ("features", "vars.form_window", "5", "features.vars.form_window: Input should be a valid"),
        ("features", "vars.form_windw", 3, "features.vars.form_windw: unknown key"),
        (
            "features",
            "select",
            "f1_formula1",
            "features.select: expected a list, got 'f1_formula1'",
        ),
        ("features", "select", [], "features.select: List should have at least 1 item"),
        (
            "features",
            "feature_table",
            "FEATURES",
            "features.feature_table: expected DATABASE.SCHEMA",
        ),
        (
            "bootstrap",
            "stage",
            "FORMULA1.ML.ML STAGE",
            "bootstrap.stage: name part 'ML STAGE' is not a plain SQL",
        ),
        ("bootstrap", "stage", "ML_STAGE", "bootstrap.stage: expected DATABASE.SCHEMA.NAME"),
        (
            "bootstrap",
            "stage",
            "FORMULA1.MARTZ.ML_STAGE",
            "bootstrap: stage 'FORMULA1.MARTZ.ML_STAGE' is in FORMULA1.MARTZ, which databases",
        ),
        ("bootstrap", "ml_stage", "FORMULA1.ML.ML_STAGE", "bootstrap.ml_stage: unknown key"),
        ("bootstrap", "databases", {}, "bootstrap.databases: Dictionary should have at least 1"),
        (
            "ingest",
            "tables.races.columns.year",
            "INT64",
            "ingest.tables.races.columns.year: unknown",
        ),
        (
            "ingest",
            "tables.races.primary_key",
            ["race_id"],
            "ingest.tables.races: primary_key names",
        ),
        ("ingest", "tables.races.ragged_tail", "yes", "ingest.tables.races.ragged_tail: Input"),
        (
            "ingest",
            "source_uri",
            "nope://bucket/x",
            "ingest.source_uri: unsupported protocol 'nope'",
        ),
        ("snowflake", "warehouses.loading", "LOAD-ING", "snowflake.warehouses.loading: name"),
        ("snowflake", "roles.admin", "X", "snowflake.roles.admin: unknown key"),
    ],
)
def test_each_mistake_is_one_named_line(group: str, key: str, value: Any, expected: str) -> None:
    problems = problems_of(_with(group, key, value))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_unknown_group_is_named() -> None:
    assert problems_of({"featurs": {"select": ["x"]}}) == [
        "featurs: unknown parameter group (no pipeline of that name)"
    ]


def test_every_problem_is_listed() -> None:
    params = _with("features", "vars.form_window", 0)
    params["features"]["extra"] = 1
    assert len(problems_of(params)) == 2


def test_feature_vars_are_dbt_vars() -> None:
    """The schema's dbt vars exist in dbt_project.yml (a dbt var cannot import the schema)."""
    from f1_kedro.pipelines.features.params import DbtVars

    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt" / "dbt_project.yml").read_text())["vars"]
    assert set(DbtVars.model_fields) <= set(dbt_vars)
    assert BASE["features"]["vars"] == {}  # the defaults live in dbt_project.yml only


def test_a_run_with_a_bad_parameter_stops_before_any_write(project: Path) -> None:
    def files() -> dict[str, tuple[int, int]]:  # the MLflow store is there: a copy of an empty one
        found = (project / "data").rglob("*")
        return {str(f): (f.stat().st_mtime_ns, f.stat().st_size) for f in found if f.is_file()}

    before = files()
    with pytest.raises(ParameterError) as raised:
        run_kedro(
            project, "bootstrap", params={"bootstrap.stag": "X", "features.vars.form_window": 0}
        )
    assert sorted(raised.value.problems) == [
        "bootstrap.stag: unknown key",
        "features.vars.form_window: Input should be greater than or equal to 1",
    ]
    assert files() == before


def test_a_refused_score_run_leaves_the_summary_as_it_was(project: Path) -> None:
    """Parameters are checked before the summary is marked unfinished (issue 15.6's hook)."""
    summary = project / "data/08_reporting/score_summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text('{"seasons": [2023]}')
    with pytest.raises(ParameterError):
        run_kedro(project, "score", params={"score.racez": "next"})
    assert summary.read_text() == '{"seasons": [2023]}'
