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
    process = subprocess.Popen(
        [str(kedro), "run", "--pipeline=train"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines, last_line = [], started
    for line in process.stdout:  # type: ignore[union-attr]
        lines.append(line)
        last_line = time.perf_counter()
    process.wait()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = "".join(lines)
    if process.returncode != 0:
        raise SystemExit(output[-3000:])
    nodes = {name: float(s) for name, s in NODE_TIME.findall(output)}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # the interpreter's exit after the last line (settings.py freezes the heap for it)
    return {"wall": wall, "cpu": cpu, "exit": wall - (last_line - started), **nodes}


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
            f"{t['wall'] - pipeline:.1f} s, of it the exit after the last line {t['exit']:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
