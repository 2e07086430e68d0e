"""The ingest pipeline: CSV files to typed raw tables."""

from kedro.pipeline import Node, Pipeline

from .nodes import load_raw_tables, resolve_source


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                resolve_source,
                inputs="params:ingest",
                outputs="ingest_source",
                name="resolve_source_node",
            ),
            Node(
                load_raw_tables,
                inputs=["warehouse", "bootstrap_report", "ingest_source", "params:ingest"],
                outputs="ingest_report",
                name="load_raw_tables_node",
            ),
        ]
    )
