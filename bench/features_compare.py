"""The side-by-side: the feature table by dbt, by its compiled SQL on DuckDB, and by pandas.

At each size the raw tables are loaded once (bootstrap + ingest in a scratch project), then:
(a) `dbt build --select +features` (models and their tests, dbt's start-up included),
(b) the same models' compiled SQL run directly on DuckDB (`python -m bench.features_sql`),
(c) pandas from the raw tables (`python -m bench.features_pandas`), written back as a table.
Each is a separate process, timed by wall clock with its peak memory; (b) and (c) also report
their in-process time, which the ratios use. Then every feature value of (c) is checked against
the table of (b) (itself dbt's SQL); any difference fails the benchmark, loudly.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.features_pandas import PANDAS_TABLE
from bench.measure import measure, summarize
from bench.project import ScratchProject
from bench.report import Report
from bench.scale import DEFAULT_DATA_DIR, PROJECT_ROOT, ensure_scaled
from bench.warehouse import connect_warehouse
from f1_kedro.contracts import KEYS

SQL_TABLE = "FORMULA1.ML.FEATURES"
# `python -m bench.<script>` in the scratch project (which has no bench/) runs this bench's code
_PATH = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
BENCH_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, _PATH))}
TOLERANCE = 1e-9  # relative, for floating-point features (sums in a different order)
TARGET_FEATURES_100X_S = 60.0
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def feature_vars(project_root: Path) -> dict[str, Any]:
    """The dbt vars the features stage passes (conf/base/parameters_features.yml)."""
    path = project_root / "conf" / "base" / "parameters_features.yml"
    params = yaml.safe_load(path.read_text()) if path.exists() else {}
    return dict((params or {}).get("features", {}).get("vars") or {})


def compare_features(
    factors: Sequence[int],
    data_dir: Path,
    report: Report,
    repeat: int = 1,
    code: str = "worktree",
    repeat_scaled: int | None = None,
) -> bool:
    """Run the side-by-side at each size; print and record it; False if anything failed.

    Each build runs `repeat` times at 1x and `repeat_scaled` (default: `repeat`) times above.
    """
    project = ScratchProject(code)
    try:
        dbt_vars = feature_vars(project.root)
        report.print(f"\n== features: dbt build vs compiled SQL vs pandas, vars {dbt_vars}")
        sizes = {}
        for factor in factors:
            runs = repeat if factor == 1 else (repeat_scaled or repeat)
            sizes[f"{factor}x"] = _one_size(project, factor, data_dir, dbt_vars, runs, report)
        report.data["features"] = {"vars": dbt_vars, "sizes": sizes}
        _print_table(sizes, report)
        report.data["features"]["target_checks"] = _target_checks(sizes)
        return all(size.get("ok") for size in sizes.values())
    finally:
        project.remove()


def _one_size(
    project: ScratchProject,
    factor: int,
    data_dir: Path,
    dbt_vars: dict[str, Any],
    repeat: int,
    report: Report,
) -> dict[str, Any]:
    source = ensure_scaled(factor, data_dir)
    project.reset()
    log = project.logs / f"features_{factor}x_setup.log"
    setup = measure(
        project.kedro(
            "run", "--pipelines=bootstrap,ingest", f"--params=ingest.source_uri={source}"
        ),
        project.root,
        log,
    )
    report.print(f"  {factor}x: raw tables loaded in {setup.seconds:.1f} s (bootstrap + ingest)")
    if not setup.ok:
        report.print(f"  {factor}x: bootstrap + ingest FAILED; log {log}")
        return {"ok": False}
    runs: dict[str, list[Any]] = {"dbt": [], "sql": [], "pandas": []}
    inner: dict[str, list[dict[str, Any]]] = {"sql": [], "pandas": []}
    for round_no in range(1, repeat + 1):
        for name, command in _commands(project, dbt_vars, round_no).items():
            timings = project.logs / f"features_{factor}x_{round_no}_{name}.json"
            log = timings.with_suffix(".log")
            run = measure([*command, *_timings_arg(name, timings)], project.root, log, BENCH_ENV)
            runs[name].append(run)
            print(f"    {factor}x {name:<7}{run.seconds:8.2f} s {run.peak_rss_mib:7.0f} MiB")
            if not run.ok:
                report.print(f"  {factor}x {name} FAILED (exit {run.returncode}); log {log}:")
                for line in log.read_text(errors="replace").strip().splitlines()[-12:]:
                    report.print(f"    | {line}")
                return {"ok": False, "runs": {k: summarize(v) for k, v in runs.items() if v}}
            if name in inner:
                inner[name].append(json.loads(timings.read_text()))
    check = check_same(project.root / "data" / "warehouse")
    _print_check(factor, check, report)
    return {
        "ok": check["same"],
        "results_rows": check["rows_sql"],
        "runs": {name: summarize(r) for name, r in runs.items()},
        "in_process": {name: _median_timings(t) for name, t in inner.items()},
        "check": check,
    }


def _commands(project: ScratchProject, dbt_vars: dict[str, Any], round_no: int) -> dict[str, list]:
    python = sys.executable
    dbt = str(Path(python).with_name("dbt"))
    pandas_args = ["--form-window", str(int(dbt_vars.get("form_window", 5)))]
    if dbt_vars.get("include_post_race_features"):
        pandas_args.append("--post-race")
    return {
        "dbt": [
            dbt,
            "build",
            "--project-dir",
            "dbt",
            "--profiles-dir",
            "dbt",
            "--target",
            "duckdb",
            "--select",
            "+features",
            # only tests whose parents are all selected (not a relationships test to dim_circuits)
            "--indirect-selection",
            "cautious",
            "--vars",
            json.dumps(dbt_vars),
        ],
        "sql": [python, "-m", "bench.features_sql", "--project", "."],
        "pandas": [
            python,
            "-m",
            "bench.features_pandas",
            "--warehouse",
            "data/warehouse",
            *pandas_args,
        ],
    }


def _timings_arg(name: str, path: Path) -> list[str]:
    return [] if name == "dbt" else ["--timings", str(path)]


def _median_timings(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))] if runs else []
    return {key: statistics.median(r[key] for r in runs) for key in keys}


# -- the check ------------------------------------------------------------------------------------
def check_same(warehouse_dir: Path, tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Join the SQL and pandas tables on (RACE_ID, DRIVER_ID) and compare every column."""
    with connect_warehouse(warehouse_dir, read_only=True) as con:
        sql_columns = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {SQL_TABLE})").fetchall()
        )
        pandas_columns = [r[0] for r in con.execute(f"DESCRIBE {PANDAS_TABLE}").fetchall()]
        missing = [c for c in sql_columns if c not in pandas_columns]
        extra = [c for c in pandas_columns if c not in sql_columns]
        counts = con.execute(
            f"SELECT (SELECT count(*) FROM {SQL_TABLE}), (SELECT count(*) FROM {PANDAS_TABLE}), "
            f"(SELECT count(*) FROM {SQL_TABLE} s FULL JOIN {PANDAS_TABLE} p "
            f"USING ({', '.join(KEYS)}) WHERE s.RACE_ID IS NULL OR p.RACE_ID IS NULL)"
        ).fetchone()
        compared = [c for c in sql_columns if c not in missing and c not in KEYS]
        differing = _column_differences(con, compared, sql_columns, tolerance)
    rows_sql, rows_pandas, unmatched_keys = (int(n) for n in counts)
    same = not missing and not extra and unmatched_keys == 0 and rows_sql == rows_pandas
    return {
        "same": same and not differing,
        "rows_sql": rows_sql,
        "rows_pandas": rows_pandas,
        "unmatched_keys": unmatched_keys,
        "columns_compared": len(compared),
        "columns_missing_in_pandas": missing,
        "columns_extra_in_pandas": extra,
        "differing_columns": differing,
        "tolerance": tolerance,
    }


def _column_differences(con, columns: list[str], types: dict[str, str], tolerance: float) -> dict:
    """Rows that differ per column (NULL vs value counts), with an example, for columns that do."""
    conditions = [_differs(column, types[column], tolerance) for column in columns]
    if not conditions:
        return {}
    select = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in conditions)
    counts = con.execute(
        f"SELECT {select} FROM {SQL_TABLE} s JOIN {PANDAS_TABLE} p USING ({', '.join(KEYS)})"
    ).fetchone()
    differing = {}
    for column, condition, count in zip(columns, conditions, counts, strict=True):
        if count:
            example = con.execute(
                f"SELECT s.RACE_ID, s.DRIVER_ID, s.{column}, p.{column} FROM {SQL_TABLE} s "
                f"JOIN {PANDAS_TABLE} p USING ({', '.join(KEYS)}) WHERE {condition} LIMIT 1"
            ).fetchone()
            differing[column] = {"rows": int(count), "example (race, driver, sql, pandas)": example}
    return differing


def _differs(column: str, column_type: str, tolerance: float) -> str:
    s, p = f"s.{column}", f"p.{column}"
    if column_type.upper().startswith(_NUMERIC):
        return (
            f"(({s} IS NULL) <> ({p} IS NULL) OR "
            f"abs({s}::DOUBLE - {p}::DOUBLE) > {tolerance} * greatest(1, abs({s}::DOUBLE)))"
        )
    if column_type.upper() == "DATE":
        return f"{s}::DATE IS DISTINCT FROM {p}::DATE"
    return f"{s}::VARCHAR IS DISTINCT FROM {p}::VARCHAR"


def _print_check(factor: int, check: dict[str, Any], report: Report) -> None:
    if check["same"]:
        report.print(
            f"  {factor}x: pandas == SQL on {check['rows_sql']:,} rows x "
            f"{check['columns_compared']} feature columns (relative tolerance {check['tolerance']})"
        )
        return
    report.print(f"  !!! {factor}x: THE PANDAS AND SQL FEATURES DIFFER !!!")
    for key in ("rows_sql", "rows_pandas", "unmatched_keys"):
        report.print(f"      {key}: {check[key]}")
    for key in ("columns_missing_in_pandas", "columns_extra_in_pandas"):
        if check[key]:
            report.print(f"      {key}: {', '.join(check[key])}")
    for column, detail in check["differing_columns"].items():
        report.print(f"      {column}: {detail}")


# -- the table ------------------------------------------------------------------------------------
def _print_table(sizes: dict[str, dict[str, Any]], report: Report) -> None:
    report.print("\n  median seconds; dbt = whole `dbt build` process, SQL and pandas in-process")
    rows = []
    for size, result in sizes.items():
        times = _times(result)
        if times is None:
            rows.append((size, "failed", None, None, None, None, None, None))
            continue
        dbt_s, sql_s, pandas_s, pandas_compute_s = times
        rows.append(
            (
                size,
                f"{result['results_rows']:,}",
                dbt_s,
                sql_s,
                pandas_s,
                pandas_compute_s,
                f"{pandas_s / sql_s:.1f}x",
                f"{pandas_s / dbt_s:.2f}x",
            )
        )
    report.table(
        (
            "size",
            "feature rows",
            "dbt build",
            "SQL direct",
            "pandas",
            "(compute)",
            "pandas/SQL",
            "pandas/dbt",
        ),
        rows,
    )
    memory = []
    for size, result in sizes.items():
        if result.get("runs"):
            memory.append(
                (
                    size,
                    *(
                        result["runs"].get(n, {}).get("median_rss_mib")
                        for n in ("dbt", "sql", "pandas")
                    ),
                )
            )
    report.print("  peak memory, MiB (process tree)")
    report.table(("size", "dbt build", "SQL direct", "pandas"), memory)


def _times(result: dict[str, Any]) -> tuple[float, float, float, float] | None:
    if not result.get("ok") and "check" not in result:
        return None
    inner = result["in_process"]
    return (
        result["runs"]["dbt"]["median_s"],
        inner["sql"]["total_s"],
        inner["pandas"]["total_s"],
        inner["pandas"]["compute_s"],
    )


def _target_checks(sizes: dict[str, dict[str, Any]]) -> list[tuple[str, str, float | None, float]]:
    """(name, wanted, measured, limit): met when measured < limit."""
    checks: list[tuple[str, str, float | None, float]] = []
    times = {size: _times(result) for size, result in sizes.items()}
    if times.get("100x"):
        dbt_s = times["100x"][0]
        checks.append(
            ("feature build (dbt build +features), 100x", "< 60 s", dbt_s, TARGET_FEATURES_100X_S)
        )
    for size in ("10x", "100x"):
        if times.get(size):
            dbt_s, sql_s, pandas_s, _ = times[size]
            checks.append(
                (f"SQL direct faster than pandas, {size}", "SQL/pandas < 1", sql_s / pandas_s, 1.0)
            )
            checks.append(
                (f"dbt build faster than pandas, {size}", "dbt/pandas < 1", dbt_s / pandas_s, 1.0)
            )
    gaps = [times[s][2] / times[s][1] for s in ("1x", "10x", "100x") if times.get(s)]
    if len(gaps) >= 2:
        growth = max(earlier / later for earlier, later in zip(gaps, gaps[1:], strict=False))
        checks.append(("pandas/SQL gap grows with size", "each gap/next gap < 1", growth, 1.0))
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1,10,100", help="sizes, e.g. 1,10,100")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each build at 1x (3)")
    parser.add_argument("--repeat-scaled", type=int, default=1, help="runs above 1x (1)")
    parser.add_argument("--code", choices=("worktree", "head"), default="worktree")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--results-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when output goes to a file
    report = Report()
    factors = [int(f) for f in args.scale.split(",")]
    ok = compare_features(
        factors, args.data_dir, report, args.repeat, args.code, args.repeat_scaled
    )
    if args.results_dir is not None:
        report.print(f"results written to {report.save(args.results_dir)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
