"""Reporting figures of the train pipeline (matplotlib, saved by MatplotlibDataset entries).

matplotlib is imported by each function, so that only a run that draws pays for it (issue 13).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from f1_kedro.contracts import CLASS_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def confusion_matrices(metrics: dict[str, Any]) -> Figure:
    """Model and baseline confusion matrices side by side, rows actual, columns predicted."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), constrained_layout=True)
    for ax, name in zip(axes, ("model", "baseline"), strict=True):
        cm = metrics[name]["confusion_matrix"]
        matrix, labels = np.array(cm["matrix"]), cm["labels"]
        ax.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            color = "white" if value > matrix.max() / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", color=color)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        m = metrics[name]
        ax.set_title(f"{name}: acc {m['accuracy']:.3f}, macro F1 {m['macro_f1']:.3f}")
    return fig


def feature_importance(importance: dict[str, float], top: int = 20) -> Figure:
    """Horizontal bars of the classifier's gain importance, largest on top."""
    import matplotlib.pyplot as plt

    items = sorted(importance.items(), key=lambda kv: kv[1])[-top:]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(items) + 1.2), constrained_layout=True)
    ax.barh([k.strip('"') for k, _ in items], [v for _, v in items], color="tab:blue")
    ax.set_xlabel("importance (gain share)")
    ax.set_title("XGBoost feature importance")
    return fig


def backtest_by_season(backtest: dict[str, Any]) -> Figure:
    """One panel per metric: the model's line and the grid rule's, season by season."""
    import matplotlib.pyplot as plt

    seasons = [s["season"] for s in backtest["by_season"]]
    metrics = (("accuracy", "higher is better"), ("macro_f1", "higher is better"),
               ("log_loss", "lower is better"))  # fmt: skip
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for ax, (key, direction) in zip(axes, metrics, strict=True):
        for who, style in (("model", "o-"), ("baseline", "s--")):
            values = [s[who][key] for s in backtest["by_season"]]
            ax.plot(seasons, values, style, label="XGBoost" if who == "model" else "grid rule")
        ax.set_title(f"{key.replace('_', ' ')} ({direction})")
        ax.set_xticks(seasons, [str(s)[2:] for s in seasons])
        ax.set_xlabel("season scored (fit on all seasons before it)")
    axes[0].legend()
    return fig


def reliability(
    y: np.ndarray, proba: np.ndarray, rule_proba: np.ndarray, seasons: tuple[int, int]
) -> Figure:
    """Per class: mean predicted probability against the observed frequency, by decile of p."""
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    fig, axes = plt.subplots(1, proba.shape[1], figsize=(12, 4), constrained_layout=True)
    for k, ax in enumerate(axes):
        ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
        for p, style, name in ((proba, "o-", "XGBoost"), (rule_proba, "s--", "grid rule odds")):
            # quantile bins: the grid rule has ~21 distinct values, so some bins merge
            observed, predicted = calibration_curve(y == k, p[:, k], n_bins=10, strategy="quantile")
            ax.plot(predicted, observed, style, label=f"{name} (out-of-fold)")
        ax.set_title(CLASS_LABELS[k].replace("_", " "))
        ax.set_xlabel("predicted probability (decile means)")
        ax.set_aspect("equal")
    axes[0].set_ylabel("observed frequency")
    axes[0].legend(loc="upper left")
    fig.suptitle(f"Reliability of the backtest's probabilities, seasons {seasons[0]}-{seasons[1]}")
    return fig
