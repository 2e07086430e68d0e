"""features: dbt builds staging, marts and the ML feature table, with its tests as gates."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
