"""Issue 16: configuration facts written once (conf/<env>/globals.yml), and what must agree.

Each value of the globals files appears nowhere else in conf/ (every other file reads it as
`${globals:...}`), and the entries that read it resolve to the values a run used before globals:
the same folder for every DuckDB dataset and dbt's profile, the same ML stage for every Snowflake
stage dataset, the registry and the bootstrap, each environment's dbt target.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.project_config import resolved_config
from tests.conftest import PROJECT_ROOT

CONF = PROJECT_ROOT / "conf"
ENVS = ("base", "snowflake")
# parts of every table name (FORMULA1.ML.FEATURES): held once as the stage's parts, not as names
NAME_PARTS = {"database", "ml_schema"}


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def _copies(fact: str, leaf: str) -> bool:
    # a path or dotted name is copied when it is part of a value; a bare word only when it is one
    return fact in leaf if ("/" in fact or "." in fact) else leaf == fact


def _facts() -> dict[str, str]:
    facts: dict[str, str] = {}
    for env in ENVS:
        written = yaml.safe_load((CONF / env / "globals.yml").read_text())
        resolved = resolved_config("globals", env)
        facts |= {resolved[k]: f"{env}/globals.yml {k}" for k in written if k not in NAME_PARTS}
    return facts


@pytest.mark.parametrize(
    "path", sorted(p for p in CONF.glob("*/*.yml") if p.name != "globals.yml"), ids=str
)
def test_no_conf_file_copies_a_global(path: Path) -> None:
    facts = _facts()
    copies = [
        f"{where} = {leaf!r} copies {facts[fact]} ({fact!r}): write ${{globals:...}}"
        for where, leaf in _leaves(yaml.safe_load(path.read_text()) or {})
        for fact in facts
        if _copies(fact, leaf)
    ]
    assert copies == [], f"{path.relative_to(PROJECT_ROOT)}: {copies}"


def test_the_checks_find_a_copy() -> None:
    facts = _facts()
    assert {"data/warehouse", "data/06_models", "FORMULA1.ML.ML_STAGE", "ML_STAGE"} <= set(facts)
    assert _copies("data/warehouse", "data/warehouse") and _copies("duckdb", "duckdb")
    assert _copies("@FORMULA1.ML.ML_STAGE", "@FORMULA1.ML.ML_STAGE/kedro/train/metrics.json")
    assert not _copies("duckdb", "f1_kedro.engines.duckdb.DuckDBTableDataset")


def test_the_embedded_engine_reads_one_warehouse_folder_and_one_model_folder() -> None:
    catalog = resolved_config("catalog", "base")
    folder = catalog["warehouse"]["directory"]
    assert folder == "data/warehouse"  # the value before globals.yml
    tables = [
        entry.get("directory", entry.get("dataset", {}).get("directory"))
        for name, entry in catalog.items()
        if "DuckDBTableDataset" in str(entry)
    ]
    assert len(tables) >= 10 and set(tables) == {folder}
    assert catalog["dbt_project"]["env"]["F1_WAREHOUSE_DIR"] == folder
    assert catalog["dbt_project"]["target"] == "duckdb"
    assert catalog["dbt_project"]["type"] == "f1_kedro.engines.duckdb.DuckDBDbtProjectDataset"
    # dbt/profiles.yml's own default (dbt run by hand) is the same folder, from dbt/
    profile = (PROJECT_ROOT / "dbt/profiles.yml").read_text()
    assert "(flags.PROFILES_DIR or '.') ~ '/../data/warehouse'" in profile
    registry = catalog["model_registry"]
    assert registry["tracking_uri"] == "sqlite:///data/06_models/mlflow.db"
    assert registry["artifacts_dir"] == "data/06_models/mlartifacts"
    assert registry["stage_dir"] == catalog["warehouse"]["stage_dir"] == "data/06_models/ml_stage"
    # bootstrap names the stage as on Snowflake; its folder is the last part
    stage = resolved_config("parameters")["bootstrap"]["stage"]
    assert registry["stage"] == stage.split(".")[-1] == "ML_STAGE"
    assert catalog["trained_model"]["path"] == "data/06_models/trained_model"
    assert catalog["registered_model"]["filepath"] == "data/06_models/registered_model.json"
    # dbt's default for hand-run scoring (dbt/dbt_project.yml cannot read Kedro's globals)
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt/dbt_project.yml").read_text())["vars"]
    assert dbt_vars["mlflow_tracking_uri"] == registry["tracking_uri"]
    mlflow = resolved_config("mlflow", "base")["server"]["mlflow_tracking_uri"]
    assert mlflow.endswith("/data/06_models/mlflow.db")


def test_snowflake_reads_one_ml_stage_and_its_own_dbt_target() -> None:
    catalog = resolved_config("catalog", "snowflake")
    params = resolved_config("parameters", "snowflake")
    stage = params["snowflake"]["ml_stage"]
    assert stage == params["bootstrap"]["stage"] == "FORMULA1.ML.ML_STAGE"
    registry = catalog["model_registry"]
    assert ".".join((registry["database"], registry["schema"], registry["stage"])) == stage
    assert registry["database"] == params["snowflake"]["database"] == "FORMULA1"
    locations = {name: entry["location"] for name, entry in catalog.items() if "location" in entry}
    assert set(locations) == {
        "bootstrap_report",
        "ingest_report",
        "trained_model",
        "metrics",
        "registered_model",
    }
    assert all(loc.startswith(f"@{stage}/kedro/") for loc in locations.values()), locations
    assert catalog["warehouse"]["file_format"] == params["snowflake"]["file_format"]
    assert params["ingest"]["source_uri"] == f"@{params['snowflake']['source_stage']}"
    # conf/snowflake declares no dbt_project: base's entry, with snowflake's globals
    assert "dbt_project" not in yaml.safe_load(
        (CONF / "snowflake/catalog_features.yml").read_text()
    )
    dbt = catalog["dbt_project"]
    assert (dbt["type"], dbt["target"]) == ("f1_kedro.dbt_project.DbtProjectDataset", "snowflake")


def test_snowflake_has_no_embedded_engine_dataset() -> None:
    """Every base entry on DuckDB files has its Snowflake twin: none reaches --env snowflake."""
    catalog = resolved_config("catalog", "snowflake")
    on_duckdb = sorted(name for name, entry in catalog.items() if "engines.duckdb" in str(entry))
    assert on_duckdb == []


@pytest.mark.parametrize("env", [None, "snowflake"])
def test_the_score_tables_in_parameters_are_the_catalogs(env: str | None) -> None:
    """The score node returns each table it built by the name params give it, and the catalog
    entry checks that name (f1_kedro.tables.BuiltTable): the two must be the same table."""
    score = resolved_config("parameters", env)["score"]
    catalog = resolved_config("catalog", env)
    datasets = {
        "predictions_table": "predictions",
        "monitoring_table": "model_monitoring",
        "latest_table": "predictions_latest",
        "explanations_table": "prediction_explanations",
    }
    assert {key for key in score if key.endswith("_table")} == set(datasets)
    for key, dataset in datasets.items():
        assert score[key] == catalog[dataset]["table"], (key, dataset)
