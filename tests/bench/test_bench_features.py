"""bench/features_*: pandas and the dbt SQL give the same features (on 2 x seasons 2021-2024).

A smoke test of the benchmark code, not a benchmark: nothing here is timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.features_compare import PANDAS_TABLE, check_same, feature_vars
from bench.features_pandas import timed_build
from bench.features_sql import feature_chain, run_chain
from bench.project import ScratchProject
from bench.scale import scale
from bench.warehouse import connect_warehouse
from f1_kedro.engines.duckdb import DuckDBWarehouse
from f1_kedro.ingest_spec import table_specs
from tests.support import write_subset


@pytest.fixture(scope="module")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> ScratchProject:
    """A scratch project whose warehouse holds 2 x seasons 2021-2024 and dbt's feature models."""
    tmp = tmp_path_factory.mktemp("bench_features")
    source = scale(2, tmp / "x2", source=write_subset(shared_data, tmp / "subset", 2021, 2024))
    assert source["results"] > 0
    project = ScratchProject(parent=tmp)
    params = yaml.safe_load((project.root / "conf/base/parameters_ingest.yml").read_text())
    warehouse = DuckDBWarehouse(project.root / "data" / "warehouse")
    warehouse.bootstrap({"databases": {"RAW": ["FORMULA1"], "FORMULA1": ["ML"]}, "stage": "S"})
    for spec in table_specs(params["ingest"]):
        warehouse.load_csv_table(spec, str(tmp / "x2"))
    dbt = str(Path(sys.executable).with_name("dbt"))
    done = subprocess.run(
        [dbt, "build", "--project-dir", "dbt", "--profiles-dir", "dbt", "--select", "+features"]
        + ["--indirect-selection", "cautious", "--vars", json.dumps(feature_vars(project.root))],
        cwd=project.root,
        env={**os.environ, "F1_WAREHOUSE_DIR": "data/warehouse"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return project


def test_compiled_sql_chain_rebuilds_the_features(built: ScratchProject) -> None:
    chain = feature_chain(built.root / "dbt" / "target" / "manifest.json")
    assert chain[-1].relation.upper().endswith('"ML"."FEATURES"')
    timings = run_chain(chain, built.root / "data" / "warehouse")
    assert set(timings["models"]) >= {"features", "fct_results", "dim_races"}


def test_pandas_features_equal_the_sql_features(built: ScratchProject) -> None:
    warehouse = built.root / "data" / "warehouse"
    dbt_vars = feature_vars(built.root)
    result = timed_build(warehouse, int(dbt_vars.get("form_window", 5)), False)
    check = check_same(warehouse)
    assert check["same"], check
    assert check["rows_sql"] == result["rows"] > 0
    assert check["columns_compared"] >= 20


def test_the_check_sees_a_changed_value(built: ScratchProject) -> None:
    warehouse = built.root / "data" / "warehouse"
    timed_build(warehouse, int(feature_vars(built.root).get("form_window", 5)), False)
    with connect_warehouse(warehouse) as con:
        con.execute(
            f"UPDATE {PANDAS_TABLE} SET DRIVER_AVG_FINISH_LAST_5 = DRIVER_AVG_FINISH_LAST_5 + 1e-6 "
            f"WHERE RACE_ID = (SELECT max(RACE_ID) FROM {PANDAS_TABLE})"
        )
    check = check_same(warehouse)
    assert not check["same"]
    assert list(check["differing_columns"]) == ["DRIVER_AVG_FINISH_LAST_5"]
