"""Issue 18: `kedro run --env snowflake --pipelines bootstrap,ingest,features`, as a user types it,
against the fakesnow emulator (bench/snowflake_emulator.py), one season of the real data.

The same code as `make snowflake-emulated`. The emulator, not the project, handles what fakesnow
cannot serve; this test pins that list, so a new gap (or a rewrite) cannot slip in unseen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import snowflake_emulated
from bench.snowflake_emulator import CLONE_ROUTE, SWAP_ROUTE, rewrite

BUCKET = "s3://formula1-dbt-cloud-python-demo/formula1-kaggle-data/"


def test_bootstrap_ingest_features_run_on_the_emulator(
    project: Path, shared_data: Path, tmp_path: Path
) -> None:
    # raises unless every RAW table holds its file's rows and FEATURES has rows
    report = snowflake_emulated.run(project, shared_data, 2024, tmp_path / "emulated")
    print(report)
    assert report["rows"]["RAW.FORMULA1.RESULTS"] == report["rows"]["FORMULA1.ML.FEATURES"] == 479
    routes = report["routes"]
    # each gap, counted: 1 schema cloned and swapped in, 1 stage mirrored, 1 format option dropped,
    # 3 reports read back (bootstrap -> ingest -> features), 4 written
    assert routes[CLONE_ROUTE] == 1 and routes[SWAP_ROUTE] == 1  # ingest: one schema switch
    assert routes["fakesnow (rewritten: stage URL -> local mirror)"] == 1
    assert routes["fakesnow (rewritten: ERROR_ON_COLUMN_COUNT_MISMATCH dropped)"] == 1
    assert routes["emulator (GET served from fakesnow's stage folder)"] == 3
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
