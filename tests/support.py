"""What tests share besides fixtures: the real data cut to size, scratch projects, Kedro runs
(full session or in memory), and the fakes of the node-facing interfaces.

Fixtures live in conftest.py files; everything a test imports lives here (never import from a
conftest module: pytest loads those itself).
"""

from __future__ import annotations

import atexit
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (PROJECT_ROOT / ".." / "shared" / "data" / "formula1").resolve()

# Row counts from ../shared/data/formula1/README.md.
README_ROW_COUNTS = {
    "circuits": 77,
    "constructor_results": 12625,
    "constructor_standings": 13391,
    "constructors": 212,
    "driver_standings": 34863,
    "drivers": 864,
    "lap_times": 116577,
    "pit_stops": 11371,
    "qualifying": 10494,
    "races": 1149,
    "results": 26759,
    "seasons": 76,
    "sprint_results": 360,
    "status": 139,
}
RACE_LEVEL_TABLES = (
    "constructor_results",
    "constructor_standings",
    "driver_standings",
    "lap_times",
    "pit_stops",
    "qualifying",
    "results",
    "sprint_results",
)

# A whole run's parameters for tests that need a served model, not a good one: one grid point.
ONE_POINT_GRID = {"max_depth": [2], "learning_rate": [0.1], "n_estimators": [100]}
RECENT_PARAMS = {
    "train.seasons.train": [2019, 2021],
    "train.seasons.backtest": [2021, 2024],  # two seasons before the first: 2019-2020
    "train.search.grid": ONE_POINT_GRID,
}
RECENT_DATA = "f1_2019_2024"  # the folder, beside the project, of the data `built_recent` ran on
RECENT_RUN_LOG = "kedro_run.log"  # beside the project: what `built_recent`'s `kedro run` printed


# --- the real data, cut to size -----------------------------------------------------------------


def write_subset(
    source: Path,
    target: Path,
    first_season: int,
    last_season: int,
    last_round: int | None = None,
) -> Path:
    """Copy the real CSVs, keeping only races of the given seasons (dimensions stay whole).

    With `last_round`, races of `last_season` after that round are dropped too: the data as it
    stood the day after that race (the seasons table keeps `last_season`).
    """
    target.mkdir(parents=True, exist_ok=True)

    def keep(year: int, round_: int) -> bool:
        if not first_season <= year <= last_season:
            return False
        return last_round is None or year < last_season or round_ <= last_round

    race_ids: set[str] = set()
    with open(source / "races.csv", newline="") as f_in:
        lines = f_in.read().splitlines(keepends=True)
    kept = [lines[0]]
    for line in lines[1:]:
        row = next(csv.reader([line]))
        if keep(int(row[1]), int(row[2])):
            race_ids.add(row[0])
            kept.append(line)
    (target / "races.csv").write_text("".join(kept))
    for name in README_ROW_COUNTS:
        if name == "races":
            continue
        with open(source / f"{name}.csv", newline="") as f_in:
            lines = f_in.read().splitlines(keepends=True)
        if name in RACE_LEVEL_TABLES:
            race_col = next(csv.reader([lines[0]])).index("raceId")
            lines = [lines[0]] + [
                ln for ln in lines[1:] if next(csv.reader([ln]))[race_col] in race_ids
            ]
        elif name == "seasons":
            lines = [lines[0]] + [
                ln for ln in lines[1:] if first_season <= int(ln.split(",")[0]) <= last_season
            ]
        (target / f"{name}.csv").write_text("".join(lines))
    return target


def truncate_after(source: Path, target: Path, season: int, round_: int) -> Path:
    """Copy `source` without any race after (season, round): as if it were the day after."""
    return write_subset(source, target, 0, season, last_round=round_)


def remove_race_outcomes(folder: Path, race_id: int) -> Path:
    """Keep a race's qualifying, remove what it produces after: results, standings, laps, stops.

    The data as it stands on the Saturday night before that race.
    """
    for name in RACE_LEVEL_TABLES:
        if name == "qualifying":
            continue
        path = folder / f"{name}.csv"
        lines = path.read_text().splitlines(keepends=True)
        race_col = next(csv.reader([lines[0]])).index("raceId")
        kept = [ln for ln in lines[1:] if next(csv.reader([ln]))[race_col] != str(race_id)]
        path.write_text("".join([lines[0], *kept]))
    return folder


def race_id_of(folder: Path, season: int, round_: int) -> int:
    """The raceId of (season, round) in a folder's races.csv."""
    with open(folder / "races.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if (int(row["year"]), int(row["round"])) == (season, round_):
                return int(row["raceId"])
    raise LookupError(f"no race {season} round {round_} in {folder}")


# --- scratch projects and Kedro runs -------------------------------------------------------------


def copy_project(base: Path, *, mlflow_store: bool = True) -> Path:
    """A scratch copy of the project under `base/f1_kedro`, with `base/shared/data/formula1`.

    Copies conf (without the developer's conf/local), dbt, sql, notebooks and pyproject; the
    package itself is installed editable, so `src/` is an empty folder that Kedro asks for.
    dbt's parse state comes from one parse per test process (`parsed_dbt_target`), so a scratch
    project's first `kedro run` does not parse the dbt project again in full; likewise its MLflow
    store is a copy of an empty one (`empty_mlflow_store`), as a project has after its first run,
    so that its first run does not create and migrate one again (~0.7 s each).
    `mlflow_store=False`: no store, as in a fresh clone, for tests of the first run itself.
    """
    root = base / "f1_kedro"
    root.mkdir(parents=True)
    for name in ("conf", "dbt", "sql", "notebooks"):
        if (PROJECT_ROOT / name).exists():
            shutil.copytree(
                PROJECT_ROOT / name,
                root / name,
                ignore=shutil.ignore_patterns(
                    "target", "logs", "dbt_packages", ".user.yml", "local", ".ipynb_checkpoints"
                ),
            )
    shutil.copytree(parsed_dbt_target(), root / "dbt" / "target")
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    if mlflow_store:
        seed_mlflow_store(root / "data" / "06_models")
    # The default source is ../shared/data/formula1, relative to the project root.
    (base / "shared" / "data").mkdir(parents=True)
    os.symlink(SHARED_DATA, base / "shared" / "data" / "formula1")
    return root


@cache
def empty_mlflow_store() -> Path:
    """An MLflow SQLite store as MLflow makes it on first use, with no run, made once per test
    process: the tables, every schema migration (MLflow checks the head revision on each open),
    the Default experiment. The project's own experiments are made by the runs, as in a clone."""
    from mlflow.tracking import MlflowClient

    base = Path(tempfile.mkdtemp(prefix="f1_mlflow_store_"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    database = base / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
    return database


def seed_mlflow_store(folder: Path) -> Path:
    """`folder/mlflow.db`: a copy of `empty_mlflow_store` unless a store is there already."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "mlflow.db"
    if not database.exists():
        shutil.copy2(empty_mlflow_store(), database)
    return database


@cache
def parsed_dbt_target() -> Path:
    """dbt/target of a copy of the dbt project parsed as a default `kedro run` parses it.

    The partial-parse states of the features builds (conf/base's dbt_project entry, default vars)
    and of the score build (its request as environment variables, here with base values: a
    request's values only re-parse the files that read them), and the manifest the features
    pipeline reads its layers from (f1_kedro.dbt_layers). dbt's partial parse keeps only paths
    relative to the project, so a copy of the state is valid in any scratch project
    (tests/features/test_dbt_parse_state.py).
    """

    from f1_kedro.dbt_layers import load_manifest
    from f1_kedro.dbt_project import DbtProject, _state_path
    from f1_kedro.pipelines.score.params import Params, request_env
    from f1_kedro.project_config import resolved_config

    entry = resolved_config("catalog")["dbt_project"]
    parameters = resolved_config("parameters")
    score = Params.checked(parameters["score"])
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt" / "dbt_project.yml").read_text())["vars"]
    fit = dbt_vars["monitoring_fit_seasons"]  # any value: a request's values re-parse two files
    request = request_env(score.request(parameters["register"]["model_name"], fit))
    base = Path(tempfile.mkdtemp(prefix="f1_dbt_parsed_"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    project = base / "dbt"
    shutil.copytree(PROJECT_ROOT / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    previous = Path.cwd()
    os.chdir(base)  # relative dbt paths, as in a project root
    try:
        dbt = DbtProject(env=entry["env"])
        features_vars = entry.get("vars", {})
        dbt._manifest(features_vars)
        dbt._manifest(score.vars, request)
        # the layers need only the graph, which vars do not change: one parse serves both
        state = project / _state_path(dbt.target, features_vars, {}) / "manifest.json"
        shutil.copy2(state, project / "target" / "manifest.json")
        load_manifest()  # and it is fresh (no parse), as in a scratch project
    finally:
        os.chdir(previous)
    return project / "target"


def built_once(base: Path, name: str, build: Callable[[Path], None]) -> Path:
    """A scratch project (as `copy_project` lays it out, in `<base>/built_<name>`) that
    `build(project root)` brought to some state, built once per test session.

    `base` is the session's temporary folder: under pytest-xdist pass the one the workers share
    (`shared_tmp`), so that the first worker builds while the others wait on a file lock and then
    reuse it. Never run or write in the result: `copy_built` gives a module its own copy.
    """
    from filelock import FileLock

    folder = base / f"built_{name}"
    with FileLock(f"{folder}.lock"):
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            root = copy_project(folder, mlflow_store=False)  # its first run makes the store
            previous = Path.cwd()
            os.chdir(root)  # Kedro resolves the catalog's paths against the working directory
            try:
                build(root)
            finally:
                os.chdir(previous)
            (folder / ".built").touch()
    return folder


def copy_built(folder: Path, target: Path) -> Path:
    """A copy of a `built_once` project under `target`; returns its root. A copied project keeps
    to its own files, MLflow registry included (tests/register/test_relocation.py)."""
    ignore = shutil.ignore_patterns(".built")
    shutil.copytree(folder, target, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    return target / "f1_kedro"


def nested_params(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}, as the CLI reads `--params=a.b=1`."""
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        level = nested
        for part in parents:
            level = level.setdefault(part, {})
        level[leaf] = value
    return nested


def run_kedro(
    project_dir: Path,
    pipeline: str | None = None,
    params: dict[str, Any] | None = None,
    env: str | None = None,
) -> dict[str, Any]:
    """Run the project in process, as `kedro run` does, and return the run's free outputs.

    `params` take dotted keys, like `kedro run --params=ingest.source_uri=...`.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_dir)
    runtime_params = nested_params(params or {})
    with KedroSession.create(
        project_path=project_dir, env=env, runtime_params=runtime_params
    ) as session:
        return session.run(pipeline_names=[pipeline] if pipeline else None)


def run_in_memory(
    pipeline: Any, datasets: Mapping[str, Any], params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Run a pipeline as spaceflights' tests do: a DataCatalog of the given datasets (the rest in
    memory), `params:<group>` from `params`, SequentialRunner; no session, hooks or config files.

    Returns the pipeline's free outputs that the catalog does not hold as given datasets, by name.
    """
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    catalog = DataCatalog(
        {
            **datasets,
            **{f"params:{key}": MemoryDataset(value) for key, value in (params or {}).items()},
        }
    )
    SequentialRunner().run(pipeline, catalog)
    return {
        name: catalog.load(name)
        for name in pipeline.outputs()
        if name not in datasets and catalog.exists(name)
    }


def base_params(group: str) -> dict[str, Any]:
    """`params:<group>` as conf/base/parameters_<group>.yml defines it (no overrides), resolved."""
    from f1_kedro.project_config import resolved_config

    return resolved_config("parameters")[group]


def load_raw_in_memory(folder: Path, **ingest: Any) -> dict[str, Any]:
    """bootstrap + ingest in memory into `folder/data` (conf/base's parameters with `ingest`
    overrides), writing what a `kedro run --pipelines bootstrap,ingest` writes there: the
    warehouse and the two reports (a later `kedro run --pipelines features` reads ingest_report).
    Returns the reports."""
    from kedro_datasets.json import JSONDataset

    from f1_kedro.engines.duckdb import DuckDBWarehouseDataset
    from f1_kedro.pipelines import bootstrap
    from f1_kedro.pipelines import ingest as ingest_pipeline

    data = folder / "data"
    datasets = {
        "warehouse": DuckDBWarehouseDataset(
            directory=str(data / "warehouse"), stage_dir=str(data / "06_models" / "ml_stage")
        ),
        **{
            name: JSONDataset(filepath=str(data / "08_reporting" / f"{name}.json"))
            for name in ("bootstrap_report", "ingest_report")
        },
    }
    run_in_memory(
        bootstrap.create_pipeline() + ingest_pipeline.create_pipeline(),
        datasets,
        {"bootstrap": base_params("bootstrap"), "ingest": {**base_params("ingest"), **ingest}},
    )
    return {name: datasets[name].load() for name in ("bootstrap_report", "ingest_report")}


def ingest(project: Path, source: Path) -> None:
    """Bootstrap the scratch project's warehouse and load `source` into RAW (in memory: the
    same files as `kedro run --pipelines bootstrap` then `ingest`, without two sessions)."""
    load_raw_in_memory(project, source_uri=str(source))


def query(project: Path, sql: str) -> pd.DataFrame:
    """`sql` on a scratch project's FORMULA1 warehouse, read-only."""
    con = duckdb.connect(str(project / "data/warehouse/FORMULA1.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def read_features(project: Path) -> pd.DataFrame:
    """FORMULA1.ML.FEATURES of a scratch project, in key order."""
    frame = query(project, "SELECT * FROM ML.FEATURES")
    return frame.sort_values(["RACE_ID", "DRIVER_ID"]).reset_index(drop=True)


# --- `kedro run` as a subprocess a test can pause and kill; what the warehouse and registry hold

INJECT = PROJECT_ROOT / "tests" / "faults" / "inject"
KEDRO = str(Path(sys.executable).parent / "kedro")


def kedro_env() -> dict[str, str]:
    """The environment for a `kedro` subprocess: no colours, no telemetry, no browser."""
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", COLUMNS="200")
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env.pop("BROWSER", None)
    return env


@dataclass
class KedroProcess:
    """A `kedro run` subprocess; its output goes to a file the test polls."""

    process: subprocess.Popen
    log: Path
    marker: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_pause(self, timeout: float = 300.0) -> None:
        """Block until the injected pause point is reached (its marker file exists)."""
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"kedro exited ({self.process.returncode}) before the pause point:\n"
                    + self.output()[-4000:]
                )
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("the pause point was not reached:\n" + self.output()[-4000:])
            time.sleep(0.05)

    def wait_for_text(self, text: str, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{text!r} did not appear:\n" + self.output()[-4000:])
            time.sleep(0.05)

    def resume(self) -> None:
        """Let a paused run go on."""
        Path(str(self.marker) + ".resume").touch()

    def kill(self) -> None:
        """SIGKILL: no Python cleanup, no `finally`, no atexit in the killed process."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self, timeout: float = 600.0) -> int:
        return self.process.wait(timeout=timeout)


def start_kedro(
    project: Path,
    pipeline: str,
    params: Mapping[str, Any] | None = None,
    pause: str | None = None,
    pause_call: int = 1,
    pause_match: str = "",
) -> KedroProcess:
    """Start `kedro run --pipeline=<pipeline>` in `project`, optionally paused at `pause`.

    `pause` is "module:Qualified.name" (see inject/sitecustomize.py): the run stops there on the
    `pause_call`-th call whose arguments contain `pause_match`, and waits to be killed.
    """
    log = project / f"kedro_{pipeline}_{time.monotonic_ns()}.log"
    marker = project / f"paused_{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250", "NO_COLOR": "1"}
    if pause:
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(INJECT), env.get("PYTHONPATH")])),
            F1_FAULT_PAUSE=pause,
            F1_FAULT_PAUSE_CALL=str(pause_call),
            F1_FAULT_PAUSE_MATCH=pause_match,
            F1_FAULT_MARKER=str(marker),
        )
    args = [str(KEDRO), "run", f"--pipeline={pipeline}"]
    args += [f"--params={key}={value}" for key, value in (params or {}).items()]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT)
    return KedroProcess(process, log, marker)


def table_counts(database_file: Path) -> dict[str, int]:
    """Rows of every table in one warehouse file, `SCHEMA.TABLE` -> count, opened read-only."""
    con = duckdb.connect(str(database_file), read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
            "current_database() ORDER BY 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in names
        }
    finally:
        con.close()


def warehouse_files(project: Path) -> dict[str, Path]:
    return {name: project / "data" / "warehouse" / f"{name}.duckdb" for name in ("RAW", "FORMULA1")}


def registry_state(project: Path, model_name: str = "f1_race_outcome") -> dict[str, Any]:
    """MLflow's versions of the model, the champion alias, and each version's stage folder."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{project / 'data/06_models/mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{model_name}'"))
    try:
        champion = int(client.get_model_version_by_alias(model_name, "champion").version)
    except MlflowException:
        champion = None
    stage = project / "data/06_models/ml_stage/ML_STAGE" / model_name
    return {
        "versions": versions,
        "champion": champion,
        "stage_folders": sorted(p.name for p in stage.iterdir()) if stage.exists() else [],
        "complete": {v: version_is_complete(client, stage, model_name, v) for v in versions},
    }


def version_is_complete(client: Any, stage: Path, model_name: str, version: int) -> bool:
    """A version scoring can use: stage folder with pipeline and manifest, tags that point there."""
    folder = stage / f"v{version}"
    if not (folder / "pipeline.joblib").is_file() or not (folder / "manifest.json").is_file():
        return False
    manifest = json.loads((folder / "manifest.json").read_text())
    tags = client.get_model_version(model_name, str(version)).tags
    tagged = Path(tags.get("stage_path", "")).parts[-2:]
    return manifest.get("version") == version and tagged == (model_name, f"v{version}")


def fingerprints(project: Path) -> dict[str, tuple]:
    """Per raw table: its columns, row count and a hash of all its rows."""
    con = duckdb.connect(str(warehouse_files(project)["RAW"]), read_only=True)
    try:
        found = {}
        for name in README_ROW_COUNTS:
            table = f"FORMULA1.{name.upper()}"
            columns = tuple(r[0] for r in con.execute(f"DESCRIBE {table}").fetchall())
            rows, digest = con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchone()
            found[name] = (columns, rows, digest)
        return found
    finally:
        con.close()


# --- fakes of the node-facing interfaces ---------------------------------------------------------


class FakeDbt:
    """A `DbtBuilder` (f1_kedro.dbt_project) that records each build and reports success."""

    def __init__(self, report: Mapping[str, Any] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self._report = dict(report or {"counts": {"pass": 1, "success": 1}, "seconds": 1.0})

    def build(
        self,
        select: Sequence[str],
        vars: Mapping[str, Any] | None = None,
        exclude: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        call = {
            "select": list(select),
            "vars": dict(vars or {}),
            "exclude": list(exclude or []),
            "env": dict(env or {}),
        }
        self.calls.append(call)
        # the shape of DbtProject.build's report, with the given counts and seconds
        return {"command": "build", "target": "fake", **call, "nodes": [], **self._report}
