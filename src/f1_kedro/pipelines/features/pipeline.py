"""The features pipeline: raw tables to the ML feature table, in SQL (dbt)."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_features


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                build_features,
                inputs=["dbt_project", "ingest_report", "params:features"],
                outputs=["model_input_table", "dbt_features_report"],
                name="build_features_node",
            ),
        ]
    )
