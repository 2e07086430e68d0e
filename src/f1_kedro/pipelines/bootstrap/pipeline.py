"""The bootstrap pipeline: an empty, well-formed warehouse."""

from kedro.pipeline import Node, Pipeline

from .nodes import bootstrap_warehouse


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                bootstrap_warehouse,
                inputs=["warehouse", "params:bootstrap"],
                outputs="bootstrap_report",
                name="bootstrap_warehouse_node",
            )
        ]
    )
