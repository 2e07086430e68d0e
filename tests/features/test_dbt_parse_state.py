"""dbt parses in full only when the project or the vars changed (real dbt, no warehouse needed).

A scratch project starts with the parse states of a default run (tests/support.py); the features
builds and the score build each keep their own, so neither invalidates the other's, and the score
build's request, passed as environment variables, re-parses only the files that read it (dbt logs
"Unable to do partial parsing" when it parses in full).
"""

from __future__ import annotations

from pathlib import Path

from f1_kedro.dbt_project import DbtProject
from f1_kedro.pipelines.score.params import request_env
from f1_kedro.project_config import resolved_config

FULL_PARSE = "Unable to do partial parsing"
# the score build's request, as the score node passes it (f1_kedro.pipelines.score.params)
SCORE_ENV = request_env(
    {
        "score_races": [],
        "score_seasons": [2024],
        "registry_model_name": "f1_race_outcome",
        "monitoring_last_n_races": 5,
        "monitoring_fit_seasons": [2019, 2021],
    }
)


def _fresh_project(root: Path) -> DbtProject:
    """A DbtProject as a new `kedro run` builds it from conf/base (no manifest in memory)."""
    entry = resolved_config("catalog", project_root=root)["dbt_project"]
    return DbtProject(env=entry["env"], vars=entry.get("vars", {}))


def _full_parses(root: Path) -> int:
    log = root / "dbt" / "logs" / "dbt.log"
    return log.read_text().count(FULL_PARSE) if log.exists() else 0


def test_a_scratch_project_parses_in_full_only_when_the_vars_change(project: Path) -> None:
    _fresh_project(project)._manifest({})  # the features builds: state copied in
    _fresh_project(project)._manifest({}, SCORE_ENV)  # the score build: its state copied too
    _fresh_project(project)._manifest({}, {**SCORE_ENV, "F1_SCORE_SEASONS": "[2023]"})
    _fresh_project(project)._manifest({}, {**SCORE_ENV, "F1_SCORE_RACES": '"next"'})
    _fresh_project(project)._manifest({})  # the next run's features: still partial
    assert _full_parses(project) == 0
    _fresh_project(project)._manifest({"form_window": 3})  # a var: dbt parses in full
    assert _full_parses(project) == 1
    _fresh_project(project)._manifest({"form_window": 3})  # once
    assert _full_parses(project) == 1


def test_a_new_request_reaches_the_models_config(project: Path) -> None:
    """What the partial parse re-reads: the Python model's config holds the new request."""
    dbt = _fresh_project(project)
    meta = dbt._manifest({}, SCORE_ENV).nodes["model.f1_formula1.predictions"].config.meta
    assert meta["score_seasons"] == "[2024]" and meta["registry_model_name"] == "f1_race_outcome"
    again = _fresh_project(project)._manifest({}, {**SCORE_ENV, "F1_SCORE_RACES": '"next"'})
    assert again.nodes["model.f1_formula1.predictions"].config.meta["score_races"] == '"next"'
    plain = _fresh_project(project)._manifest({"score_races": [1121]})  # a direct `dbt build`
    assert plain.nodes["model.f1_formula1.predictions"].config.meta["score_races"] == "[1121]"


def test_a_scratch_projects_first_run_parses_nothing_in_full(built_recent: Path) -> None:
    """The states copied into a scratch project are valid for a `kedro run`'s builds: their
    profile hash is the one the builds see (F1_WAREHOUSE_DIR set), and the score build's request
    is environment variables, which re-parse only the files that read them."""
    log = (built_recent / "f1_kedro" / "dbt" / "logs" / "dbt.log").read_text()
    assert log.count(FULL_PARSE) == 0, [line for line in log.splitlines() if FULL_PARSE in line]
    assert log.count("Partial parsing enabled:") == 2  # the features builds' parse, the score's


def test_one_project_object_parses_once_per_vars_and_env(project: Path) -> None:
    dbt = _fresh_project(project)
    first = dbt._manifest({})
    assert dbt._manifest({}) is first
    assert dbt._manifest({}, SCORE_ENV) is not first
    assert dbt._manifest({}, SCORE_ENV) is dbt._manifest({}, dict(SCORE_ENV))
