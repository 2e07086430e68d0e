"""How a label is chosen from the class probabilities, and how that rule is tuned.

The rule travels with the model as JSON (docs/contracts.md, "Registry"): `{"rule": "argmax"}` or
`{"rule": "weighted_argmax", "class_weights": [w0, w1, w2]}`, label = argmax(p_k * w_k).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

ARGMAX: dict[str, Any] = {"rule": "argmax"}


def weights(decision: dict[str, Any], classes: int) -> np.ndarray:
    """The class weights `decision` multiplies the probabilities by: all 1 for argmax.

    The one reading of the rule; dbt/models/ml/predictions.py (which cannot import it) keeps a
    copy, `decision_weights`, that tests/test_contracts.py holds to the same answers.
    """
    rule = decision.get("rule")
    if rule == "argmax":
        return np.ones(classes)
    if rule != "weighted_argmax":
        raise ValueError(f"unknown decision rule {rule!r}")
    w = decision.get("class_weights") or []
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in w)
    if len(w) != classes or not numbers:
        raise ValueError(f"decision {decision!r}: class_weights must be {classes} positive numbers")
    return np.asarray(w, dtype=float)


def apply(proba: np.ndarray, decision: dict[str, Any]) -> np.ndarray:
    """The labels `decision` picks for each row of `proba` (n x classes): argmax(p_k * w_k).

    Ties go to the lower class (numpy's argmax), as in the grid rule's podium-first order.
    """
    return (proba * weights(decision, proba.shape[1])).argmax(axis=1)


def objective(y: np.ndarray, predicted: np.ndarray, name: str, classes: int) -> float:
    """Macro F1, accuracy or their mean, from one confusion count (the tuner calls it often)."""
    counts = np.bincount(y * classes + predicted, minlength=classes * classes)
    matrix = counts.reshape(classes, classes)
    tp = np.diag(matrix).astype(float)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    f1 = np.divide(2 * tp, denominator, out=np.zeros(classes), where=denominator > 0)
    accuracy = tp.sum() / len(y)
    values = {"macro_f1": float(f1.mean()), "accuracy": float(accuracy)}
    values["mean_of_accuracy_and_macro_f1"] = (values["macro_f1"] + values["accuracy"]) / 2
    return values[name]


def tune(y: np.ndarray, proba: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    """The class weights (last class's fixed at 1) that maximise the objective on (y, proba).

    Plain argmax is the starting point and is kept unless a weighting is strictly better, so the
    rule never moves for nothing.
    """
    if params["rule"] == "argmax" or len(y) == 0:
        return dict(ARGMAX)
    y, classes = np.asarray(y, dtype=int), proba.shape[1]
    name, candidates = params["objective"], [float(w) for w in params["weight_candidates"]]
    best = (objective(y, proba.argmax(axis=1), name, classes), None)
    for weights in itertools.product(candidates, repeat=classes - 1):
        w = np.array([*weights, 1.0])
        value = objective(y, (proba * w).argmax(axis=1), name, classes)
        if value > best[0] + 1e-12:
            best = (value, w)
    if best[1] is None:
        return dict(ARGMAX)
    return {"rule": "weighted_argmax", "class_weights": [round(float(w), 6) for w in best[1]]}
