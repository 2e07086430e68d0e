"""The copies that cannot import f1_kedro.contracts agree with it (issue 16).

dbt/models/ml/features.sql is SQL and dbt/models/ml/predictions.py runs as a Snowflake stored
procedure that cannot import project code: both keep literal copies, read here from their text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from f1_kedro import contracts
from f1_kedro.pipelines.score import params as score_params
from f1_kedro.pipelines.train import decision
from tests import dbt_python_models
from tests.feature_columns import features_sql_columns

ROOT = Path(__file__).resolve().parents[1]
FEATURES_SQL = (ROOT / "dbt/models/ml/features.sql").read_text()
PREDICTIONS_PY = ROOT / "dbt/models/ml/predictions.py"


def _literals(path: Path) -> dict[str, object]:
    """Module-level `NAME = <literal>` assignments of a Python file, without importing it."""
    values = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass  # not a literal (e.g. built from other names)
    return values


def test_scoring_model_keys_and_probability_columns() -> None:
    literals = _literals(PREDICTIONS_PY)
    assert literals["KEYS"] == list(contracts.KEYS)
    assert literals["PROBABILITY_COLUMNS"] == list(contracts.PROBABILITY_COLUMNS)
    assert literals["NEXT"] == score_params.NEXT  # score.races' word for the next race


def test_features_sql_labels_positions_as_the_contract_does() -> None:
    cases = re.findall(r"between (\d+) and (\d+) then (\d)", FEATURES_SQL)
    assert {int(c): (int(a), int(b)) for a, b, c in cases} == contracts.CLASS_POSITIONS
    assert re.search(r"else (\d)\s+end as LABEL", FEATURES_SQL).group(1) == str(
        max(contracts.CLASS_LABELS)
    )


def test_features_sql_holds_the_contracts_columns_and_the_configured_features() -> None:
    """The model's features are FEATURES' columns less the contract's (contracts.feature_columns):
    the configured ones are among them, and the post-race column only under its var."""
    columns = features_sql_columns()
    named = {*contracts.CONTEXT_COLUMNS, *contracts.OUTCOME_COLUMNS, *contracts.POST_RACE_COLUMNS}
    assert named <= set(columns)
    guarded = "".join(
        re.findall(r"if var\('include_post_race_features'\) %\}(.*?)\{%", FEATURES_SQL, re.S)
    )
    for column in contracts.POST_RACE_COLUMNS:
        assert f"as {column}" in guarded, f"{column} is built without its var"
    train = yaml.safe_load((ROOT / "conf/base/parameters_train.yml").read_text())["train"]
    configured = {*train["numeric_features"], *train["categorical_features"]}
    features = contracts.feature_columns(columns)
    assert configured <= set(features)
    assert not named & set(features)


@pytest.mark.parametrize(
    "rule",
    [
        {"rule": "argmax"},
        {"rule": "weighted_argmax", "class_weights": [1.3, 0.8, 1]},
        {"rule": "weighted_argmax", "class_weights": [2, 2, 1]},
        {"rule": "weighted_argmax", "class_weights": [1, 0, 1]},
        {"rule": "weighted_argmax", "class_weights": [1, 1]},
        {"rule": "weighted_argmax", "class_weights": [True, 1, 1]},
        {"rule": "weighted_argmax"},
        {"rule": "vote"},
        {},
    ],
)  # fmt: skip
def test_scoring_reads_the_decision_tag_as_train_applies_it(rule: dict[str, Any]) -> None:
    """predictions.py's decide / decision_weights are a copy of train's decision.apply / weights."""
    scoring = dbt_python_models.load("predictions")
    proba = np.random.default_rng(0).dirichlet(np.ones(len(contracts.CLASS_LABELS)), 200)
    try:
        trained = decision.apply(proba, rule)
    except ValueError:
        with pytest.raises(scoring.ScoringError, match="decision tag"):
            scoring.decide(proba, rule)
        return
    assert scoring.decision_weights(rule) == list(decision.weights(rule, proba.shape[1]))
    np.testing.assert_array_equal(scoring.decide(proba, rule), trained)
