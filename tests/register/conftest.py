"""Trained artefacts from the train nodes on a synthetic table, and registries in tmp folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from f1_kedro.engines.mlflow_registry import MlflowModelRegistry
from tests.train.conftest import train_synthetic


@pytest.fixture(scope="session")
def trained() -> dict[str, Any]:
    """What `kedro run --pipeline=train` hands the register node, from the synthetic table."""
    return train_synthetic()


@pytest.fixture
def mlflow_registry(tmp_path: Path) -> MlflowModelRegistry:
    models = tmp_path / "06_models"
    return MlflowModelRegistry(
        tracking_uri=f"sqlite:///{models / 'mlflow.db'}",
        artifacts_dir=str(models / "mlartifacts"),
        stage_dir=str(models / "ml_stage"),
    )


def register_params(mode: str = "if_better") -> dict[str, Any]:
    """`params:register` as in conf/base, with the promotion mode given."""
    return {
        "model_name": "f1_race_outcome",
        "promotion": {"mode": mode, "metric": "test_macro_f1", "higher_is_better": True},
    }


@pytest.fixture
def register_with(trained: dict[str, Any]) -> Any:
    """Run the register node with `trained`, optionally claiming a different test macro F1."""
    import copy

    from f1_kedro.pipelines.register.nodes import register_model
    from f1_kedro.pipelines.train.nodes import package_trained_model

    def run(registry: Any, macro_f1: float | None = None, mode: str = "if_better") -> dict:
        metrics = copy.deepcopy(trained["metrics"])
        if macro_f1 is not None:
            metrics["model"]["macro_f1"] = macro_f1
        unit = package_trained_model(
            trained["preprocessing_pipeline"],
            trained["classifier"],
            trained["train_summary"],
            {"best": {}},
            metrics,
        )
        return register_model(registry, unit, register_params(mode))

    return run
