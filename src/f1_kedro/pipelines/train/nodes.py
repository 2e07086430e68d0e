"""Nodes of the train pipeline: temporal split, grid search, final fit, evaluation, figures."""

from __future__ import annotations

import itertools
import logging
import uuid
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import f1_score, log_loss

from f1_kedro.registry.lineage import features_build_record

from . import modeling as m
from . import plots

logger = logging.getLogger(__name__)


def split_by_season(table: Any, params: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Check the parameters, then cut the feature table into train, validation, fit and test rows.

    `fit` is train plus validation seasons (what the final model learns from); nothing from a
    test season is in it. Works on pandas and Snowpark frames alike.
    """
    m.check_params(params)
    table = _model_rows(table, params)
    (t0, t1), (v0, v1), (s0, s1) = (
        m.season_range(params, n) for n in ("train", "validation", "test")
    )
    return (
        m.seasons(table, t0, t1),
        m.seasons(table, v0, v1),
        m.seasons(table, t0, v1),
        m.seasons(table, s0, s1),
    )


def _model_rows(table: Any, params: dict[str, Any]) -> Any:
    """The labelled rows and the columns the model and baseline read (dates would meet checks)."""
    features = [*params["numeric_features"], *params["categorical_features"]]
    keep = list(dict.fromkeys([*m.KEYS, "SEASON", "GRID", params["label"], *features]))
    missing = sorted(set(keep) - set(table.columns))
    if missing:
        raise ValueError(f"model_input_table lacks column(s) {missing}")
    return m.labelled(table[keep], params["label"])


def _candidates(train: Any, validation: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Each grid point fitted on `train` (one preprocessing fit for all), scored on validation."""
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
    return candidates


def _fit(fit: Any, hyperparameters: dict[str, Any], params: dict[str, Any]) -> tuple[Any, Any]:
    preprocessing = m.build_preprocessing(params).fit(fit)
    transformed = preprocessing.transform(fit)
    features = m.feature_columns(
        list(fit.columns), list(transformed.columns), params["numeric_features"]
    )
    classifier = m.build_classifier(features, params["label"], hyperparameters, params)
    return preprocessing, classifier.fit(transformed)


def search_hyperparameters(train: Any, validation: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Fit each grid point on train seasons, score it on validation by log loss, keep the best."""
    candidates = _candidates(train, validation, params)
    for c in candidates:
        logger.info(
            "Validation %s: log loss %.4f, macro F1 %.4f",
            c["hyperparameters"], c["log_loss"], c["macro_f1"],
        )  # fmt: skip
    best = min(candidates, key=lambda c: c["log_loss"])  # first of equals: grid order decides ties
    logger.info("Best on validation: %s", best)
    return {"metric": "log_loss", "best": best["hyperparameters"], "candidates": candidates}


def backtest(table: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Rolling-origin backtest: for each season S, what the pipeline would have served for S.

    Hyperparameters are chosen on S-1 (grid fitted on the seasons before S-1), the model is refit
    on every season before S and scored on S; the grid rule (its odds from the same fit rows) is
    scored on the same rows. Nothing of S is seen before S is scored.
    """
    m.check_params(params)
    table = _model_rows(table, params)
    label, base = params["label"], params["baseline"]
    first = m.season_range(params, "train")[0]
    b0, b1 = m.season_range(params, "backtest")
    if b0 - 2 < first:
        raise ValueError(
            f"train.seasons.backtest starts at {b0}: it needs two earlier seasons from "
            f"train.seasons.train's first ({first}) to choose hyperparameters on"
        )
    by_season, pooled = [], {"y": [], "model": [], "baseline": [], "grid": []}
    for season in range(b0, b1 + 1):
        fit, test = (
            m.seasons(table, first, season - 1),
            m.to_local(m.seasons(table, season, season)),
        )
        if len(test) == 0:
            raise ValueError(f"train.seasons.backtest: season {season} has no labelled rows")
        candidates = _candidates(
            m.seasons(table, first, season - 2), m.seasons(table, season - 1, season - 1), params
        )
        best = min(candidates, key=lambda c: c["log_loss"])["hyperparameters"]
        preprocessing, classifier = _fit(fit, best, params)
        scored = m.predict_probabilities(preprocessing, classifier, test, label)
        scored = scored.merge(test[[*m.KEYS, "GRID"]], on=list(m.KEYS), validate="one_to_one")
        y, proba = scored[label].to_numpy(dtype=int), m.probabilities(scored)
        frequencies = m.grid_class_frequencies(
            m.to_local(fit[["GRID", label]]), label, base["smoothing"], base["max_grid"]
        )
        rule_proba = m.baseline_probabilities(frequencies, scored["GRID"])
        rule = m.grid_rule(scored["GRID"])
        result = {
            "season": season,
            "fit_seasons": [first, season - 1],
            "hyperparameters": best,
            "model": m.scores(y, proba.argmax(axis=1), proba),
            "baseline": m.scores(y, rule, rule_proba),
        }
        by_season.append(result)
        for key, value in (("y", y), ("model", proba), ("baseline", rule_proba), ("grid", rule)):
            pooled[key].append(value)
        logger.info(
            "Backtest %d: model acc %.3f F1 %.3f LL %.3f | grid rule acc %.3f F1 %.3f LL %.3f",
            season, *(result[w][k] for w in ("model", "baseline")
                      for k in ("accuracy", "macro_f1", "log_loss")),
        )  # fmt: skip
    y, proba, rule_proba = (np.concatenate(pooled[k]) for k in ("y", "model", "baseline"))
    summary = {
        "seasons": [b0, b1],
        "model": m.scores(y, proba.argmax(axis=1), proba),
        "baseline": m.scores(y, np.concatenate(pooled["grid"]), rule_proba),
        "by_season": by_season,
    }
    lower_is_better = {"log_loss", "brier", "rps"}
    summary["model_wins_seasons"] = {
        k: sum(
            (s["model"][k] < s["baseline"][k]) if k in lower_is_better
            else (s["model"][k] > s["baseline"][k])
            for s in by_season
        )
        for k in ("accuracy", "macro_f1", "log_loss", "brier", "rps")
    }  # fmt: skip
    logger.info(
        "Backtest %d-%d: the model beats the grid rule in %s of %d seasons",
        b0, b1, summary["model_wins_seasons"], len(by_season),
    )  # fmt: skip
    return summary


def fit_final_model(
    fit: Any, search: dict[str, Any], params: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """Refit preprocessing and classifier with the best hyperparameters on train + validation."""
    preprocessing, classifier = _fit(fit, search["best"], params)
    features = list(classifier.get_input_cols())
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
    scored = scored.merge(
        m.to_local(test[[*m.KEYS, "GRID"]]), on=list(m.KEYS), validate="one_to_one"
    )
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


def with_backtest(metrics: dict[str, Any], backtest: dict[str, Any]) -> dict[str, Any]:
    """metrics.json: the test window's numbers as before, plus the backtest season by season."""
    return {**metrics, "backtest": {k: v for k, v in backtest.items() if k != "by_season"},
            "by_season": backtest["by_season"]}  # fmt: skip


def package_trained_model(
    preprocessing: Any,
    classifier: Any,
    summary: dict[str, Any],
    search: dict[str, Any],
    metrics: dict[str, Any],
    features_build: Any = None,
) -> dict[str, Any]:
    """The run as one unit for register, made only once evaluation and backtest succeeded.

    One run id is stamped into summary, metrics and search: register refuses a unit whose parts
    disagree, so a model is never registered with another run's numbers. The summary records the
    feature build trained on (FORMULA1.ML.FEATURES_BUILD), which scoring checks (issue 15.5;
    without one, as in unit tests of the parts, the version records none and is not checked).
    """
    run_id = uuid.uuid4().hex
    build = features_build_record(features_build) if features_build is not None else {}
    return {
        "run_id": run_id,
        "preprocessing": preprocessing,
        "classifier": classifier,
        "summary": {**summary, "run_id": run_id, "features_build": build},
        "metrics": {**metrics, "run_id": run_id},
        "search": {**search, "run_id": run_id},
    }


def plot_backtest(backtest: dict[str, Any]) -> Figure:
    """Model and grid rule per backtest season: accuracy, macro F1, log loss."""
    return plots.backtest_by_season(backtest)


def plot_confusion_matrices(metrics: dict[str, Any]) -> Figure:
    """The model's and the baseline's confusion matrices on the test seasons."""
    return plots.confusion_matrices(metrics)


def plot_feature_importance(summary: dict[str, Any]) -> Figure:
    """The final classifier's feature importance."""
    return plots.feature_importance(summary["feature_importance"])
