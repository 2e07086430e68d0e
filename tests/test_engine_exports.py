"""The engine packages: every exported name resolves to a module of its package, and what the
catalog loads pulls in only what it needs (issues 13, 16): the embedded warehouse neither MLflow
nor dbt; Snowflake's datasets not snowflake-ml, its registry dataset not even Snowpark."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("engine", ["duckdb", "snowflake"])
def test_every_exported_name_resolves_to_a_module_of_the_package(engine: str) -> None:
    package = importlib.import_module(f"f1_kedro.engines.{engine}")
    for name in package.__all__:
        value = getattr(package, name)
        if isinstance(value, type) or callable(value):
            assert value.__module__.startswith(f"{package.__name__}."), name
            assert value.__name__ == name
        else:  # an object the package holds (SESSIONS): its class is the package's
            assert type(value).__module__.startswith(f"{package.__name__}."), name


def modules_after_loading(engine: str, names: tuple[str, ...], heavy: tuple[str, ...]) -> list:
    """Which of `heavy` a fresh interpreter holds after Kedro loads `names` from the engine."""
    code = (
        "import json, sys\n"
        "from kedro.utils import load_obj\n"
        f"for name in {names!r}:\n"
        f"    load_obj('f1_kedro.engines.{engine}.' + name)\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(found)


@pytest.mark.parametrize(
    ("engine", "names", "heavy", "loaded"),
    [
        (
            "duckdb",
            ("DuckDBWarehouseDataset", "DuckDBTableDataset", "DuckDBDbtProjectDataset"),
            ("mlflow", "dbt"),
            [],
        ),
        (
            "snowflake",
            ("SnowflakeWarehouseDataset", "SnowflakeTableDataset", "SnowflakeStageDataset"),
            ("snowflake.ml", "snowflake.snowpark"),
            ["snowflake.snowpark"],
        ),
        ("snowflake", ("SnowflakeRegistryDataset",), ("snowflake.ml", "snowflake.snowpark"), []),
    ],
    ids=["duckdb-warehouse", "snowflake-catalog", "snowflake-registry"],
)
def test_loading_a_dataset_imports_only_what_it_needs(
    engine: str, names: tuple[str, ...], heavy: tuple[str, ...], loaded: list
) -> None:
    assert modules_after_loading(engine, names, heavy) == loaded
