"""score: dbt Python model(s) score the feature rows with the served model; a summary of them."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
