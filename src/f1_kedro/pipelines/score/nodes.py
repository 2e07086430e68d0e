"""Nodes of the score pipeline: dbt builds the predictions, then a summary of them."""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from f1_kedro.contracts import CLASS_LABELS, KEYS
from f1_kedro.interfaces import DbtBuilder
from f1_kedro.params_types import season_range
from f1_kedro.registry.lineage import features_build_record
from f1_kedro.tables import BuiltTable

from .params import Params, request_env
from .plots import monitoring_figure

logger = logging.getLogger(__name__)

MAX_RACES_LOGGED = 5  # a season is 20+ races: the summary file lists them all, the log the first


def check_request(features_build: Any, params: dict[str, Any]) -> list[int] | str:
    """The seasons to score, checked against FEATURES' seasons before anything is written.

    FORMULA1.ML.FEATURES_BUILD (one row: FEATURES' first and last season) is enough to refuse a
    season FEATURES lacks here, instead of inside the scoring model after the run has begun.
    Returns the seasons, or "latest" when score.seasons is empty.
    """
    score = Params.checked(params)
    first, last = features_build_record(features_build)["seasons"]
    outside = [season for season in score.seasons if not first <= season <= last]
    if outside:
        raise ValueError(
            f"score.seasons: no feature rows for score_seasons {outside} in FORMULA1.ML.FEATURES "
            f"(it holds seasons {first}-{last}): choose score.seasons among those; nothing was "
            "scored"
        )
    return list(score.seasons) or "latest"


def build_predictions(
    dbt_project: DbtBuilder,
    registered_model: dict[str, Any],
    seasons: list[int] | str,
    params: dict[str, Any],
    train_params: dict[str, Any],
) -> tuple[BuiltTable, BuiltTable, BuiltTable, BuiltTable, dict[str, Any]]:
    """`dbt build` the scoring models and their tests for `params.races` or `params.seasons`.

    Returns what dbt built: PREDICTIONS, MODEL_MONITORING, PREDICTIONS_LATEST and
    PREDICTION_EXPLANATIONS (each a `BuiltTable` its catalog entry checks), and dbt's report.

    The model loads the served version of `registered_model`'s model name; a missing champion or
    stage artefact fails the build with the model's own message, and PREDICTIONS stays as it was.
    Monitoring compares inputs with the seasons the registered version was fit on (its
    `fit_seasons` tag); a version registered before that tag: train's first to validation's last.
    """
    score = Params.checked(params)
    request = score.request(
        registered_model["model_name"], _fit_seasons(registered_model, train_params)
    )
    report = dbt_project.build(select=score.select, vars=score.vars, env=request_env(request))
    report["seasons_requested"] = seasons  # checked against FEATURES by check_request
    report["races_requested"] = score.races
    built = (score.predictions_table, score.monitoring_table, score.latest_table)
    return (*map(BuiltTable, built), BuiltTable(score.explanations_table), report)


def _fit_seasons(registered_model: dict[str, Any], train_params: dict[str, Any]) -> list[int]:
    fit = (registered_model.get("tags") or {}).get("fit_seasons")
    if fit:
        first, last = json.loads(fit) if isinstance(fit, str) else fit
        return [int(first), int(last)]
    seasons = train_params["seasons"]
    return [season_range(seasons["train"])[0], season_range(seasons["validation"])[1]]


def plot_monitoring(monitoring: Any) -> Any:
    """MODEL_MONITORING as a figure (kedro-viz and data/08_reporting); pandas or Snowpark."""
    return monitoring_figure(_to_local(monitoring))


def summarise_predictions(
    predictions: Any, features: Any, dbt_report: dict[str, Any]
) -> dict[str, Any]:
    """This run's predictions: races (circuit, date, predicted top three), model, accuracy.

    This run's rows are those of the latest SCORED_AT (PREDICTIONS keeps every earlier run).
    Works on pandas and Snowpark frames alike: only the scored rows are pulled into pandas.
    """
    scored = _to_local(_latest_run(predictions))
    wanted = features[features["RACE_ID"].isin([int(r) for r in scored["RACE_ID"].unique()])]
    context = _to_local(wanted[[*KEYS, "LABEL", "RACE_DATE", "CIRCUIT_REF"]])
    rows = scored.merge(context, on=KEYS, how="left", validate="one_to_one")
    with_results = rows[rows["LABEL"].notna()]
    correct = with_results["PREDICTED_LABEL"].astype(int) == with_results["LABEL"].astype(int)
    races = [_race_summary(race) for _, race in rows.groupby(["SEASON", "ROUND"], sort=True)]
    summary = {
        "seasons": sorted(int(s) for s in rows["SEASON"].dropna().unique()),
        "rows": int(len(rows)),
        "races": int(rows["RACE_ID"].nunique()),
        "model_name": str(scored["MODEL_NAME"].iloc[0]),
        "model_version": str(scored["MODEL_VERSION"].iloc[0]),
        "scored_at": str(scored["SCORED_AT"].iloc[0]),
        "rows_with_results": int(len(with_results)),
        "accuracy": float(correct.mean()) if len(with_results) else None,
        "predicted_label_counts": _label_counts(rows["PREDICTED_LABEL"]),
        "race_predictions": races,
        "dbt_seconds": dbt_report.get("seconds"),
        "dbt_counts": dbt_report.get("counts"),
    }
    accuracy = "n/a" if summary["accuracy"] is None else f"{summary['accuracy']:.3f}"
    logger.info(
        "Scored seasons %s: %d rows (%d races) with %s v%s; accuracy %s on %d rows with results",
        summary["seasons"], summary["rows"], summary["races"], summary["model_name"],
        summary["model_version"], accuracy, summary["rows_with_results"],
    )  # fmt: skip
    for race in races[:MAX_RACES_LOGGED]:
        top = ", ".join(f"{d['driver_ref']} {d['prob_podium']:.2f}" for d in race["top_three"])
        logger.info(
            "%s round %s, %s (race %s) on %s: podium %s",
            race["season"], race["round"], race["circuit_ref"], race["race_id"], race["date"], top,
        )  # fmt: skip
    return summary


def _latest_run(predictions: Any) -> Any:
    """The rows of the latest run, filtered where they are (pandas or Snowpark)."""
    if hasattr(predictions, "to_pandas"):  # Snowpark: max in the warehouse
        latest = predictions.agg({"SCORED_AT": "max"}).collect()[0][0]
        latest = None if latest is None else pd.Timestamp(latest).to_pydatetime()  # a literal
    else:
        latest = predictions["SCORED_AT"].max()
    if latest is None or pd.isna(latest):
        raise ValueError("the predictions table is empty: nothing was scored")
    return predictions[predictions["SCORED_AT"] == latest]


def _race_summary(race: pd.DataFrame) -> dict[str, Any]:
    """One race: where and when, and the three drivers most likely on the podium."""
    first = race.iloc[0]
    top = race.sort_values(["PROB_PODIUM", "DRIVER_ID"], ascending=[False, True]).head(3)
    return {
        "race_id": int(first["RACE_ID"]),
        "season": int(first["SEASON"]),
        "round": int(first["ROUND"]),
        "circuit_ref": str(first["CIRCUIT_REF"]),
        "date": str(pd.Timestamp(first["RACE_DATE"]).date()),
        "drivers": int(len(race)),
        "top_three": [
            {
                "driver_ref": str(row.DRIVER_REF),
                "constructor_ref": str(row.CONSTRUCTOR_REF),
                "predicted_label": str(row.PREDICTED_LABEL_NAME),
                "prob_podium": round(float(row.PROB_PODIUM), 4),
                "prob_points": round(float(row.PROB_POINTS), 4),
                "prob_no_points": round(float(row.PROB_NO_POINTS), 4),
            }
            for row in top.itertuples()
        ],
    }


def _to_local(frame: Any) -> pd.DataFrame:
    # Snowpark frames have to_pandas(); pandas frames are returned as they are.
    return frame.to_pandas() if hasattr(frame, "to_pandas") else frame


def _label_counts(labels: pd.Series) -> dict[str, int]:
    counts = labels.astype(int).value_counts()
    return {name: int(counts.get(k, 0)) for k, name in CLASS_LABELS.items()}
