"""The bootstrap and ingest pipelines end to end, on real DuckDB files and the real data."""

from __future__ import annotations

import json
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.support import README_ROW_COUNTS, load_raw_in_memory, run_kedro


def raw_counts(project: Path) -> dict[str, int]:
    con = duckdb.connect(str(project / "data" / "warehouse" / "RAW.duckdb"), read_only=True)
    try:
        return {
            name: con.execute(f"SELECT count(*) FROM FORMULA1.{name.upper()}").fetchone()[0]
            for name in README_ROW_COUNTS
        }
    finally:
        con.close()


def schemas(project: Path) -> dict[str, set[str]]:
    found = {}
    for database in ("RAW", "FORMULA1"):
        con = duckdb.connect(str(project / "data" / "warehouse" / f"{database}.duckdb"))
        try:
            rows = con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
            found[database] = {r[0] for r in rows} - {"main", "information_schema", "pg_catalog"}
        finally:
            con.close()
    return found


@pytest.mark.full_data
def test_ingest_loads_every_table_with_the_readme_row_counts(project: Path) -> None:
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest")
    assert raw_counts(project) == README_ROW_COUNTS
    report = json.loads((project / "data/08_reporting/ingest_report.json").read_text())
    assert {t: r["rows"] for t, r in report["tables"].items()} == README_ROW_COUNTS
    assert report["source"].endswith("shared/data/formula1")


@pytest.mark.full_data
def test_bootstrap_and_ingest_twice_change_nothing(project: Path) -> None:
    run_kedro(project, "bootstrap")
    first_schemas = schemas(project)
    run_kedro(project, "ingest")
    first = raw_counts(project)
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest")
    assert (
        schemas(project)
        == first_schemas
        == {
            "RAW": {"FORMULA1"},
            "FORMULA1": {"STAGING", "INTERMEDIATE", "MARTS", "ML"},
        }
    )
    assert raw_counts(project) == first == README_ROW_COUNTS
    assert (project / "data/06_models/ml_stage/ML_STAGE").is_dir()


def test_raw_tables_have_explicit_types_and_upper_case_names(
    tmp_path: Path, recent_data: Path
) -> None:
    project = tmp_path  # the pipelines in memory: no session needed to check the types
    load_raw_in_memory(project, source_uri=str(recent_data))
    con = duckdb.connect(str(project / "data/warehouse/RAW.duckdb"), read_only=True)
    try:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'RACES'"
            ).fetchall()
        )
        nulls = con.execute(
            "SELECT count(*) FROM FORMULA1.RESULTS WHERE POSITION IS NULL"
        ).fetchone()[0]
        no_sessions = con.execute(
            "SELECT count(*) FROM FORMULA1.RACES WHERE YEAR = 2025 AND FP1_DATE IS NULL"
        ).fetchone()[0]
    finally:
        con.close()
    assert types["RACEID"] == "INTEGER"
    assert types["DATE"] == "DATE"
    assert types["TIME"] == "TIME"
    assert types["NAME"] == "VARCHAR"
    assert nulls > 0  # `\N` became NULL, not the string '\N'
    assert no_sessions == 0  # the subset holds no 2025 calendar rows


def test_races_rows_without_session_dates_load_as_nulls(tmp_path: Path, shared_data: Path) -> None:
    project = tmp_path
    report = load_raw_in_memory(project, source_uri=str(shared_data))
    assert report["ingest_report"]["source"] == str(shared_data)
    con = duckdb.connect(str(project / "data/warehouse/RAW.duckdb"), read_only=True)
    try:
        row = con.execute(
            "SELECT count(*), count(FP1_DATE), count(DATE) FROM FORMULA1.RACES WHERE YEAR = 2025"
        ).fetchone()
    finally:
        con.close()
    assert row == (24, 0, 24)


def test_ingest_reads_s3_through_fsspec_from_a_moto_server(
    tmp_path: Path, recent_data: Path, moto_s3: dict
) -> None:
    project = tmp_path
    import boto3
    import s3fs

    boto3.client(
        "s3",
        aws_access_key_id=moto_s3["key"],
        aws_secret_access_key=moto_s3["secret"],
        **moto_s3["client_kwargs"],
    ).create_bucket(Bucket="f1-test-bucket")
    fs = s3fs.S3FileSystem(**moto_s3)
    fs.put(str(recent_data) + "/", "f1-test-bucket/formula1-kaggle-data/", recursive=True)
    load_raw_in_memory(
        project, source_uri="s3://f1-test-bucket/formula1-kaggle-data/", storage_options=moto_s3
    )
    expected = {p.stem: sum(1 for _ in p.open()) - 1 for p in recent_data.glob("*.csv")}
    assert raw_counts(project) == expected


def test_ingest_reads_https_sources(tmp_path: Path, recent_data: Path) -> None:
    project = tmp_path / "project"
    served = tmp_path / "served"
    shutil.copytree(recent_data, served)
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}/"
        load_raw_in_memory(project, source_uri=uri)
    finally:
        server.shutdown()
    expected = sum(1 for _ in (recent_data / "results.csv").open()) - 1
    assert raw_counts(project)["results"] == expected


def test_default_source_falls_back_to_the_public_bucket_without_the_shared_folder() -> None:
    from f1_kedro.pipelines.ingest.nodes import resolve_source

    source = resolve_source(
        {
            "source_uri": None,
            "local_source_dir": "/nonexistent/formula1",
            "public_source_uri": "s3://formula1-dbt-cloud-python-demo/formula1-kaggle-data/",
            "public_storage_options": {"anon": True},
        }
    )
    assert source == {
        "uri": "s3://formula1-dbt-cloud-python-demo/formula1-kaggle-data/",
        "storage_options": {"anon": True},
    }
