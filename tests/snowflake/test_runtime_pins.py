"""Issue 18, defect 4: the runtime Snowflake serves the model with is the one that fitted it.

One place lists it (conf/snowflake/catalog_register.yml, which `Registry.log_model` gets); the
scoring stored procedure's `packages` (a literal in the dbt Python model, which dbt parses
statically) and constraints.txt (what `make install` fits with) must agree with it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from f1_kedro.project_config import resolved_config

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, object]:
    return resolved_config("catalog", "snowflake")["model_registry"]


def _dbt_config() -> dict[str, object]:
    tree = ast.parse((ROOT / "dbt/models/ml/predictions.py").read_text())
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "config"
        and any(k.arg == "packages" for k in node.keywords)
    )
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_every_pin_is_exact_and_equals_constraints() -> None:
    constraints = _constraints()
    pins = _pins()["conda_dependencies"]
    assert {"snowflake-ml-python", "xgboost", "scikit-learn"} <= {p.split("==")[0] for p in pins}
    for pin in pins:
        name, _, version = pin.partition("==")
        assert version, f"{pin} is not pinned"
        assert constraints[name] == version, f"{pin} but constraints.txt has {constraints[name]}"


def test_scoring_procedure_runs_the_same_runtime() -> None:
    config = _dbt_config()
    assert config["packages"] == _pins()["conda_dependencies"]
    assert config["python_version"] == _pins()["python_version"]
    # and the local interpreter is the one the model is fitted with
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == _pins()["python_version"]


def test_register_logs_the_model_with_the_pins() -> None:
    from f1_kedro.engines.snowflake.registry import SnowflakeRegistryDataset

    entry = {k: v for k, v in _pins().items() if k != "type"}
    registry = SnowflakeRegistryDataset(**entry).load()
    assert registry.conda_dependencies == _pins()["conda_dependencies"]
    assert registry.python_version == "3.11"
