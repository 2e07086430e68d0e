"""The feature models' compiled SQL run straight on DuckDB: dbt's work without dbt's start-up.

Reads dbt/target/manifest.json after a `dbt build` (or `dbt compile`), takes the features model
and every model it depends on, and runs their compiled SQL in dependency order, materialised as
dbt did (view or table, in place of dbt's own objects). Tests are not run: this is the query cost.

    python -m bench.features_sql --project DIR --timings OUT.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from bench.warehouse import connect_warehouse

FEATURES_MODEL = "model.f1_formula1.features"


@dataclass(frozen=True)
class CompiledModel:
    unique_id: str
    relation: str
    materialized: str
    sql: str

    def statement(self) -> str:
        kind = "VIEW" if self.materialized == "view" else "TABLE"
        return f"CREATE OR REPLACE {kind} {self.relation} AS (\n{self.sql}\n)"


def feature_chain(manifest_path: Path, target: str = FEATURES_MODEL) -> list[CompiledModel]:
    """The target model and its upstream models, compiled, in an order that respects `ref`."""
    nodes = json.loads(manifest_path.read_text())["nodes"]
    if target not in nodes:
        raise KeyError(f"{target} is not in {manifest_path}: run dbt build or dbt compile first")
    graph: dict[str, set[str]] = {}
    todo = [target]
    while todo:
        unique_id = todo.pop()
        parents = {p for p in nodes[unique_id]["depends_on"]["nodes"] if p.startswith("model.")}
        graph[unique_id] = parents
        todo.extend(p for p in parents if p not in graph)
    chain = []
    for unique_id in TopologicalSorter(graph).static_order():
        node = nodes[unique_id]
        if node["config"]["materialized"] == "ephemeral":
            continue  # inlined as a CTE into the models that use it
        if not node.get("compiled_code"):
            raise ValueError(f"{unique_id} has no compiled SQL in {manifest_path}")
        chain.append(
            CompiledModel(
                unique_id,
                node["relation_name"],
                node["config"]["materialized"],
                node["compiled_code"],
            )
        )
    return chain


def run_chain(chain: Sequence[CompiledModel], warehouse_dir: Path) -> dict[str, float]:
    """Run each model's SQL in order; seconds per model and in total (connection included)."""
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    with connect_warehouse(warehouse_dir) as con:
        for model in chain:
            begun = time.perf_counter()
            con.execute(model.statement())
            seconds[model.unique_id.rsplit(".", 1)[-1]] = round(time.perf_counter() - begun, 3)
    return {"total_s": round(time.perf_counter() - started, 3), "models": seconds}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a (scratch) project root")
    parser.add_argument("--timings", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args(argv)
    chain = feature_chain(args.project / "dbt" / "target" / "manifest.json")
    timings = run_chain(chain, args.project / "data" / "warehouse")
    args.timings.write_text(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
