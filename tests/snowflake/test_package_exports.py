"""The Snowflake engine's package: every exported name resolves, and what the catalog loads pulls
in only what it needs (snowflake-ml only when the registry is used; issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys

import f1_kedro.engines.snowflake as snowflake_engine


def test_every_exported_name_resolves_to_a_module_of_the_package() -> None:
    for name in snowflake_engine.__all__:
        value = getattr(snowflake_engine, name)
        assert type(value).__module__.startswith("f1_kedro.engines.snowflake.") or (
            value.__module__.startswith("f1_kedro.engines.snowflake.") and value.__name__ == name
        ), name


def _modules_after_loading(*names: str) -> list[str]:
    code = (
        "import json, sys\n"
        "from kedro.utils import load_obj\n"
        f"for name in {names!r}:\n"
        "    load_obj('f1_kedro.engines.snowflake.' + name)\n"
        "heavy = ('snowflake.ml', 'snowflake.snowpark')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(found)


def test_the_catalogs_datasets_load_without_snowflake_ml() -> None:
    names = ("SnowflakeWarehouseDataset", "SnowflakeTableDataset", "SnowflakeStageDataset")
    assert _modules_after_loading(*names) == ["snowflake.snowpark"]


def test_the_registry_dataset_loads_without_snowflake_ml_or_snowpark() -> None:
    assert _modules_after_loading("SnowflakeRegistryDataset") == []
