"""The MLflow pyfunc an embedded registry version serves: the whole fitted snowflake-ml pipeline.

`to_sklearn()` was tried first (issue 18) and rejected: at snowflake-ml-python 2.6 a pipeline
composed of fitted steps refuses to convert ("can not be converted to an sklearn pipeline"), and a
pipeline fitted as a whole converts to ColumnTransformers with positional columns whose
probabilities differ from the fitted pipeline's by up to 0.78 (probe with tests/train's synthetic
table). So the version wraps the fitted pipeline itself. This module imports nothing of the
project: MLflow stores it by value (cloudpickle), so a version loads without f1_kedro installed.
"""

from __future__ import annotations

import warnings
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

PROBA_PREFIX = "PREDICT_PROBA_"  # f1_kedro.contracts.PROBA_PREFIX (tests/register ties them)


class PipelineProbabilities(mlflow.pyfunc.PythonModel):
    """predict(rows[input_columns]) -> DataFrame PREDICT_PROBA_0..n-1, float64, rows sum to 1.

    The artefact `pipeline` is one fitted snowflake-ml Pipeline, or {"preprocessing",
    "classifier"} (the two fitted parts train hands over today), applied in that order.
    """

    def __init__(self, input_columns: list[str], n_classes: int):
        self.input_columns = list(input_columns)
        self.n_classes = int(n_classes)
        self.pipeline: Any = None

    def load_context(self, context: Any) -> None:
        import joblib

        self.pipeline = joblib.load(context.artifacts["pipeline"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        rows = pd.DataFrame(model_input)[self.input_columns].reset_index(drop=True)
        with warnings.catch_warnings():
            # snowflake-ml 2.6 infers a signature on every pandas predict and warns about NULLs
            # (imputed by the pipeline, expected) and about using 100 of the rows: noise here.
            warnings.filterwarnings("ignore", "Null value detected", UserWarning)
            warnings.filterwarnings("ignore", "The sample input has", UserWarning)
            # its pandas path hands sklearn arrays after fitting on frames: a known false alarm
            warnings.filterwarnings("ignore", "X has feature names", UserWarning)
            model = self.pipeline
            if isinstance(model, dict):  # train's unit as two fitted parts, applied in order
                scored = model["classifier"].predict_proba(model["preprocessing"].transform(rows))
            else:
                scored = model.predict_proba(rows)
        columns = [f"{PROBA_PREFIX}{k}" for k in range(self.n_classes)]
        proba = np.asarray(pd.DataFrame(scored)[columns], dtype="float64")
        proba = proba / proba.sum(axis=1, keepdims=True)  # XGBoost's float32 rows drift by ~1e-7
        return pd.DataFrame(proba, columns=columns)
