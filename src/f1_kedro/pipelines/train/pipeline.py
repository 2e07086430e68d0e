"""The train pipeline: feature table -> rolling-origin backtest -> served model -> reports."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    backtest,
    evaluate,
    fit_final_model,
    package_trained_model,
    plot_backtest,
    plot_confusion_matrices,
    plot_feature_importance,
    plot_reliability,
    select_rows,
    with_backtest,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                select_rows,
                inputs=["model_input_table", "params:train"],
                outputs=["model_rows", "fit_rows"],
                name="select_rows_node",
            ),
            Node(
                backtest,
                inputs=["model_rows", "params:train"],
                outputs=["backtest", "backtest_predictions", "hyperparameter_search", "decision"],
                name="backtest_node",
            ),
            Node(
                fit_final_model,
                inputs=["fit_rows", "hyperparameter_search", "decision", "params:train"],
                outputs=["preprocessing_pipeline", "race_outcome_classifier", "train_summary"],
                name="fit_final_model_node",
            ),
            Node(
                evaluate,
                inputs=["backtest_predictions", "params:train"],
                outputs="test_metrics",
                name="evaluate_node",
            ),
            Node(
                with_backtest,
                inputs=["test_metrics", "backtest"],
                outputs="metrics",
                name="add_backtest_to_metrics_node",
            ),
            Node(
                package_trained_model,
                inputs=[
                    "preprocessing_pipeline",
                    "race_outcome_classifier",
                    "train_summary",
                    "hyperparameter_search",
                    "metrics",
                    # built with FEATURES by the features pipeline's ml layer (lineage, 15.5)
                    "features_build",
                ],
                outputs="trained_model",
                name="package_trained_model_node",
            ),
            Node(
                plot_backtest,
                inputs="backtest",
                outputs="backtest_plot",
                name="plot_backtest_node",
            ),
            Node(
                plot_reliability,
                inputs=["backtest_predictions", "params:train"],
                outputs="reliability_plot",
                name="plot_reliability_node",
            ),
            Node(
                plot_confusion_matrices,
                inputs="metrics",
                outputs="confusion_matrix_plot",
                name="plot_confusion_matrices_node",
            ),
            Node(
                plot_feature_importance,
                inputs="train_summary",
                outputs="feature_importance_plot",
                name="plot_feature_importance_node",
            ),
        ]
    )
