"""FORMULA1.ML.PREDICTIONS: every prediction of the served model, one row per race, driver, version.

What is scored: var `score_races` ("next": the next race without results that has a grid, or race
ids) or var `score_seasons` (years; [] = the latest season). Incremental, delete+insert on
(RACE_ID, DRIVER_ID, MODEL_VERSION): rescoring replaces only those keys, other races and versions
stay (delete+insert is in the valid strategies of dbt-duckdb 1.11 and dbt-snowflake 1.11, whose
incremental materializations both list python in supported_languages; see docs/contracts.md).

One model, two engines, dispatched on the dbt target's type (meta `engine`, predictions.yml):
- duckdb: runs in process. The served version is the MLflow alias `champion` of the registry at
  var `mlflow_tracking_uri`: ONE pyfunc version holding the whole fitted pipeline, whose tags
  name its input columns, class labels, decision rule and the feature build it was trained on
  (docs/contracts.md, "Registry"). The stage folder is an audit copy; scoring never reads it.
- snowflake: runs inside Snowflake as a stored procedure. The served version is the default
  version in `snowflake.ml.registry.Registry`, one logged model holding preprocessing and
  classifier: `model_version.run(rows, function_name="predict_proba")`, nothing unpickled here.

Lineage (issue 15.5): FEATURES built with other vars than the served version's features
(FORMULA1.ML.FEATURES_BUILD against the version's `features_build` tag) is refused, unscored.

Self-contained on purpose: a dbt Python model on Snowflake cannot import project code, and dbt
puts code before this file's in the stored procedure (hence no `from __future__`). dbt
writes only when this function returns, so a failed scoring leaves the previous predictions.
"""

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

KEYS = ["RACE_ID", "DRIVER_ID"]
# Classes 0, 1, 2 of LABEL (podium, points, no points), in that order (f1_kedro.contracts).
CLASS_LABELS = {0: "podium", 1: "points", 2: "no_points"}
PROBABILITY_COLUMNS = ["PROB_PODIUM", "PROB_POINTS", "PROB_NO_POINTS"]
OUTPUT_COLUMNS = [
    *KEYS,
    "PREDICTED_LABEL",
    *PROBABILITY_COLUMNS,
    "MODEL_NAME",
    "MODEL_VERSION",
    "SCORED_AT",
]
# FEATURES columns copied beside each prediction (who, which race) and the table's key.
CONTEXT_COLUMNS = ["SEASON", "ROUND", "DRIVER_REF", "CONSTRUCTOR_REF"]
TABLE_COLUMNS = [
    *KEYS,
    *CONTEXT_COLUMNS,
    "PREDICTED_LABEL",
    "PREDICTED_LABEL_NAME",
    *PROBABILITY_COLUMNS,
    "MODEL_NAME",
    "MODEL_VERSION",
    "SCORED_AT",
    "SCORED_BEFORE_RESULT",
]
NEXT = "next"
TRAIN_AND_REGISTER = "`kedro run --pipeline=train` then `kedro run --pipeline=register`"
RUN_FIRST = f"run {TRAIN_AND_REGISTER} first"
# Version tags scoring reads, JSON each (f1_kedro.registry.model_registry; a test ties them).
SERVED_TAGS = ("input_columns", "class_labels", "decision", "features_build")


class ScoringError(RuntimeError):
    """The served model or its inputs cannot be used; the message says what to do."""


def model(dbt: Any, session: Any) -> Any:
    # Runtime and packages of the Snowflake stored procedure; dbt-duckdb ignores them. Pinned to
    # the versions that fitted the model (dbt parses this call statically, so literals: a test
    # ties them to conf/snowflake/catalog_register.yml and constraints.txt).
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["RACE_ID", "DRIVER_ID", "MODEL_VERSION"],  # dbt parses literals only
        on_schema_change="append_new_columns",
        python_version="3.11",
        packages=["snowflake-ml-python==2.6.0", "snowflake-snowpark-python==1.56.0",
                  "xgboost==3.2.0", "scikit-learn==1.9.1", "joblib==1.6.0", "pandas==2.3.3"],
    )  # fmt: skip
    settings = {
        "engine": dbt.config.meta_get("engine"),
        "seasons": parse_seasons(dbt.config.meta_get("score_seasons")),
        "races": parse_races(dbt.config.meta_get("score_races")),
        "model_name": dbt.config.meta_get("registry_model_name"),
        "alias": dbt.config.meta_get("registry_alias"),
        "tracking_uri": dbt.config.meta_get("mlflow_tracking_uri"),
        "registry_database": dbt.config.meta_get("snowflake_registry_database"),
        "registry_schema": dbt.config.meta_get("snowflake_registry_schema"),
    }
    features = dbt.ref("features")
    if settings["engine"] == "snowflake":
        rows, settings["seasons"] = select_snowpark(features, settings)
        build = features_build_snowpark(dbt.ref("features_build"), features)
        table = with_context_snowpark(score_snowflake(rows, session, settings, build), rows)
        if dbt.is_incremental:
            table = keep_forecasts_snowpark(table, session.table(str(dbt.this)))
        return table
    rows = select_duckdb(features, settings)
    try:  # dbt finds refs by parsing: a literal call, here in model()
        build = dbt.ref("features_build")
    except Exception:  # a warehouse built before FEATURES_BUILD existed
        build = None
    build = features_build_duckdb(build, features)
    table = with_context(score_duckdb(rows, settings, build), rows)
    if dbt.is_incremental:
        table = keep_forecasts(table, session.sql(f"SELECT * FROM {dbt.this}").df())
    return table


# -- both engines --------------------------------------------------------------------------------
def parse_seasons(value: Any) -> list[int]:
    """The var `score_seasons` (JSON text from the config) as years; [] means the latest season.

    Accepts null, a year or a list of years (the Kedro score node passes a list of ints).
    """
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as err:
            raise ScoringError(
                f"score_seasons is not a year or a list of years: {value!r}"
            ) from err
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    if not all(str(item).isdigit() for item in items):
        raise ScoringError(f"score_seasons must be a year or a list of years, not {value!r}")
    return sorted({int(item) for item in items})


def parse_races(value: Any) -> str | list[int]:
    """The var `score_races` (JSON text): "next", race ids, or [] (score seasons instead)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as err:
            raise ScoringError(f"score_races is not 'next' or race ids: {value!r}") from err
    if value is None:
        return []
    if value == NEXT:
        return NEXT
    items = value if isinstance(value, (list, tuple)) else [value]
    if not all(str(item).isdigit() for item in items):
        raise ScoringError(f"score_races must be 'next' or a list of race ids, not {value!r}")
    return sorted({int(item) for item in items})


def no_next_race_error() -> ScoringError:
    return ScoringError(
        "score_races 'next': FORMULA1.ML.FEATURES has no race without results that has a grid; "
        "ingest the qualifying of the next race (`kedro run --pipeline=ingest` then features)"
    )


def missing_races_error(missing: list[int]) -> ScoringError:
    return ScoringError(
        f"score_races {missing}: no feature rows for these race ids in FORMULA1.ML.FEATURES"
    )


def with_context(scored: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The table's rows: predictions plus who and which race, the label name, result known?"""
    context = rows[[*KEYS, *CONTEXT_COLUMNS]].astype({k: "int64" for k in KEYS}).copy()
    context["SCORED_BEFORE_RESULT"] = rows["LABEL"].isna().to_numpy()
    frame = scored.merge(context, on=KEYS, how="left", validate="one_to_one")
    frame["PREDICTED_LABEL_NAME"] = frame["PREDICTED_LABEL"].map(CLASS_LABELS)
    return frame[TABLE_COLUMNS]


def keep_forecasts(table: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """A key scored before its result stays a forecast when rescored after it (same version).

    The same version on the same (leak-free) features gives the same probabilities, so only the
    flag needs keeping; without it a rescoring of the season would drop the race from monitoring.
    """
    if "SCORED_BEFORE_RESULT" not in existing.columns:  # a table from before the column
        return table
    key = [*KEYS, "MODEL_VERSION"]
    before = existing.loc[existing["SCORED_BEFORE_RESULT"].eq(True), key]
    before = before.astype({"RACE_ID": "int64", "DRIVER_ID": "int64", "MODEL_VERSION": str})
    flagged = table[key].merge(before.assign(_KEPT=1), on=key, how="left")["_KEPT"].notna()
    table = table.copy()
    table["SCORED_BEFORE_RESULT"] = table["SCORED_BEFORE_RESULT"].to_numpy() | flagged.to_numpy()
    return table


def scored_at() -> datetime:
    """One timestamp (UTC, without time zone, like TIMESTAMP_NTZ) for every row of a run."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def no_rows_error(seasons: list[int], first: Any, last: Any) -> ScoringError:
    held = f"seasons {first}-{last}" if first is not None else "no rows"
    return ScoringError(
        f"no feature rows for score_seasons {seasons} in FORMULA1.ML.FEATURES (it holds {held}): "
        "choose score.seasons among those"
    )


def served_tags(tags: dict[str, str], model_name: str, version: str) -> dict[str, Any]:
    """The served version's tags scoring reads (docs/contracts.md, "Registry"), decoded."""
    try:
        decoded = {name: json.loads(tags[name]) for name in SERVED_TAGS}
    except (KeyError, ValueError) as err:
        raise ScoringError(
            f"{model_name} v{version} lacks a readable version tag {err} (registered before "
            f"the registry contract?): {RUN_FIRST}"
        ) from err
    labels = {int(k): v for k, v in decoded["class_labels"].items()}
    if labels != CLASS_LABELS:
        raise ScoringError(
            f"{model_name} v{version} predicts classes {labels}, not {CLASS_LABELS}: {RUN_FIRST}"
        )
    return decoded


def decide(proba: np.ndarray, decision: dict[str, Any]) -> np.ndarray:
    """The labels the version's `decision` tag picks: argmax(p_k * w_k), ties to the lower class
    (f1_kedro.pipelines.train.decision.apply; tests/test_contracts.py ties the two)."""
    weights = np.asarray(decision_weights(decision), dtype="float64")
    return (proba * weights).argmax(axis=1).astype("int64")


def check_features_build(
    expected: dict[str, Any], built: dict[str, Any] | None, model_name: str, version: str
) -> None:
    """Refuse FEATURES built differently from the features the served version was trained on.

    `expected` is the version's `features_build` tag (empty for a version registered before
    lineage: nothing to compare); `built` the row of FORMULA1.ML.FEATURES_BUILD with `rows_now`,
    FEATURES' rows at scoring time (a row count that differs means the row is stale).
    """
    if not expected.get("build"):
        return
    features = "`kedro run --pipeline=features`"
    if built is None:
        raise ScoringError(
            f"FORMULA1.ML.FEATURES_BUILD is missing, so FEATURES cannot be matched to the "
            f"features {model_name} v{version} was trained on: run {features}"
        )
    if int(built["features_rows"]) != int(built["rows_now"]):
        raise ScoringError(
            f"FORMULA1.ML.FEATURES_BUILD describes {built['features_rows']} FEATURES rows but "
            f"FEATURES holds {built['rows_now']} (a features build stopped half way?): run "
            f"{features}"
        )
    if built["build"] != expected["build"]:
        vars_ = expected.get("vars", {}).items()
        again = ",".join(f"features.vars.{k}={json.dumps(v)}" for k, v in vars_)
        raise ScoringError(
            f"FORMULA1.ML.FEATURES was built with {built['build']}, but {model_name} v{version} "
            f"(the served version) was trained on features built with {expected['build']}: "
            f'rebuild them (`kedro run --pipeline=features --params "{again}"`) or train and '
            f"register a model on these (`kedro run --pipelines=train,register`); nothing scored"
        )


# -- duckdb: in process, the MLflow registry serves the version ---------------------------------
def select_duckdb(features: Any, settings: dict[str, Any]) -> pd.DataFrame:
    """The feature rows to score (a DuckDB relation in, pandas out), before any model loads."""
    races = settings["races"]
    if races == NEXT:
        upcoming = features.filter("LABEL IS NULL AND GRID IS NOT NULL")
        first = upcoming.order("SEASON, ROUND").limit(1).project("RACE_ID").fetchall()
        if not first:
            raise no_next_race_error()
        return features.filter(f"RACE_ID = {int(first[0][0])}").df()
    if races:
        rows = features.filter(f"RACE_ID IN ({', '.join(str(r) for r in races)})").df()
        missing = sorted(set(races) - {int(r) for r in rows["RACE_ID"]})
        if missing:
            raise missing_races_error(missing)
        return rows
    seasons = settings["seasons"] or [latest_season_duckdb(features)]
    rows = features.filter(f"SEASON IN ({', '.join(str(int(s)) for s in seasons)})").df()
    if rows.empty:  # before the model loads: say which seasons there are
        raise no_rows_error(seasons, *features.aggregate("min(SEASON), max(SEASON)").fetchall()[0])
    return rows


def score_duckdb(
    rows: pd.DataFrame, settings: dict[str, Any], build: dict[str, Any] | None
) -> pd.DataFrame:
    """Score the selected feature rows (pandas) with the MLflow champion, one pyfunc version.

    The version's tags say which columns it takes and how a label is chosen; its recorded
    feature build must be the one FEATURES was built with (`build`, FORMULA1.ML.FEATURES_BUILD).
    """
    model_name = settings["model_name"]
    served = load_mlflow_champion(settings["tracking_uri"], model_name, settings["alias"])
    version, tags = served["version"], served_tags(served["tags"], model_name, served["version"])
    check_features_build(tags["features_build"], build, model_name, version)
    missing = [c for c in tags["input_columns"] if c not in rows.columns]
    if missing:
        raise ScoringError(
            f"FORMULA1.ML.FEATURES lacks {missing}, which {model_name} v{version} takes: "
            "run `kedro run --pipeline=features`"
        )
    probabilities = served["model"].predict(model_input(rows, tags["input_columns"]))
    proba = np.asarray(probabilities, dtype="float64")
    return predictions_frame(rows[KEYS], proba, model_name, version, tags["decision"])


def model_input(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """rows[columns] as the contract takes them: DuckDB's nullable integers (Int32 holding <NA>)
    become float64 with NaN; MLflow's input check would hand <NA> to the imputer, which fails."""
    frame = rows[columns].copy()
    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(
            dtype
        ):
            frame[column] = frame[column].astype("float64")
    return frame


def features_build_duckdb(build: Any, features: Any) -> dict[str, Any] | None:
    """The row of FORMULA1.ML.FEATURES_BUILD (a relation; None if the table is missing) with
    the rows FEATURES holds now, so that check_features_build can tell a stale row."""
    if build is None:
        return None
    frame = build.df()
    if len(frame) != 1:
        return None
    row = {k.lower(): v for k, v in frame.iloc[0].to_dict().items()}
    row["rows_now"] = int(features.aggregate("count(*)").fetchall()[0][0])
    return row


def latest_season_duckdb(features: Any) -> int:
    latest = features.aggregate("max(SEASON)").fetchall()[0][0]
    if latest is None:
        raise ScoringError("FORMULA1.ML.FEATURES has no rows: run `kedro run --pipeline=features`")
    return int(latest)


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


# The registry keeps its artefacts in this folder beside its sqlite file (conf/base/
# catalog_register.yml: data/06_models/mlflow.db and data/06_models/mlartifacts; a test ties them).
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


def predictions_frame(
    keys: pd.DataFrame,
    probabilities: Any,
    model_name: str,
    version: str,
    decision: dict[str, Any],
) -> pd.DataFrame:
    """The output rows from keys and an (n, 3) array of class probabilities; the label by the
    version's `decision`."""
    proba = pd.DataFrame(probabilities, columns=PROBABILITY_COLUMNS, index=keys.index)
    proba = proba.astype("float64")
    proba = proba.div(proba.sum(axis=1), axis=0)  # float32 model output: make rows sum to 1
    frame = keys.astype("int64").join(proba)
    frame["PREDICTED_LABEL"] = decide(proba.to_numpy(), decision)
    frame["MODEL_NAME"] = model_name
    frame["MODEL_VERSION"] = str(version)
    frame["SCORED_AT"] = pd.Timestamp(scored_at())
    return frame[OUTPUT_COLUMNS].reset_index(drop=True)


# -- snowflake: selection and context around score_snowflake (which scores seasons) ------------
def select_snowpark(features: Any, settings: dict[str, Any]) -> tuple[Any, list[int]]:
    """The rows to score and their seasons, so that score_snowflake's season filter keeps them."""
    from snowflake.snowpark import functions as F

    races = settings["races"]
    if not races:
        return features, settings["seasons"]
    if races == NEXT:
        upcoming = features.filter(F.col("LABEL").is_null() & F.col("GRID").is_not_null())
        first = upcoming.sort("SEASON", "ROUND").limit(1).select("RACE_ID").collect()
        if not first:
            raise no_next_race_error()
        races = [int(first[0][0])]
    rows = features.filter(F.col("RACE_ID").isin(races))
    found = rows.select("RACE_ID", "SEASON").distinct().collect()
    missing = sorted(set(races) - {int(r[0]) for r in found})
    if missing:
        raise missing_races_error(missing)
    return rows, sorted({int(r[1]) for r in found})


def with_context_snowpark(scored: Any, rows: Any) -> Any:
    """with_context on Snowpark frames: the same columns, joined on the keys."""
    from snowflake.snowpark import functions as F

    context = rows.select(
        *KEYS, *CONTEXT_COLUMNS, F.col("LABEL").is_null().alias("SCORED_BEFORE_RESULT")
    )
    name = F.when(F.col("PREDICTED_LABEL") == 0, F.lit(CLASS_LABELS[0]))
    name = name.when(F.col("PREDICTED_LABEL") == 1, F.lit(CLASS_LABELS[1]))
    name = name.otherwise(F.lit(CLASS_LABELS[2]))
    joined = scored.join(context, on=KEYS, how="left")
    return joined.with_column("PREDICTED_LABEL_NAME", name).select(*TABLE_COLUMNS)


def keep_forecasts_snowpark(table: Any, existing: Any) -> Any:
    """keep_forecasts on Snowpark frames."""
    from snowflake.snowpark import functions as F

    if "SCORED_BEFORE_RESULT" not in existing.columns:
        return table
    key = [*KEYS, "MODEL_VERSION"]
    before = existing.filter(F.col("SCORED_BEFORE_RESULT")).select(
        *key, F.lit(True).alias("KEPT_FORECAST")
    )
    joined = table.join(before, on=key, how="left")
    flag = F.col("SCORED_BEFORE_RESULT") | F.coalesce(F.col("KEPT_FORECAST"), F.lit(False))
    return joined.with_column("SCORED_BEFORE_RESULT", flag).select(*TABLE_COLUMNS)


# -- snowflake: in a stored procedure, the Snowflake Model Registry serves the version ----------
# The key of a version's metadata holding its tags (f1_kedro.engines.snowflake.registry
# TAGS_METRIC; tests/score/test_snowflake_model.py ties them). snowflake-ml 2.6 has no
# per-version tags, the metadata ("metrics") is a JSON dict.
SNOWFLAKE_TAGS_METRIC = "version_tags"


def score_snowflake(
    features: Any, session: Any, settings: dict[str, Any], build: dict[str, Any] | None = None
) -> Any:
    """Score the feature rows of the seasons (a Snowpark DataFrame) with the default version.

    The version runs in the warehouse (`model_version.run(..., function_name="predict_proba")`:
    preprocessing and classifier are one logged model); nothing is unpickled here.
    """
    from snowflake.snowpark import functions as F

    seasons = settings["seasons"] or [latest_season_snowpark(features)]
    rows = features.filter(F.col("SEASON").isin(seasons))
    if rows.count() == 0:  # before the model loads: say which seasons there are
        raise no_rows_error(seasons, *features.agg(F.min("SEASON"), F.max("SEASON")).collect()[0])
    model_name = settings["model_name"]
    registry = snowflake_registry(
        session, settings["registry_database"], settings["registry_schema"]
    )
    model_version = served_snowflake_version(registry, model_name)
    version = version_number(model_version.version_name)
    tags = served_snowflake_tags(model_version, model_name)
    weights = decision_weights(json.loads(tags["decision"]))  # checked before the model runs
    if build is not None:  # the same lineage check as the duckdb path (issue 15.5)
        expected = json.loads(tags.get("features_build") or "{}")
        check_features_build(expected, build, model_name, version)
    inputs = model_inputs_snowpark(rows, json.loads(tags["input_columns"]))
    scored = model_version.run(inputs, function_name="predict_proba")
    return predictions_snowpark(scored, weights, model_name, version)


def features_build_snowpark(build: Any, features: Any) -> dict[str, Any] | None:
    """features_build_duckdb for Snowpark: the one FEATURES_BUILD row and FEATURES' rows now."""
    frame = build.limit(2).to_pandas()
    if len(frame) != 1:
        return None
    row = {k.lower(): v for k, v in frame.iloc[0].to_dict().items()}
    row["rows_now"] = int(features.count())
    return row


def latest_season_snowpark(features: Any) -> int:
    from snowflake.snowpark import functions as F

    latest = features.agg(F.max("SEASON")).collect()[0][0]
    if latest is None:
        raise ScoringError("FORMULA1.ML.FEATURES has no rows: run `kedro run --pipeline=features`")
    return int(latest)


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


def decision_weights(decision: dict[str, Any]) -> list[float]:
    """The class weights of the version's `decision` tag: `argmax` (all 1), or
    `weighted_argmax` with one positive `class_weights` entry per class (a copy of
    f1_kedro.pipelines.train.decision.weights; tests/test_contracts.py ties the two)."""
    n = len(CLASS_LABELS)
    if decision.get("rule") == "argmax":
        return [1.0] * n
    weights = decision.get("class_weights") or []
    if decision.get("rule") == "weighted_argmax" and len(weights) == n:
        if all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in weights):
            return [float(w) for w in weights]
    raise ScoringError(
        f"the served version's decision tag {decision!r} is not argmax or weighted_argmax "
        f"with {n} positive class_weights: register a new version with {TRAIN_AND_REGISTER}"
    )


def snowflake_label(raw: list[Any], weights: list[float]) -> Any:
    """PREDICTED_LABEL: the class of the largest weighted probability (ties go to the lower
    class, as numpy's argmax on the duckdb target)."""
    from snowflake.snowpark import functions as F

    score = [c * F.lit(w) for c, w in zip(raw, weights, strict=True)]
    return (
        F.when((score[0] >= score[1]) & (score[0] >= score[2]), F.lit(0))
        .when(score[1] >= score[2], F.lit(1))
        .otherwise(F.lit(2))
    )


def predictions_snowpark(scored: Any, weights: list[float], model_name: str, version: str) -> Any:
    """The output rows from `run(..., "predict_proba")`: the keys (a Snowpark input's columns
    come back beside the outputs) and `PREDICT_PROBA_<class>`."""
    from snowflake.snowpark import functions as F

    raw = [F.col(f"PREDICT_PROBA_{k}") for k in range(len(CLASS_LABELS))]
    total = raw[0] + raw[1] + raw[2]
    p = [(c / total).cast("double") for c in raw]  # rows sum to 1, as on the duckdb target
    return scored.select(
        F.col("RACE_ID").cast("bigint").alias("RACE_ID"),
        F.col("DRIVER_ID").cast("bigint").alias("DRIVER_ID"),
        snowflake_label(raw, weights).cast("bigint").alias("PREDICTED_LABEL"),
        *(value.alias(name) for value, name in zip(p, PROBABILITY_COLUMNS, strict=True)),
        F.lit(model_name).alias("MODEL_NAME"),
        F.lit(str(version)).alias("MODEL_VERSION"),
        F.lit(scored_at()).cast("timestamp_ntz").alias("SCORED_AT"),
    )
