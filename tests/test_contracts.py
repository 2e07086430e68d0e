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


def test_the_score_request_reaches_dbt_under_the_names_dbt_reads() -> None:
    """The score node passes its request as environment variables F1_<VAR> (JSON); the dbt
    project reads each with the var as default: through macros/score_request.sql in SQL, inline in
    the models' yml (no macros there). Names, the JSON default and the var's home are tied here."""
    request = score_params.Params.model_construct(
        races=None, seasons=[], monitoring_last_n_races=5
    ).request("m", [2010, 2022])
    env = score_params.request_env(request)
    assert env == {f"F1_{name.upper()}": env[f"F1_{name.upper()}"] for name in request}
    defaults = yaml.safe_load((ROOT / "dbt/dbt_project.yml").read_text())["vars"]
    assert set(request) <= set(defaults)  # the var, each request's default, lives there

    macro = (ROOT / "dbt/macros/score_request.sql").read_text()
    assert "env_var('F1_' ~ (name | upper), tojson(var(name)))" in macro
    inline = re.compile(r"env_var\('(F1_[A-Z_]+)', tojson\(var\('([a-z_]+)'\)\)\)")
    read: set[str] = set()
    for path in (ROOT / "dbt").rglob("*"):
        if path.suffix not in (".yml", ".sql", ".py") or "target" in path.parts:
            continue
        text = path.read_text()
        for env_name, var in inline.findall(text):
            assert env_name == f"F1_{var.upper()}" and var in request, (path, env_name, var)
            read.add(var)
        read.update(re.findall(r"score_request\('([a-z_]+)'\)", text))
        # no request var read bare: it would miss the node's environment variable
        bare = {v for v in re.findall(r"\bvar\('([a-z_]+)'", text) if v in request}
        assert bare <= {v for _, v in inline.findall(text)}, (path, bare)
    assert read == set(request)  # every part of the request is read somewhere
