"""The columns of FORMULA1.ML.FEATURES as dbt/models/ml/features.sql selects them, read from
its text (what tests tie f1_kedro.contracts to, and what synthetic feature tables mirror)."""

from __future__ import annotations

import re
from pathlib import Path

FEATURES_SQL = Path(__file__).resolve().parents[1] / "dbt" / "models" / "ml" / "features.sql"


def features_sql_columns() -> list[str]:
    """The UPPER_SNAKE aliases that features.sql's final `features` CTE selects, sorted."""
    text = FEATURES_SQL.read_text()
    body = text[text.index("features as (") :]
    return sorted(set(re.findall(r"\bas ([A-Z][A-Z0-9_]*)\b", body)))
