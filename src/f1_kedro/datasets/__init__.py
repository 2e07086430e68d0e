"""Engine-free datasets of the project (engine-specific ones live in f1_kedro.engines)."""

from .trained_model import TrainedModelDataset

__all__ = ["TrainedModelDataset"]
