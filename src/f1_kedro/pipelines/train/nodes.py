"""Nodes of the train pipeline: temporal split, grid search, final fit, evaluation, figures."""

from __future__ import annotations

import itertools
import logging
from typing import Any

from matplotlib.figure import Figure
from sklearn.metrics import f1_score, log_loss

from . import modeling as m
from . import plots

logger = logging.getLogger(__name__)


def split_by_season(table: Any, params: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Check the parameters, then cut the feature table into train, validation, fit and test rows.

    `fit` is train plus validation seasons (what the final model learns from); nothing from a
    test season is in it. Works on pandas and Snowpark frames alike.
    """
    m.check_params(params)
    features = [*params["numeric_features"], *params["categorical_features"]]
    # only what the model and baseline read: other columns (dates) would meet estimator checks
    keep = list(dict.fromkeys([*m.KEYS, "SEASON", "GRID", params["label"], *features]))
    missing = sorted(set(keep) - set(table.columns))
    if missing:
        raise ValueError(f"model_input_table lacks column(s) {missing}")
    table = m.labelled(table[keep], params["label"])
    (t0, t1), (v0, v1), (s0, s1) = (
        m.season_range(params, n) for n in ("train", "validation", "test")
    )
    return (
        m.seasons(table, t0, t1),
        m.seasons(table, v0, v1),
        m.seasons(table, t0, v1),
        m.seasons(table, s0, s1),
    )


def search_hyperparameters(train: Any, validation: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Fit each grid point on train seasons, score it on validation by log loss, keep the best."""
    preprocessing = m.build_preprocessing(params).fit(train)
    transformed = preprocessing.transform(train)
    features = m.feature_columns(
        list(train.columns), list(transformed.columns), params["numeric_features"]
    )
    grid = params["search"]["grid"]
    candidates = []
    for values in itertools.product(*(grid[k] for k in sorted(grid))):
        hyper = dict(zip(sorted(grid), values, strict=True))
        classifier = m.build_classifier(features, params["label"], hyper, params).fit(transformed)
        scored = m.predict_probabilities(preprocessing, classifier, validation, params["label"])
        y, proba = scored[params["label"]].to_numpy(dtype=int), m.probabilities(scored)
        loss = float(log_loss(y, proba, labels=sorted(m.CLASS_LABELS)))
        f1 = float(f1_score(y, proba.argmax(axis=1), average="macro"))
        candidates.append({"hyperparameters": hyper, "log_loss": loss, "macro_f1": f1})
        logger.info("Validation %s: log loss %.4f, macro F1 %.4f", hyper, loss, f1)
    best = min(candidates, key=lambda c: c["log_loss"])  # first of equals: grid order decides ties
    logger.info("Best on validation: %s", best)
    return {"metric": "log_loss", "best": best["hyperparameters"], "candidates": candidates}


def fit_final_model(
    fit: Any, search: dict[str, Any], params: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """Refit preprocessing and classifier with the best hyperparameters on train + validation."""
    preprocessing = m.build_preprocessing(params).fit(fit)
    transformed = preprocessing.transform(fit)
    features = m.feature_columns(
        list(fit.columns), list(transformed.columns), params["numeric_features"]
    )
    classifier = m.build_classifier(features, params["label"], search["best"], params).fit(
        transformed
    )
    native = classifier.to_xgboost()
    gain = dict(zip(features, (float(v) for v in native.feature_importances_), strict=True))
    summary = {
        "hyperparameters": {**(params.get("fixed_hyperparameters") or {}), **search["best"]},
        "fit_seasons": [
            m.season_range(params, "train")[0],
            m.season_range(params, "validation")[1],
        ],
        "test_seasons": list(m.season_range(params, "test")),
        "label": params["label"],
        "input_columns": list(params["numeric_features"]) + list(params["categorical_features"]),
        "feature_columns": features,
        "class_labels": {str(k): v for k, v in m.CLASS_LABELS.items()},
        "feature_importance": gain,
    }
    return preprocessing, classifier, summary


def evaluate(
    preprocessing: Any, classifier: Any, fit: Any, test: Any, params: dict[str, Any]
) -> dict[str, Any]:
    """Model and grid baseline on the same test rows; baseline odds from the fit rows' grid."""
    label, base = params["label"], params["baseline"]
    scored = m.predict_probabilities(preprocessing, classifier, test, label)
    scored = scored.merge(m.to_local(test[[*m.KEYS, "GRID"]]), on=m.KEYS, validate="one_to_one")
    y, proba = scored[label].to_numpy(dtype=int), m.probabilities(scored)
    fit_rows = m.to_local(fit[["GRID", label]])
    frequencies = m.grid_class_frequencies(fit_rows, label, base["smoothing"], base["max_grid"])
    metrics = {
        "model": m.classification_metrics(y, proba.argmax(axis=1), proba),
        "baseline": m.classification_metrics(
            y, m.grid_rule(scored["GRID"]), m.baseline_probabilities(frequencies, scored["GRID"])
        ),
    }
    for key in ("accuracy", "macro_f1", "log_loss"):
        logger.info(
            "Test %-9s model %.4f  baseline %.4f",
            key,
            metrics["model"][key],
            metrics["baseline"][key],
        )
    beats = metrics["model"]["log_loss"] < metrics["baseline"]["log_loss"] and (
        metrics["model"]["macro_f1"] > metrics["baseline"]["macro_f1"]
    )
    if not beats:
        logger.warning("The model does NOT beat the grid baseline on both log loss and macro F1")
    metrics["test_seasons"] = list(m.season_range(params, "test"))
    metrics["model_beats_baseline"] = bool(beats)
    return metrics


def plot_confusion_matrices(metrics: dict[str, Any]) -> Figure:
    """The model's and the baseline's confusion matrices on the test seasons."""
    return plots.confusion_matrices(metrics)


def plot_feature_importance(summary: dict[str, Any]) -> Figure:
    """The final classifier's feature importance."""
    return plots.feature_importance(summary["feature_importance"])
