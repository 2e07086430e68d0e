"""A real `kedro run` of every stage, as a user types it, reads well.

One run on the real data cut to seasons 2019-2024 (the smallest cut with train, validation and
test seasons): the session's `built_recent`, whose `kedro run` subprocess output is kept. No
warning the project could silence, one line per node, and the closing summary. Then the failure
path of the CLI: the message alone, the traceback in logs/last_error.log or with --verbose.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from f1_kedro.cli import split_params
from tests.support import KEDRO, RECENT_RUN_LOG, copy_built, kedro_env

# What Python's warnings module prints: "<file>:<line>: <Category>Warning: <message>".
WARNING_LINE = re.compile(r"^\S+:\d+: \w*Warning: ", re.MULTILINE)


@pytest.fixture(scope="module")
def small_project(built_recent: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project after that run (the failure-path runs below write into it)."""
    return copy_built(built_recent, tmp_path_factory.mktemp("quiet"))


def _kedro(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KEDRO, "run", *args],
        cwd=project,
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def full_run(built_recent: Path) -> str:
    """What the whole `kedro run` printed, stdout and stderr (it exited 0: built_recent checks)."""
    return (built_recent / RECENT_RUN_LOG).read_text()


def test_a_full_run_prints_no_warning(full_run: str) -> None:
    assert WARNING_LINE.findall(full_run) == [], full_run


def test_one_line_per_node_start_and_end(full_run: str) -> None:
    assert "Completed node" not in full_run
    assert "out of" not in full_run  # Kedro's "Completed k out of n tasks"
    assert len(re.findall(r"✔ \[\d+/\d+\]", full_run)) == len(re.findall(r"▶ \[\d+/", full_run))


def test_the_run_ends_with_the_summary(full_run: str) -> None:
    tail = full_run[full_run.index("Stage timings:") :]
    assert "Backtest 2021-2024 (each season unseen), model vs grid rule: macro F1" in tail
    assert "Registered f1_race_outcome version 1" in tail
    assert "Scored " in tail
    tables = next(line for line in tail.splitlines() if line.strip().startswith("Tables: "))
    assert {"FORMULA1.ML.FEATURES", "FORMULA1.ML.PREDICTIONS"} <= set(
        tables.split(":", 1)[1].replace(",", " ").split()
    )
    assert "Files: data/08_reporting/" in tail
    assert tail.rstrip().splitlines()[-1].strip().startswith("Next: make viz")


def test_the_deprecated_pipeline_option_is_quiet_and_lists_parse(small_project: Path) -> None:
    # --pipeline (the deprecated form users type) and a two-item list in --params, one cheap run
    result = _kedro(
        small_project,
        "--pipeline=bootstrap",
        "--params",
        "bootstrap.databases.RAW=[FORMULA1,EXTRA]",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert WARNING_LINE.findall(output) == [], output
    assert "Database RAW ready with schemas FORMULA1, EXTRA" in output


def test_a_bad_parameter_fails_with_one_line_each_and_no_traceback(small_project: Path) -> None:
    result = _kedro(
        small_project,
        "--pipelines=features",
        "--params",
        "features.vars.form_window=0,features.select=[],bootstrap.stag=X",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "features.vars.form_window: Input should be greater than or equal to 1" in result.stderr
    assert "features.select: List should have at least 1 item" in result.stderr
    assert "bootstrap.stag: unknown key" in result.stderr
    assert "Traceback" in (small_project / "logs" / "last_error.log").read_text()

    verbose = _kedro(small_project, "--pipelines=features", "--params", "bootstrap.stag=X", "-v")
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("train.seasons.test=[2025,2025]", {"train": {"seasons": {"test": [2025, 2025]}}}),
        (
            "train.search.grid.max_depth=[3,4],train.n_jobs=2",
            {"train": {"search": {"grid": {"max_depth": [3, 4]}}, "n_jobs": 2}},
        ),
        ("score.seasons=2023", {"score": {"seasons": 2023}}),
    ],
)
def test_params_take_lists(given: str, parsed: dict) -> None:
    assert split_params(click.Context(click.Command("run")), None, given) == parsed


def test_dbt_build_works_from_inside_dbt(small_project: Path, full_run: str) -> None:
    """A dbt user's habit: `cd dbt && dbt build` finds the project's warehouse."""
    dbt = Path(KEDRO).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "build", "--select", "stg_races", "--no-use-colors"],
        cwd=small_project / "dbt",
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Completed successfully" in result.stdout


def test_dbt_docs_open_on_the_project_and_describe_what_users_read(
    small_project: Path, full_run: str
) -> None:
    """The docs site opens on the overview; every source and every column of the staging,
    intermediate, marts and analytics tables (as built) has a description."""
    import json

    import duckdb

    manifest = json.loads((small_project / "dbt" / "target" / "manifest.json").read_text())
    overview = manifest["docs"]["doc.f1_formula1.__overview__"]["block_contents"]
    assert "Layers" in overview and "FORMULA1.ML.FEATURES" in overview
    sources = manifest["sources"].values()
    assert len(sources) == 14
    assert [s["name"] for s in sources if not s["description"].strip()] == []

    described = {
        (node["name"], column.lower())
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for column, spec in node["columns"].items()
        if spec["description"].strip()
    }
    warehouse = small_project / "data" / "warehouse" / "FORMULA1.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.execute(
            "select table_name, lower(column_name) from information_schema.columns "
            "where table_schema in ('STAGING', 'INTERMEDIATE', 'MARTS')"
        ).fetchall()
    assert len(built) > 200
    assert sorted(set(built) - described) == []


def test_the_run_is_tracked_in_mlflow_with_trains_numbers(
    small_project: Path, full_run: str
) -> None:
    """kedro-mlflow's run of the whole `kedro run`: named, train's metrics and plots, and the
    register stage's own run (the registered version) inside it, in the registry's store."""
    import json

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{small_project}/data/06_models/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("f1_kedro_runs").experiment_id])
    (run,) = [r for r in runs if r.info.run_name.startswith("__default__ ")]
    assert run.info.status == "FINISHED"
    assert {"model.macro_f1", "baseline.macro_f1", "model.log_loss"} <= set(run.data.metrics)
    assert "train.search.grid.max_depth" in run.data.params
    # the key-metrics view of conf/base/mlflow.yml names metrics that train logs
    experiment = client.get_experiment_by_name("f1_kedro_runs")
    view = json.loads(experiment.tags["mlflow.sharedViewState.key_metrics"])
    shown = {c[len("metrics.`") : -1] for c in view["selectedColumns"] if c.startswith("metrics.")}
    assert shown and shown <= set(run.data.metrics), shown - set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "confusion_matrix_plot.png", "backtest_plot.png"} <= artifacts
    # a plot is logged as the file its dataset wrote, not drawn a second time
    logged = Path(client.download_artifacts(run.info.run_id, "backtest_plot.png"))
    saved = small_project / "data/08_reporting/backtest_by_season.png"
    assert logged.read_bytes() == saved.read_bytes()

    registered = client.search_runs(
        [client.get_experiment_by_name("f1_race_outcome").experiment_id]
    )
    assert [r.data.tags.get("mlflow.parentRunId") for r in registered] == [run.info.run_id]
    assert not (small_project / "mlruns").exists() and not (small_project / "mlflow.db").exists()
