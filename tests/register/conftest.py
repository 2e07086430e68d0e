"""The train stage's one-unit output (`trained`, docs/contracts.md "Registry") from the train
building blocks on a synthetic table, and registries in tmp folders.

The unit comes from train's own nodes (tests/train/conftest's `train_synthetic`: backtest,
served refit, evaluation) and `package_trained_model`; a second fixture holds the whole-pipeline
shape.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from snowflake.ml.modeling.pipeline import Pipeline

from f1_kedro.engines.duckdb import MlflowModelRegistry
from f1_kedro.pipelines.train import modeling as m
from f1_kedro.pipelines.train import nodes as train_nodes
from tests.support import seed_mlflow_store
from tests.train.conftest import make_features, small_params, train_synthetic


def build_trained(whole_pipeline: bool = False) -> dict[str, Any]:
    """The unit as train's `package_trained_model` makes it (preprocessing + classifier), or,
    with `whole_pipeline`, as one snowflake-ml Pipeline fitted as a whole (the brief's shape)."""
    params = small_params()
    run = train_synthetic(params)
    summary, search = run["train_summary"], run["search"]
    unit = train_nodes.package_trained_model(
        run["preprocessing_pipeline"], run["classifier"], summary, search, run["metrics"]
    )
    if whole_pipeline:
        _, fit = train_nodes.select_rows(make_features(), params)
        features = summary["feature_columns"]
        last = m.build_classifier(features, params["label"], search["best"], params)
        steps = [*m.build_preprocessing(params).steps, ("classifier", last)]
        unit = {k: v for k, v in unit.items() if k not in ("preprocessing", "classifier")}
        unit["pipeline"] = Pipeline(steps=steps).fit(fit)
    return {**unit, "test_rows": run["test_rows"]}  # test_rows: what tests score, not the unit


@pytest.fixture(scope="session")
def trained() -> dict[str, Any]:
    """What `kedro run --pipeline=train` hands the register node, from the synthetic table."""
    return build_trained()


@pytest.fixture(scope="session")
def trained_pipeline() -> dict[str, Any]:
    return build_trained(whole_pipeline=True)


def make_registry(models: Path, store: bool = True) -> MlflowModelRegistry:
    """A registry in `models`; its store a copy of an empty one (tests/support.py
    `seed_mlflow_store`), or, `store=False`, none yet: the registry makes it on first use."""
    if store:
        seed_mlflow_store(models)
    return MlflowModelRegistry(
        tracking_uri=f"sqlite:///{models / 'mlflow.db'}",
        artifacts_dir=str(models / "mlartifacts"),
        stage_dir=str(models / "ml_stage"),
    )


@pytest.fixture
def mlflow_registry(tmp_path: Path) -> MlflowModelRegistry:
    return make_registry(tmp_path / "06_models")


def register_params(mode: str = "if_better", metric: str = "backtest_macro_f1") -> dict[str, Any]:
    """`params:register` as in conf/base, with the promotion mode given."""
    return {
        "model_name": "f1_race_outcome",
        "promotion": {"mode": mode, "metric": metric, "higher_is_better": True},
    }


@pytest.fixture
def register_with(trained: dict[str, Any]) -> Any:
    """Run the register node with `trained`, optionally claiming a different backtest macro F1."""
    from f1_kedro.pipelines.register.nodes import register_model

    def run(registry: Any, macro_f1: float | None = None, mode: str = "if_better") -> dict:
        unit = {k: v for k, v in trained.items() if k != "test_rows"}
        unit["metrics"] = copy.deepcopy(trained["metrics"])
        if macro_f1 is not None:
            unit["metrics"]["backtest"]["model"]["macro_f1"] = macro_f1
        return register_model(registry, unit, register_params(mode))

    return run
