"""Nodes of the train pipeline: rows, rolling-origin backtest, served model, evaluation, figures.

The backtest comes first: it chooses, without looking at any season it scores, what the served
model is made of (hyperparameters chosen on the latest season, the decision rule tuned on every
out-of-fold season); the served model is then refit on every labelled season.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from f1_kedro.registry.lineage import features_build_record

from . import backtest as bt
from . import decision as dr
from . import modeling as m
from . import plots

if TYPE_CHECKING:  # matplotlib loads with the first figure, not with every `kedro` command
    from matplotlib.figure import Figure
else:  # what Kedro's type-hint reading of the node functions sees at run time
    Figure = Any

logger = logging.getLogger(__name__)

_LOWER_IS_BETTER = ("log_loss", "brier", "rps")
_SCORES = ("accuracy", "macro_f1", "log_loss", "brier", "rps")


def select_rows(table: Any, params: dict[str, Any]) -> tuple[pd.DataFrame, Any]:
    """Check the parameters, then the labelled rows from train's first season on.

    Returns them as local pandas (the backtest's ~60 small fits) and as the engine's frame, from
    train's first season through the latest labelled one (what the served model learns from).
    """
    m.check_params(params, table.columns)
    first = m.season_range(params, "train")[0]
    rows = m.since(_model_rows(table, params), first)
    local = m.to_local(rows).sort_values([*m.KEYS]).reset_index(drop=True)
    if len(local) == 0:
        raise ValueError(f"model_input_table has no labelled rows from season {first} on")
    latest = int(local["SEASON"].max())
    for name in ("backtest", "test"):  # both are read from seasons that have results
        last = m.season_range(params, name)[1]
        if last > latest:
            raise ValueError(
                f"train.seasons.{name} ends at {last}, after the latest labelled season ({latest})"
            )
    return local, rows


def _model_rows(table: Any, params: dict[str, Any]) -> Any:
    """The labelled rows and the columns the model and baseline read (dates would meet checks)."""
    features = [*params["numeric_features"], *params["categorical_features"]]
    keep = list(dict.fromkeys([*m.KEYS, "SEASON", "GRID", params["label"], *features]))
    missing = sorted(set(keep) - set(table.columns))
    if missing:
        raise ValueError(f"model_input_table lacks column(s) {missing}")
    return m.labelled(table[keep], params["label"])


def backtest(
    rows: pd.DataFrame, params: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Rolling origin: for each season S, what the pipeline would have served for S.

    Hyperparameters are chosen on S-1 (grid fitted on the seasons before S-1), the model is refit
    on every season before S and predicts S; its decision rule is tuned on the out-of-fold
    predictions of the seasons before S. The grid rule (odds from the same fit rows) is scored on
    the same rows. Returns the backtest summary, the out-of-fold predictions, the served model's
    search (chosen on the latest season) and decision rule (tuned on every out-of-fold season).
    """
    label, first = params["label"], m.season_range(params, "train")[0]
    b0, b1 = m.season_range(params, "backtest")
    if b0 - 2 < first:
        raise ValueError(
            f"train.seasons.backtest starts at {b0}: it needs two earlier seasons from "
            f"train.seasons.train's first ({first}) to choose hyperparameters on"
        )
    latest = int(rows["SEASON"].max())
    rolled = bt.rolling(rows, first, latest, params)
    predictions = _out_of_fold(rows, rolled, params)
    decisions = {}
    for season in sorted(rolled["proba"]):
        decisions[season] = _tuned(predictions[predictions["SEASON"] < season], params)
        this = predictions["SEASON"] == season
        predictions.loc[this, "PREDICTED_LABEL"] = dr.apply(
            m.probabilities(predictions[this]), decisions[season]
        )
    by_season = [
        _season_scores(predictions, s, first, rolled["searches"][s]["best"], decisions[s], label)
        for s in range(b0, b1 + 1)
    ]
    served = _tuned(predictions, params)
    scored = predictions[predictions["SEASON"].between(b0, b1)]
    summary = {
        "seasons": [b0, b1],
        **_pooled(scored, label),
        "by_season": by_season,
        "calibration": _calibration_check(predictions, b0, b1, label),
    }
    summary["mean_over_seasons"] = {
        who: {k: float(np.mean([s[who][k] for s in by_season])) for k in _SCORES}
        for who in ("model", "baseline")
    }
    summary["model_wins_seasons"] = {
        k: sum(
            (s["model"][k] < s["baseline"][k]) if k in _LOWER_IS_BETTER
            else (s["model"][k] > s["baseline"][k])
            for s in by_season
        )
        for k in _SCORES
    }  # fmt: skip
    logger.info(
        "Backtest %d-%d: the model beats the grid rule in %s of %d seasons",
        b0, b1, summary["model_wins_seasons"], len(by_season),
    )  # fmt: skip
    search = {
        **rolled["searches"][latest + 1],
        "chosen_on_season": latest,
        "candidates_fit_seasons": [first, latest - 1],
        "served_fit_rows": len(rows),  # every labelled row from `first`: what the served fit reads
    }
    logger.info("Served model: %s (chosen on %d), decision %s", search["best"], latest, served)
    return summary, predictions, search, served


def _out_of_fold(
    rows: pd.DataFrame, rolled: dict[str, Any], params: dict[str, Any]
) -> pd.DataFrame:
    """Per out-of-fold season: keys, label, the model's and the grid rule's probabilities."""
    label, base = params["label"], params["baseline"]
    first = int(rows["SEASON"].min())
    frames = []
    for season, proba in sorted(rolled["proba"].items()):
        frame = rows.loc[rows["SEASON"] == season, [*m.KEYS, "SEASON", "GRID", label]].copy()
        fit = rows[rows["SEASON"].between(first, season - 1)]
        odds = m.baseline_probabilities(
            m.grid_class_frequencies(fit, label, base["smoothing"], base["max_grid"]),
            frame["GRID"],
        )
        for k in bt.CLASSES:
            frame[f"{m.PROBA_PREFIX}{k}"] = proba[:, k]
            frame[f"BASELINE_PROBA_{k}"] = odds[:, k]
        frame["GRID_RULE_LABEL"] = m.grid_rule(frame["GRID"])
        frame["PREDICTED_LABEL"] = proba.argmax(axis=1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _tuned(earlier: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """The decision rule tuned on `earlier` out-of-fold rows; argmax with too few seasons."""
    rule = params["decision"]
    if earlier["SEASON"].nunique() < int(rule["min_seasons"]):
        return dict(dr.ARGMAX)
    return dr.tune(earlier[params["label"]].to_numpy(dtype=int), m.probabilities(earlier), rule)


def _baseline_proba(frame: pd.DataFrame) -> np.ndarray:
    return frame[[f"BASELINE_PROBA_{k}" for k in bt.CLASSES]].to_numpy(dtype=float)


def _pooled(frame: pd.DataFrame, label: str) -> dict[str, Any]:
    """Model (its decision rule, and plain argmax) and grid rule on the rows of `frame`."""
    y, proba = frame[label].to_numpy(dtype=int), m.probabilities(frame)
    argmax = m.scores(y, proba.argmax(axis=1), proba)
    return {
        "model": m.scores(y, frame["PREDICTED_LABEL"].to_numpy(dtype=int), proba),
        "model_argmax": {k: argmax[k] for k in ("accuracy", "macro_f1")},
        "baseline": m.scores(
            y, frame["GRID_RULE_LABEL"].to_numpy(dtype=int), _baseline_proba(frame)
        ),
    }


def _season_scores(
    predictions: pd.DataFrame,
    season: int,
    first: int,
    hyperparameters: dict[str, Any],
    decision: dict[str, Any],
    label: str,
) -> dict[str, Any]:
    result = {
        "season": season,
        "fit_seasons": [first, season - 1],
        "hyperparameters": hyperparameters,
        "decision": decision,
        **_pooled(predictions[predictions["SEASON"] == season], label),
    }
    logger.info(
        "Backtest %d: model acc %.3f F1 %.3f LL %.3f | grid rule acc %.3f F1 %.3f LL %.3f",
        season, *(result[w][k] for w in ("model", "baseline")
                  for k in ("accuracy", "macro_f1", "log_loss")),
    )  # fmt: skip
    return result


def _calibration_check(predictions: pd.DataFrame, b0: int, b1: int, label: str) -> dict[str, Any]:
    """Would temperature scaling (fitted on earlier out-of-fold seasons) lower the log loss?

    Measured, not applied: the served probabilities are the model's own unless this says so
    (docs/contracts.md, "Train").
    """
    from scipy.optimize import minimize_scalar
    from sklearn.metrics import log_loss

    raw, calibrated, temperatures = [], [], {}
    for season in range(b0, b1 + 1):
        earlier = predictions[predictions["SEASON"] < season]
        this = predictions[predictions["SEASON"] == season]
        temperature = 1.0  # no earlier out-of-fold season: nothing to fit on
        if len(earlier):
            y0, logits0 = earlier[label].to_numpy(dtype=int), np.log(m.probabilities(earlier))
            temperature = minimize_scalar(
                lambda t, y=y0, z=logits0: log_loss(y, _softmax(z / t), labels=bt.CLASSES),
                bounds=(0.25, 4.0),
                method="bounded",
            ).x
        temperatures[str(season)] = round(float(temperature), 4)
        proba = m.probabilities(this)
        raw.append(proba)
        calibrated.append(_softmax(np.log(proba) / temperature))
    y = predictions.loc[predictions["SEASON"].between(b0, b1), label].to_numpy(dtype=int)
    before = float(log_loss(y, np.concatenate(raw), labels=bt.CLASSES))
    after = float(log_loss(y, np.concatenate(calibrated), labels=bt.CLASSES))
    logger.info("Calibration (temperature scaling): backtest log loss %.4f -> %.4f", before, after)
    return {
        "method": "temperature scaling, fitted on the out-of-fold seasons before each season",
        "log_loss": before,
        "log_loss_calibrated": after,
        "temperature_by_season": temperatures,
        "applied": False,
    }


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit_final_model(
    fit: Any, search: dict[str, Any], decision: dict[str, Any], params: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """Fit the served snowflake-ml pipeline on every labelled season, chosen hyperparameters.

    The decision rule tuned in the backtest travels in the summary (docs/contracts.md, "Registry").
    """
    threads = m.served_fit_threads(search["served_fit_rows"], params)
    preprocessing, classifier = m.fit_pipeline(fit, search["best"], {**params, "n_jobs": threads})
    features = list(classifier.get_input_cols())
    native = classifier.to_xgboost()
    gain = dict(zip(features, (float(v) for v in native.feature_importances_), strict=True))
    first, latest = search["candidates_fit_seasons"][0], search["chosen_on_season"]
    summary = {
        "hyperparameters": {**(params.get("fixed_hyperparameters") or {}), **search["best"]},
        "fit_seasons": [first, latest],
        "test_seasons": list(m.season_range(params, "test")),
        "label": params["label"],
        "input_columns": list(params["numeric_features"]) + list(params["categorical_features"]),
        "feature_columns": features,
        "class_labels": {str(k): v for k, v in m.CLASS_LABELS.items()},
        "decision": decision,
        "feature_importance": gain,
    }
    logger.info(
        "Served model fit on seasons %d-%d (%d rows, n_jobs %d)",
        first, latest, search["served_fit_rows"], threads,
    )  # fmt: skip
    return preprocessing, classifier, summary


def evaluate(predictions: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """The test seasons' block of metrics.json, from the backtest's out-of-fold predictions.

    Each test season is scored by the model fit on the seasons before it, labels by the decision
    rule tuned before it; the grid rule's odds come from the same fit rows. (The served model has
    seen every labelled season: scoring it on them would measure nothing.)
    """
    label = params["label"]
    s0, s1 = m.season_range(params, "test")
    have = sorted(int(s) for s in predictions["SEASON"].unique())
    if not set(range(s0, s1 + 1)) <= set(have):
        raise ValueError(
            f"train.seasons.test {[s0, s1]} must lie within the backtest's out-of-fold seasons "
            f"{have[0]}-{have[-1]}"
        )
    rows = predictions[predictions["SEASON"].between(s0, s1)]
    y, proba = rows[label].to_numpy(dtype=int), m.probabilities(rows)
    metrics = {
        "model": m.classification_metrics(y, rows["PREDICTED_LABEL"].to_numpy(dtype=int), proba),
        "baseline": m.classification_metrics(
            y, rows["GRID_RULE_LABEL"].to_numpy(dtype=int), _baseline_proba(rows)
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
    metrics["test_seasons"] = [s0, s1]
    metrics["measured_on"] = (
        "out-of-fold backtest predictions: each test season scored by the model fit on the "
        "seasons before it"
    )
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


def plot_reliability(predictions: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Per class: the backtest's predicted probabilities (model, grid rule) against outcomes."""
    b0, b1 = m.season_range(params, "backtest")
    rows = predictions[predictions["SEASON"].between(b0, b1)]
    y = rows[params["label"]].to_numpy(dtype=int)
    return plots.reliability(y, m.probabilities(rows), _baseline_proba(rows), (b0, b1))
