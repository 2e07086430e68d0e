"""What a newcomer and CI feel: the README's commands on a fresh clone, laid out as CI lays it.

Clones the committed HEAD into a temporary folder with `../shared` beside it, then times, with the
environment as it is (PYTHONDONTWRITEBYTECODE included): `make install`, the first `kedro run`,
a second `kedro run`, `kedro run --pipeline=train`, then each stage as its own `kedro run
--pipelines=<stage>` (start-up included, as a user pays it) and, with `--tests`, `make test`. Each
with CPU seconds beside wall seconds (a shared machine moves wall time, much less CPU time), and
each target of issue 13 beside it. The second run's own stage timings (its log) are kept too.
The uv cache is whatever this machine has (warm after one install).

    python -m bench.fresh_clone                 # install + runs + stages (~2-3 min)
    python -m bench.fresh_clone --tests         # + the test suite (~4-5 min more)
    python -m bench.fresh_clone --ref <commit>  # the same on an earlier commit: "before"

Results: bench/results/fresh_clone_<timestamp>.json.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from pathlib import Path

from bench.measure import Measurement, measure
from bench.report import Report
from f1_kedro.pipeline_registry import RUN_ORDER

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()

# (label, command, target seconds or None); `make run` = install + the first run.
STEPS = [
    ("make install (fresh venv)", ["make", "install"], None),
    ("first `kedro run` (6 stages)", [".venv/bin/kedro", "run"], None),
    ("second `kedro run`, warm", [".venv/bin/kedro", "run"], 25.0),
    ("`kedro run --pipeline=train`", [".venv/bin/kedro", "run", "--pipeline=train"], 8.0),
]
STAGES = [
    (f"stage `{stage}` alone", [".venv/bin/kedro", "run", f"--pipelines={stage}"], None)
    for stage in RUN_ORDER
]
TESTS = ("`make test` (the CI command)", ["make", "test"], 240.0)
MAKE_RUN_TARGET_S = 90.0
# A stage line of the run log's "Stage timings:" block (f1_kedro.hooks.StageTimingHook).
_STAGE_LINE = re.compile(r"^  (\w+)\s+(?:(\d+) min )?([\d.]+) s$")


def stage_timings(log: str) -> dict[str, float]:
    """Wall seconds per stage from a `kedro run` log (its last "Stage timings:" block)."""
    block = log.rsplit("Stage timings:", 1)[-1] if "Stage timings:" in log else ""
    found: dict[str, float] = {}
    for line in block.splitlines()[1:]:
        match = _STAGE_LINE.match(line)
        if match is None:
            if not line.startswith("    "):  # node lines are indented deeper
                break
            continue
        minutes, seconds = match.group(2), float(match.group(3))
        found[match.group(1)] = seconds + 60 * int(minutes or 0)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", action="store_true", help="also time `make test`")
    parser.add_argument("--ref", help="measure this commit instead of HEAD (e.g. a 'before')")
    args = parser.parse_args(argv)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="f1_fresh_") as folder:
        clone = Path(folder) / "main"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        if args.ref:
            subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", args.ref], check=True)
        commit = subprocess.run(
            ["git", "-C", str(clone), "log", "-1", "--format=%h %s"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        report.print(f"measuring {commit}")
        report.data["measured_commit"] = commit
        os.symlink(SHARED, Path(folder) / "shared")
        steps = STEPS + STAGES + ([TESTS] if args.tests else [])
        results: dict[str, Measurement] = {}
        for label, command, _ in steps:
            report.print(f"{label} ...")
            results[label] = measure(command, clone, Path(folder) / "logs" / f"{len(results)}.log")
            if not results[label].ok:
                log = (Path(folder) / "logs" / f"{len(results) - 1}.log").read_text()
                report.print(log[-3000:])
                report.print(f"FAILED: {label} (exit {results[label].returncode})")
                break
        rows = []
        for label, _, target in steps:
            if label in results:
                m = results[label]
                goal = ""
                if target is not None:
                    goal = f"<= {target:.0f} s " + ("met" if m.seconds <= target else "MISSED")
                cpu, peak = f"{m.cpu_seconds:.1f}", f"{m.peak_rss_mib:.0f}"
                rows.append([label, f"{m.seconds:.1f}", cpu, peak, goal])
        first_two = [results.get(label) for label, _, _ in STEPS[:2]]
        if all(first_two):
            make_run = sum(m.seconds for m in first_two)  # type: ignore[union-attr]
            verdict = "met" if make_run <= MAKE_RUN_TARGET_S else "MISSED"
            rows.append(["`make run` = install + first run", f"{make_run:.1f}", "", "",
                         f"<= {MAKE_RUN_TARGET_S:.0f} s {verdict}"])  # fmt: skip
        report.table(["step", "wall s", "CPU s", "peak MiB", "target"], rows)
        report.data["fresh_clone"] = {label: m.as_dict() for label, m in results.items()}
        second_log = Path(folder) / "logs" / "2.log"
        if second_log.exists():
            in_run = stage_timings(second_log.read_text(errors="replace"))
            report.print("second run, wall seconds per stage inside the run: " + ", ".join(
                f"{stage} {seconds:.1f}" for stage, seconds in in_run.items()
            ))  # fmt: skip
            report.data["second_run_stage_seconds"] = in_run
        path = report.save()
        report.print(f"results: {path.relative_to(ROOT)}")
        return 0 if all(m.ok for m in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
