"""`params:train` is checked by its schema before any node runs (issues 14 and 15)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.params import problems_of

ROOT = Path(__file__).resolve().parents[2]
TRAIN = yaml.safe_load((ROOT / "conf/base/parameters_train.yml").read_text())


GRID = "train.search.grid"


def _with(change: Any) -> dict[str, Any]:
    params = copy.deepcopy(TRAIN)
    change(params["train"])
    return params


def test_the_projects_parameters_pass() -> None:
    assert problems_of(TRAIN) == []


def test_a_season_range_is_a_pair_a_year_or_text() -> None:
    """The one season grammar (f1_kedro.params_types), as score.seasons reads it."""
    from f1_kedro.pipelines.train.modeling import season_range

    written = {
        "train": "2010-2021",
        "validation": 2022,
        "test": ["2023 2024"],
        "backtest": "2016-2024",
    }
    assert problems_of(_with(lambda t: t.update(seasons=written))) == []
    as_pairs = TRAIN["train"]["seasons"]
    for name in written:
        assert season_range({"seasons": written}, name) == tuple(as_pairs[name])
    with pytest.raises(ValueError, match=r"train.seasons.test: \[2021, 2023, 2024\] is not"):
        season_range({"seasons": {"test": [2021, 2023, 2024]}}, "test")
    with pytest.raises(ValueError, match="train.seasons.test is empty: 2024 > 2023"):
        season_range({"seasons": {"test": [2024, 2023]}}, "test")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t["search"]["grid"].update(max_dept=[4]), f"{GRID}.max_dept: unknown key"),
        (lambda t: t["search"]["grid"].update(max_depth=4), f"{GRID}.max_depth: expected a list"),
        (lambda t: t["search"]["grid"].update(learning_rate=[]), f"{GRID}.learning_rate"),
        (lambda t: t["seasons"].update(test=[2025, 2024]), "train.seasons: test is empty"),
        (lambda t: t["seasons"].update(validation=[2021, 2021]), "train.seasons: train <"),
        (lambda t: t["seasons"].update(backtest=[2011, 2024]), "train.seasons: backtest"),
        (lambda t: t["seasons"].update(test="2023-2024-2025"), "train.seasons.test: '2023-2024-"),
        (lambda t: t["seasons"].update(test=[2022, 2024, 2025]), "train.seasons.test: [2022, 2024"),
        (lambda t: t["seasons"].update(train=[1900, 2015]), "train.seasons: train 1900-2015 is"),
        (lambda t: t.update(n_jobs=0), "train.n_jobs"),
        (lambda t: t.update(backtest_workers=0), "train.backtest_workers"),
        (lambda t: t.update(numeric_features=[]), "train.numeric_features"),
        (lambda t: t["baseline"].update(smoothing=-1), "train.baseline.smoothing"),
        (lambda t: t.update(seasons_typo={}), "train.seasons_typo: unknown key"),
        (lambda t: t["decision"].update(rule="vote"), "train.decision.rule"),
        (lambda t: t["decision"].update(objective="f1"), "train.decision.objective"),
        (lambda t: t["decision"].update(weight_candidates=[0]), "train.decision.weight_candidates"),
    ],
)  # fmt: skip
def test_each_mistake_is_one_line_naming_the_parameter(change: Any, problem: str) -> None:
    problems = problems_of(_with(change))
    assert len(problems) == 1 and problems[0].startswith(problem), problems
