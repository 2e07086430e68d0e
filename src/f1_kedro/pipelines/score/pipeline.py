"""The score pipeline: served version -> PREDICTIONS, PREDICTIONS_LATEST, MODEL_MONITORING (dbt)
-> a summary."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_predictions, check_request, plot_monitoring, summarise_predictions


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                check_request,
                inputs=["features_build", "params:score"],
                outputs="score_seasons",  # in memory: a refusal here writes nothing
                name="check_request_node",
            ),
            Node(
                build_predictions,
                # registered_model orders scoring after register in `kedro run`
                inputs=[
                    "dbt_project",
                    "registered_model",
                    "score_seasons",
                    "params:score",
                    "params:train",
                ],
                outputs=[
                    "predictions",
                    "model_monitoring",
                    "predictions_latest",
                    "prediction_explanations",
                    "dbt_score_report",
                ],
                name="build_predictions_node",
            ),
            Node(
                summarise_predictions,
                inputs=["predictions", "model_input_table", "dbt_score_report"],
                outputs="score_summary",
                name="summarise_predictions_node",
            ),
            Node(
                plot_monitoring,
                inputs="model_monitoring",
                outputs="monitoring_plot",
                name="plot_monitoring_node",
            ),
        ]
    )
