"""Benchmark the embedded (DuckDB) engine: each stage and the whole `kedro run`, at 1x..100x data.

Every run is a fresh `kedro run` subprocess in a scratch copy of the project (your data/ is never
touched), timed by wall clock, its peak memory read for the whole process tree. Stages are those
the pipeline registry has today; the ones of the design that do not exist yet are named.

    python -m bench.run             # `make bench`: stages + whole run on the real data (3 runs
                                    # each), and the dbt / SQL / pandas features side by side
    python -m bench.run --full      # the same at 1x, 10x and 100x (100x: one run each; ~30 min)
    python -m bench.run --scale 1,10,100 --repeat 2 --features 1,10,100   # pick sizes yourself

Results: bench/results/<timestamp>.json (machine, versions, every number and printed line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import Measurement, measure, summarize
from bench.project import ScratchProject, Stages
from bench.report import RESULTS_DIR, Report
from bench.scale import DEFAULT_DATA_DIR, ensure_scaled

WHOLE_RUN = "kedro run"
# Targets for a 2-core machine: issue 13's (issue 8 had asked for < 60 s and < 5 min).
TARGET_WHOLE_1X_S = 25.0
TARGET_WHOLE_100X_S = 180.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement at 1x (3)")
    parser.add_argument(
        "--repeat-scaled",
        type=int,
        default=None,
        help="runs per measurement above 1x (default: --repeat)",
    )
    parser.add_argument(
        "--scale", type=_factors, default=[1], help="data sizes, e.g. 1,10,100 (default 1)"
    )
    parser.add_argument(
        "--features",
        type=_factors,
        default=[1],
        help="compare dbt SQL and pandas features at these sizes (default 1; 0 skips)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="all sizes: --scale 1,10,100 --features 1,10,100 --repeat-scaled 1",
    )
    parser.add_argument(
        "--code",
        choices=("worktree", "head"),
        default="worktree",
        help="run the files as they are (worktree, default) or as last committed (head)",
    )
    parser.add_argument("--no-stages", action="store_true", help="skip the stage timings")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="scaled CSVs")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="JSON output")
    parser.add_argument("--keep", action="store_true", help="keep the scratch project and logs")
    args = parser.parse_args(argv)
    if args.full:
        args.scale, args.features = [1, 10, 100], [1, 10, 100]
        args.repeat_scaled = args.repeat_scaled or 1
    return args


def _factors(text: str) -> list[int]:
    factors = [int(part) for part in text.split(",") if part.strip()]
    if factors == [0]:
        return []
    if not factors or min(factors) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be whole numbers >= 1, got {text!r}")
    return factors


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when output goes to a file
    report = Report()
    report.data["args"] = {k: str(v) for k, v in vars(args).items()}
    machine = report.data["machine"]
    report.print(
        f"f1_kedro benchmarks, {report.data['date']}: {machine['cpu_count']} cores, "
        f"{machine['memory_gib']} GiB, load average {machine['load_average_1m']}, "
        f"commit {report.data['git']['head']}"
    )
    failed = False
    try:
        failed = run_all(args, report)
    finally:  # whatever was measured before a failure is kept
        path = report.save(args.results_dir)
        report.print(f"\nresults written to {path}")
    return 1 if failed else 0


def run_all(args: argparse.Namespace, report: Report) -> bool:
    """The stage timings, then the features side by side; True if anything failed."""
    failed = False
    if not args.no_stages:
        failed |= run_stage_benchmarks(args, report)
    if args.features:
        from bench.features_compare import compare_features

        failed |= not compare_features(
            args.features, args.data_dir, report, args.repeat, args.code, args.repeat_scaled
        )
    evaluate_targets(report)
    return failed


def run_stage_benchmarks(args: argparse.Namespace, report: Report) -> bool:
    """Time each stage and the whole run at every size; return True if any run failed."""
    project = ScratchProject(args.code)
    try:
        stages = project.stages()
        report.data["stages"] = {"present": list(stages.present), "missing": list(stages.missing)}
        report.print(f"stages: {', '.join(stages.present)}")
        if stages.missing:
            report.print(f"stages not in the pipeline registry yet: {', '.join(stages.missing)}")
        results: dict[str, dict[str, Any]] = {}
        for factor in args.scale:
            repeat = args.repeat if factor == 1 else (args.repeat_scaled or args.repeat)
            source = ensure_scaled(factor, args.data_dir)
            results[f"{factor}x"] = time_size(project, stages, source, factor, repeat, report)
        report.data["stage_timings"] = results
        print_growth(results, stages, report)
        if args.keep:
            report.print(f"scratch project and logs kept in {project.base}")
        return any(not s["ok"] for size in results.values() for s in size.values())
    finally:
        if not args.keep:
            project.remove()


def time_size(
    project: ScratchProject,
    stages: Stages,
    source: Path,
    factor: int,
    repeat: int,
    report: Report,
) -> dict[str, Any]:
    """`repeat` rounds of: every stage alone from an empty warehouse, then the whole run."""
    report.print(f"\n== {factor}x data ({source}), {repeat} run(s) each")
    params = f"--params=ingest.source_uri={source}"
    runs: dict[str, list[Measurement]] = {name: [] for name in (*stages.present, WHOLE_RUN)}
    for round_no in range(1, repeat + 1):
        project.reset()
        for stage in stages.present:
            log = project.logs / f"{factor}x_{round_no}_{stage}.log"
            run = measure(project.kedro("run", f"--pipelines={stage}", params), project.root, log)
            runs[stage].append(run)
            _progress(report, stage, run, log)
            if not run.ok:
                break  # the next stages need this one's tables
        project.reset()
        log = project.logs / f"{factor}x_{round_no}_whole.log"
        run = measure(project.kedro("run", params), project.root, log)
        runs[WHOLE_RUN].append(run)
        _progress(report, WHOLE_RUN, run, log)
    summaries = {name: summarize(r) for name, r in runs.items() if r}
    report.table(
        ("stage", "min s", "median s", "median CPU s", "peak MiB (median)", "runs ok"),
        [
            (
                name,
                s.get("min_s"),
                s.get("median_s"),
                s.get("median_cpu_s"),
                s.get("median_rss_mib"),
                f"{sum(r['returncode'] == 0 for r in s['runs'])}/{len(s['runs'])}",
            )
            for name, s in summaries.items()
        ],
    )
    return summaries


def _progress(report: Report, name: str, run: Measurement, log: Path) -> None:
    status = "ok" if run.ok else f"FAILED (exit {run.returncode}); log: {log}"
    print(
        f"    {name:<12} {run.seconds:8.2f} s wall {run.cpu_seconds:8.2f} s CPU "
        f"{run.peak_rss_mib:8.0f} MiB  {status}",
        flush=True,
    )
    if not run.ok:
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        report.print(f"  {name} failed (exit {run.returncode}), last lines of {log}:")
        for line in tail:
            report.print(f"    | {line}")


def print_growth(results: dict[str, dict[str, Any]], stages: Stages, report: Report) -> None:
    """Median seconds per stage and size, and each size's ratio to 1x: is the growth linear?"""
    sizes = list(results)
    if len(sizes) < 2:
        return
    report.print("\n== growth: median seconds per stage (x: ratio to the first size)")
    rows = []
    for name in (*stages.present, WHOLE_RUN):
        medians = [results[size].get(name, {}).get("median_s") for size in sizes]
        base = medians[0]
        cells: list[object] = []
        for median in medians:
            ratio = f" ({median / base:.1f}x)" if median and base else ""
            cells.append(f"{median:.2f}{ratio}" if median is not None else "-")
        rows.append((name, *cells))
    report.table(("stage", *sizes), rows)


def evaluate_targets(report: Report) -> None:
    """Compare the measured numbers with the issue's targets; print hits and misses."""
    timings = report.data.get("stage_timings", {})
    missing = report.data.get("stages", {}).get("missing", [])
    note = f" (without {', '.join(missing)}: not built yet)" if missing else ""
    checks = []
    for size, target in (("1x", TARGET_WHOLE_1X_S), ("100x", TARGET_WHOLE_100X_S)):
        median = timings.get(size, {}).get(WHOLE_RUN, {}).get("median_s")
        if median is not None:
            checks.append((f"whole kedro run, {size}{note}", f"< {target:.0f} s", median, target))
    features = report.data.get("features", {})
    checks.extend(features.get("target_checks", []))
    if not checks:
        return
    report.print("\n== targets (issues 8 and 13, 2-core machine)")
    rows = []
    results = []
    for name, target_text, value, limit in checks:
        hit = value is not None and limit is not None and value < limit
        rows.append((name, target_text, value, "met" if hit else "MISSED"))
        results.append({"check": name, "target": target_text, "measured": value, "met": hit})
    report.table(("target", "wanted", "measured", ""), rows)
    report.data["targets"] = results


if __name__ == "__main__":
    sys.exit(main())
