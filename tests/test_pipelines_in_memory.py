"""Each pipeline as Kedro wires it, run in memory: SequentialRunner on a DataCatalog, no session.

As kedro-starters' spaceflights tests do: the nodes are tested one by one in tests/<stage>/, the
full sessions (hooks, catalog files, the CLI) in the slower tests; these check the wiring in a
second, with real components where they are cheap (a real MLflow registry in a folder, the real
train code on a synthetic table) and a recording dbt where dbt would cost a build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kedro.io import MemoryDataset

from f1_kedro.pipelines import features, register, score, train
from f1_kedro.registry import check_trained
from f1_kedro.tables import BuiltTable
from tests.features_build import features_build_frame
from tests.register.conftest import make_registry
from tests.support import FakeDbt, base_params, run_in_memory
from tests.train.conftest import make_features, small_params


def memory(value: Any) -> MemoryDataset:
    return MemoryDataset(value, copy_mode="assign")  # handles (registry, dbt) are not copied


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    """The train pipeline on a synthetic table (2015-2020): every output, by name."""
    return run_in_memory(
        train.create_pipeline(),
        {
            "model_input_table": memory(make_features()),
            "features_build": memory(features_build_frame()),
        },
        {"train": small_params()},
    )


def test_train_hands_register_one_unit_of_one_run(trained: dict[str, Any]) -> None:
    unit = trained["trained_model"]
    run_id = check_trained(unit)  # every part there, each with the unit's run id
    assert run_id and unit["summary"]["fit_seasons"] == [2015, 2020]
    assert unit["metrics"]["backtest"]["seasons"] == [2017, 2020]
    assert unit["summary"]["features_build"]["vars"] == {
        "form_window": 5,
        "include_post_race_features": False,
    }
    plots = {
        "backtest_plot",
        "reliability_plot",
        "confusion_matrix_plot",
        "feature_importance_plot",
    }
    assert plots <= set(trained), sorted(trained)


def test_register_promotes_the_first_version(trained: dict[str, Any], tmp_path: Path) -> None:
    registry = make_registry(tmp_path / "06_models")
    out = run_in_memory(
        register.create_pipeline(),
        {"model_registry": memory(registry), "trained_model": memory(trained["trained_model"])},
        {"register": base_params("register")},
    )
    registered = out["registered_model"]
    assert registered["version"] == 1 and registered["champion_version"] == 1, registered
    assert registry.champion(registered["model_name"])["version"] == 1


def test_features_builds_every_dbt_layer_once_in_order() -> None:
    pipeline = features.create_pipeline()
    dbt = FakeDbt()
    given = {
        name: memory(BuiltTable(name.replace("__", ".")))
        for name in pipeline.inputs()
        if name.startswith("RAW__")
    }
    params = {**base_params("features"), "vars": {"form_window": 3}}
    out = run_in_memory(
        pipeline,
        {"dbt_project": memory(dbt), "ingest_report": memory({"source": "s"}), **given},
        {"features": params},
    )
    layers = [call["select"] for call in dbt.calls]
    assert [call["vars"] for call in dbt.calls] == [{"form_window": 3}] * len(layers)
    names = [str(select) for select in layers]
    order = ["staging", "intermediate", "marts", "ml"]
    positions = [next(i for i, n in enumerate(names) if layer in n) for layer in order]
    assert positions == sorted(positions), names
    assert out["model_input_table"] == BuiltTable("FORMULA1.ML.FEATURES")
    assert out["dbt_features_report"]["raw_source"] == "s"


def score_request(seasons: Any) -> tuple[Any, FakeDbt, dict[str, Any]]:
    pipeline = score.create_pipeline().only_nodes("check_request_node", "build_predictions_node")
    dbt = FakeDbt()
    datasets = {
        "dbt_project": memory(dbt),
        "registered_model": memory({"model_name": "f1_race_outcome", "version": 1}),
        "features_build": memory(features_build_frame()),  # FEATURES holds 2010-2024
    }
    params = {"score": {**base_params("score"), "seasons": seasons}, "train": small_params()}
    return pipeline, dbt, {"datasets": datasets, "params": params}


def test_score_builds_the_requested_seasons() -> None:
    pipeline, dbt, run = score_request([2023, 2024])
    out = run_in_memory(pipeline, run["datasets"], run["params"])
    (call,) = dbt.calls
    assert call["env"]["F1_SCORE_SEASONS"] == "[2023, 2024]"
    assert call["env"]["F1_REGISTRY_MODEL_NAME"] == '"f1_race_outcome"'
    assert out["dbt_score_report"]["seasons_requested"] == [2023, 2024]


def test_score_refuses_a_season_features_lacks_before_dbt_runs() -> None:
    pipeline, dbt, run = score_request([2030])
    with pytest.raises(ValueError, match=r"score_seasons \[2030\].*holds seasons 2010-2024"):
        run_in_memory(pipeline, run["datasets"], run["params"])
    assert dbt.calls == []
