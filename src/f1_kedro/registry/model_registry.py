"""The registry protocol that both engines implement, the artefacts they store, the alias policy.

The register node only knows this module: `f1_kedro.engines.mlflow_registry` (embedded) and
`f1_kedro.engines.snowflake_registry` (Snowflake) implement `ModelRegistry` and reach the node
through the catalog entry `model_registry`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Protocol

import joblib

PREPROCESSING_FILE = "preprocessing.joblib"
MANIFEST_FILE = "manifest.json"


class RegistryError(RuntimeError):
    """The registry or stage refused a write (e.g. the version's stage folder already exists)."""


@dataclass(frozen=True)
class ModelArtifacts:
    """What one training run produced: the fitted preprocessing pipeline and the classifier.

    `classifier` is the fitted `snowflake.ml.modeling.xgboost.XGBClassifier`; `feature_columns`
    are the classifier's input columns, i.e. the preprocessing pipeline's output columns.
    """

    preprocessing: Any
    classifier: Any
    input_columns: list[str]
    feature_columns: list[str]
    class_labels: dict[int, str]

    def preprocessing_bytes(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(self.preprocessing, buffer)
        return buffer.getvalue()


@dataclass(frozen=True)
class RegisteredVersion:
    """A version the registry now holds, and where its preprocessing pipeline lies on the stage."""

    model_name: str
    version: int
    version_name: str
    stage_path: str
    model_uri: str
    tags: dict[str, str] = field(default_factory=dict)


class ModelRegistry(Protocol):
    def champion(self, model_name: str) -> dict[str, Any] | None:
        """The served version as {"version": int, "metrics": {...}}, or None if there is none."""
        ...

    def register(
        self,
        model_name: str,
        artifacts: ModelArtifacts,
        params: dict[str, Any],
        metrics: dict[str, float],
    ) -> RegisteredVersion:
        """Store a new version (never overwriting one), its preprocessing pipeline on the stage."""
        ...

    def set_champion(self, model_name: str, version: int) -> None:
        """Serve `version`: the MLflow alias `champion` / the Snowflake default version."""
        ...


def should_promote(
    candidate: dict[str, Any], champion: dict[str, Any] | None, policy: dict[str, Any]
) -> bool:
    """Whether the new version takes over: its `policy.metric` beats or ties the champion's.

    `policy.mode` is `always`, `never` or `if_better`; `policy.higher_is_better` says which way
    the metric goes (macro F1: up; log loss: down). No champion yet: promote.
    """
    mode = policy.get("mode", "if_better")
    if mode not in ("always", "never", "if_better"):
        raise ValueError(f"register.promotion.mode must be always, never or if_better: {mode!r}")
    if mode != "if_better":
        return mode == "always"
    if champion is None or policy["metric"] not in champion.get("metrics", {}):
        return True
    new, old = float(candidate[policy["metric"]]), float(champion["metrics"][policy["metric"]])
    return new >= old if policy.get("higher_is_better", True) else new <= old


def stage_manifest(
    model_name: str, version: int, artifacts: ModelArtifacts, model_uri: str
) -> dict[str, Any]:
    """The JSON beside the pipeline on the stage: what scoring needs to use it with the model."""
    return {
        "model_name": model_name,
        "version": version,
        "model_uri": model_uri,
        "preprocessing_file": PREPROCESSING_FILE,
        "input_columns": artifacts.input_columns,
        "feature_columns": artifacts.feature_columns,
        "class_labels": {str(k): v for k, v in artifacts.class_labels.items()},
        "probability_columns": [f"PREDICT_PROBA_{k}" for k in sorted(artifacts.class_labels)],
    }
