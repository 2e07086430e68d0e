"""Lineage (issue 15.5): FORMULA1.ML.FEATURES_BUILD names every dbt var that shapes FEATURES."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from f1_kedro.registry.lineage import BUILD_VARS, FeaturesBuildError, features_build_record
from tests.features_build import features_build_frame

DBT = Path(__file__).resolve().parents[2] / "dbt"
PROJECT = DBT.parents[0]
VAR = re.compile(r"var\(\s*['\"](\w+)['\"]")
# Layers FEATURES is built from (dbt/models/ml holds scoring's models too: only features.sql).
FEATURE_SOURCES = ["staging", "intermediate", "marts"]


def _vars_read(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in VAR.findall(path.read_text())}


def test_the_build_row_names_every_var_features_reads() -> None:
    sql = [p for layer in FEATURE_SOURCES for p in (DBT / "models" / layer).glob("*.sql")]
    shaping = _vars_read([*sql, DBT / "models/ml/features.sql"])
    assert shaping == set(BUILD_VARS)
    assert _vars_read([DBT / "models/ml/features_build.sql"]) == set(BUILD_VARS)
    build_sql = (DBT / "models/ml/features_build.sql").read_text()
    assert all(f"{name}={{{{" in build_sql for name in BUILD_VARS)  # each named in BUILD


def test_every_build_var_has_its_default_in_dbt_project() -> None:
    # the defaults live in dbt/dbt_project.yml only; parameters_features.yml holds overrides
    defaults = yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]
    assert set(BUILD_VARS) <= set(defaults)


def test_the_record_train_stamps() -> None:
    record = features_build_record(features_build_frame(form_window=3, rows=7))
    assert record == {
        "build": "form_window=3;include_post_race_features=false",
        "vars": {"form_window": 3, "include_post_race_features": False},
        "features_rows": 7,
        "labelled_rows": 7,
        "seasons": [2010, 2024],
    }


def test_the_record_from_a_snowpark_frame() -> None:
    """On Snowflake train gets FEATURES_BUILD as a Snowpark DataFrame (Snowpark local testing)."""
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    try:
        frame = session.create_dataframe(features_build_frame(form_window=4, rows=9))
        record = features_build_record(frame)
    finally:
        session.close()
    assert record["build"] == "form_window=4;include_post_race_features=false"
    assert record["vars"] == {"form_window": 4, "include_post_race_features": False}
    assert (record["features_rows"], record["seasons"]) == (9, [2010, 2024])


def test_a_build_table_that_is_not_one_row_is_refused() -> None:
    both = pd.concat([features_build_frame(5), features_build_frame(3)])
    for frame in (both, both.iloc[:0]):
        with pytest.raises(FeaturesBuildError, match="FEATURES_BUILD holds .* rows, not 1"):
            features_build_record(frame)
