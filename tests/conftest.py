"""Shared fixtures: the real F1 data, subsets of it, a scratch copy of the project, emulators.

Everything here is real: DuckDB files, a fakesnow server and a moto S3 server on 127.0.0.1.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "results.csv").exists():
        pytest.fail(f"the real F1 data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA


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


@pytest.fixture(scope="session")
def recent_data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real data cut to seasons 2019-2024: small, but with lap times, pit stops and sprints."""
    return write_subset(shared_data, tmp_path_factory.mktemp("f1_2019_2024"), 2019, 2024)


def copy_project(base: Path) -> Path:
    """A scratch copy of the project under `base/f1_kedro`, with `base/shared/data/formula1`.

    Copies conf (without the developer's conf/local), dbt, sql, notebooks and pyproject; the
    package itself is installed editable, so `src/` is an empty folder that Kedro asks for.
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
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    # The default source is ../shared/data/formula1, relative to the project root.
    (base / "shared" / "data").mkdir(parents=True)
    os.symlink(SHARED_DATA, base / "shared" / "data" / "formula1")
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch copy of the project as the working directory.

    Kedro resolves catalog paths against the working directory, so every test that runs a
    pipeline gets its own `data/` and never touches the developer's.
    """
    root = copy_project(tmp_path)
    monkeypatch.chdir(root)
    return root


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
    nested: dict[str, Any] = {}
    for key, value in (params or {}).items():  # as the CLI does with --params=a.b=c
        *parents, leaf = key.split(".")
        level = nested
        for part in parents:
            level = level.setdefault(part, {})
        level[leaf] = value
    with KedroSession.create(project_path=project_dir, env=env, runtime_params=nested) as session:
        return session.run(pipeline_names=[pipeline] if pipeline else None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """A fakesnow server on 127.0.0.1: the real snowflake-connector-python talks to it by HTTP."""
    import fakesnow

    with fakesnow.server() as conn_kwargs:
        yield conn_kwargs
        # Connections still open (dbt-snowflake's, Snowpark's) say goodbye at interpreter exit,
        # after the server is gone: keep those refused requests out of the test report.
        logging.getLogger("snowflake.connector").setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[dict[str, Any]]:
    """A moto S3 server on 127.0.0.1; yields the fsspec storage options that reach it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {
                "endpoint_url": f"http://127.0.0.1:{port}",
                "region_name": "us-east-1",
            },
        }
    finally:
        server.stop()
