"""Nodes of the register pipeline: a new registry version, and the champion policy applied."""

from __future__ import annotations

import logging
from typing import Any

from f1_kedro.registry import ModelArtifacts, ModelRegistry, should_promote

logger = logging.getLogger(__name__)


def registry_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Flatten metrics.json into the registry's numbers: `test_*` for the model, `baseline_*`."""
    flat: dict[str, float] = {}
    for prefix, name in (("test", "model"), ("baseline", "baseline")):
        block = metrics[name]
        for key in ("accuracy", "macro_f1", "log_loss"):
            flat[f"{prefix}_{key}"] = float(block[key])
        for label, scores in block["per_class"].items():
            flat[f"{prefix}_precision_{label}"] = float(scores["precision"])
            flat[f"{prefix}_recall_{label}"] = float(scores["recall"])
    # the rolling-origin backtest, pooled over its seasons: `backtest_*` and `backtest_baseline_*`
    for prefix, name in (("backtest", "model"), ("backtest_baseline", "baseline")):
        for key, value in metrics.get("backtest", {}).get(name, {}).items():
            if key != "rows":
                flat[f"{prefix}_{key}"] = float(value)
    return flat


def check_one_run(trained_model: dict[str, Any]) -> str:
    """The run id shared by every part of the train unit; refuses parts of different runs."""
    ids = {
        part: trained_model.get(part, {}).get("run_id") for part in ("summary", "metrics", "search")
    }
    ids["trained_model"] = trained_model.get("run_id")
    if None in ids.values() or len(set(ids.values())) != 1:
        raise ValueError(
            "trained_model mixes train runs: "
            + ", ".join(f"{part} run_id={run_id}" for part, run_id in ids.items())
            + "; run `kedro run --pipeline=train` again, nothing was registered"
        )
    return str(ids["trained_model"])


def register_model(
    model_registry: ModelRegistry, trained_model: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Register a new version with its metrics and stage artefact; move the champion by policy.

    The train unit is checked first (one run id in every part). The champion is read before and
    moved only after the version is complete, so a run that fails anywhere before the last step
    leaves the served version as it was.
    """
    run_id = check_one_run(trained_model)
    train_summary, metrics = trained_model["summary"], trained_model["metrics"]
    preprocessing_pipeline, classifier = trained_model["preprocessing"], trained_model["classifier"]
    name = params["model_name"]
    artifacts = ModelArtifacts(
        preprocessing=preprocessing_pipeline,
        classifier=classifier,
        input_columns=list(train_summary["input_columns"]),
        feature_columns=list(train_summary["feature_columns"]),
        class_labels={int(k): v for k, v in train_summary["class_labels"].items()},
    )
    flat = registry_metrics(metrics)
    champion = model_registry.champion(name)
    run_params = {
        **train_summary["hyperparameters"],
        "fit_seasons": train_summary["fit_seasons"],
        "test_seasons": train_summary["test_seasons"],
        "input_columns": train_summary["input_columns"],
        "train_run_id": run_id,
    }
    version = model_registry.register(name, artifacts, run_params, flat)
    promote = should_promote(flat, champion, params["promotion"])
    if promote:
        model_registry.set_champion(name, version.version)
    served = version.version if promote else (champion or {}).get("version")
    logger.info(
        "Registered %s version %s (test macro F1 %.4f); champion: %s%s",
        name, version.version, flat["test_macro_f1"], served, " (moved)" if promote else " (kept)",
    )  # fmt: skip
    return {
        "model_name": name,
        "train_run_id": run_id,
        "version": version.version,
        "version_name": version.version_name,
        "model_uri": version.model_uri,
        "champion_moved": promote,
        "champion_version": served,
        "previous_champion_version": (champion or {}).get("version"),
        "stage_path": version.stage_path,
        "metrics": {k: flat[f"test_{k}"] for k in ("accuracy", "macro_f1", "log_loss")},
        "baseline_metrics": {
            k: flat[f"baseline_{k}"] for k in ("accuracy", "macro_f1", "log_loss")
        },
    }
