"""The register node on the embedded engine: a real MLflow sqlite registry and stage folder."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import joblib
import mlflow
import mlflow.pyfunc
import numpy as np
import pytest
import yaml
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from pydantic import ValidationError

from f1_kedro.contracts import CLASS_LABELS, PROBA_PREFIX
from f1_kedro.engines.duckdb import served_model
from f1_kedro.pipelines.register.nodes import register_model
from f1_kedro.pipelines.register.params import Params
from f1_kedro.registry import RegistryError, TrainedUnitError, should_promote
from tests.register.conftest import make_registry, register_params

ROOT = Path(__file__).resolve().parents[2]


def test_each_run_is_a_new_version_and_the_champion_follows_the_policy(
    mlflow_registry, trained, register_with
):
    first = register_with(mlflow_registry, macro_f1=0.60)
    second = register_with(mlflow_registry, macro_f1=0.55)  # worse: champion stays
    third = register_with(mlflow_registry, macro_f1=0.60)  # tie: the newer one serves
    assert [first["version"], second["version"], third["version"]] == [1, 2, 3]
    assert [r["champion_moved"] for r in (first, second, third)] == [True, False, True]
    assert second["champion_version"] == 1 and third["champion_version"] == 3
    champion = mlflow_registry.champion("f1_race_outcome")
    assert champion["version"] == 3 and champion["metrics"]["backtest_macro_f1"] == 0.60
    assert champion["tags"]["train_run_id"] == trained["run_id"]
    for result in (first, second, third):
        stage = Path(result["stage_path"])
        assert stage.name == f"v{result['version']}" and stage.parent.parent.name == "ML_STAGE"
        manifest = json.loads((stage / "manifest.json").read_text())
        assert manifest["version"] == result["version"]
        assert manifest["tags"]["train_run_id"] == trained["run_id"]
        audit = joblib.load(stage / manifest["pipeline_file"])  # the unit's fitted parts
        assert hasattr(audit["preprocessing"], "transform")
        assert hasattr(audit["classifier"], "predict_proba")


@pytest.mark.parametrize("shape", ["preprocessing+classifier", "pipeline"])
def test_scoring_by_the_contract_gives_the_pipelines_probabilities(
    mlflow_registry, request, tmp_path, monkeypatch, shape
):
    """docs/contracts.md "Registry": load models:/<name>@champion as pyfunc, predict on
    rows[input_columns] -> n x 3 in class order; the same numbers as the fitted model."""
    trained = request.getfixturevalue("trained_pipeline" if shape == "pipeline" else "trained")
    unit = {k: v for k, v in trained.items() if k != "test_rows"}
    register_model(mlflow_registry, unit, register_params())
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # nothing may appear in the working directory
    uri = mlflow_registry.client().tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    model = mlflow.pyfunc.load_model("models:/f1_race_outcome@champion")
    tags = MlflowClient(uri, uri).get_model_version_by_alias("f1_race_outcome", "champion").tags
    columns = json.loads(tags["input_columns"])
    assert columns == trained["summary"]["input_columns"]
    rows = trained["test_rows"].copy()
    rows.loc[rows.index[0], columns[1]] = np.nan  # a NULL input is scored, not refused
    proba = np.asarray(model.predict(rows[columns]))
    if shape == "pipeline":
        expected = trained["pipeline"].predict_proba(rows[columns])
    else:
        transformed = trained["preprocessing"].transform(rows[columns])
        expected = trained["classifier"].predict_proba(transformed)
    expected = expected[[f"{PROBA_PREFIX}{k}" for k in sorted(CLASS_LABELS)]].to_numpy(float)
    assert proba.shape == (len(rows), len(CLASS_LABELS))
    np.testing.assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert json.loads(tags["class_labels"]) == {str(k): v for k, v in CLASS_LABELS.items()}
    assert json.loads(tags["fit_seasons"]) == trained["summary"]["fit_seasons"]
    assert json.loads(tags["decision"]) == trained["summary"]["decision"]  # train's tuned rule
    assert not list(cwd.iterdir())  # no stray mlflow.db / mlruns


def test_the_pyfunc_module_names_the_contracts_probability_prefix():
    assert served_model.PROBA_PREFIX == PROBA_PREFIX


def test_a_unit_from_two_train_runs_is_refused_before_any_write(tmp_path, trained):
    mlflow_registry = make_registry(tmp_path / "06_models", store=False)  # nor is one made
    unit = {k: v for k, v in trained.items() if k != "test_rows"}
    unit["metrics"] = {**trained["metrics"], "run_id": "an-older-run"}
    with pytest.raises(TrainedUnitError, match=r"mixes train runs: .*metrics run_id=an-older-run"):
        register_model(mlflow_registry, unit, register_params())
    assert not Path(mlflow_registry.tracking_uri.removeprefix("sqlite:///")).exists()


def test_a_promotion_metric_train_does_not_produce_is_refused_before_any_write(tmp_path, trained):
    mlflow_registry = make_registry(tmp_path / "06_models", store=False)  # nor is one made
    unit = {k: v for k, v in trained.items() if k != "test_rows"}
    with pytest.raises(ValueError, match="register.promotion.metric 'backtest_f1'"):
        register_model(mlflow_registry, unit, register_params(metric="backtest_f1"))
    assert not Path(mlflow_registry.tracking_uri.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize("where", ["stage", "sqlite"])
def test_disk_full_during_register_names_the_folder_and_registers_nothing(
    mlflow_registry, register_with, monkeypatch, where
):
    register_with(mlflow_registry, macro_f1=0.5)

    def full(*args, **kwargs):
        if where == "stage":
            raise OSError(errno.ENOSPC, "No space left on device")
        raise MlflowException("(sqlite3.OperationalError) database or disk is full")

    if where == "stage":
        monkeypatch.setattr(mlflow_registry.stage, "write", full)
    else:
        monkeypatch.setattr(type(mlflow_registry.client()), "set_model_version_tag", full)
    with pytest.raises(RegistryError, match=r"disk full .* free space"):
        register_with(mlflow_registry, macro_f1=0.9)
    monkeypatch.undo()
    assert not mlflow_registry.stage.path("f1_race_outcome", 2).exists()
    assert mlflow_registry.champion("f1_race_outcome")["version"] == 1
    versions = mlflow_registry.client().search_model_versions("name='f1_race_outcome'")
    assert [str(v.version) for v in versions] == ["1"]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"model_name": "f1", "promotion": {"metrc": "x"}}, "metrc"),
        ({"model_name": "../x"}, "model_name"),
        ({"model_name": "f1", "promotion": {"mode": "sometimes"}}, "mode"),
        ({"model_name": "f1", "extra": 1}, "extra"),
    ],
)
def test_register_parameters_are_checked_by_the_schema(params, problem):
    with pytest.raises(ValidationError, match=problem):
        Params.model_validate(params)


def test_the_shipped_register_parameters_pass_the_schema():
    shipped = yaml.safe_load((ROOT / "conf/base/parameters_register.yml").read_text())
    assert Params.model_validate(shipped["register"]).promotion.metric == "backtest_macro_f1"


def test_an_existing_stage_folder_is_never_overwritten(mlflow_registry, register_with):
    register_with(mlflow_registry)
    blocker = mlflow_registry.stage.path("f1_race_outcome", 2)
    blocker.mkdir(parents=True)
    (blocker / "pipeline.joblib").write_bytes(b"written before")
    with pytest.raises(RegistryError, match="never overwritten"):
        register_with(mlflow_registry, macro_f1=0.99)
    assert (blocker / "pipeline.joblib").read_bytes() == b"written before"
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
    metrics = {
        **trained["metrics"],
        "backtest": {"model": scores, "baseline": scores},
        "by_season": [{"season": 2021, "model": scores, "baseline": {**scores, "brier": 0.5}}],
    }
    flat = registry_metrics(metrics)
    assert flat["backtest_log_loss"] == 0.65 and flat["backtest_baseline_brier"] == 0.4
    assert flat["backtest_2021_macro_f1"] == 0.6 and flat["backtest_baseline_2021_brier"] == 0.5
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


def test_a_version_a_killed_run_left_incomplete_is_dropped_by_the_next_run(
    mlflow_registry, register_with, monkeypatch
):
    """SIGKILL between the MLflow version and its stage folder (no `except` runs): emulated by
    a failing stage write whose clean-up is disabled; the next run drops the half version."""
    register_with(mlflow_registry, macro_f1=0.5)

    def _fail(*args, **kwargs):
        raise ZeroDivisionError("killed")

    client_class = type(mlflow_registry.client())
    monkeypatch.setattr(client_class, "delete_model_version", lambda *a, **k: None)
    monkeypatch.setattr(mlflow_registry.stage, "write", _fail)
    with pytest.raises(ZeroDivisionError):
        register_with(mlflow_registry, macro_f1=0.9)
    monkeypatch.undo()
    versions = mlflow_registry.client().search_model_versions("name='f1_race_outcome'")
    assert sorted(int(v.version) for v in versions) == [1, 2]  # the half-made version 2
    assert mlflow_registry.champion("f1_race_outcome")["version"] == 1
    third = register_with(mlflow_registry, macro_f1=0.9)
    versions = mlflow_registry.client().search_model_versions("name='f1_race_outcome'")
    assert sorted(int(v.version) for v in versions) == [1, 3]
    assert third["champion_version"] == 3


def test_the_experiment_opens_on_training_runs(mlflow_registry, register_with):
    register_with(mlflow_registry)
    experiment = mlflow_registry.client().get_experiment_by_name("f1_race_outcome")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    runs = mlflow_registry.client().search_runs([experiment.experiment_id])
    assert runs[0].info.run_name.startswith("register-f1_race_outcome-")
