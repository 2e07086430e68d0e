"""Nodes of the ingest pipeline."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from f1_kedro.ingest_spec import table_specs
from f1_kedro.interfaces import CsvLoader

logger = logging.getLogger(__name__)


def resolve_source(params: dict[str, Any]) -> dict[str, Any]:
    """Pick the source: `source_uri` if given, else the shared folder, else the public bucket.

    Returns the URI and the fsspec storage options to read it with.
    """
    if params.get("source_uri"):
        uri, options = str(params["source_uri"]), dict(params.get("storage_options") or {})
    elif Path(params["local_source_dir"]).is_dir():
        uri, options = str(Path(params["local_source_dir"]).resolve()), {}
    else:
        uri, options = params["public_source_uri"], dict(params.get("public_storage_options") or {})
    logger.info("Ingest source: %s", uri)
    return {"uri": uri, "storage_options": options}


def load_raw_tables(
    warehouse: CsvLoader,
    bootstrap_report: dict[str, Any],
    source: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Load every table of `ingest.tables` from the source into RAW; return rows per table.

    All or nothing: the engine locates every file and checks every header before it touches a
    table, then swaps all the tables in at once, so a missing or bad file stops the run with the
    file named and leaves every table as it was.
    """
    specs = table_specs(params)  # checks every name before the first table is touched
    tables = warehouse.load_csv_tables(specs, source["uri"], source["storage_options"])
    for spec in specs:
        logger.info("Loaded %-24s %8d rows", spec.target, tables[spec.name]["rows"])
    total = sum(t["rows"] for t in tables.values())
    logger.info("Ingest done: %d tables, %d rows", len(tables), total)
    return {"source": source["uri"], "engine": bootstrap_report["engine"], "tables": tables}
