"""Nodes of the score pipeline: dbt builds the predictions, then a summary of them."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from f1_kedro.dbt_runner import DbtBuilder
from f1_kedro.tables import BuiltTable

logger = logging.getLogger(__name__)

KEYS = ["RACE_ID", "DRIVER_ID"]


def normalise_seasons(value: Any) -> list[int]:
    """`score.seasons` as a sorted list of years; [] lets the model score the latest season.

    Accepts null, a year, a list of years, or text: "2023", "2022-2024", "2022 2024" (`kedro run
    --params` splits on commas, so `[2022,2024]` cannot be typed there; `[2023]` can).
    """
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    seasons: set[int] = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ValueError(f"score.seasons: {item!r} is not a year")
        for token in str(item).replace(";", " ").split():
            seasons.update(_years(token))
    return sorted(seasons)


def _years(token: str) -> range:
    """A token, 2023 or 2022-2024, as the years it names."""
    first, _, last = token.partition("-")
    if not first.isdigit() or (last and not last.isdigit()) or int(last or first) < int(first):
        raise ValueError(f"score.seasons: {token!r} is not a year or a range of years")
    return range(int(first), int(last or first) + 1)


def build_predictions(
    dbt_project: DbtBuilder, registered_model: dict[str, Any], params: dict[str, Any]
) -> tuple[BuiltTable, dict[str, Any]]:
    """Run `dbt build` on the scoring model(s) and their tests for the seasons `params.seasons`.

    The model loads the served version of `registered_model`'s model name; a missing champion or
    stage artefact fails the build with the model's own message, and the old table stays.
    """
    seasons = normalise_seasons(params.get("seasons"))
    dbt_vars = {
        **(params.get("vars") or {}),
        "score_seasons": seasons,
        "registry_model_name": registered_model["model_name"],
    }
    report = dbt_project.build(select=params["select"], vars=dbt_vars)
    report["seasons_requested"] = seasons or "latest"
    return BuiltTable(params["predictions_table"]), report


def summarise_predictions(
    predictions: Any, features: Any, dbt_report: dict[str, Any]
) -> dict[str, Any]:
    """Seasons scored, rows, the model version, and accuracy against LABEL where results exist.

    Works on pandas and Snowpark frames alike: only the scored rows are pulled into pandas.
    """
    scored = _to_local(predictions)
    if scored.empty:
        raise ValueError("the predictions table is empty: nothing was scored")
    wanted = features[features["RACE_ID"].isin([int(r) for r in scored["RACE_ID"].unique()])]
    truth = _to_local(wanted[[*KEYS, "SEASON", "LABEL"]])
    rows = scored.merge(truth, on=KEYS, how="left", validate="one_to_one")
    with_results = rows[rows["LABEL"].notna()]
    correct = with_results["PREDICTED_LABEL"].astype(int) == with_results["LABEL"].astype(int)
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
        "dbt_seconds": dbt_report.get("seconds"),
        "dbt_counts": dbt_report.get("counts"),
    }
    accuracy = "n/a" if summary["accuracy"] is None else f"{summary['accuracy']:.3f}"
    logger.info(
        "Scored seasons %s: %d rows (%d races) with %s v%s; accuracy %s on %d rows with results",
        summary["seasons"], summary["rows"], summary["races"], summary["model_name"],
        summary["model_version"], accuracy, summary["rows_with_results"],
    )  # fmt: skip
    return summary


def _to_local(frame: Any) -> pd.DataFrame:
    # Snowpark frames have to_pandas(); pandas frames are returned as they are.
    return frame.to_pandas() if hasattr(frame, "to_pandas") else frame


def _label_counts(labels: pd.Series) -> dict[str, int]:
    names = {0: "podium", 1: "points", 2: "no_points"}
    counts = labels.astype(int).value_counts()
    return {names[k]: int(counts.get(k, 0)) for k in names}
