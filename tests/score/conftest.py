"""Fixtures of the score tests: the dbt scoring models imported as modules."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests import dbt_python_models


@pytest.fixture(scope="session")
def predictions_model() -> ModuleType:
    """dbt/models/ml/predictions.py, loaded as dbt loads it: a file, not a package module."""
    return dbt_python_models.load("predictions")


@pytest.fixture(scope="session")
def explanations_model() -> ModuleType:
    """dbt/models/ml/prediction_explanations.py, loaded the same way."""
    return dbt_python_models.load("prediction_explanations")
