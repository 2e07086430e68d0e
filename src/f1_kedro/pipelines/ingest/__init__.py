"""ingest: the 14 Ergast CSV tables into RAW.FORMULA1, typed, each replaced atomically."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
