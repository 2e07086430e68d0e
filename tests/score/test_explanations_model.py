"""dbt/models/ml/prediction_explanations.py without dbt: its copies and its top-k logic."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from tests.dbt_python_models import ML

# Each model's own: the entry point and its output. Every other name both files define is a copy.
OWN = {"model", "OUTPUT_COLUMNS"}
# The loaders explanations need from predictions.py (one registry, one served version).
LOADERS = {
    "ScoringError", "KEYS", "TRAIN_AND_REGISTER", "RUN_FIRST",
    "load_mlflow_champion", "ARTIFACTS_FOLDER", "relocated_artifacts",
    "SNOWFLAKE_TAGS_METRIC", "snowflake_registry", "served_snowflake_version",
    "served_snowflake_tags", "version_number", "model_inputs_snowpark",
}  # fmt: skip


def definitions(path: Path) -> dict[str, str]:
    """Top-level functions, classes and constants of a file, as source text."""
    source = path.read_text()
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            found[node.name] = ast.get_source_segment(source, node)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.get_source_segment(source, node)
    return found


def test_every_name_both_models_define_is_the_same_text() -> None:
    """A dbt Python model cannot import another: explanations copies predictions.py's loaders."""
    scoring, explaining = (
        definitions(ML / "predictions.py"),
        definitions(ML / "prediction_explanations.py"),
    )
    copied = set(scoring) & set(explaining) - OWN
    assert copied == LOADERS, "a copy was added or dropped: update LOADERS (and the docstrings)"
    for name in sorted(copied):
        assert explaining[name] == scoring[name], f"{name} differs from predictions.py's"


def test_top_contributions_of_the_predicted_class(explanations_model: ModuleType) -> None:
    scored = pd.DataFrame(
        {"RACE_ID": [1, 1], "DRIVER_ID": [7, 8], "MODEL_NAME": "m", "MODEL_VERSION": "2",
         "SCORED_AT": pd.Timestamp("2026-11-28"), "PREDICTED_LABEL": [0, 2]}
    )  # fmt: skip
    values = pd.DataFrame({"GRID": [1.0, 18.0], "AGE": [26.0, 30.0], "TEAM_x": [1.0, 0.0]})
    contributions = np.zeros((2, 3, 3))
    contributions[0, 0] = [0.9, -0.1, 0.3]  # driver 7, class 0: GRID, TEAM_x
    contributions[1, 2] = [0.2, 0.05, -0.7]  # driver 8, class 2: TEAM_x, GRID
    contributions[1, 0] = [5.0, 5.0, 5.0]  # another class: ignored

    frame = explanations_model.top_contributions(scored, values, contributions, top_k=2)

    assert list(frame.columns) == explanations_model.OUTPUT_COLUMNS
    assert list(zip(frame.DRIVER_ID, frame.RANK, frame.FEATURE, strict=True)) == [
        (7, 1, "GRID"), (7, 2, "TEAM_x"), (8, 1, "TEAM_x"), (8, 2, "GRID"),
    ]  # fmt: skip
    assert list(frame.CONTRIBUTION) == pytest.approx([0.9, 0.3, -0.7, 0.2])
    assert list(frame.FEATURE_VALUE) == [1.0, 1.0, 0.0, 18.0]


def test_label_names_are_the_contracts() -> None:
    from f1_kedro import contracts

    tree = ast.parse((ML / "predictions.py").read_text())
    literal = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CLASS_LABELS"
    )
    assert literal == contracts.CLASS_LABELS
