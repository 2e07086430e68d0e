"""The register pipeline: the trained unit -> one registry version (+ its stage audit copy)."""

from kedro.pipeline import Node, Pipeline

from .nodes import register_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                register_model,
                inputs=["model_registry", "trained_model", "params:register"],
                outputs="registered_model",
                name="register_model_node",
            )
        ]
    )
