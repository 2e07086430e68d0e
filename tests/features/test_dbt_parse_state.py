"""dbt parses in full only when the project or the vars changed (real dbt, no warehouse needed).

A scratch project starts with the parse state of a default run (tests/support.py); the features
builds' vars and the score build's vars each keep their own state, so neither invalidates the
other's (dbt logs "Unable to do partial parsing" when it parses in full).
"""

from __future__ import annotations

from pathlib import Path

from f1_kedro.dbt_project import DbtProject
from f1_kedro.project_config import resolved_config

FULL_PARSE = "Unable to do partial parsing"
SCORE_VARS = {"score_races": [], "score_seasons": [2024], "registry_model_name": "f1_race_outcome"}


def _fresh_project(root: Path) -> DbtProject:
    """A DbtProject as a new `kedro run` builds it from conf/base (no manifest in memory)."""
    entry = resolved_config("catalog", project_root=root)["dbt_project"]
    return DbtProject(env=entry["env"], vars=entry.get("vars", {}))


def _full_parses(root: Path) -> int:
    log = root / "dbt" / "logs" / "dbt.log"
    return log.read_text().count(FULL_PARSE) if log.exists() else 0


def test_each_set_of_vars_parses_in_full_once_then_partially(project: Path) -> None:
    _fresh_project(project)._manifest({})  # the features builds' vars: state copied in
    assert _full_parses(project) == 0
    _fresh_project(project)._manifest(SCORE_VARS)  # first score build: its own state, new
    assert _full_parses(project) == 1
    _fresh_project(project)._manifest({})  # the next run's features: still partial
    _fresh_project(project)._manifest(SCORE_VARS)  # and its score build too
    assert _full_parses(project) == 1
    _fresh_project(project)._manifest({**SCORE_VARS, "score_seasons": [2023]})  # a new value
    assert _full_parses(project) == 2


def test_a_scratch_projects_first_run_parses_in_full_only_for_its_score_build(
    built_recent: Path,
) -> None:
    """The state copied into a scratch project is valid for a `kedro run`'s features builds: its
    profile hash is the one the builds see (F1_WAREHOUSE_DIR set), so only the score build, whose
    vars have no state yet, parses in full."""
    log = (built_recent / "f1_kedro" / "dbt" / "logs" / "dbt.log").read_text()
    assert log.count(FULL_PARSE) == 1, [line for line in log.splitlines() if FULL_PARSE in line]
    assert "saved manifest not found" in log


def test_one_project_object_parses_once_per_vars(project: Path) -> None:
    dbt = _fresh_project(project)
    first = dbt._manifest({})
    assert dbt._manifest({}) is first
    assert dbt._manifest(SCORE_VARS) is not first
