"""FORMULA1.ML.FEATURES computed in pandas from the raw tables: the dbt-labs guide's approach.

A mirror of dbt/models/ml/features.sql and the staging, intermediate and mart models it reads,
written the way a data scientist would in a notebook: whole tables pulled into pandas, then
merges, `groupby().shift()` and `groupby().rolling()`. It exists to measure the claim that the SQL
is faster, and must give the same values (bench/features_compare.py checks every column).

    python -m bench.features_pandas --warehouse DIR --timings OUT.json
    python -m bench.features_compare --scale 1,10,100    # the side-by-side: dbt, SQL, pandas
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.warehouse import connect_warehouse
from f1_kedro import contracts

RAW_TABLES = (
    "RESULTS",
    "RACES",
    "CIRCUITS",
    "DRIVERS",
    "CONSTRUCTORS",
    "QUALIFYING",
    "DRIVER_STANDINGS",
    "CONSTRUCTOR_STANDINGS",
    "SPRINT_RESULTS",
)
PANDAS_TABLE = "FORMULA1.ML.FEATURES_PANDAS"
PODIUM = contracts.CLASS_POSITIONS[0]  # finishing positions of the podium class


def load_raw_tables(warehouse_dir: Path, post_race: bool = False) -> dict[str, pd.DataFrame]:
    """Every raw table the features need, whole (SELECT *), as the guide's `to_pandas()` does."""
    tables = (*RAW_TABLES, "PIT_STOPS") if post_race else RAW_TABLES
    with connect_warehouse(warehouse_dir, read_only=True) as con:
        return {
            name: con.sql(f"SELECT * FROM RAW.FORMULA1.{name}")
            .to_arrow_table()
            .to_pandas(date_as_object=False)
            for name in tables
        }


def build_features(
    raw: dict[str, pd.DataFrame], form_window: int = 5, post_race: bool = False
) -> pd.DataFrame:
    """One row per race and driver with the columns of FORMULA1.ML.FEATURES, in its order."""
    races = _races(raw)
    results = _results(raw, races)
    driver_results = _best_car(results)
    features = (
        driver_results.merge(races[["race_id", "circuit_ref", "previous_race_id"]], on="race_id")
        .merge(_refs(raw), how="left", left_on="driver_id", right_index=True)
        .merge(_constructor_refs(raw), how="left", left_on="constructor_id", right_index=True)
        .merge(_qualifying(raw), how="left", on=["race_id", "driver_id"])
        .merge(_qualifying_gaps(raw), how="left", on=["race_id", "driver_id"])
        .merge(_driver_form(driver_results, form_window), how="left", on=["race_id", "driver_id"])
        .merge(
            _constructor_form(results, form_window),
            how="left",
            on=["race_id", "constructor_id"],
        )
        .merge(_standings(raw, "driver"), how="left", on=["previous_race_id", "driver_id"])
        .merge(
            _standings(raw, "constructor"), how="left", on=["previous_race_id", "constructor_id"]
        )
        .merge(_circuit_overtaking(results, races), how="left", on="race_id")
        .merge(_sprint(raw), how="left", on=["race_id", "driver_id"])
    )
    if post_race:
        features = features.merge(_pit_stops(raw), how="left", on=["race_id", "driver_id"])
    return _select(features, post_race)


# -- staging and marts ----------------------------------------------------------------------------
def _races(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """dim_races: each race with its circuit and the previous race of its season."""
    races = raw["RACES"].rename(
        columns={"RACEID": "race_id", "CIRCUITID": "circuit_id", "YEAR": "season", "ROUND": "round"}
    )[["race_id", "circuit_id", "season", "round", "DATE"]]
    races = races.rename(columns={"DATE": "race_date"}).sort_values(["season", "round"])
    races["previous_race_id"] = races.groupby("season")["race_id"].shift(1)
    circuits = raw["CIRCUITS"].rename(
        columns={"CIRCUITID": "circuit_id", "CIRCUITREF": "circuit_ref"}
    )
    return races.merge(circuits[["circuit_id", "circuit_ref"]], how="left", on="circuit_id")


def _results(raw: dict[str, pd.DataFrame], races: pd.DataFrame) -> pd.DataFrame:
    """fct_results: every car's result with its race and the driver's age that day."""
    results = raw["RESULTS"].rename(
        columns={
            "RESULTID": "result_id",
            "RACEID": "race_id",
            "DRIVERID": "driver_id",
            "CONSTRUCTORID": "constructor_id",
            "GRID": "grid",
            "POSITION": "position",
            "POSITIONORDER": "position_order",
            "POINTS": "points",
        }
    )
    results = results.merge(
        races[["race_id", "circuit_id", "season", "round", "race_date"]], on="race_id"
    )
    born = raw["DRIVERS"].set_index("DRIVERID")["DOB"]
    days = (results["race_date"] - results["driver_id"].map(born)).dt.days
    results["driver_age_years"] = np.round(days / 365.25, 2)
    results["is_not_classified"] = results["position"].isna().astype("int64")
    return results


def _best_car(results: pd.DataFrame) -> pd.DataFrame:
    """One row per race and driver: in a shared drive keep the driver's better-placed car."""
    ranked = results.sort_values(["race_id", "driver_id", "position_order", "result_id"])
    best = ranked.drop_duplicates(["race_id", "driver_id"], keep="first").copy()
    best["is_podium"] = best["position"].between(*PODIUM).astype("int64")
    best["scored_points"] = (best["points"] > 0).astype("int64")
    return best


def _refs(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return (
        raw["DRIVERS"]
        .set_index("DRIVERID")[["DRIVERREF"]]
        .rename(columns={"DRIVERREF": "driver_ref"})
    )


def _constructor_refs(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return (
        raw["CONSTRUCTORS"]
        .set_index("CONSTRUCTORID")[["CONSTRUCTORREF"]]
        .rename(columns={"CONSTRUCTORREF": "constructor_ref"})
    )


def _qualifying(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return raw["QUALIFYING"].rename(
        columns={"RACEID": "race_id", "DRIVERID": "driver_id", "POSITION": "qualifying_position"}
    )[["race_id", "driver_id", "qualifying_position"]]


def _duration_ms(value: object) -> float:
    """dbt's duration_to_ms: 'H:MM:SS.mmm', 'M:SS.mmm' or 'SS.mmm' as ms; anything else NaN."""
    if not isinstance(value, str) or value.startswith("+"):
        return np.nan
    try:
        *whole, seconds = (float(part) for part in value.split(":")[:3])
    except ValueError:
        return np.nan
    return sum(w * 60000 * 60**i for i, w in enumerate(reversed(whole))) + round(seconds * 1000)


def _qualifying_gaps(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """int_qualifying_gaps: best of Q1-Q3 as a gap (%) to pole and to the team-mate's best."""
    laps = raw["QUALIFYING"][["Q1", "Q2", "Q3"]].map(_duration_ms)
    frame = raw["QUALIFYING"][["RACEID", "DRIVERID", "CONSTRUCTORID"]].assign(best=laps.min(axis=1))
    pole = frame.groupby("RACEID")["best"].transform("min")
    team = frame.groupby(["RACEID", "CONSTRUCTORID"])["best"]
    fastest = team.transform("min")
    second = team.transform(lambda b: b.nsmallest(2).iloc[-1] if b.count() > 1 else np.nan)
    mate = fastest.where(frame["best"] != fastest, second)
    return pd.DataFrame(
        {
            "race_id": frame["RACEID"],
            "driver_id": frame["DRIVERID"],
            "gap_to_pole_pct": 100.0 * (frame["best"] - pole) / pole,
            "gap_to_teammate_pct": 100.0 * (frame["best"] - mate) / mate,
        }
    )


def _standings(raw: dict[str, pd.DataFrame], who: str) -> pd.DataFrame:
    """A driver's or constructor's standings after each race, keyed by the race they are 'before'
    (the next one)."""
    columns = {
        "RACEID": "previous_race_id",
        f"{who.upper()}ID": f"{who}_id",
        "POSITION": f"{who}_championship_position",
        "POINTS": f"{who}_points",
    }
    return raw[f"{who.upper()}_STANDINGS"].rename(columns=columns)[list(columns.values())]


def _pit_stops(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    stops = raw["PIT_STOPS"].groupby(["RACEID", "DRIVERID"]).size()
    return stops.rename("pit_stop_count").rename_axis(["race_id", "driver_id"]).reset_index()


# -- form windows -------------------------------------------------------------------------------
def _previous(frame: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """Each row's values from the row before it in its group (the frame is sorted by time)."""
    shifted = frame.groupby(by, sort=False)[columns].shift(1)
    return pd.concat([frame[by], shifted], axis=1)


def _rolling(previous: pd.DataFrame, by: list[str], columns: list[str], n: int | None, how: str):
    """`how` over the last n earlier rows of each group (all earlier rows when n is None)."""
    grouped = previous.groupby(by, sort=False)[columns]
    window = grouped.expanding(min_periods=1) if n is None else grouped.rolling(n, min_periods=1)
    result = getattr(window, how)()
    return result.reset_index(level=list(range(len(by))), drop=True)


def _driver_form(driver_results: pd.DataFrame, n: int) -> pd.DataFrame:
    """The driver's form over the previous n races (any season), and experience."""
    frame = driver_results.sort_values(["driver_id", "season", "round"]).copy()
    frame["not_classified"] = frame["is_not_classified"].astype("float64")
    frame["gained"] = frame["grid"].replace(0, np.nan) - frame["position"]
    rates = ["position", "not_classified", "is_podium", "scored_points", "gained"]
    form = _rolling(_previous(frame, ["driver_id"], rates), ["driver_id"], rates, n, "mean")
    circuit = ["driver_id", "circuit_id"]
    at_circuit = _rolling(
        _previous(frame, circuit, ["position"]), circuit, ["position"], None, "mean"
    )
    return pd.DataFrame(
        {
            "race_id": frame["race_id"],
            "driver_id": frame["driver_id"],
            "driver_avg_finish": form["position"],
            "driver_dnf_rate": form["not_classified"],
            "driver_podium_rate": form["is_podium"],
            "driver_points_rate": form["scored_points"],
            "driver_races_before": frame.groupby("driver_id").cumcount(),
            "driver_circuit_avg_finish_before": at_circuit["position"],
            "driver_circuit_races_before": frame.groupby(circuit).cumcount(),
            "driver_avg_positions_gained": form["gained"],
        }
    )


def _constructor_form(results: pd.DataFrame, n: int) -> pd.DataFrame:
    """The constructor's form over its previous n races, per car (all its cars together)."""
    results = results.assign(
        podium=results["position"].between(*PODIUM).astype("int64"),
        start=results["grid"].replace(0, np.nan),
    )
    races = (
        results.groupby(["race_id", "constructor_id", "season", "round"])
        .agg(
            n_cars=("result_id", "size"),
            n_classified=("position", "count"),
            sum_finish=("position", "sum"),
            n_not_classified=("is_not_classified", "sum"),
            n_podiums=("podium", "sum"),
            sum_grid=("start", "sum"),
            n_grid=("start", "count"),
        )
        .reset_index()
        .sort_values(["constructor_id", "season", "round"])
    )
    sums = ["n_cars", "n_classified", "sum_finish", "n_not_classified", "n_podiums"]
    previous = _previous(races, ["constructor_id"], sums)
    window = _rolling(previous, ["constructor_id"], sums, n, "sum")
    cars = window["n_cars"].replace(0, np.nan)
    team_season = ["constructor_id", "season"]
    grids = _rolling(
        _previous(races, team_season, ["sum_grid", "n_grid"]),
        team_season, ["sum_grid", "n_grid"], None, "sum",
    )  # fmt: skip
    return pd.DataFrame(
        {
            "race_id": races["race_id"],
            "constructor_id": races["constructor_id"],
            "constructor_avg_finish": window["sum_finish"]
            / window["n_classified"].replace(0, np.nan),
            "constructor_dnf_rate": window["n_not_classified"] / cars,
            "constructor_podium_rate": window["n_podiums"] / cars,
            "constructor_avg_grid_season": grids["sum_grid"] / grids["n_grid"].replace(0, np.nan),
        }
    )


def _circuit_overtaking(results: pd.DataFrame, races: pd.DataFrame) -> pd.DataFrame:
    """int_circuit_overtaking: mean |finish - grid| at the circuit over its earlier seasons."""
    run = results[results["position"].notna() & (results["grid"] > 0)]
    per_season = (
        run.assign(moved=(run["position"] - run["grid"]).abs())
        .groupby(["circuit_id", "season"])
        .agg(moved=("moved", "sum"), starters=("moved", "size"))
        .reset_index()
    )
    pairs = races[["race_id", "circuit_id", "season"]].merge(
        per_season, on="circuit_id", suffixes=("", "_earlier")
    )
    earlier = pairs[pairs["season_earlier"] < pairs["season"]]
    sums = earlier.groupby("race_id")[["moved", "starters"]].sum()
    return (sums["moved"] / sums["starters"]).rename("avg_places_moved_before").reset_index()


def _sprint(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The weekend's sprint finishing order (stg_sprint_results.position_order)."""
    sprint = raw["SPRINT_RESULTS"].rename(
        columns={"RACEID": "race_id", "DRIVERID": "driver_id", "POSITIONORDER": "sprint_position"}
    )
    return sprint[["race_id", "driver_id", "sprint_position"]]


def _label(position: pd.Series) -> np.ndarray:
    """LABEL as the contract says: the class whose positions hold the finish, else the last."""
    label = np.full(len(position), max(contracts.CLASS_LABELS), dtype="int64")
    for k, (first, last) in contracts.CLASS_POSITIONS.items():
        label[position.between(first, last).to_numpy()] = k
    return label


# -- the table ------------------------------------------------------------------------------------
def _select(features: pd.DataFrame, post_race: bool) -> pd.DataFrame:
    """The contract's columns, names and order (dbt/models/ml/features.sql)."""
    position = features["position"]
    label = _label(position)
    # a pit-lane start (grid 0) counts as the last slot, the field size
    field = features.groupby("race_id")["race_id"].transform("size")
    start = features["grid"].where(features["grid"] != 0, field)
    columns = {
        "RACE_ID": features["race_id"],
        "DRIVER_ID": features["driver_id"],
        "CONSTRUCTOR_ID": features["constructor_id"],
        "CIRCUIT_ID": features["circuit_id"],
        "SEASON": features["season"],
        "ROUND": features["round"],
        "RACE_DATE": features["race_date"],
        "CIRCUIT_REF": features["circuit_ref"],
        "CONSTRUCTOR_REF": features["constructor_ref"],
        "DRIVER_REF": features["driver_ref"],
        "GRID": features["grid"],
        "QUALIFYING_POSITION": features["qualifying_position"],
        "DRIVER_AGE_YEARS": features["driver_age_years"],
        "DRIVER_AVG_FINISH_LAST_5": features["driver_avg_finish"],
        "DRIVER_DNF_RATE_LAST_5": features["driver_dnf_rate"],
        "DRIVER_PODIUM_RATE_LAST_5": features["driver_podium_rate"],
        "DRIVER_POINTS_RATE_LAST_5": features["driver_points_rate"],
        "CONSTRUCTOR_AVG_FINISH_LAST_5": features["constructor_avg_finish"],
        "CONSTRUCTOR_DNF_RATE_LAST_5": features["constructor_dnf_rate"],
        "CONSTRUCTOR_PODIUM_RATE_LAST_5": features["constructor_podium_rate"],
        "DRIVER_CHAMPIONSHIP_POSITION_BEFORE": features["driver_championship_position"],
        "DRIVER_POINTS_BEFORE": features["driver_points"].fillna(0.0),
        "CONSTRUCTOR_CHAMPIONSHIP_POSITION_BEFORE": features["constructor_championship_position"],
        "CONSTRUCTOR_POINTS_BEFORE": features["constructor_points"].fillna(0.0),
        "DRIVER_RACES_BEFORE": features["driver_races_before"],
        "DRIVER_CIRCUIT_RACES_BEFORE": features["driver_circuit_races_before"],
        "DRIVER_CIRCUIT_AVG_FINISH_BEFORE": features["driver_circuit_avg_finish_before"],
        "QUALIFYING_GAP_TO_POLE_PCT": features["gap_to_pole_pct"],
        "QUALIFYING_GAP_TO_TEAMMATE_PCT": features["gap_to_teammate_pct"],
        "GRID_MINUS_QUALIFYING": start - features["qualifying_position"],
        "DRIVER_AVG_POSITIONS_GAINED_LAST_5": features["driver_avg_positions_gained"],
        "CONSTRUCTOR_AVG_GRID_SEASON_BEFORE": features["constructor_avg_grid_season"],
        "CIRCUIT_AVG_PLACES_MOVED_BEFORE": features["avg_places_moved_before"],
        "SPRINT_POSITION": features["sprint_position"],
    }
    if post_race:
        columns["PIT_STOPS_IN_RACE"] = features["pit_stop_count"]
    columns["FINISH_POSITION"] = position
    columns["LABEL"] = label
    return pd.DataFrame(columns).reset_index(drop=True)


# -- one timed build (a subprocess of the comparison) ---------------------------------------------
def timed_build(warehouse_dir: Path, form_window: int, post_race: bool) -> dict[str, float]:
    """Load, compute, and write back to FORMULA1.ML.FEATURES_PANDAS; seconds of each step."""
    started = time.perf_counter()
    raw = load_raw_tables(warehouse_dir, post_race)
    loaded = time.perf_counter()
    features = build_features(raw, form_window, post_race)
    computed = time.perf_counter()
    with connect_warehouse(warehouse_dir) as con:
        con.register("__features", features)
        con.execute(f"CREATE OR REPLACE TABLE {PANDAS_TABLE} AS SELECT * FROM __features")
    written = time.perf_counter()
    return {
        "load_s": round(loaded - started, 3),
        "compute_s": round(computed - loaded, 3),
        "write_s": round(written - computed, 3),
        "total_s": round(written - started, 3),
        "rows": len(features),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.features_pandas")
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--timings", type=Path, required=True)
    parser.add_argument("--form-window", type=int, default=5)
    parser.add_argument("--post-race", action="store_true")
    args = parser.parse_args(argv)
    timings = timed_build(args.warehouse, args.form_window, args.post_race)
    args.timings.write_text(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
