"""Nodes of the features pipeline."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from f1_kedro.interfaces import DbtBuilder
from f1_kedro.tables import BuiltTable

logger = logging.getLogger(__name__)


def build_features(
    dbt_project: DbtBuilder, ingest_report: dict[str, Any], params: dict[str, Any]
) -> tuple[BuiltTable, dict[str, Any]]:
    """Run `dbt build` on the selection of `params:features`; dbt tests gate the feature table.

    A failing model or test raises with dbt's own messages. Returns the feature table that dbt
    built (the catalog entry checks it exists) and the build report. `ingest_report` orders the
    node after ingest and names the raw source in the report.
    """
    report = dbt_project.build(
        select=params["select"], vars=params.get("vars"), exclude=params.get("exclude")
    )
    report["raw_source"] = ingest_report.get("source")
    logger.info("dbt built %s: %s", params["feature_table"], report["counts"])
    return BuiltTable(params["feature_table"]), report


def layer_builder(layer: str, tables: Sequence[str]) -> Callable[..., tuple[Any, ...]]:
    """The node function that builds one dbt layer (a folder under dbt/models).

    It runs `dbt build` on the layer's part of `params:features`' selection (models and their
    tests, which gate the next layer) and returns a `BuiltTable` for each table the layer writes,
    then the build report. The upstream tables it takes order it after the layers it reads.
    """

    def build_layer(
        dbt_project: DbtBuilder, params: dict[str, Any], *upstream: Any
    ) -> tuple[Any, ...]:
        report = dbt_project.build(
            select=[f"{item},path:models/{layer}" for item in params["select"]],
            vars=params.get("vars"),
            exclude=params.get("exclude"),
        )
        report["layer"] = layer
        return (*(BuiltTable(table) for table in tables), report)

    build_layer.__name__ = build_layer.__qualname__ = f"build_{layer}"
    return build_layer


def summarise_dbt_build(ingest_report: dict[str, Any], *reports: dict[str, Any]) -> dict[str, Any]:
    """One report for the features build: the layers' reports added up, in build order."""
    counts: Counter[str] = Counter()
    for report in reports:
        counts.update(report["counts"])
    first = reports[0]
    return {
        "command": "build",
        "target": first["target"],
        "select": first["select"],
        "exclude": first["exclude"],
        "vars": first["vars"],
        "seconds": round(sum(r["seconds"] for r in reports), 2),
        "counts": dict(sorted(counts.items())),
        "layers": {r["layer"]: r["seconds"] for r in reports},
        "nodes": [node for r in reports for node in r["nodes"]],
        "raw_source": ingest_report.get("source"),
    }
