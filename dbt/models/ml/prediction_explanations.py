"""FORMULA1.ML.PREDICTION_EXPLANATIONS: why the served version predicted what it did.

For every prediction of the latest scoring run (PREDICTIONS rows with the latest SCORED_AT), the
top var `explanation_top_k` feature contributions to the predicted class, one row each, from the
same registered version that scored it (so "why is this driver on the podium" is one query):
- duckdb: XGBoost's own contributions (`Booster.predict(DMatrix, pred_contribs=True)`, exact
  TreeSHAP in log-odds) of the MLflow champion's classifier, on the rows its preprocessing
  transforms: both from the one pyfunc version (its fitted pipeline, `unwrap_python_model()`).
- snowflake: the registry version's `explain` function (SHAP; snowflake-ml's xgboost handler,
  checked in snowflake/ml/model/_packager/model_handlers/{xgboost,_utils}.py of the installed
  library: one `<feature>_explanation` column per input, JSON {"0": v0, "1": v1, "2": v2} for
  a multiclass model). The version must be logged with explainability enabled.
Incremental (delete+insert on RACE_ID, DRIVER_ID, MODEL_VERSION), like PREDICTIONS.

The loaders below are copies of predictions.py's (a dbt Python model cannot import another);
tests/score/test_explanations_model.py checks that the copies are identical.
"""

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

KEYS = ["RACE_ID", "DRIVER_ID"]
MANIFEST_FILE = "manifest.json"
TRAIN_AND_REGISTER = "`kedro run --pipeline=train` then `kedro run --pipeline=register`"
RUN_FIRST = f"run {TRAIN_AND_REGISTER} first"
OUTPUT_COLUMNS = [
    *KEYS,
    "MODEL_NAME",
    "MODEL_VERSION",
    "SCORED_AT",
    "PREDICTED_LABEL",
    "RANK",
    "FEATURE",
    "FEATURE_VALUE",
    "CONTRIBUTION",
]


def model(dbt: Any, session: Any) -> Any:
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["RACE_ID", "DRIVER_ID", "MODEL_VERSION"],  # dbt parses literals only
        python_version="3.11",
        packages=["snowflake-ml-python", "snowflake-snowpark-python", "xgboost", "scikit-learn",
                  "joblib", "pandas"],
    )  # fmt: skip
    settings = {
        "engine": dbt.config.meta_get("engine"),
        "top_k": int(dbt.config.meta_get("explanation_top_k")),
        "model_name": dbt.config.meta_get("registry_model_name"),
        "alias": dbt.config.meta_get("registry_alias"),
        "tracking_uri": dbt.config.meta_get("mlflow_tracking_uri"),
        "stage_dir": dbt.config.meta_get("ml_stage_dir"),
        "snowflake_stage": dbt.config.meta_get("snowflake_ml_stage"),
        "registry_database": dbt.config.meta_get("snowflake_registry_database"),
        "registry_schema": dbt.config.meta_get("snowflake_registry_schema"),
    }
    predictions, features = dbt.ref("predictions"), dbt.ref("features")
    if settings["engine"] == "snowflake":
        return explain_snowflake(predictions, features, session, settings)
    return explain_duckdb(predictions, features, settings)


def latest_run(predictions: pd.DataFrame) -> pd.DataFrame:
    if predictions.empty:
        raise ScoringError("FORMULA1.ML.PREDICTIONS is empty: run `kedro run --pipeline=score`")
    return predictions[predictions["SCORED_AT"] == predictions["SCORED_AT"].max()]


def top_contributions(
    scored: pd.DataFrame, values: pd.DataFrame, contributions: np.ndarray, top_k: int
) -> pd.DataFrame:
    """Long rows: per prediction, the top_k features by |contribution| to its predicted class.

    `contributions` is (rows, classes, features) aligned with `scored` and `values`' columns.
    """
    labels = scored["PREDICTED_LABEL"].to_numpy(dtype=int)
    chosen = contributions[np.arange(len(scored)), labels, :]  # (rows, features)
    order = np.argsort(-np.abs(chosen), axis=1, kind="stable")[:, :top_k]
    features = np.asarray(values.columns)
    frames = []
    for rank in range(order.shape[1]):
        index = order[:, rank]
        frame = scored[[*KEYS, "MODEL_NAME", "MODEL_VERSION", "SCORED_AT", "PREDICTED_LABEL"]]
        frame = frame.reset_index(drop=True).copy()
        frame["RANK"] = rank + 1
        frame["FEATURE"] = features[index]
        frame["FEATURE_VALUE"] = values.to_numpy(dtype="float64")[np.arange(len(scored)), index]
        frame["CONTRIBUTION"] = chosen[np.arange(len(scored)), index].astype("float64")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).sort_values([*KEYS, "RANK"])[OUTPUT_COLUMNS]


# -- duckdb ---------------------------------------------------------------------------------------
def explain_duckdb(predictions: Any, features: Any, settings: dict[str, Any]) -> pd.DataFrame:
    import xgboost

    scored = latest_run(predictions.df())
    races = ", ".join(str(int(r)) for r in scored["RACE_ID"].unique())
    rows = features.filter(f"RACE_ID IN ({races})").df()
    rows = scored[[*KEYS]].merge(rows, on=KEYS, how="left", validate="one_to_one")
    model_name = settings["model_name"]
    served = load_mlflow_champion(settings["tracking_uri"], model_name, settings["alias"])
    version = served["version"]
    scored_by = sorted(set(scored["MODEL_VERSION"].astype(str)))
    if scored_by != [version]:
        raise ScoringError(
            f"the latest predictions were made by version(s) {scored_by} of {model_name!r} but "
            f"the served version is {version}: run `kedro run --pipeline=score` again"
        )
    # the pyfunc's own fitted pipeline (f1_kedro.registry.pyfunc_model), opened up
    transformers, classifier = pipeline_parts(served["model"].unwrap_python_model().pipeline)
    transformed = rows[json.loads(served["tags"]["input_columns"])]
    for transformer in transformers:
        transformed = transformer.transform(transformed)
    values = transformed[list(classifier.get_input_cols())].astype("float64")
    matrix = xgboost.DMatrix(values, feature_names=list(values.columns))
    contributions = classifier.to_xgboost().get_booster().predict(matrix, pred_contribs=True)
    return top_contributions(
        scored, as_seen(values, rows), contributions[:, :, :-1], settings["top_k"]
    )


def pipeline_parts(pipeline: Any) -> tuple[list[Any], Any]:
    """The fitted transformers, in order, and the snowflake-ml XGBClassifier of a served version:
    {"preprocessing", "classifier"} (train's two parts) or one Pipeline whose last step is it."""
    if isinstance(pipeline, dict):
        return [pipeline["preprocessing"]], pipeline["classifier"]
    steps = [step for _, step in pipeline.steps]
    return steps[:-1], steps[-1]


# -- snowflake ------------------------------------------------------------------------------------
def explain_snowflake(
    predictions: Any, features: Any, session: Any, settings: dict[str, Any]
) -> Any:
    """The registry version's `explain` on the latest run's rows; top_k computed in pandas."""
    from snowflake.ml.registry import Registry
    from snowflake.snowpark import functions as F

    latest = predictions.agg(F.max("SCORED_AT")).collect()[0][0]
    if latest is None:
        raise ScoringError("FORMULA1.ML.PREDICTIONS is empty: run `kedro run --pipeline=score`")
    scored = predictions.filter(F.col("SCORED_AT") == F.lit(latest))
    model_name = settings["model_name"]
    registry = Registry(
        session=session,
        database_name=settings["registry_database"],
        schema_name=settings["registry_schema"],
    )
    model_version = registry.get_model(model_name).default
    version = model_version.version_name.upper().removeprefix("V")
    folder = f"{settings['snowflake_stage'].rstrip('/')}/{model_name}/v{version}"
    with session.file.get_stream(f"{folder}/{MANIFEST_FILE}") as stream:
        manifest = read_manifest(stream.read(), folder, model_name, version)
    with session.file.get_stream(f"{folder}/{manifest['preprocessing_file']}") as stream:
        preprocessing = load_pipeline(stream.read(), folder)
    rows = features.join(scored.select(*KEYS), on=KEYS, how="inner")
    transformed = preprocessing.transform(rows)
    try:
        explained = model_version.run(transformed, function_name="explain").to_pandas()
    except Exception as err:  # a version logged without explainability
        raise ScoringError(
            f"{model_name} V{version} has no usable `explain` function ({err}): register it "
            "with options={'enable_explainability': True} and sample_input_data"
        ) from err
    local = scored.to_pandas().merge(explained[[*KEYS]], on=KEYS)
    explained = local[[*KEYS]].merge(explained, on=KEYS)
    columns = manifest["feature_columns"]
    per_class = np.array(
        [
            [[as_dict(cell)[str(k)] for cell in explained[f"{c}_explanation"]] for c in columns]
            for k in range(3)
        ]
    ).transpose(2, 0, 1)  # (rows, classes, features)
    values = as_seen(explained[columns].astype("float64"), explained)
    return session.create_dataframe(top_contributions(local, values, per_class, settings["top_k"]))


def as_seen(values: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Feature values as people read them: the input's own value (not scaled) where one exists."""
    shown = values.copy()
    for column in shown.columns.intersection(rows.columns):
        shown[column] = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64")
    return shown


def as_dict(cell: Any) -> dict[str, float]:
    return cell if isinstance(cell, dict) else json.loads(cell)


# -- copies of predictions.py (checked identical by a test) ---------------------------------------
class ScoringError(RuntimeError):
    """The served model or its stage artefact cannot be used; the message says what to do."""


def stage_error(location: str, err: BaseException) -> ScoringError:
    return ScoringError(
        f"stage artifact {location} could not be loaded ({type(err).__name__}: {err}); the "
        f"served version's stage folder is missing or damaged: register a new version with "
        f"{TRAIN_AND_REGISTER}"
    )


def read_manifest(content: bytes, location: str, model_name: str, version: str) -> dict[str, Any]:
    """The stage manifest, checked to be complete and to belong to the served version."""
    try:
        manifest = json.loads(content)
    except ValueError as err:
        raise stage_error(location, err) from err
    needed = {"model_name", "version", "preprocessing_file", "input_columns", "feature_columns"}
    missing = sorted(needed - set(manifest if isinstance(manifest, dict) else {}))
    if missing:
        raise stage_error(location, KeyError(f"no {', '.join(missing)}"))
    described = (manifest["model_name"], str(manifest["version"]))
    if described != (model_name, version):
        problem = ValueError(f"it describes {described[0]} v{described[1]}")
        raise stage_error(location, problem)
    return manifest


def load_pipeline(content: bytes, location: str) -> Any:
    """Unpickle the fitted preprocessing pipeline (joblib), naming the artefact if it fails."""
    import joblib

    try:
        pipeline = joblib.load(io.BytesIO(content))
    except Exception as err:
        raise stage_error(location, err) from err
    if not hasattr(pipeline, "transform"):
        raise stage_error(location, TypeError(f"a {type(pipeline).__name__} has no transform()"))
    return pipeline


def load_mlflow_champion(tracking_uri: str, model_name: str, alias: str) -> dict[str, Any]:
    """The version that carries `alias`: {"version", "model" (the MLflow pyfunc), "tags"}."""
    import mlflow
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri[len("sqlite:///") :]).resolve()
        # MLflow would create an empty sqlite registry on first touch: say what is missing instead.
        if not database.exists():
            raise ScoringError(
                f"no model registry at {tracking_uri}, so no {alias!r} version of model "
                f"{model_name!r} to score with: {RUN_FIRST}"
            )
        tracking_uri = f"sqlite:///{database}"  # MLflow caches stores by URI: pin the cwd's file
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        served = client.get_model_version_by_alias(model_name, alias)
    except MlflowException as err:
        raise ScoringError(
            f"model {model_name!r} has no {alias!r} version in the registry {tracking_uri}: "
            f"{RUN_FIRST} ({err.message if hasattr(err, 'message') else err})"
        ) from err
    version = str(served.version)
    uri = f"models:/{model_name}/{version}"
    # models:/ URIs resolve against the global registry; the tracking URI too, or MLflow creates
    # an empty mlflow.db in the working directory when it loads the model.
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    location = relocated_artifacts(client, served, tracking_uri)
    try:
        model = mlflow.pyfunc.load_model(location or uri)
    except Exception as err:
        raise ScoringError(
            f"model artifact {location or uri} (the {alias!r} version) could not be loaded "
            f"({type(err).__name__}: {err}): {RUN_FIRST}"
        ) from err
    return {"version": version, "model": model, "tags": dict(served.tags or {})}


ARTIFACTS_FOLDER = "mlartifacts"


def relocated_artifacts(client: Any, model_version: Any, tracking_uri: str) -> str | None:
    """The version's files in this project when the stored absolute path is another folder's.

    MLflow stores absolute artefact paths: after the project folder was moved or copied they
    point at the old place. The part below `mlartifacts/` is re-based beside this registry's file
    (f1_kedro.engines.mlflow_registry re-bases the store itself the same way). None: load as is.
    """
    stored = str(model_version.source or "")
    if stored.startswith("models:/m-"):  # MLflow 3: the version's files are a logged model's
        stored = client.get_logged_model(stored.removeprefix("models:/")).artifact_location
    path = stored.removeprefix("file://")
    marker = f"/{ARTIFACTS_FOLDER}/"
    if not tracking_uri.startswith("sqlite:///") or Path(path).exists() or marker not in path:
        return None
    database = Path(tracking_uri[len("sqlite:///") :])
    candidate = database.parent / ARTIFACTS_FOLDER / path.split(marker, 1)[1]
    return str(candidate) if candidate.exists() else None
