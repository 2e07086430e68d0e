"""FORMULA1.ML.PREDICTION_EXPLANATIONS: why the served version predicted what it did.

For every prediction of the latest scoring run (PREDICTIONS rows with the latest SCORED_AT), the
top var `explanation_top_k` feature contributions to the predicted class, one row each, from the
same registered version that scored it (so "why is this driver on the podium" is one query):
- duckdb: XGBoost's own contributions (`Booster.predict(DMatrix, pred_contribs=True)`, exact
  TreeSHAP in log-odds) of the MLflow champion's classifier, on the rows its preprocessing
  transforms: both from the one pyfunc version (its fitted pipeline, `unwrap_python_model()`).
- snowflake: the served registry version's own `contributions` function (the same XGBoost
  `pred_contribs`, computed in the warehouse by the custom model register logs; snowflake-ml 2.6
  refuses its built-in explainability for custom models).
Incremental (delete+insert on RACE_ID, DRIVER_ID, MODEL_VERSION), like PREDICTIONS.

The loaders below are copies of predictions.py's (a dbt Python model cannot import another);
tests/score/test_explanations_model.py checks that the copies are identical.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

KEYS = ["RACE_ID", "DRIVER_ID"]
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
        # the same pinned runtime as predictions.py (tests/score/test_snowflake_model.py)
        packages=["snowflake-ml-python==2.6.0", "snowflake-snowpark-python==1.56.0",
                  "xgboost==3.2.0", "scikit-learn==1.9.1", "joblib==1.6.0", "pandas==2.3.3"],
    )  # fmt: skip
    settings = {
        "engine": dbt.config.meta_get("engine"),
        "top_k": int(dbt.config.meta_get("explanation_top_k")),
        "model_name": dbt.config.meta_get("registry_model_name"),
        "alias": dbt.config.meta_get("registry_alias"),
        "tracking_uri": dbt.config.meta_get("mlflow_tracking_uri"),
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


def check_scored_by(scored: pd.DataFrame, version: str, model_name: str) -> None:
    """The latest predictions come from the served version: the one explained."""
    scored_by = sorted(set(scored["MODEL_VERSION"].astype(str)))
    if scored_by != [version]:
        raise ScoringError(
            f"the latest predictions were made by version(s) {scored_by} of {model_name!r} but "
            f"the served version is {version}: run `kedro run --pipeline=score` again"
        )


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
    check_scored_by(scored, version, model_name)
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
    """The served version's `contributions` function, run in the warehouse on the latest run's
    rows (nothing unpickled here); top_k computed in pandas, as on duckdb."""
    from snowflake.snowpark import functions as F

    latest = predictions.agg(F.max("SCORED_AT")).collect()[0][0]
    if latest is None:
        raise ScoringError("FORMULA1.ML.PREDICTIONS is empty: run `kedro run --pipeline=score`")
    latest = pd.Timestamp(latest).to_pydatetime()  # F.lit takes datetime, not pandas' Timestamp
    scored = predictions.filter(F.col("SCORED_AT") == F.lit(latest))
    model_name = settings["model_name"]
    registry = snowflake_registry(
        session, settings["registry_database"], settings["registry_schema"]
    )
    model_version = served_snowflake_version(registry, model_name)
    version = version_number(model_version.version_name)
    local = scored.select(*KEYS, *SCORED_COLUMNS).to_pandas()
    check_scored_by(local, version, model_name)
    tags = served_snowflake_tags(model_version, model_name)
    rows = features.join(scored.select(*KEYS), on=KEYS, how="inner")
    inputs = model_inputs_snowpark(rows, json.loads(tags["input_columns"]))
    try:
        explained = model_version.run(inputs, function_name=CONTRIBUTIONS).to_pandas()
    except Exception as err:  # a version registered before its model carried the function
        raise ScoringError(
            f"{model_name} V{version} has no usable `{CONTRIBUTIONS}` function ({err}): "
            f"register a new version with {TRAIN_AND_REGISTER}"
        ) from err
    explained = explained.astype({k: "int64" for k in KEYS})
    local = local.astype({k: "int64" for k in KEYS}).merge(explained, on=KEYS, validate="1:1")
    parsed = [json.loads(cell) for cell in local["EXPLANATION"]]
    columns = parsed[0]["features"] if parsed else []
    values = pd.DataFrame([p["values"] for p in parsed], columns=columns, dtype="float64")
    per_class = np.array([p["contributions"] for p in parsed], dtype="float64")
    top = top_contributions(local, as_seen(values, local), per_class, settings["top_k"])
    return session.create_dataframe(top)


# The served version's explaining function (f1_kedro.engines.snowflake.served_model; a test ties
# them) and the PREDICTIONS columns top_contributions copies.
CONTRIBUTIONS = "contributions"
SCORED_COLUMNS = ["MODEL_NAME", "MODEL_VERSION", "SCORED_AT", "PREDICTED_LABEL"]


# -- copies of predictions.py's Snowflake loaders (checked identical by a test) -----------------
SNOWFLAKE_TAGS_METRIC = "version_tags"


def snowflake_registry(session: Any, database: str, schema: str) -> Any:
    from snowflake.ml.registry import Registry

    return Registry(session=session, database_name=database, schema_name=schema)


def served_snowflake_version(registry: Any, model_name: str) -> Any:
    """The model's default version (what register marks to serve), or a clear error."""
    try:
        return registry.get_model(model_name).default
    except Exception as err:
        raise ScoringError(
            f"model {model_name!r} has no default version in the Snowflake Model Registry: "
            f"{RUN_FIRST} --env snowflake ({type(err).__name__}: {err})"
        ) from err


def served_snowflake_tags(model_version: Any, model_name: str) -> dict[str, str]:
    """The version's tags (its metadata's `version_tags`), checked to hold what scoring reads."""
    tags = (model_version.show_metrics() or {}).get(SNOWFLAKE_TAGS_METRIC) or {}
    missing = sorted({"input_columns", "decision"} - set(tags))
    if missing:
        raise ScoringError(
            f"{model_name} {model_version.version_name} (the default version) has no "
            f"{', '.join(missing)} in its {SNOWFLAKE_TAGS_METRIC} metadata: it was registered "
            f"before issue 18 or by a register that was killed; {RUN_FIRST} --env snowflake"
        )
    return {str(k): str(v) for k, v in tags.items()}


def version_number(version_name: str) -> str:
    """Registry version names are `V<n>`; PREDICTIONS stores the number, as the duckdb path."""
    return version_name.upper().removeprefix("V")


def model_inputs_snowpark(rows: Any, columns: list[str]) -> Any:
    """The keys and the version's input columns, numbers as DOUBLE (the signature's type: the
    sample register logs types every number DOUBLE so that NULLs pass)."""
    from snowflake.snowpark import functions as F
    from snowflake.snowpark import types as T

    types = {field.name: field.datatype for field in rows.schema.fields}
    missing = [c for c in columns if c not in types]
    if missing:
        raise ScoringError(
            f"FORMULA1.ML.FEATURES lacks the served version's input columns {missing}: rebuild "
            "features (`kedro run --pipeline=features`) or register a version trained on them"
        )
    numbers = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.DecimalType, T.FloatType)
    numeric = {c for c in columns if isinstance(types[c], (*numbers, T.DoubleType))}
    return rows.select(
        *KEYS, *(F.col(c).cast(T.DoubleType()).alias(c) if c in numeric else c for c in columns)
    )


def as_seen(values: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Feature values as people read them: the input's own value (not scaled) where one exists."""
    shown = values.copy()
    for column in shown.columns.intersection(rows.columns):
        shown[column] = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64")
    return shown


# -- copies of predictions.py (checked identical by a test) ---------------------------------------
class ScoringError(RuntimeError):
    """The served model or its inputs cannot be used; the message says what to do."""


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
            f"model artifact {uri} (the {alias!r} version, files in "
            f"{location or 'the stored location'}) could not be loaded "
            f"({type(err).__name__}: {err}): {RUN_FIRST}"
        ) from err
    return {"version": version, "model": model, "tags": dict(served.tags or {})}


ARTIFACTS_FOLDER = "mlartifacts"


def relocated_artifacts(client: Any, model_version: Any, tracking_uri: str) -> str | None:
    """The version's files in this project when the stored absolute path is another folder's.

    MLflow stores absolute artefact paths: after the project folder was moved or copied they
    point at the old place. The part below `mlartifacts/` is re-based beside this registry's file
    (f1_kedro.engines.duckdb.mlflow_store re-bases the store itself the same way). None: load as
    is.
    """
    stored = str(model_version.source or "")
    if stored.startswith("models:/m-"):  # MLflow 3: the version's files are a logged model's
        stored = client.get_logged_model(stored.removeprefix("models:/")).artifact_location
    path = stored.removeprefix("file://")
    marker = f"/{ARTIFACTS_FOLDER}/"
    if not tracking_uri.startswith("sqlite:///") or marker not in path:
        return None
    database = Path(tracking_uri[len("sqlite:///") :])
    candidate = database.parent / ARTIFACTS_FOLDER / path.split(marker, 1)[1]
    # a copy whose original is still in place must not read the original's files either
    if not candidate.exists() or candidate.resolve() == Path(path).resolve():
        return None
    return str(candidate)
