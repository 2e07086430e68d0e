"""The train stage's one-unit output (`trained`, docs/contracts.md "Registry") from the train
building blocks on a synthetic table, and registries in tmp folders.

Until the train pipeline emits the unit itself (branch model17), the fixture assembles it: one
snowflake-ml Pipeline (preprocessing steps, XGBClassifier last) fitted as a whole on the fit rows,
the search and metrics of the same rows, each part stamped with one run id.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
from snowflake.ml.modeling.pipeline import Pipeline

from f1_kedro.engines.mlflow_registry import MlflowModelRegistry
from f1_kedro.pipelines.train import modeling as m
from f1_kedro.pipelines.train import nodes as train_nodes
from tests.train.conftest import make_features, small_params

SCORES = ("accuracy", "macro_f1", "log_loss")


def build_trained() -> dict[str, Any]:
    params = small_params()
    train, validation, fit, test = train_nodes.split_by_season(make_features(), params)
    search = train_nodes.search_hyperparameters(train, validation, params)
    preprocessing, classifier, summary = train_nodes.fit_final_model(fit, search, params)
    metrics = train_nodes.evaluate(preprocessing, classifier, fit, test, params)
    features = summary["feature_columns"]
    pipeline = Pipeline(
        steps=[
            *m.build_preprocessing(params).steps,
            ("classifier", m.build_classifier(features, params["label"], search["best"], params)),
        ]
    ).fit(fit)
    season = summary["test_seasons"][0]
    block = {w: {k: metrics[w][k] for k in SCORES} for w in ("model", "baseline")}
    metrics["backtest"] = {"seasons": [season, season], **block}
    metrics["by_season"] = [{"season": season, **block}]
    run_id = uuid.uuid4().hex
    for part in (summary, metrics, search):
        part["run_id"] = run_id
    return {
        "run_id": run_id,
        "pipeline": pipeline,
        "summary": summary,
        "metrics": metrics,
        "search": search,
        "test_rows": test,  # not part of the unit: what the tests score with
    }


@pytest.fixture(scope="session")
def trained() -> dict[str, Any]:
    """What `kedro run --pipeline=train` hands the register node, from the synthetic table."""
    return build_trained()


def make_registry(models: Path) -> MlflowModelRegistry:
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
