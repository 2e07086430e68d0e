"""What both registries store and agree on: the trained unit, version tags, the alias policy.

`f1_kedro.engines.duckdb.mlflow_registry` (embedded) and `f1_kedro.engines.snowflake.registry`
(Snowflake) implement `f1_kedro.interfaces.ModelRegistry` and reach the node through the catalog
entry `model_registry`. docs/contracts.md ("Registry") describes the same.

Protocol (issue 18): one registered version holds the WHOLE fitted pipeline (preprocessing and
XGBoost classifier), so both engines serve one artefact:
  champion(model_name) -> Champion | None
  register(model_name, trained, metrics, tags) -> RegisteredVersion
  set_champion(model_name, version) -> None
The node checks the trained unit (`check_trained`), flattens the metrics and builds the tags
(`version_tags`) before it calls the registry; an engine stores what it is given, never
overwrites a version, and leaves nothing half-registered when it fails.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import joblib

# The stage folder of a version (audit and reuse; scoring never reads it).
PIPELINE_FILE = "pipeline.joblib"
MANIFEST_FILE = "manifest.json"
PREPROCESSING_FILE = "preprocessing.joblib"  # the pre-issue-18 layout; read by nothing new

# The parts of the train stage's one-unit output (`trained_model`), the JSON ones stamped with the
# same run id; the fitted model is `pipeline` (one snowflake-ml Pipeline) or, as train writes it
# today (f1_kedro.datasets.TrainedModelDataset), `preprocessing` + `classifier`.
TRAINED_PARTS: tuple[str, ...] = ("run_id", "summary", "metrics", "search")
MODEL_PARTS: tuple[tuple[str, ...], ...] = (("pipeline",), ("preprocessing", "classifier"))
RUN_ID_CARRIERS: tuple[str, ...] = ("summary", "metrics", "search")

# Version tags: what scoring needs beside the model (string values; JSON where structured).
TAG_INPUT_COLUMNS = "input_columns"  # JSON list: the columns predict() takes, in order
TAG_CLASS_LABELS = "class_labels"  # JSON {"0": "podium", "1": "points", "2": "no_points"}
TAG_DECISION = "decision"  # JSON: how a label is chosen from the probabilities
TAG_FEATURES_BUILD = "features_build"  # JSON: how FEATURES was built (dbt vars, rows, checksum)
TAG_TRAIN_RUN_ID = "train_run_id"  # the train run the whole unit came from
TAG_FIT_SEASONS = "fit_seasons"  # JSON [first, last]: the seasons the served model learned from
TAG_STAGE_LOCATION = "stage_location"  # where the version's audit copy lies
VERSION_TAGS: tuple[str, ...] = (
    TAG_INPUT_COLUMNS, TAG_CLASS_LABELS, TAG_DECISION, TAG_FEATURES_BUILD, TAG_TRAIN_RUN_ID,
    TAG_FIT_SEASONS,
)  # fmt: skip


class RegistryError(RuntimeError):
    """The registry or stage refused a write (e.g. the version's stage folder already exists)."""


class TrainedUnitError(ValueError):
    """The trained unit is incomplete or its parts come from different train runs."""


class Trained(TypedDict, total=False):
    """The train stage's one-unit output (docs/contracts.md, "Registry")."""

    run_id: str
    pipeline: Any  # fitted snowflake.ml.modeling.pipeline.Pipeline, XGBClassifier the last step
    preprocessing: Any  # or: the fitted preprocessing Pipeline ...
    classifier: Any  # ... and the fitted snowflake-ml XGBClassifier
    summary: dict[str, Any]  # run_id, input_columns, class_labels, fit_seasons, decision, ...
    metrics: dict[str, Any]  # metrics.json: run_id, model, baseline, backtest, by_season
    search: dict[str, Any]  # search.json of the unit: run_id, metric, best, candidates


class Champion(TypedDict):
    """The served version: its number, its registered metrics and its version tags."""

    version: int
    metrics: dict[str, float]
    tags: dict[str, str]


@dataclass(frozen=True)
class RegisteredVersion:
    """A version the registry now holds: how to load it and where its audit copy lies."""

    model_name: str
    version: int
    version_name: str  # "3" (MLflow) / "V3" (Snowflake)
    model_uri: str  # models:/<name>/<version> / snowflake://DB.SCHEMA.<name>/V<version>
    stage_path: str  # the audit copy (pipeline + manifest); never needed for scoring
    tags: dict[str, str] = field(default_factory=dict)


def check_trained(trained: Mapping[str, Any]) -> str:
    """The unit's run id, after checking every part is there and carries that same run id.

    Raises TrainedUnitError naming each part whose run id disagrees (issue 15.1: a model must
    never be registered with another run's metrics).
    """
    missing = [part for part in TRAINED_PARTS if part not in trained or trained[part] is None]
    if not any(all(trained.get(p) is not None for p in parts) for parts in MODEL_PARTS):
        missing.append("pipeline (or preprocessing and classifier)")
    if missing:
        raise TrainedUnitError(
            f"the trained unit lacks {missing}; run `kedro run --pipeline=train` first"
        )
    run_id = str(trained["run_id"])
    found = {part: (trained[part] or {}).get("run_id") for part in RUN_ID_CARRIERS}
    wrong = {part: value for part, value in found.items() if str(value) != run_id}
    if wrong:
        described = ", ".join(f"{part} run_id={value}" for part, value in wrong.items())
        raise TrainedUnitError(
            f"trained_model mixes train runs: run_id={run_id}, but {described}; "
            "run `kedro run --pipeline=train` again, nothing was registered"
        )
    return run_id


def version_tags(trained: Trained) -> dict[str, str]:
    """The version tags scoring reads, from the trained unit's summary (strings; JSON inside)."""
    summary = trained["summary"]
    return {
        TAG_INPUT_COLUMNS: json.dumps(list(summary["input_columns"])),
        TAG_CLASS_LABELS: json.dumps({str(k): v for k, v in summary["class_labels"].items()}),
        TAG_DECISION: json.dumps(summary.get("decision") or {"rule": "argmax"}, sort_keys=True),
        TAG_FEATURES_BUILD: json.dumps(summary.get("features_build") or {}, sort_keys=True),
        TAG_TRAIN_RUN_ID: str(trained["run_id"]),
        TAG_FIT_SEASONS: json.dumps(list(summary["fit_seasons"])),
    }


def should_promote(
    candidate: Mapping[str, float], champion: Champion | None, policy: Mapping[str, Any]
) -> bool:
    """Whether the new version takes over: its `policy.metric` beats or ties the champion's.

    `policy.mode` is `always`, `never` or `if_better`; `policy.higher_is_better` says which way
    the metric goes (macro F1: up; log loss: down). No champion, or one without the metric
    (registered before the metric existed): promote.
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


def fitted_model(trained: Trained) -> Any:
    """What a version serves: the whole pipeline, or {"preprocessing", "classifier"} in order
    (f1_kedro.engines.duckdb.served_model scores either)."""
    if trained.get("pipeline") is not None:
        return trained["pipeline"]
    return {"preprocessing": trained["preprocessing"], "classifier": trained["classifier"]}


def pipeline_bytes(pipeline: Any) -> bytes:
    """The fitted pipeline as joblib bytes: the stage's audit copy of a version."""
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def stage_files(
    model_name: str, version: int, model_uri: str, tags: Mapping[str, str], pipeline: bytes
) -> dict[str, bytes]:
    """A version's audit copy on the stage: its manifest (JSON) and the fitted pipeline (joblib).

    The manifest comes first: a stage that writes file by file (Snowflake's PUT) stops on it.
    """
    manifest = version_manifest(model_name, version, model_uri, tags)
    return {MANIFEST_FILE: json.dumps(manifest, indent=2).encode(), PIPELINE_FILE: pipeline}


def version_manifest(
    model_name: str, version: int, model_uri: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON beside the pipeline on the stage: which version it is, and its tags decoded."""
    return {
        "model_name": model_name,
        "version": version,
        "model_uri": model_uri,
        "pipeline_file": PIPELINE_FILE,
        "tags": dict(tags),
    }


# Pre-issue-18 shape, still imported by engines/snowflake/registry.py until branch sf18 moves to
# the protocol above; removed then.
@dataclass(frozen=True)
class ModelArtifacts:
    preprocessing: Any
    classifier: Any
    input_columns: list[str]
    feature_columns: list[str]
    class_labels: dict[int, str]

    def preprocessing_bytes(self) -> bytes:
        return pipeline_bytes(self.preprocessing)


def stage_manifest(
    model_name: str, version: int, artifacts: ModelArtifacts, model_uri: str
) -> dict[str, Any]:
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
