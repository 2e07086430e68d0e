"""What one MLflow model version holds besides the pipeline: its input example, signature,
parameters and pinned requirements, logged as a pyfunc; and MLflow's chatter kept out of the log.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import cloudpickle
import mlflow.pyfunc
import pandas as pd
from mlflow.models import infer_signature
from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

from f1_kedro.registry import Trained, fitted_model

from . import served_model


def requirements() -> list[str]:
    """What loading the model needs, pinned to the versions that trained it."""
    return [
        f"{name}=={metadata.version(name)}"
        for name in ("snowflake-ml-python", "xgboost", "scikit-learn", "numpy", "pandas")
    ]


def log_pyfunc(wrapper: Any, pipeline_file: str, signature: Any, example: pd.DataFrame) -> Any:
    """mlflow.pyfunc.log_model (mlflow 3.17: `name`, `python_model`, `artifacts`, read in
    mlflow/pyfunc/__init__.py); the wrapper's module is pickled by value, so loading a version
    needs no f1_kedro (a copied project whose venv points at a deleted clone still scores)."""
    cloudpickle.register_pickle_by_value(served_model)
    try:
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=wrapper,
            artifacts={"pipeline": pipeline_file},
            signature=signature,
            input_example=example,
            pip_requirements=requirements(),  # MLflow's inference runs a slow subprocess
        )
    finally:
        cloudpickle.unregister_pickle_by_value(served_model)


@contextlib.contextmanager
def quiet_mlflow(stderr: bool = True) -> Iterator[None]:
    """One log line per node: MLflow's chatter while it logs and registers a version is dropped.

    Its INFO lines (creating tables, validating the input example), the progress bar of that
    validation's artefact download, "Successfully registered model ..." (printed to stderr by
    mlflow/tracking/_model_registry/fluent.py `eprint`) and its WARNING that a `python_model`
    object is cloudpickled, which is deliberate here (`log_pyfunc`). Errors still raise.
    `stderr=False` keeps stderr (where the project's own log lines may go) and quiets the rest.
    """
    logger_ = logging.getLogger("mlflow")
    level, bar = logger_.level, os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    logger_.setLevel(logging.ERROR)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    try:
        with contextlib.redirect_stderr(io.StringIO()) if stderr else contextlib.nullcontext():
            yield
    finally:
        logger_.setLevel(level)
        if bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = bar


def input_example(trained: Trained, columns: list[str]) -> pd.DataFrame:
    """Two rows of the pipeline's input: a category the encoder knows for text columns (read off
    the fitted steps' `categories_`, snowflake-ml 2.6 OneHotEncoder), 0.0 and NULL for numbers,
    so the signature types numbers as double and scoring may pass NULLs."""
    model = fitted_model(trained)
    steps = model["preprocessing"].steps if isinstance(model, dict) else model.steps[:-1]
    categories: dict[str, Any] = {}
    for _, step in steps:
        categories.update(getattr(step, "categories_", None) or {})
    frame = pd.DataFrame(
        {
            c: [str(categories[c][0])] * 2 if c in categories else [0.0, float("nan")]
            for c in columns
        }
    )
    return frame


def signature(example: pd.DataFrame, output: pd.DataFrame) -> Any:
    """Inferred from the example, numbers typed Any: MLflow 3.17's schema enforcement refuses
    int64 for a double column (mlflow/models/utils.py `_enforce_mlflow_datatype`), and FEATURES
    gives int64 or, with NULLs, float64 for the same column. Names, order and texts stay typed."""
    signature = infer_signature(example, output)
    signature.inputs = Schema(
        [
            spec if spec.type == DataType.string else ColSpec(AnyType(), spec.name)
            for spec in signature.inputs.inputs
        ]
    )
    return signature


def params(trained: Trained) -> dict[str, str]:
    summary = trained["summary"]
    values = {
        **summary.get("hyperparameters", {}),
        "fit_seasons": summary.get("fit_seasons"),
        "test_seasons": summary.get("test_seasons"),
        "input_columns": summary.get("input_columns"),
        "train_run_id": trained["run_id"],
    }
    return {k: _param(v) for k, v in values.items()}


def _param(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
