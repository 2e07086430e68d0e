"""Each candidate feature's effect in the rolling-origin backtest (issue 17): drop-one / add-one.

Runs the train pipeline's own backtest node on FORMULA1.ML.FEATURES of data/warehouse (build it
with `kedro run --pipelines bootstrap,ingest,features`) with conf/base/parameters_train.yml, once
as configured and once per candidate: a feature in the list is dropped, one outside is added.
Prints pooled accuracy / macro F1 / log loss and the seasons won against the grid rule.

    .venv/bin/python -m bench.feature_gain                     # every candidate
    .venv/bin/python -m bench.feature_gain GRID_MINUS_QUALIFYING CONSTRUCTOR_REF
    .venv/bin/python -m bench.feature_gain --only              # the configured set alone
"""

from __future__ import annotations

import argparse
import copy
import logging
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from f1_kedro.contracts import feature_columns
from f1_kedro.pipelines.train import nodes

ROOT = Path(__file__).resolve().parents[1]
NOT_CANDIDATES = {"GRID", "DRIVER_REF", "CIRCUIT_REF"}  # the grid rule's input; identities


def load(root: Path = ROOT) -> tuple[pd.DataFrame, dict[str, Any]]:
    with duckdb.connect(str(root / "data/warehouse/FORMULA1.duckdb"), read_only=True) as con:
        table = con.sql("select * from ML.FEATURES").df()
    params = yaml.safe_load((root / "conf/base/parameters_train.yml").read_text())["train"]
    return table, params


def variant(params: dict[str, Any], feature: str) -> tuple[str, dict[str, Any]]:
    """(label, params) with `feature` dropped if used, added if not."""
    p = copy.deepcopy(params)
    kind = "categorical_features" if feature.endswith("_REF") else "numeric_features"
    if feature in p[kind]:
        p[kind].remove(feature)
        return f"- {feature}", p
    p[kind].append(feature)
    return f"+ {feature}", p


def run(table: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    rows, _ = nodes.select_rows(table, params)
    summary, *_ = nodes.backtest(rows, params)
    wins = summary["model_wins_seasons"]
    return {
        "accuracy": summary["model"]["accuracy"],
        "macro_f1": summary["model"]["macro_f1"],
        "log_loss": summary["model"]["log_loss"],
        "wins acc/F1/LL": f"{wins['accuracy']}/{wins['macro_f1']}/{wins['log_loss']}",
        "s (cpu)": f"{time.perf_counter() - started:.0f} ({time.process_time() - cpu:.0f})",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features", nargs="*", help="candidates (default: every known feature)")
    parser.add_argument("--only", action="store_true", help="the configured set only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    table, params = load()
    used = set(params["numeric_features"]) | set(params["categorical_features"])
    known = set(feature_columns(table.columns)) - NOT_CANDIDATES
    candidates = [] if args.only else (args.features or sorted(known))
    results = {"as configured": run(table, params)}
    for feature in candidates:
        label, p = variant(params, feature)
        results[label] = run(table, p)
        print(label, results[label], flush=True)
    frame = pd.DataFrame(results).T
    base = frame.loc["as configured"]
    for key in ("accuracy", "macro_f1", "log_loss"):
        frame[f"d {key}"] = (frame[key] - base[key]).map(lambda v: f"{v:+.4f}")
        frame[key] = frame[key].map(lambda v: f"{v:.4f}")
    b0, b1 = params["seasons"]["backtest"]
    print(f"\nBacktest {b0}-{b1}, pooled; used: {sorted(used)}")
    print("(d = variant minus as configured: accuracy/macro F1 higher is better, log loss lower)")
    print(_markdown(frame))
    return 0


def _markdown(frame: pd.DataFrame) -> str:
    """A GitHub table (pandas' to_markdown needs tabulate, which the project does not install)."""
    head = ["variant", *map(str, frame.columns)]
    rows = [
        [str(i), *(str(v) for v in row)] for i, row in zip(frame.index, frame.values, strict=True)
    ]
    lines = [head, ["---"] * len(head), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


if __name__ == "__main__":
    raise SystemExit(main())
