"""Nodes of the bootstrap pipeline."""

from __future__ import annotations

import logging
from typing import Any

from f1_kedro.interfaces import Bootstrappable

logger = logging.getLogger(__name__)


def bootstrap_warehouse(warehouse: Bootstrappable, layout: dict[str, Any]) -> dict[str, Any]:
    """Create the databases, schemas and ML stage that `layout` names; safe to run again.

    The engine (DuckDB files or a Snowflake account) comes from the catalog; this node only says
    what must exist and returns the engine's report of it.
    """
    report = warehouse.bootstrap(layout)
    for database, schemas in report["databases"].items():
        logger.info("Database %s ready with schemas %s", database, ", ".join(schemas))
    logger.info("ML stage ready: %s", report["stage"])
    return report
