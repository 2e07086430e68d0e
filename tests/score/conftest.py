"""Fixtures of the score tests: the dbt scoring model imported as a module."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PREDICTIONS_MODEL = Path(__file__).resolve().parents[2] / "dbt" / "models" / "ml" / "predictions.py"


@pytest.fixture(scope="session")
def predictions_model() -> ModuleType:
    """dbt/models/ml/predictions.py, loaded as dbt loads it: a file, not a package module."""
    spec = importlib.util.spec_from_file_location("predictions_model", PREDICTIONS_MODEL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
