"""The train pipeline: feature table -> temporal split -> grid search -> final fit -> evaluation."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    backtest,
    evaluate,
    fit_final_model,
    package_trained_model,
    plot_backtest,
    plot_confusion_matrices,
    plot_feature_importance,
    search_hyperparameters,
    split_by_season,
    with_backtest,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                split_by_season,
                inputs=["model_input_table", "params:train"],
                outputs=["train_rows", "validation_rows", "fit_rows", "test_rows"],
                name="split_by_season_node",
            ),
            Node(
                search_hyperparameters,
                inputs=["train_rows", "validation_rows", "params:train"],
                outputs="hyperparameter_search",
                name="search_hyperparameters_node",
            ),
            Node(
                fit_final_model,
                inputs=["fit_rows", "hyperparameter_search", "params:train"],
                outputs=["preprocessing_pipeline", "race_outcome_classifier", "train_summary"],
                name="fit_final_model_node",
            ),
            Node(
                evaluate,
                inputs=[
                    "preprocessing_pipeline",
                    "race_outcome_classifier",
                    "fit_rows",
                    "test_rows",
                    "params:train",
                ],
                outputs="test_metrics",
                name="evaluate_node",
            ),
            Node(
                backtest,
                inputs=["model_input_table", "params:train"],
                outputs="backtest",
                name="backtest_node",
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
