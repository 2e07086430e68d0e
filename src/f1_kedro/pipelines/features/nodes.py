"""Nodes of the features pipeline."""

from __future__ import annotations

import logging
from typing import Any

from f1_kedro.dbt_runner import DbtBuilder
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
