"""Small synthetic feature tables in the shape of FORMULA1.ML.FEATURES (docs/contracts.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from f1_kedro.contracts import feature_columns
from tests.feature_columns import features_sql_columns

PROJECT_PARAMS = "conf/base/parameters_train.yml"
FEATURES = feature_columns(features_sql_columns())  # the real table's feature columns


def make_features(
    first: int = 2015, last: int = 2020, races: int = 4, drivers: int = 12, seed: int = 0
) -> pd.DataFrame:
    """Rows per (race, driver) whose outcome follows the grid with noise; some NULL features."""
    rng = np.random.default_rng(seed)
    rows = []
    race_id = 0
    for season in range(first, last + 1):
        for rnd in range(1, races + 1):
            race_id += 1
            grid = rng.permutation(drivers) + 1
            finish = np.argsort(np.argsort(grid + rng.normal(0, 3, drivers))) + 1
            for d in range(drivers):
                row: dict[str, Any] = {f: float(rng.normal()) for f in FEATURES}
                row.update(
                    RACE_ID=race_id, DRIVER_ID=d + 1, CONSTRUCTOR_ID=d // 2 + 1, CIRCUIT_ID=rnd,
                    # RACE_DATE as python dates (object dtype), as DuckDB hands it over
                    SEASON=season, ROUND=rnd, RACE_DATE=pd.Timestamp(season, rnd, 1).date(),
                    CIRCUIT_REF=f"circuit_{rnd}", CONSTRUCTOR_REF=f"team_{d // 2}",
                    DRIVER_REF=f"driver_{d}", GRID=int(grid[d]),
                    QUALIFYING_POSITION=float(grid[d]) if rng.random() > 0.1 else np.nan,
                    FINISH_POSITION=int(finish[d]),
                    LABEL=0 if finish[d] <= 3 else 1 if finish[d] <= 10 else 2,
                )  # fmt: skip
                rows.append(row)
    return pd.DataFrame(rows)


def small_params(**overrides: Any) -> dict[str, Any]:
    """The project's train parameters, with seasons and a grid sized for the synthetic table."""
    with open(PROJECT_PARAMS) as handle:
        params = yaml.safe_load(handle)["train"]
    params["seasons"] = {
        "train": [2015, 2018],
        "validation": [2019, 2019],
        "test": [2020, 2020],
        "backtest": [2017, 2020],
    }
    params["numeric_features"] = ["GRID", "QUALIFYING_POSITION", "DRIVER_POINTS_BEFORE"]
    params["categorical_features"] = ["CONSTRUCTOR_REF"]
    params["search"] = {"grid": {"max_depth": [2, 3], "n_estimators": [20]}}
    params.update(overrides)
    return params


def train_synthetic(
    params: dict[str, Any] | None = None, table: pd.DataFrame | None = None
) -> dict[str, Any]:
    """What `kedro run --pipelines train` makes of a synthetic table, node by node, by name."""
    from f1_kedro.pipelines.train import nodes

    params = params or small_params()
    table = make_features() if table is None else table
    rows, fit = nodes.select_rows(table, params)
    backtest, predictions, search, decision = nodes.backtest(rows, params)
    preprocessing, classifier, summary = nodes.fit_final_model(fit, search, decision, params)
    metrics = nodes.with_backtest(nodes.evaluate(predictions, params), backtest)
    first, last = params["seasons"]["test"]
    return {
        "preprocessing_pipeline": preprocessing,
        "classifier": classifier,
        "train_summary": summary,
        "search": search,
        "metrics": metrics,
        "backtest_predictions": predictions,
        "test_rows": table[table["SEASON"].between(first, last)],
    }


@pytest.fixture(scope="session")
def trained_synthetic() -> dict[str, Any]:
    return train_synthetic()


@pytest.fixture(scope="session")
def features() -> pd.DataFrame:
    return make_features()


@pytest.fixture
def params() -> dict[str, Any]:
    return small_params()
