"""f1_kedro: Formula 1 ML pipelines with Kedro, dbt and snowflake-ml-python."""

__version__ = "0.1.0"
