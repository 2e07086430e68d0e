"""The embedded engine's package: every exported name resolves, and the warehouse loads alone."""

from __future__ import annotations

import subprocess
import sys

import f1_kedro.engines.duckdb as duckdb_engine


def test_every_exported_name_resolves_to_the_package() -> None:
    for name in duckdb_engine.__all__:
        value = getattr(duckdb_engine, name)
        assert value.__module__.startswith("f1_kedro.engines.duckdb."), name
        assert value.__name__ == name


def test_loading_the_warehouse_datasets_does_not_import_mlflow_or_dbt() -> None:
    code = (
        "import sys\n"
        "from kedro.utils import load_obj\n"
        "for name in ('DuckDBWarehouseDataset', 'DuckDBTableDataset', 'DuckDBDbtProjectDataset'):\n"
        "    load_obj('f1_kedro.engines.duckdb.' + name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mlflow', 'dbt'}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
