"""Issue 15.1: train hands register one unit, written after evaluation succeeded, never mixed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from kedro.io import DatasetError

from f1_kedro.datasets import TrainedModelDataset
from f1_kedro.pipelines.register.nodes import check_one_run
from f1_kedro.pipelines.train import nodes
from tests.train.conftest import train_synthetic


def _unit(features: Any, params: dict[str, Any]) -> dict[str, Any]:
    t = train_synthetic(params, features)
    return nodes.package_trained_model(
        t["preprocessing_pipeline"], t["classifier"], t["train_summary"], t["search"], t["metrics"]
    )


def test_one_run_id_in_every_part(features, params) -> None:
    unit = _unit(features, params)
    assert check_one_run(unit) == unit["run_id"]
    assert {unit[p]["run_id"] for p in ("summary", "metrics", "search")} == {unit["run_id"]}


@pytest.mark.parametrize("part", ["summary", "metrics", "search"])
def test_register_refuses_parts_of_another_run(features, params, part) -> None:
    unit = _unit(features, params)
    mixed = {**unit, part: {**unit[part], "run_id": "0" * 32}}
    with pytest.raises(ValueError, match=f"mixes train runs: .*{part} run_id=0000"):
        check_one_run(mixed)


def test_the_unit_is_swapped_in_whole(features, params, tmp_path: Path) -> None:
    dataset = TrainedModelDataset(str(tmp_path / "06_models" / "trained_model"))
    with pytest.raises(DatasetError, match="run `kedro run --pipeline=train` first"):
        dataset.load()
    first = _unit(features, params)
    dataset.save(first)
    loaded = dataset.load()
    assert loaded["run_id"] == first["run_id"] and check_one_run(loaded) == first["run_id"]
    assert loaded["metrics"] == first["metrics"]
    proba = loaded["classifier"].predict_proba(loaded["preprocessing"].transform(features))
    assert len(proba) == len(features)

    second = {**copy.deepcopy(first), "run_id": "b" * 32}
    second |= {p: {**first[p], "run_id": "b" * 32} for p in ("summary", "metrics", "search")}
    dataset.save(second)
    assert dataset.load()["run_id"] == "b" * 32
    # only the current run's folder and the link remain: no old or temporary folders
    assert sorted(p.name for p in (tmp_path / "06_models").iterdir()) == [
        f".trained_model.{'b' * 32}",
        "trained_model",
    ]


def test_a_failed_save_leaves_the_previous_run(features, params, tmp_path: Path) -> None:
    dataset = TrainedModelDataset(str(tmp_path / "trained_model"))
    first = _unit(features, params)
    dataset.save(first)
    broken = {**first, "run_id": "c" * 32, "preprocessing": lambda frame: frame}  # unpicklable
    with pytest.raises(Exception, match="lambda|pickle"):
        dataset.save(broken)
    assert dataset.load()["run_id"] == first["run_id"]
