"""Building blocks of the train pipeline: parameter checks, the snowflake-ml estimators, metrics.

Every function here takes pandas or Snowpark DataFrames alike: frames are filtered and selected
with `frame[...]`, which both libraries read the same way, and only small results (predicted
probabilities, two columns for the baseline) are pulled into pandas with `to_local`.
snowflake-ml and scikit-learn are imported by the functions that use them: `kedro run
--pipelines bootstrap` (which imports every pipeline's nodes) does not pay for them (issue 13).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from f1_kedro import contracts, params_types
from f1_kedro.contracts import CLASS_LABELS, KEYS, PROBA_PREFIX

__all__ = ["CLASS_LABELS", "KEYS", "PROBA_PREFIX"]  # nodes read them as m.*


def season_range(params: dict[str, Any], name: str) -> tuple[int, int]:
    """`params.seasons.<name>` as (first, last), checked to be a non-empty range."""
    value = params.get("seasons", {}).get(name)
    try:
        first, last = params_types.season_range(value)
    except ValueError as err:
        raise ValueError(f"train.seasons.{name}: {err}") from err
    if first > last:
        raise ValueError(f"train.seasons.{name} is empty: {first} > {last}")
    return first, last


def check_params(params: dict[str, Any], columns: Iterable[str]) -> None:
    """Fail before any work: seasons not train < validation < test, or an unknown feature.

    The known features are the table's `columns` a model may read (f1_kedro.contracts).
    """
    train, validation, test = (season_range(params, n) for n in ("train", "validation", "test"))
    if not train[1] < validation[0] <= validation[1] < test[0]:
        raise ValueError(
            "train.seasons must be in time order, train < validation < test, without overlap; "
            f"got train {train}, validation {validation}, test {test}"
        )
    features = list(params.get("numeric_features", [])) + list(
        params.get("categorical_features", [])
    )
    known = contracts.feature_columns(columns)
    unknown = sorted(set(features) - set(known))
    if unknown:
        raise ValueError(
            f"unknown feature(s) {unknown} in train parameters, not feature columns of the "
            f"model input table; known: {sorted(known)}"
        )
    if not params.get("numeric_features"):
        raise ValueError("train.numeric_features must name at least one feature")
    if len(set(features)) != len(features):
        raise ValueError(f"a feature is listed twice in train parameters: {features}")


def seasons(frame: Any, first: int, last: int) -> Any:
    """Rows of seasons first..last; `frame[condition]` filters pandas and Snowpark alike."""
    return frame[frame["SEASON"].between(first, last)]


def labelled(frame: Any, label: str) -> Any:
    """Rows of races already run: upcoming races are in FEATURES with LABEL NULL, to be scored.

    `between` reads the same on pandas and Snowpark frames, and is false for NULL in both.
    """
    return frame[frame[label].between(min(CLASS_LABELS), max(CLASS_LABELS))]


def to_local(frame: Any) -> pd.DataFrame:
    """A small result as pandas: Snowpark frames have `to_pandas()`, pandas frames are returned."""
    return frame.to_pandas() if hasattr(frame, "to_pandas") else frame


def since(frame: Any, first: int) -> Any:
    """Rows of season `first` and later, on pandas and Snowpark alike."""
    return frame[frame["SEASON"] >= first]


def build_preprocessing(params: dict[str, Any]) -> Any:
    """Imputer (NULL -> median, fitted on the fit rows), one-hot encoder, standard scaler."""
    from snowflake.ml.modeling.impute import SimpleImputer
    from snowflake.ml.modeling.pipeline import Pipeline
    from snowflake.ml.modeling.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = list(params["numeric_features"]), list(params["categorical_features"])
    steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(input_cols=numeric, output_cols=numeric, strategy="median"))
    ]
    if categorical:
        steps.append(
            (
                "one_hot",
                OneHotEncoder(
                    input_cols=categorical,
                    output_cols=categorical,
                    drop_input_cols=True,
                    handle_unknown="ignore",
                ),
            )
        )
    steps.append(("scale", StandardScaler(input_cols=numeric, output_cols=numeric)))
    return Pipeline(steps=steps)


def feature_columns(original: list[str], transformed: list[str], numeric: list[str]) -> list[str]:
    """The classifier's inputs: the scaled numeric columns and the new one-hot columns."""
    return list(numeric) + [c for c in transformed if c not in original]


def build_classifier(
    features: list[str], label: str, hyperparameters: dict[str, Any], params: dict[str, Any]
) -> Any:
    """An XGBoost classifier with fixed seed and thread count (same data -> same model)."""
    from snowflake.ml.modeling.xgboost import XGBClassifier

    return XGBClassifier(
        input_cols=features,
        label_cols=[label],
        output_cols=["PREDICTED_LABEL"],
        random_state=int(params["random_state"]),
        n_jobs=int(params["n_jobs"]),
        **dict(params.get("fixed_hyperparameters") or {}),
        **hyperparameters,
    )


def served_fit_threads(rows: int, params: dict[str, Any]) -> int:
    """XGBoost's n_jobs for the served model's one fit: `n_jobs`, or every core of the machine
    that fits it (-1) from `parallel_fit_rows` rows on; a second thread only pays on large data
    (parameters_train.yml has the measurements)."""
    limit = params.get("parallel_fit_rows")
    return -1 if limit is not None and rows >= int(limit) else int(params["n_jobs"])


def fit_pipeline(
    fit: Any, hyperparameters: dict[str, Any], params: dict[str, Any]
) -> tuple[Any, Any]:
    """The served model: snowflake-ml preprocessing and XGBoost fitted on pandas or Snowpark."""
    preprocessing = build_preprocessing(params).fit(fit)
    transformed = preprocessing.transform(fit)
    features = feature_columns(
        list(fit.columns), list(transformed.columns), params["numeric_features"]
    )
    classifier = build_classifier(features, params["label"], hyperparameters, params)
    return preprocessing, classifier.fit(transformed)


def predict_probabilities(
    preprocessing: Any, classifier: Any, frame: Any, label: str
) -> pd.DataFrame:
    """Keys, label and `PREDICT_PROBA_0..2` for the rows of `frame`, as pandas."""
    columns = [*KEYS, label, *(f"{PROBA_PREFIX}{k}" for k in sorted(CLASS_LABELS))]
    return to_local(classifier.predict_proba(preprocessing.transform(frame)))[columns]


def probabilities(scored: pd.DataFrame) -> np.ndarray:
    """Class probabilities as float64 rows that sum to 1 (XGBoost's float32 ones drift by ~1e-7)."""
    proba = scored[[f"{PROBA_PREFIX}{k}" for k in sorted(CLASS_LABELS)]].to_numpy(dtype=float)
    return proba / proba.sum(axis=1, keepdims=True)


def grid_rule(grid: pd.Series) -> np.ndarray:
    """The naive baseline: grid 1-3 podium, 4-10 points, else (pit lane, NULL) no points."""
    g = pd.to_numeric(grid, errors="coerce").fillna(0).to_numpy()
    return np.where((g >= 1) & (g <= 3), 0, np.where((g >= 4) & (g <= 10), 1, 2))


def grid_class_frequencies(
    fit: pd.DataFrame, label: str, smoothing: float, max_grid: int
) -> np.ndarray:
    """P(class | grid slot) on the fit rows, add-`smoothing` smoothed; slot 0 = pit lane/NULL."""
    slot = _grid_slot(fit["GRID"], max_grid)
    counts = np.zeros((max_grid + 1, len(CLASS_LABELS))) + float(smoothing)
    np.add.at(counts, (slot, fit[label].to_numpy(dtype=int)), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def baseline_probabilities(frequencies: np.ndarray, grid: pd.Series) -> np.ndarray:
    return frequencies[_grid_slot(grid, frequencies.shape[0] - 1)]


def _grid_slot(grid: pd.Series, max_grid: int) -> np.ndarray:
    g = pd.to_numeric(grid, errors="coerce").fillna(0).to_numpy()
    return np.clip(g, 0, max_grid).astype(int)


def brier_score(y: np.ndarray, proba: np.ndarray) -> float:
    """Multi-class Brier score: mean squared distance of the probabilities from the outcome."""
    onehot = np.eye(proba.shape[1])[np.asarray(y, dtype=int)]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def ranked_probability_score(y: np.ndarray, proba: np.ndarray) -> float:
    """Ranked probability score: the classes are ordered (podium < points < none), so predicting
    "points" for a podium is less wrong than predicting "no points"; 0 is perfect."""
    onehot = np.eye(proba.shape[1])[np.asarray(y, dtype=int)]
    gap = np.cumsum(proba, axis=1)[:, :-1] - np.cumsum(onehot, axis=1)[:, :-1]
    return float(np.mean(np.sum(gap**2, axis=1) / (proba.shape[1] - 1)))


def scores(y: np.ndarray, predicted: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The five numbers the backtest compares model and grid rule on."""
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    labels = sorted(CLASS_LABELS)
    return {
        "rows": int(len(y)),
        "accuracy": float(accuracy_score(y, predicted)),
        "macro_f1": float(f1_score(y, predicted, labels=labels, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y, proba, labels=labels)),
        "brier": brier_score(y, proba),
        "rps": ranked_probability_score(y, proba),
    }


def classification_metrics(
    y: np.ndarray, predicted: np.ndarray, proba: np.ndarray
) -> dict[str, Any]:
    """Accuracy, macro F1, log loss, per-class precision/recall and the confusion matrix."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        log_loss,
        precision_recall_fscore_support,
    )

    labels = sorted(CLASS_LABELS)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    return {
        "rows": int(len(y)),
        "accuracy": float(accuracy_score(y, predicted)),
        "macro_f1": float(f1_score(y, predicted, labels=labels, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y, proba, labels=labels)),
        "per_class": {
            CLASS_LABELS[k]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, k in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": [CLASS_LABELS[k] for k in labels],
            "rows_are": "actual",
            "matrix": confusion_matrix(y, predicted, labels=labels).tolist(),
        },
    }
