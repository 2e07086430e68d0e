"""Rolling-origin predictions: what the pipeline would have served for each season, fast.

The served model is snowflake-ml's Pipeline (modeling.py). The backtest needs ~60 fits, so it runs
the same estimators one level down, on local pandas: scikit-learn's SimpleImputer, OneHotEncoder
and StandardScaler (what snowflake-ml's wrappers call) and xgboost's own XGBClassifier (what
snowflake.ml.modeling.xgboost.XGBClassifier wraps), with the same parameters.
tests/train/test_backtest.py proves the two give the same probabilities.

Reuse (issue 13): each fit window (seasons first..T) is preprocessed once for all grid points;
each grid point is fitted once at the largest `n_estimators` and read at every smaller one
(boosting adds trees in order: the first n trees of a 300-tree fit are the n-tree model); the fits
of window first..T serve twice: as candidates scored on T+1 when choosing hyperparameters for
T+2, and as the model that predicts T+1. The windows are independent: `backtest_workers` of them
are fitted at once, on threads (XGBoost and NumPy release the GIL while they compute; each fit is
the same as alone, so the results do not depend on the count: tests/train/test_backtest.py).
"""

from __future__ import annotations

import itertools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from f1_kedro.contracts import CLASS_LABELS

logger = logging.getLogger(__name__)

CLASSES = sorted(CLASS_LABELS)


def preprocessor(params: dict[str, Any]) -> Any:
    """Median imputer and scaler on the numeric columns, one-hot (unknown -> zeros) categoricals."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = list(params["numeric_features"]), list(params["categorical_features"])
    # keep_empty_features: an early window may have a column with no value yet (a circuit
    # history in the data's first season); kept as zeros instead of dropped with a warning
    imputer = SimpleImputer(strategy="median", keep_empty_features=True)
    parts: list[tuple[str, Any, list[str]]] = [
        ("numeric", make_pipeline(imputer, StandardScaler()), numeric)
    ]
    if categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.append(("categorical", encoder, categorical))
    return ColumnTransformer(parts)


def classifier(hyperparameters: dict[str, Any], params: dict[str, Any]) -> Any:
    """xgboost's XGBClassifier with the served model's seed, threads and fixed hyperparameters."""
    from xgboost import XGBClassifier

    return XGBClassifier(
        random_state=int(params["random_state"]),
        n_jobs=int(params["n_jobs"]),
        **dict(params.get("fixed_hyperparameters") or {}),
        **hyperparameters,
    )


def grid_points(params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """The grid without n_estimators (one fit each), and the n_estimators values read from it."""
    grid = {k: v for k, v in params["search"]["grid"].items() if v is not None}
    trees = sorted(int(n) for n in grid.pop("n_estimators", [100]))
    keys = sorted(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    points = [dict(zip(keys, values, strict=True)) for values in combos]
    return points, trees


def window_predictions(
    fit: pd.DataFrame, scored: pd.DataFrame, params: dict[str, Any]
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Every grid point fitted on `fit`, its class probabilities on `scored`."""
    pre = preprocessor(params).fit(fit)
    x_fit, x_scored = pre.transform(fit), pre.transform(scored)
    y = fit[params["label"]].to_numpy(dtype=int)
    points, trees = grid_points(params)
    out = []
    for point in points:
        model = classifier({**point, "n_estimators": trees[-1]}, params).fit(x_fit, y)
        for n in trees:
            proba = model.predict_proba(x_scored, iteration_range=(0, n)).astype(float)
            out.append(({**point, "n_estimators": n}, proba / proba.sum(axis=1, keepdims=True)))
    return out


def choose(candidates: list[tuple[dict[str, Any], np.ndarray]], y: np.ndarray) -> dict[str, Any]:
    """The candidates scored by log loss on `y`; the best first of equals (grid order decides)."""
    from sklearn.metrics import f1_score, log_loss

    scored = [
        {
            "hyperparameters": hyper,
            "log_loss": float(log_loss(y, proba, labels=CLASSES)),
            "macro_f1": float(f1_score(y, proba.argmax(axis=1), labels=CLASSES, average="macro")),
        }
        for hyper, proba in candidates
    ]
    best = min(scored, key=lambda c: c["log_loss"])
    return {"metric": "log_loss", "best": best["hyperparameters"], "candidates": scored}


def rolling(rows: pd.DataFrame, first: int, last: int, params: dict[str, Any]) -> dict[str, Any]:
    """Fit windows first..T for T = first..last-1, each scored on T+1.

    Returns per season S (first+2..last) the search that chose its hyperparameters (fit on
    first..S-2, scored on S-1) and its out-of-fold probabilities (fit on first..S-1); `search` of
    season last+1 is the served model's (chosen on `last`, fit on the seasons before).
    """
    label = params["label"]
    windows = list(range(first, last))
    for end in windows:
        if not (rows["SEASON"] == end + 1).any():
            raise ValueError(f"model_input_table: season {end + 1} has no labelled rows")

    def fit_window(end: int) -> list[tuple[dict[str, Any], np.ndarray]]:
        started = time.perf_counter()
        fit, scored = rows[rows["SEASON"].between(first, end)], rows[rows["SEASON"] == end + 1]
        found = window_predictions(fit, scored, params)
        logger.info(
            "Grid search %d/%d: fit %d-%d, %d points scored on %d (%.1f s)",
            end - first + 1, len(windows), first, end, len(found), end + 1,
            time.perf_counter() - started,
        )  # fmt: skip
        return found

    workers = int(params.get("backtest_workers", 1))
    if workers > 1:
        # the largest windows first: the last to finish is then a small one (less time idle)
        order = sorted(windows, reverse=True)
        with ThreadPoolExecutor(workers, thread_name_prefix="backtest") as pool:
            candidates = dict(zip(order, pool.map(fit_window, order), strict=True))
    else:
        candidates = {end: fit_window(end) for end in windows}
    y = {
        s: rows.loc[rows["SEASON"] == s, label].to_numpy(dtype=int) for s in range(first, last + 1)
    }
    searches = {s: choose(candidates[s - 2], y[s - 1]) for s in range(first + 2, last + 2)}
    proba = {}
    for season in range(first + 2, last + 1):
        chosen = searches[season]["best"]
        proba[season] = next(p for h, p in candidates[season - 1] if h == chosen)
    return {"searches": searches, "proba": proba}
