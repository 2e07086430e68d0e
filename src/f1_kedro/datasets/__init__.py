"""Engine-free datasets of the project (engine-specific ones live in f1_kedro.engines)."""

from .resource import ResourceDataset
from .trained_model import TrainedModelDataset

__all__ = ["ResourceDataset", "TrainedModelDataset"]
