"""Issue #145 at the installed snowflake-ml-python: log_model's packaging path, run locally;
and why a version is a custom model holding train's two fitted parts (not a composed Pipeline).

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
    return pipe, rows.drop(columns="LABEL").head(20), rows


@pytest.fixture(scope="module")
def parts(fitted):
    """The shape train hands over: preprocessing and classifier fitted one after the other."""
    from snowflake.ml.modeling.pipeline import Pipeline
    from snowflake.ml.modeling.preprocessing import OneHotEncoder
    from snowflake.ml.modeling.xgboost import XGBClassifier

    rows = fitted[2]
    encoder = OneHotEncoder(input_cols=["CIRCUIT"], output_cols=["CIRCUIT"], drop_input_cols=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        preprocessing = Pipeline(steps=[("ohe", encoder)]).fit(rows)
        encoded = preprocessing.transform(rows)
        inputs = [c for c in encoded.columns if c != "LABEL"]
        model = XGBClassifier(input_cols=inputs, label_cols=["LABEL"], n_estimators=5)
        return preprocessing, model.fit(encoded)


def _save(model, sample, explain: bool):
    from snowflake.ml._internal.platform_capabilities import PlatformCapabilities
    from snowflake.ml.model._packager import model_packager

    # an active Snowpark session would be asked for the account's feature flags
    with warnings.catch_warnings(), PlatformCapabilities.mock_features():
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
    pipe, sample, _ = fitted
    meta = _save(pipe, sample, explain=False)
    assert meta.model_type == "snowml"
    proba = meta.signatures["predict_proba"]
    assert [f.name for f in proba.inputs] == ["CIRCUIT", "GRID"]
    outputs = [f.name for f in proba.outputs]
    # run(function_name="predict_proba") returns the transformed inputs + one column per class
    assert outputs[-3:] == ["PREDICT_PROBA_0", "PREDICT_PROBA_1", "PREDICT_PROBA_2"]
    assert "explain" not in meta.signatures


def test_explain_is_refused_for_the_snowml_pipeline(fitted):
    pipe, sample, _ = fitted
    with pytest.raises(ValueError, match="Explainability for this model is not supported"):
        _save(pipe, sample, explain=True)


def test_a_pipeline_of_the_two_fitted_parts_is_refused(fitted, parts):
    """Why register logs a custom model: Pipeline(fitted parts) is not fitted at 2.6."""
    from snowflake.ml.modeling.pipeline import Pipeline

    composed = Pipeline(steps=[("preprocessing", parts[0]), ("classifier", parts[1])])
    with pytest.raises(Exception, match="Pipeline is not fitted before calling"):
        _save(composed, fitted[1], explain=False)


def test_the_custom_model_of_both_parts_packages_with_its_functions(fitted, parts):
    from snowflake.ml.model import custom_model

    from f1_kedro.contracts import PROBA_PREFIX
    from f1_kedro.engines.snowflake import served_model as served

    assert served.PROBA_PREFIX == PROBA_PREFIX  # the served module cannot import the project
    context = custom_model.ModelContext(models={"preprocessing": parts[0], "classifier": parts[1]})
    model = served.PipelineProbabilities(context)
    meta = _save(model, fitted[1], explain=False)
    assert meta.model_type == "custom"
    assert set(meta.signatures) == {"predict_proba", "contributions"}  # its own explainer
    outputs = [f.name for f in meta.signatures["predict_proba"].outputs]
    assert outputs == ["PREDICT_PROBA_0", "PREDICT_PROBA_1", "PREDICT_PROBA_2"]
    with pytest.raises(NotImplementedError, match="Explainability is not supported"):
        _save(model, fitted[1], explain=True)  # so PREDICTION_EXPLANATIONS keeps its refusal
