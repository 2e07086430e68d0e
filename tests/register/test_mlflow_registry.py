"""The register node on the embedded engine: a real MLflow sqlite registry and stage folder."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import mlflow.xgboost
import numpy as np
import pytest

from f1_kedro.registry import RegistryError, should_promote


def test_each_run_is_a_new_version_and_the_champion_follows_the_policy(
    mlflow_registry, trained, register_with
):
    first = register_with(mlflow_registry, macro_f1=0.60)
    second = register_with(mlflow_registry, macro_f1=0.55)  # worse: champion stays
    third = register_with(mlflow_registry, macro_f1=0.60)  # tie: the newer one serves
    assert [first["version"], second["version"], third["version"]] == [1, 2, 3]
    assert [r["champion_moved"] for r in (first, second, third)] == [True, False, True]
    assert second["champion_version"] == 1 and third["champion_version"] == 3
    assert mlflow_registry.champion("f1_race_outcome")["version"] == 3
    assert mlflow_registry.champion("f1_race_outcome")["metrics"]["test_macro_f1"] == 0.60
    for result in (first, second, third):
        stage = Path(result["stage_path"])
        assert stage.name == f"v{result['version']}" and stage.parent.parent.name == "ML_STAGE"
        assert json.loads((stage / "manifest.json").read_text())["version"] == result["version"]


def test_scoring_can_load_the_champion_and_its_preprocessing(
    mlflow_registry, trained, register_with
):
    """What the dbt scoring model does: champion by alias, stage path from the version's tag."""
    register_with(mlflow_registry)
    client = mlflow_registry.client()
    version = client.get_model_version_by_alias("f1_race_outcome", "champion")
    stage = Path(version.tags["stage_path"])
    manifest = json.loads((stage / "manifest.json").read_text())
    preprocessing = joblib.load(stage / manifest["preprocessing_file"])
    model = mlflow.xgboost.load_model("models:/f1_race_outcome@champion")
    rows = preprocessing.transform(trained["test_rows"])
    proba = model.predict_proba(rows[manifest["feature_columns"]])
    expected = trained["classifier"].to_xgboost().predict_proba(rows[manifest["feature_columns"]])
    np.testing.assert_allclose(proba, expected)
    assert manifest["input_columns"] == trained["train_summary"]["input_columns"]


def test_an_existing_stage_folder_is_never_overwritten(mlflow_registry, register_with):
    register_with(mlflow_registry)
    blocker = mlflow_registry.stage.path("f1_race_outcome", 2)
    blocker.mkdir(parents=True)
    (blocker / "preprocessing.joblib").write_bytes(b"written before")
    with pytest.raises(RegistryError, match="never overwritten"):
        register_with(mlflow_registry, macro_f1=0.99)
    assert (blocker / "preprocessing.joblib").read_bytes() == b"written before"
    assert mlflow_registry.champion("f1_race_outcome")["version"] == 1
    versions = mlflow_registry.client().search_model_versions("name='f1_race_outcome'")
    assert [str(v.version) for v in versions] == ["1"]  # the incomplete version was removed


def test_a_failure_mid_register_leaves_the_champion(
    mlflow_registry, trained, register_with, monkeypatch
):
    register_with(mlflow_registry, macro_f1=0.5)

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(mlflow_registry.stage, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        register_with(mlflow_registry, macro_f1=0.9)
    monkeypatch.undo()
    assert mlflow_registry.champion("f1_race_outcome")["version"] == 1
    assert not list(mlflow_registry.stage.root.glob("f1_race_outcome/.v*"))  # no temp leftovers
    third = register_with(mlflow_registry, macro_f1=0.9)
    assert third["version"] == 3  # version numbers are never reused
    assert third["champion_version"] == 3


@pytest.mark.parametrize(
    ("candidate", "champion", "policy", "expected"),
    [
        (0.7, None, {"mode": "if_better", "metric": "m"}, True),
        (0.7, 0.8, {"mode": "if_better", "metric": "m"}, False),
        (0.8, 0.8, {"mode": "if_better", "metric": "m"}, True),
        (0.9, 0.8, {"mode": "if_better", "metric": "m", "higher_is_better": False}, False),
        (0.1, 0.8, {"mode": "always", "metric": "m"}, True),
        (0.9, 0.8, {"mode": "never", "metric": "m"}, False),
    ],
)
def test_should_promote(candidate, champion, policy, expected):
    current = None if champion is None else {"version": 1, "metrics": {"m": champion}}
    assert should_promote({"m": candidate}, current, policy) is expected


def test_an_unknown_policy_mode_fails():
    with pytest.raises(ValueError, match="promotion.mode"):
        should_promote({"m": 1}, None, {"mode": "sometimes", "metric": "m"})


def test_backtest_metrics_reach_the_registry(trained: dict) -> None:
    from f1_kedro.pipelines.register.nodes import registry_metrics

    scores = {"rows": 10, "accuracy": 0.7, "macro_f1": 0.6, "log_loss": 0.65, "brier": 0.4}
    metrics = {**trained["metrics"], "backtest": {"model": scores, "baseline": scores}}
    flat = registry_metrics(metrics)
    assert flat["backtest_log_loss"] == 0.65 and flat["backtest_baseline_brier"] == 0.4
    assert "backtest_rows" not in flat and "test_macro_f1" in flat


def test_register_parameters_are_checked_before_any_write() -> None:
    """params:register has a schema: a typo or a name that is not an identifier is one line."""
    from f1_kedro.params import problems_of

    good = {"model_name": "f1_race_outcome", "promotion": {"mode": "if_better"}}
    assert problems_of({"register": good}) == []
    assert problems_of({"register": {**good, "promotoin": {}}}) == [
        "register.promotoin: unknown key"
    ]
    (problem,) = problems_of({"register": {**good, "model_name": "../outside"}})
    assert problem.startswith("register.model_name") and "not a plain SQL identifier" in problem
    (problem,) = problems_of({"register": {**good, "promotion": {"mode": "sometimes"}}})
    assert problem.startswith("register.promotion.mode")
