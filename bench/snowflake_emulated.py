"""`make snowflake-emulated`: `kedro run --env snowflake` end to end on the fakesnow emulator.

Starts `bench.snowflake_emulator` on a free port, runs the command a user types,

    kedro run --env snowflake --pipelines bootstrap,ingest,features

with only SNOWFLAKE_* variables pointing it at 127.0.0.1, then counts the rows of every RAW table
(against the CSV files) and of FORMULA1.ML.FEATURES, and stops the emulator whatever happened.
The public bucket is served from a local folder holding one season (`--season`, default 2024)
of the real data: one season keeps the run under a minute on 2 cores. The names it checks (the
FORMULA1 and RAW databases) are the project's conf's, so a renamed copy (the smoke's) runs too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = "bootstrap,ingest,features"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def public_bucket(project: Path) -> str:
    """The URL sql/snowflake's external stage reads (conf/snowflake/parameters_snowflake.yml)."""
    names = yaml.safe_load((project / "conf/snowflake/parameters_snowflake.yml").read_text())
    return names["snowflake"]["source_stage_url"]


def database_names(project: Path) -> tuple[str, str]:
    """(FORMULA1's database, RAW's database) as `kedro run --env snowflake` resolves them."""
    from f1_kedro.project_config import resolved_config

    params = resolved_config("parameters", "snowflake", project_root=project)
    return params["snowflake"]["database"], params["ingest"]["raw_database"]


def emulator_env(port: int) -> dict[str, str]:
    """The variables a user sets, here pointing at the emulator (no credentials file needed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    env.update(
        SNOWFLAKE_ACCOUNT="fakesnow",
        SNOWFLAKE_USER="fake",
        SNOWFLAKE_PASSWORD="emulator-password",
        SNOWFLAKE_ROLE="SYSADMIN",
        SNOWFLAKE_WAREHOUSE="TRANSFORMING",
        SNOWFLAKE_HOST="127.0.0.1",
        SNOWFLAKE_PORT=str(port),
        SNOWFLAKE_PROTOCOL="http",
    )
    return env


def start_emulator(port: int, mirror: str, routes: Path) -> subprocess.Popen[str]:
    # its log goes to a file: an unread pipe fills up and blocks the server
    with open(routes.with_suffix(".log"), "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.snowflake_emulator", "--port", str(port)]
            + ["--mirror", mirror, "--routes", str(routes)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited: {routes.with_suffix('.log').read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    stop(process)
    raise RuntimeError("the emulator did not start within 60 s")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def row_counts(port: int, tables: list[str]) -> dict[str, int]:
    import snowflake.connector

    env = emulator_env(port)
    conn = snowflake.connector.connect(
        account=env["SNOWFLAKE_ACCOUNT"],
        user=env["SNOWFLAKE_USER"],
        password=env["SNOWFLAKE_PASSWORD"],
        host="127.0.0.1",
        port=port,
        protocol="http",
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        login_timeout=30,
        network_timeout=60,
    )
    try:
        cursor = conn.cursor()
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        return counts
    finally:
        conn.close()


def one_season(source: Path, target: Path, season: int) -> Path:
    from tests.conftest import write_subset  # the tests' own cut of the real data

    return write_subset(source, target, season, season)


def run(project: Path, data: Path, season: int, workdir: Path) -> dict[str, Any]:
    """The whole emulated run; returns the report the make target prints. Raises on a mismatch."""
    database, raw_database = database_names(project)
    mirror_dir = one_season(data, workdir / f"season_{season}", season)
    routes = workdir / "routes.jsonl"
    port = _free_port()
    features = f"{database}.ML.FEATURES"
    started = time.perf_counter()
    cpu = os.times()
    emulator = start_emulator(port, f"{public_bucket(project)}={mirror_dir}", routes)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--env", "snowflake", "--pipelines", PIPELINES],
            cwd=project,
            env={**emulator_env(port), "COLUMNS": "200", "SNOWFLAKE_DATABASE": database},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"kedro run --env snowflake --pipelines {PIPELINES} failed:\n"
                + (result.stdout + result.stderr)[-4000:]
            )
        raw = {f.stem: len(f.read_text().splitlines()) - 1 for f in mirror_dir.glob("*.csv")}
        expected = {f"{raw_database}.FORMULA1.{name.upper()}": n for name, n in raw.items()}
        counts = row_counts(port, [*sorted(expected), features])
    finally:
        stop(emulator)
    elapsed = time.perf_counter() - started
    done = os.times()
    cpu_s = sum(getattr(done, f) - getattr(cpu, f) for f in ("children_user", "children_system"))
    wrong = {t: (counts[t], rows) for t, rows in expected.items() if counts[t] != rows}
    if wrong:
        raise RuntimeError(f"RAW row counts differ from the files (table: (loaded, file)): {wrong}")
    results = mirror_dir / "results.csv"
    if not 0 < counts[features] <= len(results.read_text().splitlines()) - 1:
        raise RuntimeError(f"{features} has {counts[features]} rows")
    lines = [json.loads(line) for line in routes.read_text().splitlines()]
    return {
        "command": f"kedro run --env snowflake --pipelines {PIPELINES}",
        "features": features,
        "season": season,
        "rows": counts,
        "routes": dict(Counter(line["route"] for line in lines)),
        "not_executed": dict(
            Counter(_kind(ln["statement"]) for ln in lines if ln["route"] == "no-op")
        ),
        "wall_s": round(elapsed, 1),
        "cpu_s_children": round(cpu_s, 1),
    }


def _kind(statement: str) -> str:
    words = statement.upper().split()
    return " ".join(words[:1] if words[0] == "GRANT" else words[:2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data" / "formula1")
    parser.add_argument("--season", type=int, default=2024)
    args = parser.parse_args(argv)
    # a SIGTERM (make interrupted, CI timeout) unwinds like Ctrl-C: `run` stops the emulator
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="f1_snowflake_emulated_") as workdir:
        report = run(args.project.resolve(), args.data.resolve(), args.season, Path(workdir))
    print(json.dumps(report, indent=2))
    print(
        f"OK: {len(report['rows']) - 1} RAW tables match their files, "
        f"{report['features']} has {report['rows'][report['features']]} rows "
        f"({report['wall_s']} s wall, {report['cpu_s_children']} s CPU in subprocesses)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
