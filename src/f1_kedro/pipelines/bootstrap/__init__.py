"""bootstrap: databases, schemas and the ML stage (on Snowflake also warehouses, roles, grants)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
