"""What a model registry does for the register pipeline, independent of the engine behind it."""

from .model_registry import (
    VERSION_TAGS,
    Champion,
    ModelArtifacts,
    RegisteredVersion,
    RegistryError,
    Trained,
    TrainedUnitError,
    check_trained,
    fitted_model,
    pipeline_bytes,
    should_promote,
    stage_files,
    stage_manifest,
    version_manifest,
    version_tags,
)

__all__ = [
    "VERSION_TAGS",
    "Champion",
    "ModelArtifacts",
    "RegisteredVersion",
    "RegistryError",
    "Trained",
    "TrainedUnitError",
    "check_trained",
    "fitted_model",
    "pipeline_bytes",
    "should_promote",
    "stage_files",
    "stage_manifest",
    "version_manifest",
    "version_tags",
]
