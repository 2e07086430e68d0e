"""register: the classifier into the model registry, the preprocessing pipeline onto the stage."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
