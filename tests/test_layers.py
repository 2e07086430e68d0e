"""Layers that do not import upward: node code never imports an engine, engines never a pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "src" / "f1_kedro"
# What only the engine modules (and the catalog) may touch.
ENGINE_ONLY = ("f1_kedro.engines", "duckdb", "snowflake.snowpark", "snowflake.connector", "mlflow")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: Path) -> list[Path]:
    found = sorted(folder.rglob("*.py"))
    assert found, f"no Python files under {folder}"
    return found


@pytest.mark.parametrize("path", modules(PACKAGE / "pipelines"), ids=lambda p: p.name)
def test_pipeline_code_imports_no_engine(path: Path) -> None:
    assert_imports_no_engine(path)


def assert_imports_no_engine(path: Path) -> None:
    forbidden = {
        name
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in ENGINE_ONLY)
    }
    assert not forbidden, f"{path.relative_to(PROJECT_ROOT)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", modules(PACKAGE / "engines"), ids=lambda p: p.name)
def test_engines_import_no_pipeline(path: Path) -> None:
    upward = {name for name in imports(path) if name.startswith("f1_kedro.pipelines")}
    assert not upward, f"{path.relative_to(PROJECT_ROOT)} imports {sorted(upward)}"


# The engine-free core: shared contracts, interfaces, dbt, the registry policy, generic datasets.
ENGINE_FREE = [
    PACKAGE / name
    for name in (
        "contracts.py", "interfaces.py", "dbt_project.py", "dbt_layers.py", "ingest_spec.py",
        "identifiers.py", "tables.py", "table_ref.py", "params_types.py",
    )
] + modules(PACKAGE / "registry") + modules(PACKAGE / "datasets")  # fmt: skip


@pytest.mark.parametrize("path", ENGINE_FREE, ids=lambda p: p.name)
def test_engine_free_modules_import_no_engine(path: Path) -> None:
    assert_imports_no_engine(path)


@pytest.mark.parametrize(
    ("engine", "other"), [("duckdb", "snowflake"), ("snowflake", "duckdb")], ids=str
)
def test_one_engine_never_imports_the_other(engine: str, other: str) -> None:
    bad = {
        f"{path.name}: {name}"
        for path in modules(PACKAGE / "engines" / engine)
        for name in imports(path)
        if name.startswith(f"f1_kedro.engines.{other}")
    }
    assert not bad, f"engines/{engine} imports engines/{other}: {sorted(bad)}"
