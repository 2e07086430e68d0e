"""Issue 18: `kedro run --env snowflake --pipelines bootstrap,ingest,features`, as a user types it,
against the fakesnow emulator (bench/snowflake_emulator.py), one season of the real data.

The same code as `make snowflake-emulated`, run ONCE, in the renamed scratch project of the
real-account smoke command (bench/snowflake_smoke.py: every database, warehouse and role
F1_SMOKE_<ts>...): a name hard-coded anywhere in conf, SQL, dbt or the pipelines fails here, which
the default names could not show. That the default run checks the conf's names is tested apart
(cheap). The emulator, not the project, handles what fakesnow cannot serve; this module pins
that list, so a new gap (or a rewrite) cannot slip in unseen.

One `kedro run` for the three stages, not one per stage as the smoke runs them: what a stage hands
the next crosses the ML stage here too (the reports' GETs are counted below), and
tests/snowflake/test_stage_handover.py proves that nothing handed over lives in memory or on local
disk; two more processes would add ~9 s of CPU (Kedro's start-up) and prove nothing more.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bench import snowflake_emulated
from bench import snowflake_smoke as smoke
from bench.snowflake_emulator import CLONE_ROUTE, SWAP_ROUTE, rewrite

BUCKET = "s3://formula1-dbt-cloud-python-demo/formula1-kaggle-data/"
NAMES = smoke.SmokeNames.at(dt.datetime(2026, 11, 28, 10, 30, 5, tzinfo=dt.UTC))
P = NAMES.prefix
GET_ROUTE = "emulator (GET served from fakesnow's stage folder)"


@pytest.fixture(scope="module")
def renamed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("emulated") / P
    smoke.scratch_project(project, NAMES)
    return project


@pytest.fixture(scope="module")
def report(shared_data: Path, renamed_project: Path) -> dict[str, Any]:
    """The one emulated run; raises unless every RAW table holds its file's rows and FEATURES
    has rows (bench.snowflake_emulated.run checks both)."""
    workdir = renamed_project.parent / "emulated"
    report = snowflake_emulated.run(renamed_project, shared_data, 2024, workdir)
    print(report)
    return report


def test_bootstrap_ingest_features_run_on_the_emulator(report: dict[str, Any]) -> None:
    # the run read its names from the renamed conf: every table it counted is a smoke table
    assert report["features"] == f"{P}.ML.FEATURES"
    assert all(table.startswith(f"{P}_RAW.FORMULA1.") for table in list(report["rows"])[:-1])
    assert report["rows"][f"{P}_RAW.FORMULA1.RESULTS"] == report["rows"][f"{P}.ML.FEATURES"] == 479
    routes = report["routes"]
    # each gap, counted: 1 schema cloned and swapped in, 1 stage mirrored, 1 format option dropped,
    # 3 reports read back (bootstrap -> ingest -> staging and the summary), 4 written
    assert routes[CLONE_ROUTE] == 1 and routes[SWAP_ROUTE] == 1  # ingest: one schema switch
    assert routes["fakesnow (rewritten: stage URL -> local mirror)"] == 1
    assert routes["fakesnow (rewritten: ERROR_ON_COLUMN_COUNT_MISMATCH dropped)"] == 1
    assert routes[GET_ROUTE] == 3  # a hard-coded RAW. in the features pipeline made it 2
    assert routes["fakesnow (rewritten: PUT target unquoted)"] == 4
    assert routes["fakesnow"] > 300  # everything else, dbt's SQL included, ran as sent
    # not executed anywhere: account objects fakesnow does not have
    assert set(report["not_executed"]) == {
        "CREATE WAREHOUSE",
        "CREATE ROLE",
        "GRANT",
        "ALTER SESSION",
        "SELECT SYSTEM$CANCEL_ALL_QUERIES(NONE)",
    }
    assert report["not_executed"]["CREATE WAREHOUSE"] == report["not_executed"]["CREATE ROLE"] == 3
    # docs/snowflake.md's ledger: 3 + 18 + 9 from bootstrap, 8 re-aimed at ingest's loading schema
    assert report["not_executed"]["GRANT"] == 38


def test_train_reads_the_table_the_renamed_features_pipeline_writes(
    report: dict[str, Any], renamed_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the run left its dbt parse in the project: the pipeline is built from it, nothing re-parsed
    assert (renamed_project / "dbt" / "target" / "manifest.json").exists()
    monkeypatch.chdir(renamed_project)
    from f1_kedro.pipelines.features.pipeline import create_pipeline

    # the tables train and score read, under their catalog names (a FORMULA1.ML.* key in code
    # would name them <P>__ML__FEATURES here, and one `kedro run` would not order train after)
    assert {"model_input_table", "features_build"} <= create_pipeline().all_outputs()


def test_the_default_run_checks_the_conf_names() -> None:
    """`make snowflake-emulated` runs the project itself: the databases it counts rows in are
    the ones conf/snowflake names and sql/snowflake creates (the run above has them renamed)."""
    created = {
        s.split()[5]
        for s in smoke.setup_statements(smoke.ROOT)
        if s.startswith("CREATE DATABASE IF NOT EXISTS")
    }
    assert snowflake_emulated.database_names(smoke.ROOT) == ("FORMULA1", "RAW")
    assert created == {"FORMULA1", "RAW"}


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM RAW.FORMULA1.RESULTS",
        "CREATE STAGE IF NOT EXISTS RAW.FORMULA1.OTHER URL = 's3://elsewhere/'",
        "COPY INTO RAW.FORMULA1.RESULTS__LOADING (RESULTID) FROM @RAW.FORMULA1.FORMULA1_STAGE",
        "CREATE FILE FORMAT IF NOT EXISTS RAW.FORMULA1.CSV_FORMAT TYPE = CSV SKIP_HEADER = 1",
    ],
)
def test_the_emulator_runs_everything_else_as_sent(statement: str) -> None:
    assert rewrite(statement, {BUCKET: "/mirror"}) == ("fakesnow", statement)


def test_the_emulator_rewrites_keep_the_meaning() -> None:
    stage = f"CREATE STAGE IF NOT EXISTS RAW.FORMULA1.FORMULA1_STAGE URL = '{BUCKET}'"
    assert rewrite(stage, {BUCKET: "/mirror/"})[1] == stage.replace(BUCKET, "file:///mirror/")
    put = (
        "PUT 'file:///tmp/placeholder/r.json' '@FORMULA1.ML.ML_STAGE/kedro/x' AUTO_COMPRESS = FALSE"
    )
    assert rewrite(put, {})[1] == put.replace(
        "'@FORMULA1.ML.ML_STAGE/kedro/x'", "@FORMULA1.ML.ML_STAGE/kedro/x"
    )
