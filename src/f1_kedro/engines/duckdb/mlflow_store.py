"""MLflow's sqlite store moved with the project: its absolute artefact paths are re-based.

The registry calls this before it opens the store, and so does the per-run tracking hook
(`f1_kedro.run_tracking`); it needs only sqlite3, so neither pays for importing MLflow here.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)


# Columns of MLflow 3's sqlite store that hold absolute artefact locations.
_LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def rebase_artifact_paths(database: Path, experiment: str, artifacts_dir: Path) -> int:
    """Point a copied or moved registry at this project's artefact folder; returns rows changed.

    MLflow stores absolute artefact locations and offers no API to move an experiment's: a copy
    of the project would read, and write new versions into, the original clone's folder. When the
    experiment's location is not this project's `artifacts_dir`, every stored location under the
    old folder is rewritten to the same place under the new one, in one transaction. The scoring
    model (dbt/models/ml/predictions.py) re-bases the same way when it loads a version.
    """
    new_root = artifacts_dir.resolve().as_uri()
    with sqlite3.connect(database) as con:
        tables = {
            row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "experiments" not in tables:
            return 0
        row = con.execute(
            "SELECT artifact_location FROM experiments WHERE name = ?", (experiment,)
        ).fetchone()
        if row is None or row[0] in (new_root, str(artifacts_dir.resolve())):
            return 0
        old_root = row[0]
        changed = 0
        for table, column in _LOCATION_COLUMNS:
            if table not in tables:
                continue
            columns = {c[1] for c in con.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                continue
            changed += con.execute(
                f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                f"WHERE {column} = ? OR {column} LIKE ? ESCAPE '\\'",
                (new_root, len(old_root) + 1, old_root, _like_prefix(old_root + "/")),
            ).rowcount
    logger.info(
        "Registry %s moved: artefact paths re-based from %s to %s", database, old_root, new_root
    )
    return changed


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
