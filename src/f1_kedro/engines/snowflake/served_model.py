"""The snowflake-ml custom model one Snowflake registry version serves (issue 18).

Why a custom model and not the snowflake-ml `Pipeline` itself: train hands over two fitted parts
(preprocessing pipeline, XGBClassifier); a `Pipeline` composed of fitted steps is not fitted
(`_is_fitted` is set only by `Pipeline.fit*`, snowflake/ml/modeling/pipeline/pipeline.py at
2.6.0), so its `predict_proba` and `model_signatures` raise and `log_model` refuses it
(tests/register/test_snowml_packaging.py runs this). The custom model holds both parts as
sub-models (each saved by snowflake-ml's own `snowml` handler) and serves `predict_proba`.

This module imports nothing of the project: snowflake-ml's custom handler pickles it by value
(`cloudpickle.register_pickle_by_value(sys.modules[model.__module__])`, _packager/
model_handlers/custom.py at 2.6.0), so the version loads in a warehouse without f1_kedro.
"""

# No `from __future__ import annotations`: CustomModel checks the annotations are real types.
import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
from snowflake.ml.model import custom_model

PROBA_PREFIX = "PREDICT_PROBA_"  # f1_kedro.contracts.PROBA_PREFIX (tests/register ties them)
PIPELINE, PREPROCESSING, CLASSIFIER = "pipeline", "preprocessing", "classifier"
# Not "explain": snowflake-ml makes a method of that name a table function
# (_model_composer/model_method/model_method.py at 2.6.0); this one is a plain function.
CONTRIBUTIONS = "contributions"


class PipelineProbabilities(custom_model.CustomModel):
    """predict_proba(rows) -> PREDICT_PROBA_0..n-1 only, float64, each row summing to 1.

    Sub-models: `pipeline` (one fitted snowflake-ml Pipeline), or `preprocessing` and
    `classifier` applied in that order (what train hands over today). `contributions` explains
    (snowflake-ml refuses explainability for custom models, so the model carries its own).
    """

    @custom_model.inference_api
    def predict_proba(self, input: pd.DataFrame) -> pd.DataFrame:
        rows = pd.DataFrame(input).reset_index(drop=True)
        with warnings.catch_warnings():
            # snowflake-ml infers a signature on every pandas call and warns on NULLs (imputed)
            warnings.filterwarnings("ignore", "Null value detected", UserWarning)
            warnings.filterwarnings("ignore", "The sample input has", UserWarning)
            warnings.filterwarnings("ignore", "X has feature names", UserWarning)
            if PIPELINE in self.context.model_refs:
                scored = self.context.model_ref(PIPELINE).model.predict_proba(rows)
            else:
                features = self.context.model_ref(PREPROCESSING).model.transform(rows)
                scored = self.context.model_ref(CLASSIFIER).model.predict_proba(features)
        columns = sorted(
            (c for c in scored.columns if str(c).startswith(PROBA_PREFIX)),
            key=lambda c: int(str(c)[len(PROBA_PREFIX) :]),
        )
        proba = np.asarray(scored[columns], dtype="float64")
        proba = proba / proba.sum(axis=1, keepdims=True)  # XGBoost's float32 rows drift by ~1e-7
        return pd.DataFrame(proba, columns=columns)

    @custom_model.inference_api
    def contributions(self, input: pd.DataFrame) -> pd.DataFrame:
        """Per row, one JSON text EXPLANATION: the classifier's features, their values, and
        XGBoost's own TreeSHAP contributions (log-odds, `pred_contribs`) per class, bias dropped:
        {"features": [f], "values": [f], "contributions": [[f] per class]}."""
        import xgboost

        rows = pd.DataFrame(input).reset_index(drop=True)
        transform, classifier = self._parts()
        columns = list(classifier.get_input_cols())
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X has feature names", UserWarning)
            values = pd.DataFrame(transform(rows))[columns].astype("float64")
        booster = classifier.to_xgboost().get_booster()
        matrix = xgboost.DMatrix(values, feature_names=columns)
        per_class = booster.predict(matrix, pred_contribs=True)[:, :, :-1]  # rows, classes, f
        return pd.DataFrame(
            {
                "EXPLANATION": [
                    json.dumps({"features": columns, "values": v.tolist(), "contributions": c})
                    for v, c in zip(values.to_numpy(), per_class.tolist(), strict=True)
                ]
            }
        )

    def _parts(self) -> tuple[Any, Any]:
        """The preprocessing as one transform, and the fitted snowflake-ml XGBClassifier."""
        if PIPELINE in self.context.model_refs:
            steps = self.context.model_ref(PIPELINE).model.steps

            def transform(rows: pd.DataFrame) -> pd.DataFrame:
                for _, step in steps[:-1]:
                    rows = step.transform(rows)
                return rows

            return transform, steps[-1][1]
        preprocessing = self.context.model_ref(PREPROCESSING).model
        return preprocessing.transform, self.context.model_ref(CLASSIFIER).model
