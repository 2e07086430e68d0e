"""Helpers of the fault tests: `kedro run` as a real subprocess that a test can pause and kill,
and read-only views of what the warehouse and the registry hold afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import PROJECT_ROOT, README_ROW_COUNTS, run_kedro, write_subset

INJECT = Path(__file__).parent / "inject"
KEDRO = Path(sys.executable).parent / "kedro"


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


@pytest.fixture
def kedro_processes() -> Iterator[list[KedroProcess]]:
    """Collects the test's subprocesses and kills any still running when the test ends."""
    started: list[KedroProcess] = []
    yield started
    for proc in started:
        proc.kill()


@pytest.fixture(scope="module")
def season_2024(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_subset(shared_data, tmp_path_factory.mktemp("f1_2024"), 2024, 2024)


@pytest.fixture(scope="module")
def loaded_warehouse(season_2024: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`data/` of a project after bootstrap and a clean ingest of 2024; each case copies it."""
    root = tmp_path_factory.mktemp("baseline") / "f1_kedro"
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf")
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / "conf" / "local").mkdir(exist_ok=True)
    (root / "src").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        run_kedro(root, "bootstrap")
        run_kedro(root, "ingest", params={"ingest.source_uri": str(season_2024)})
    return root / "data"


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
