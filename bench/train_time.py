"""Time `kedro run --pipeline=train` on the data in data/warehouse, with the backtest's share.

Issue 17 wants <= 60 s on 2 cores with the backtest, issue 13 <= 8 s. Runs the command as users
type it in this project (it writes what that command writes: data/06_models, data/08_reporting;
build the warehouse first with `kedro run --pipelines bootstrap,ingest,features`) and prints wall
and CPU seconds of the whole process and the pipeline's per-node times from its own log.

    .venv/bin/python -m bench.train_time [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_TIME = re.compile(r"^\s{4}(\w+_node)\s+([\d.]+) s$", re.MULTILINE)


def run_once() -> dict[str, float]:
    kedro = Path(sys.executable).with_name("kedro")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [str(kedro), "run", "--pipeline=train"], cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
    nodes = {name: float(s) for name, s in NODE_TIME.findall(result.stdout + result.stderr)}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, **nodes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    for i in range(1, args.repeat + 1):
        t = run_once()
        pipeline = sum(v for k, v in t.items() if k.endswith("_node"))
        print(
            f"run {i}: `kedro run --pipeline=train` {t['wall']:.1f} s wall, {t['cpu']:.1f} s CPU; "
            f"nodes {pipeline:.1f} s (backtest {t.get('backtest_node', 0):.1f} s, served fit "
            f"{t.get('fit_final_model_node', 0):.1f} s); start-up and the rest "
            f"{t['wall'] - pipeline:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
