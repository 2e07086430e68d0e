"""ingest: the 14 Ergast CSV tables into RAW.FORMULA1, typed, replaced all at once or not at all."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
