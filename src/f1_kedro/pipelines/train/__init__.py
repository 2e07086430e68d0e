"""train: a snowflake-ml-python preprocessing pipeline and XGBoost classifier, temporal split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
