"""`make snowflake-smoke`: the whole chain once on a real Snowflake account, isolated, then dropped.

    make snowflake-smoke DRY_RUN=1   # every statement and step, printed; connects to nothing
    make snowflake-smoke             # SNOWFLAKE_* set, or conf/snowflake/credentials.yml

Everything the project creates gets the prefix `F1_SMOKE_<UTC timestamp>`: database FORMULA1
becomes `F1_SMOKE_<ts>`, RAW becomes `F1_SMOKE_<ts>_RAW`, the warehouses and roles
`F1_SMOKE_<ts>_LOADING`, `F1_SMOKE_<ts>_LOADER`, ... The project's conf/, sql/ and dbt/ are copied
into a scratch project and renamed there by one fixed map (`rename`), so the account's real
FORMULA1 and RAW are never touched. Then bootstrap, ingest, features, train (a one-point grid, a
one-season backtest), register and score run as `kedro run --env snowflake --pipelines <stage>`,
each reported with its time and row counts, and at the end (also after a failure or Ctrl-C) the
two databases, three warehouses and three roles are dropped. Needs a role that may create
databases, warehouses and roles (ACCOUNTADMIN, or SYSADMIN + SECURITYADMIN).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("bootstrap", "ingest", "features", "train", "register", "score")
WAREHOUSES = ("LOADING", "TRANSFORMING", "REPORTING")
ROLES = ("LOADER", "TRANSFORMER", "REPORTER")
LAYER_SCHEMAS = ("STAGING", "INTERMEDIATE", "MARTS", "ML")
# the files of the scratch project that name Snowflake objects
RENAMED = ("conf/base", "conf/snowflake", "sql/snowflake", "dbt")


@dataclass(frozen=True)
class SmokeNames:
    """The names of one smoke run; every object it creates starts with `prefix`."""

    prefix: str

    @classmethod
    def at(cls, when: dt.datetime) -> SmokeNames:
        return cls(f"F1_SMOKE_{when.astimezone(dt.UTC):%Y%m%dT%H%M%S}")

    @property
    def database(self) -> str:  # stands for FORMULA1
        return self.prefix

    @property
    def raw_database(self) -> str:  # stands for RAW
        return f"{self.prefix}_RAW"

    def drops(self) -> list[str]:
        """Everything the run creates, dropped: the databases (tables, stages, models) first."""
        return (
            [f"DROP DATABASE IF EXISTS {d}" for d in (self.database, self.raw_database)]
            + [f"DROP WAREHOUSE IF EXISTS {self.prefix}_{w}" for w in WAREHOUSES]
            + [f"DROP ROLE IF EXISTS {self.prefix}_{r}" for r in ROLES]
        )


def rename(text: str, names: SmokeNames) -> str:
    """The project's Snowflake names in `text`, each replaced by its smoke name.

    `FORMULA1` is both a database and RAW's schema: only the database is renamed
    (`RAW.FORMULA1.X` -> `<P>_RAW.FORMULA1.X`, `FORMULA1.ML.X` -> `<P>.ML.X`).
    """
    p, raw = names.database, names.raw_database
    layers = "|".join(LAYER_SCHEMAS)
    subs: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
        # RAW.FORMULA1 / RAW__FORMULA1__ (the features pipeline's dataset names)
        (r"(?<![\w$])RAW(?=\.FORMULA1\b|__FORMULA1__)", raw),
        # the FORMULA1 database before one of its schemas
        (rf"(?<![\w$.])FORMULA1(?=\.(?:{layers})\b|__(?:{layers})__)", p),
        # whole-database mentions: SQL ...
        (r"(\bDATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?)RAW\b", rf"\g<1>{raw}"),
        (r"(\bDATABASE\s+(?:IF\s+NOT\s+EXISTS\s+)?)FORMULA1\b", rf"\g<1>{p}"),
        # ... and YAML: bootstrap's database -> schemas map, database keys of datasets/sources
        (r"(?m)^(\s*)RAW:(\s*\[)", rf"\g<1>{raw}:\g<2>"),
        (rf"(?m)^(\s*)FORMULA1:(\s*\[(?:{layers}))", rf"\g<1>{p}:\g<2>"),
        (r"(\b(?:raw_database|database):\s*)RAW\b", rf"\g<1>{raw}"),
        (r"(\b(?:database|snowflake_registry_database):\s*)FORMULA1\b", rf"\g<1>{p}"),
        # dbt parses the project with its default (duckdb) target, whose main database is named
        # by the file stem: the features pipeline's table names come from that parse
        (r"/FORMULA1\.duckdb\b", f"/{p}.duckdb"),
        # account-level objects
        (rf"(?<![\w$])({'|'.join(WAREHOUSES + ROLES)})(?![\w$])", rf"{p}_\g<1>"),
    ]
    for pattern, replacement in subs:
        text = re.sub(pattern, replacement, text)
    return text


def _files(root: Path) -> Iterator[Path]:
    for folder in RENAMED:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in {".yml", ".yaml", ".sql", ".py"} and not {"target", "logs"} & set(
                path.relative_to(root).parts
            ):
                yield path


def scratch_project(target: Path, names: SmokeNames) -> dict[str, int]:
    """Copy the project into `target` with every name renamed; returns {file: lines changed}."""
    for name in ("conf", "dbt", "sql"):
        shutil.copytree(
            ROOT / name,
            target / name,
            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml", "local"),
        )
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(ROOT / name, target / name)
    (target / "src").mkdir()  # the package is installed; Kedro only asks that the folder exists
    changed = {}
    for path in _files(target):
        before = path.read_text()
        after = rename(before, names)
        if after != before:
            path.write_text(after)
            changed[str(path.relative_to(target))] = sum(
                a != b for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
            )
    return changed


def runtime_params(names: SmokeNames) -> dict[str, str]:
    """`--params` per stage: train gets a one-point grid and a one-season backtest; score the
    tables whose defaults live in code (pipelines/score/params.py), renamed."""
    p = names.database
    train = ["max_depth=[3]", "learning_rate=[0.1]", "n_estimators=[150]"]
    score = ["MODEL_MONITORING", "PREDICTIONS_LATEST", "PREDICTION_EXPLANATIONS"]
    keys = ["monitoring_table", "latest_table", "explanations_table"]
    return {
        "train": ",".join(
            [f"train.search.grid.{g}" for g in train] + ["train.seasons.backtest=[2024,2024]"]
        ),
        "score": ",".join(f"score.{k}={p}.ML.{t}" for k, t in zip(keys, score, strict=True)),
    }


def commands(names: SmokeNames) -> list[list[str]]:
    params = runtime_params(names)
    return [
        ["kedro", "run", "--env", "snowflake", "--pipelines", stage]
        + (["--params", params[stage]] if stage in params else [])
        for stage in STAGES
    ]


def count_queries(names: SmokeNames, stage: str, tables: list[str]) -> list[str]:
    """What is counted after each stage (the row counts of the report)."""
    p = names.database
    by_stage = {
        "ingest": [f"{names.raw_database}.FORMULA1.{t.upper()}" for t in tables],
        "features": [f"{p}.ML.FEATURES"],
        "score": [f"{p}.ML.PREDICTIONS", f"{p}.ML.PREDICTION_EXPLANATIONS"],
    }
    queries = [f"SELECT count(*) FROM {t}" for t in by_stage.get(stage, [])]
    if stage == "register":
        queries.append(f"SHOW VERSIONS IN MODEL {p}.ML.F1_RACE_OUTCOME")
    return queries


def setup_statements(project: Path) -> list[str]:
    """The statements bootstrap runs, in order, from the scratch project's renamed files."""
    from f1_kedro.engines.snowflake.sql import split_statements

    layout = yaml.safe_load((project / "conf/snowflake/parameters_bootstrap.yml").read_text())
    return [
        " ".join(s.split())
        for name in layout["bootstrap"]["setup_sql"]
        for s in split_statements((project / "sql/snowflake" / name).read_text())
    ]


def _env(names: SmokeNames) -> dict[str, str]:
    return {**os.environ, "SNOWFLAKE_DATABASE": names.database, "SNOWFLAKE_SCHEMA": "ML"}


def _connect(project: Path) -> Any:
    from f1_kedro.engines.snowflake.credentials import CREDENTIALS_FILE, SnowflakeCredentials

    path = project / CREDENTIALS_FILE
    file = (yaml.safe_load(path.read_text()) or {}).get("snowflake") if path.exists() else None
    credentials = SnowflakeCredentials.from_sources(os.environ, file)
    credentials.require()
    import snowflake.connector

    params = credentials.connection_parameters()
    params.pop("database", None)  # the smoke database may not exist yet
    params.pop("schema", None)
    return snowflake.connector.connect(**params)


def dry_run(names: SmokeNames, workdir: Path, out: Callable[[str], None] = print) -> None:
    project = workdir / names.prefix
    changed = scratch_project(project, names)
    tables = _tables(project)
    out(f"# smoke run {names.prefix}: dry run, nothing connects")
    out(f"# scratch project {project}: {len(changed)} files renamed")
    for path, lines in changed.items():
        out(f"#   {path}: {lines} lines")
    out(f"# environment: SNOWFLAKE_DATABASE={names.database} SNOWFLAKE_SCHEMA=ML")
    for stage, command in zip(STAGES, commands(names), strict=True):
        out(f"\n## {stage}: {' '.join(command)}")
        if stage == "bootstrap":
            for statement in setup_statements(project):
                out(f"{statement};")
        for query in count_queries(names, stage, tables):
            out(f"{query};  -- reported")
    out("\n## cleanup (always, also after a failure)")
    for statement in names.drops():
        out(f"{statement};")


def _tables(project: Path) -> list[str]:
    ingest = yaml.safe_load((project / "conf/base/parameters_ingest.yml").read_text())["ingest"]
    return list(ingest["tables"])


def run(names: SmokeNames, workdir: Path) -> None:
    project = workdir / names.prefix
    scratch_project(project, names)
    tables = _tables(project)
    conn = _connect(project)  # fails here, before anything is created, without credentials
    try:
        for stage, command in zip(STAGES, commands(names), strict=True):
            started = time.perf_counter()
            print(f"[{stage}] {' '.join(command)}", flush=True)
            result = subprocess.run(
                [sys.executable, "-m", *command], cwd=project, env=_env(names), check=False
            )
            elapsed = time.perf_counter() - started
            if result.returncode:
                raise RuntimeError(f"{stage} failed after {elapsed:.1f} s (its log is above)")
            counts = []
            for query in count_queries(names, stage, tables):
                cursor = conn.cursor().execute(query)
                rows = cursor.fetchall()
                counts.append(
                    f"{query.split()[-1]}={rows[0][0] if 'count' in query else len(rows)}"
                )
            print(f"[{stage}] done in {elapsed:.1f} s {' '.join(counts)}", flush=True)
    finally:
        for statement in names.drops():
            try:
                conn.cursor().execute(statement)
                print(f"[cleanup] {statement}", flush=True)
            except Exception as err:  # keep dropping the rest; the user must see what is left
                print(f"[cleanup] FAILED {statement}: {str(err)[:200]}", flush=True)
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dry-run", action="store_true", help="print every step, connect to none")
    args = parser.parse_args(argv)
    names = SmokeNames.at(dt.datetime.now(dt.UTC))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # cleanup runs on SIGTERM too
    with tempfile.TemporaryDirectory(prefix="f1_smoke_") as workdir:
        if args.dry_run:
            dry_run(names, Path(workdir))
        else:
            run(names, Path(workdir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
