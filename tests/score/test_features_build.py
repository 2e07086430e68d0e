"""Lineage (issue 15.5): FORMULA1.ML.FEATURES_BUILD names every dbt var that shapes FEATURES."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from f1_kedro.registry.lineage import BUILD_VARS, features_build_record
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


def test_the_features_parameters_set_the_same_vars() -> None:
    params = yaml.safe_load((PROJECT / "conf/base/parameters_features.yml").read_text())
    assert set(params["features"]["vars"]) == set(BUILD_VARS)


def test_the_record_train_stamps() -> None:
    record = features_build_record(features_build_frame(form_window=3, rows=7))
    assert record == {
        "build": "form_window=3;include_post_race_features=false",
        "vars": {"form_window": 3, "include_post_race_features": False},
        "features_rows": 7,
        "labelled_rows": 7,
        "seasons": [2010, 2024],
    }
