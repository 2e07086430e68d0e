"""Faults after the warehouse is built: SIGKILL in the dbt build and in register, damaged or
missing registry entries and model artefacts when scoring, parameters that make no sense.

One scratch project for the module: a copy of the session's `built_recent` (a full `kedro run`,
2019-2024, a one-point grid); the tests below run in order on it, each leaving it usable.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import SHARED_DATA, run_kedro, write_subset
from tests.faults.conftest import (
    KedroProcess,
    registry_state,
    start_kedro,
    table_counts,
    warehouse_files,
)
from tests.support import copy_built

MODEL = "f1_race_outcome"
STAGE = Path("data/06_models/ml_stage/ML_STAGE") / MODEL


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, built_recent: Path) -> Iterator[Path]:
    root = copy_built(built_recent, tmp_path_factory.mktemp("faults_built"))
    # subprocess runs read the parameters the build ran with: its conf/local, copied
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        yield root


@pytest.fixture
def processes() -> Iterator[list[KedroProcess]]:
    started: list[KedroProcess] = []
    yield started
    for proc in started:
        proc.kill()


def model_tables(project: Path) -> dict[str, int]:
    """Row counts of the tables dbt built (views follow RAW and are never half-built)."""
    return table_counts(warehouse_files(project)["FORMULA1"])


def predictions(project: Path) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse_files(project)["FORMULA1"]), read_only=True)
    try:
        return con.execute("SELECT * FROM ML.PREDICTIONS ORDER BY RACE_ID, DRIVER_ID").df()
    finally:
        con.close()


def outputs_snapshot(project: Path) -> dict[str, object]:
    """Modification times of everything train, register and score write; the MLflow store by its
    registry (versions, aliases): the same file keeps the run history, where kedro-mlflow records
    a run that failed in a node (docs/tools.md, Run tracking)."""
    folders = ("data/06_models", "data/08_reporting")  # the warehouse: compared by its tables
    store = project / "data/06_models/mlflow.db"
    history = project / "data/06_models/mlartifacts/runs"  # run tracking's artefacts
    files: dict[str, object] = {
        str(p.relative_to(project)): p.stat().st_mtime_ns
        for folder in folders
        for p in (project / folder).rglob("*")
        if p.is_file() and p != store and history not in p.parents
    }
    if store.exists():  # sqlite3.connect would create it
        with sqlite3.connect(store) as con:
            files["registry"] = (
                con.execute(
                    "select name, version, status, run_id from model_versions order by 1, 2"
                ).fetchall()
                + con.execute("select * from registered_model_aliases").fetchall()
            )
    return files


# -- SIGKILL in the dbt build ---------------------------------------------------------------------
def test_sigkill_inside_the_features_swap_keeps_every_table_old_or_new(
    built: Path, tmp_path: Path, processes: list[KedroProcess]
) -> None:
    old = model_tables(built)
    # New raw data (2021-2024), so that every rebuilt table has new row counts.
    smaller = write_subset(SHARED_DATA, tmp_path / "f1_2021_2024", 2021, 2024)
    run_kedro(built, "ingest", params={"ingest.source_uri": str(smaller)})

    # Pause inside the FEATURES model's transaction: the old table is already renamed to
    # FEATURES__dbt_backup and the new one not yet renamed into place, nothing committed.
    run = start_kedro(
        built, "features",
        pause="dbt.adapters.duckdb.impl:DuckDBAdapter.rename_relation",
        pause_match="features__dbt_tmp",
    )  # fmt: skip
    processes.append(run)
    run.wait_for_pause(timeout=600)
    run.kill()
    after_kill = model_tables(built)

    run_kedro(built, "features")
    new = model_tables(built)
    assert not [t for t in new if "__dbt_" in t]  # no temporary or backup table is left
    assert set(after_kill) - {t for t in after_kill if "__dbt_" in t} == set(old) == set(new)
    for table, rows in after_kill.items():
        if "__dbt_" not in table:
            assert rows in (old[table], new[table]), table
    assert old["ML.FEATURES"] != new["ML.FEATURES"]
    assert after_kill["ML.FEATURES"] == old["ML.FEATURES"]  # killed before its commit


# -- SIGKILL in register --------------------------------------------------------------------------
def test_sigkill_in_register_keeps_the_champion_complete_and_the_next_run_registers(
    built: Path, processes: list[KedroProcess]
) -> None:
    before = registry_state(built)
    assert before["champion"] in before["versions"] and all(before["complete"].values())

    # Killed between MLflow's new version and its stage folder.
    run = start_kedro(
        built, "register", pause="f1_kedro.engines.duckdb.local_stage:LocalStage.write"
    )
    processes.append(run)
    run.wait_for_pause()
    run.kill()
    killed = registry_state(built)
    half_written = max(killed["versions"])
    assert not killed["complete"][half_written]  # the kill landed inside register
    assert killed["champion"] == before["champion"] and killed["complete"][killed["champion"]]
    assert set(before["versions"]) <= set(killed["versions"])  # nothing lost

    # The next run removes the half-written version and registers a complete one.
    run_kedro(built, "register")
    after = registry_state(built)
    newest = max(after["versions"])
    assert after["champion"] == newest > half_written  # ties promote
    assert half_written not in after["versions"]
    assert set(after["versions"]) == set(before["versions"]) | {newest}
    assert all(after["complete"].values()), after


def test_sigkill_in_score_leaves_no_summary_of_the_previous_run(
    built: Path, processes: list[KedroProcess]
) -> None:
    """Issue 15.6: killed after dbt wrote the new PREDICTIONS, before the summary, score left
    score_summary.json describing the previous run. Now the run marks it unfinished first."""
    summary_file = built / "data/08_reporting/score_summary.json"
    run_kedro(built, "score", params={"score.seasons": [2023]})
    previous = json.loads(summary_file.read_text())
    assert previous["seasons"] == [2023]

    killed = start_kedro(
        built, "score", {"score.seasons": [2024]},
        pause="f1_kedro.pipelines.score.nodes:summarise_predictions",
    )  # fmt: skip
    processes.append(killed)
    killed.wait_for_pause()
    killed.kill()
    latest = predictions(built).SCORED_AT.max()
    scored = predictions(built)
    assert set(scored[scored.SCORED_AT == latest].SEASON) == {2024}  # the killed run's rows

    # The file cannot be read as a summary of any run: no races, its status and the last
    # complete summary (2023) kept apart under `previous`.
    marker = json.loads(summary_file.read_text())
    assert "race_predictions" not in marker and "scored_at" not in marker, marker
    assert marker["status"] == "unfinished"
    assert f"pid {killed.process.pid}" in marker["message"]
    assert "kedro run --pipelines=score" in marker["message"]
    assert marker["previous"] == previous

    # A request refused before any node can write (a season FEATURES lacks) leaves the file as
    # it is; a run that fails once it may have written says so; the next complete run writes the
    # summary of its own rows.
    with pytest.raises(Exception, match="score.seasons"):
        run_kedro(built, "score", params={"score.seasons": [1900]})
    assert json.loads(summary_file.read_text()) == marker
    with pytest.raises(Exception, match="score_races"):
        run_kedro(built, "score", params={"score.races": [999999]})
    failed = json.loads(summary_file.read_text())
    assert failed["status"] == "failed" and "score_races [999999]" in failed["message"]
    assert failed["previous"] == previous  # the last complete one, not the marker
    run_kedro(built, "score", params={"score.seasons": [2024]})
    summary = json.loads(summary_file.read_text())
    assert "status" not in summary and summary["seasons"] == [2024]
    assert pd.Timestamp(summary["scored_at"]) == pd.Timestamp(predictions(built).SCORED_AT.max())


# -- scoring with a damaged registry or stage -----------------------------------------------------
def test_scoring_does_not_need_the_stage_folder(built: Path) -> None:
    """The stage folder is the version's audit copy (issue 18): the served version is the MLflow
    pyfunc alone, so scoring works with the folder gone."""
    champion = registry_state(built)["champion"]
    folder = built / STAGE / f"v{champion}"
    moved = folder.with_name(f"moved_v{champion}")
    folder.rename(moved)
    try:
        run_kedro(built, "score", params={"score.seasons": [2023]})
    finally:
        moved.rename(folder)
    scored = predictions(built)
    assert set(scored[scored.SEASON == 2023].MODEL_VERSION) == {str(champion)}


def test_scoring_with_the_model_artifact_gone_names_it_and_keeps_the_predictions(
    built: Path,
) -> None:
    from mlflow.tracking import MlflowClient

    champion = registry_state(built)["champion"]
    before = predictions(built)
    uri = f"sqlite:///{built / 'data/06_models/mlflow.db'}"
    source = MlflowClient(uri, uri).get_model_version(MODEL, str(champion)).source
    # The logged model's files (the registry entry's artefact), wherever MLflow keeps them.
    files = [p for p in (built / "data/06_models/mlartifacts").rglob("MLmodel")]
    assert files, "no logged model under data/06_models/mlartifacts"
    hidden = [(p, p.with_name("MLmodel.hidden")) for p in files]
    for path, away in hidden:
        path.rename(away)
    try:
        with pytest.raises(
            Exception, match=rf"(?s)model artifact models:/{MODEL}/{champion} .*could not be"
        ):
            run_kedro(built, "score", params={"score.seasons": [2023]})
    finally:
        for path, away in hidden:
            away.rename(path)
    assert source  # the version still names its artefact: it is the files that were missing
    pd.testing.assert_frame_equal(predictions(built), before)


def test_scoring_with_a_corrupt_registry_database_names_it_and_keeps_the_predictions(
    built: Path,
) -> None:
    before = predictions(built)
    database = built / "data/06_models/mlflow.db"
    saved = database.read_bytes()
    database.write_bytes(b"this is not a sqlite database" * 100)
    try:
        with pytest.raises(Exception, match=r"(?s)mlflow\.db"):
            run_kedro(built, "score", params={"score.seasons": [2023]})
    finally:
        database.write_bytes(saved)
    pd.testing.assert_frame_equal(predictions(built), before)


# -- parameters that make no sense: refused before any node writes anything ----------------------
@pytest.mark.parametrize(
    ("pipeline", "params", "message"),
    [
        (
            "train",
            {"train.seasons.test": [2015, 2016]},
            "train.seasons: train < validation < test",
        ),
        ("train", {"train.categorical_features": ["TEAM_COLOUR"]}, r"unknown feature.*TEAM_COLOUR"),
        ("train", {"train.seasons.validation": [2022, 2021]}, r"train.seasons: validation is"),
        ("score", {"score.seasons": [1900]}, r"no feature rows for score_seasons \[1900\]"),
        ("score", {"score.seasons": "2024-2022"}, r"score.seasons.*2024-2022"),
    ],
    ids=[
        "test-seasons-before-training",
        "unknown-feature",
        "empty-season-range",
        "score-season-not-in-data",
        "score-empty-season-range",
    ],
)
def test_nonsense_parameters_stop_the_run_before_any_work(
    built: Path, pipeline: str, params: dict, message: str
) -> None:
    before, tables, predicted = outputs_snapshot(built), model_tables(built), predictions(built)
    with pytest.raises(Exception, match=message):
        run_kedro(built, pipeline, params=params)
    assert outputs_snapshot(built) == before
    assert model_tables(built) == tables
    pd.testing.assert_frame_equal(predictions(built), predicted)
