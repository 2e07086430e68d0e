"""Issue #145 at the installed snowflake-ml-python: log_model's packaging path, run locally.

`ModelPackager.save` is what `Registry.log_model` calls to build the model folder before the
upload (source-read, snowflake/ml/model/_packager/model_packager.py at 2.6); it needs no account.
"""

import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("snowflake.ml.modeling.pipeline")


@pytest.fixture(scope="module")
def fitted():
    from snowflake.ml.modeling.pipeline import Pipeline
    from snowflake.ml.modeling.preprocessing import OneHotEncoder
    from snowflake.ml.modeling.xgboost import XGBClassifier

    rng = np.random.default_rng(0)
    rows = pd.DataFrame(
        {
            "CIRCUIT": rng.choice(["A", "B", "C"], 300),
            "GRID": rng.integers(1, 21, 300).astype(float),
            "LABEL": rng.integers(0, 3, 300),
        }
    )
    encoder = OneHotEncoder(
        input_cols=["CIRCUIT"], output_cols=["CIRCUIT_OHE"], drop_input_cols=True
    )
    model = XGBClassifier(label_cols=["LABEL"], output_cols=["PRED"], n_estimators=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = Pipeline(steps=[("ohe", encoder), ("clf", model)]).fit(rows)
    return pipe, rows.drop(columns="LABEL").head(20)


def _save(model, sample, explain: bool):
    from snowflake.ml.model._packager import model_packager

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model_packager.ModelPackager(tempfile.mkdtemp()).save(
            name="m",
            model=model,
            sample_input_data=sample,
            options={"enable_explainability": explain, "relax_version": False},
            conda_dependencies=[],
            python_version="3.11",
        )


def test_issue_145_does_not_hold_a_onehot_pipeline_packages(fitted):
    pipe, sample = fitted
    meta = _save(pipe, sample, explain=False)
    assert meta.model_type == "snowml"
    proba = meta.signatures["predict_proba"]
    assert [f.name for f in proba.inputs] == ["CIRCUIT", "GRID"]
    outputs = [f.name for f in proba.outputs]
    # run(function_name="predict_proba") returns the transformed inputs + one column per class
    assert outputs[-3:] == ["PREDICT_PROBA_0", "PREDICT_PROBA_1", "PREDICT_PROBA_2"]
    assert "explain" not in meta.signatures


def test_explain_is_refused_for_the_snowml_pipeline(fitted):
    pipe, sample = fitted
    with pytest.raises(ValueError, match="Explainability for this model is not supported"):
        _save(pipe, sample, explain=True)
