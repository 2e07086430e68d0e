"""Nodes of the register pipeline: a new registry version, and the champion policy applied."""

from __future__ import annotations

import logging
from typing import Any

from f1_kedro.interfaces import ModelRegistry
from f1_kedro.registry import (
    Trained,
    check_trained,
    should_promote,
    version_tags,
)

logger = logging.getLogger(__name__)

check_one_run = check_trained  # the name tests/train/test_trained_model.py knows

_SCORES = ("accuracy", "macro_f1", "log_loss", "brier", "rps")


def registry_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Flatten metrics.json into the registry's numbers.

    `test_*` / `baseline_*`: the test window; `backtest_*` / `backtest_baseline_*`: the rolling-
    origin backtest pooled over its seasons; `backtest_<season>_*` / `backtest_baseline_<season>_*`:
    each backtest season.
    """
    flat: dict[str, float] = {}
    for prefix, name in (("test", "model"), ("baseline", "baseline")):
        block = metrics[name]
        for key in ("accuracy", "macro_f1", "log_loss"):
            flat[f"{prefix}_{key}"] = float(block[key])
        for label, scores in block["per_class"].items():
            flat[f"{prefix}_precision_{label}"] = float(scores["precision"])
            flat[f"{prefix}_recall_{label}"] = float(scores["recall"])
    for prefix, name in (("backtest", "model"), ("backtest_baseline", "baseline")):
        for key, value in metrics.get("backtest", {}).get(name, {}).items():
            if key in _SCORES:
                flat[f"{prefix}_{key}"] = float(value)
        for season in metrics.get("by_season", []):
            for key in _SCORES:
                if key in season.get(name, {}):
                    flat[f"{prefix}_{season['season']}_{key}"] = float(season[name][key])
    return flat


def register_model(
    model_registry: ModelRegistry, trained_model: Trained, params: dict[str, Any]
) -> dict[str, Any]:
    """Register the trained unit as a new version; move the champion by policy.

    Checked before any write: the unit's parts come from one train run, and the promotion metric
    is one the unit has. The champion is read before and moved only after the version is
    complete, so a run that fails anywhere before the last step leaves the served version as it was.
    """
    trained = trained_model
    name, policy = params["model_name"], params["promotion"]
    check_trained(trained)
    flat = registry_metrics(trained["metrics"])
    if policy.get("mode", "if_better") == "if_better" and policy["metric"] not in flat:
        raise ValueError(
            f"register.promotion.metric {policy['metric']!r} is not a metric train produced; "
            f"choose one of {sorted(flat)}"
        )
    champion = model_registry.champion(name)
    tags = version_tags(trained)
    version = model_registry.register(name, trained, flat, tags)
    promote = should_promote(flat, champion, policy)
    if promote:
        model_registry.set_champion(name, version.version)
    served = version.version if promote else (champion or {}).get("version")
    logger.info(
        "Registered %s version %s (%s %.4f, fit seasons %s); champion: %s%s",
        name, version.version, policy.get("metric"), flat.get(policy.get("metric"), float("nan")),
        trained["summary"]["fit_seasons"], served, " (moved)" if promote else " (kept)",
    )  # fmt: skip
    return {
        "model_name": name,
        "version": version.version,
        "version_name": version.version_name,
        "model_uri": version.model_uri,
        "champion_moved": promote,
        "champion_version": served,
        "previous_champion_version": (champion or {}).get("version"),
        "stage_path": version.stage_path,
        "train_run_id": trained["run_id"],
        "tags": version.tags,
        "metrics": {k: flat[f"test_{k}"] for k in ("accuracy", "macro_f1", "log_loss")},
        "baseline_metrics": {
            k: flat[f"baseline_{k}"] for k in ("accuracy", "macro_f1", "log_loss")
        },
        "backtest_metrics": {k: flat[f"backtest_{k}"] for k in _SCORES if f"backtest_{k}" in flat},
    }
