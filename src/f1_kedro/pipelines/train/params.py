"""Schema of `params:train` (conf/*/parameters_train.yml); see f1_kedro.params.

Types, ranges and the season order are checked here, before any node runs. Whether each named
feature is a column of FEATURES is checked by the first node, which has the table
(`modeling.check_params`): importing the model code here would slow every `kedro` command.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt, model_validator

from f1_kedro.params import Schema
from f1_kedro.params_types import FIRST_SEASON, LAST_SEASON, NonEmptyText, SeasonRange

Positive = Annotated[float, Field(gt=0)]
AtLeastOne = Annotated[StrictInt, Field(ge=1)]


class Seasons(Schema):
    """Each a range of seasons (f1_kedro.params_types grammar), in time order."""

    train: SeasonRange
    validation: SeasonRange
    test: SeasonRange
    backtest: SeasonRange

    @model_validator(mode="after")
    def _in_time_order(self) -> Seasons:
        for name in ("train", "validation", "test", "backtest"):
            first, last = getattr(self, name)
            if first > last:
                raise ValueError(f"{name} is empty: {first} > {last}")
            if first < FIRST_SEASON or last > LAST_SEASON:
                raise ValueError(f"{name} {first}-{last} is outside {FIRST_SEASON}-{LAST_SEASON}")
        if not self.train[1] < self.validation[0] <= self.validation[1] < self.test[0]:
            raise ValueError("train < validation < test, without overlap")
        if self.backtest[0] < self.train[0] + 2:
            raise ValueError(
                f"backtest starts at {self.backtest[0]}: it needs two seasons before it from "
                f"train's first ({self.train[0]}) to choose hyperparameters on"
            )
        return self


class Grid(Schema):
    """The XGBoost hyperparameters searched; each a non-empty list (one value: a fixed point)."""

    max_depth: Annotated[list[AtLeastOne], Field(min_length=1)] | None = None
    learning_rate: Annotated[list[Positive], Field(min_length=1)] | None = None
    n_estimators: Annotated[list[AtLeastOne], Field(min_length=1)] | None = None
    min_child_weight: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=1)] | None = (
        None
    )
    subsample: Annotated[list[Annotated[float, Field(gt=0, le=1)]], Field(min_length=1)] | None = (
        None
    )
    colsample_bytree: (
        Annotated[list[Annotated[float, Field(gt=0, le=1)]], Field(min_length=1)] | None
    ) = None
    reg_lambda: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=1)] | None = None
    reg_alpha: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=1)] | None = None


class Search(Schema):
    grid: Grid


class Decision(Schema):
    rule: Literal["argmax", "weighted_argmax"]
    objective: Literal["macro_f1", "accuracy", "mean_of_accuracy_and_macro_f1"] = "macro_f1"
    min_seasons: AtLeastOne = 3
    weight_candidates: Annotated[list[Positive], Field(min_length=1)] = [1.0]


class Baseline(Schema):
    smoothing: Annotated[float, Field(ge=0)]
    max_grid: AtLeastOne


class Params(Schema):
    label: NonEmptyText
    seasons: Seasons
    numeric_features: Annotated[list[NonEmptyText], Field(min_length=1)]
    categorical_features: list[NonEmptyText] = []
    random_state: StrictInt
    n_jobs: AtLeastOne
    backtest_workers: AtLeastOne = 1
    parallel_fit_rows: AtLeastOne | None = None
    fixed_hyperparameters: dict[str, str | int | float | bool] = {}
    search: Search
    decision: Decision
    baseline: Baseline
