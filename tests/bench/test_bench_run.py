"""bench/run.py: its arguments, and the target table built from (made-up) measurements."""

from __future__ import annotations

from pathlib import Path

from bench import features_compare, run
from bench.report import Report


def test_full_mode_covers_every_size() -> None:
    args = run.parse_args(["--full"])
    assert args.scale == [1, 10, 100] and args.features == [1, 10, 100]
    assert args.repeat == 3 and args.repeat_scaled == 1
    assert run.parse_args(["--features", "0"]).features == []


def test_targets_are_printed_and_saved(tmp_path: Path) -> None:
    report = Report()
    report.data["stage_timings"] = {"1x": {run.WHOLE_RUN: {"median_s": 19.2}}}
    sizes = {
        f"{k}x": {
            "ok": True,
            "check": {"same": True},
            "runs": {"dbt": {"median_s": 10.0 * k}},
            "in_process": {
                "sql": {"total_s": 1.0 * k},
                "pandas": {"total_s": 2.0 * k * k, "compute_s": 1.5 * k * k},
            },
        }
        for k in (1, 10, 100)
    }
    report.data["features"] = {"target_checks": features_compare._target_checks(sizes)}
    run.evaluate_targets(report)
    met = {t["check"]: t["met"] for t in report.data["targets"]}
    assert met["whole kedro run, 1x"] is True
    assert met["SQL direct faster than pandas, 100x"] is True
    assert met["pandas/SQL gap grows with size"] is True
    assert met["feature build (dbt build +features), 100x"] is False
    assert report.save(tmp_path).exists()
