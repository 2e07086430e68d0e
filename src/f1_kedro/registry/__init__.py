"""What a model registry does for the register pipeline, independent of the engine behind it."""

from .model_registry import (
    ModelArtifacts,
    ModelRegistry,
    RegisteredVersion,
    RegistryError,
    should_promote,
    stage_manifest,
)

__all__ = [
    "ModelArtifacts",
    "ModelRegistry",
    "RegisteredVersion",
    "RegistryError",
    "should_promote",
    "stage_manifest",
]
