"""The facts every part of the project agrees on, in one place.

Nodes, engines, registries and the benchmark import them from here. The dbt models cannot
import Python (features.sql is SQL; a dbt Python model runs as a Snowflake stored procedure), so
they keep literal copies, and tests/test_contracts.py ties those copies to this module.
"""

from __future__ import annotations

from collections.abc import Iterable

# One row of FORMULA1.ML.FEATURES (and of PREDICTIONS per model version) per race and driver.
KEYS: tuple[str, ...] = ("RACE_ID", "DRIVER_ID")

# The target: the finishing class, ordered from best to worst (the order RPS relies on).
LABEL = "LABEL"
CLASS_LABELS: dict[int, str] = {0: "podium", 1: "points", 2: "no_points"}
# Finishing positions of each class; anything else (including not classified) is `no_points`.
CLASS_POSITIONS: dict[int, tuple[int, int]] = {0: (1, 3), 1: (4, 10)}

# Columns of FEATURES that are outcomes: never features (NULL for races not yet run).
OUTCOME_COLUMNS: tuple[str, ...] = ("FINISH_POSITION", LABEL)
# Columns of FEATURES that identify and place a row; not features of the model either.
CONTEXT_COLUMNS: tuple[str, ...] = (
    *KEYS, "CONSTRUCTOR_ID", "CIRCUIT_ID", "SEASON", "ROUND", "RACE_DATE",
)  # fmt: skip
# Columns FEATURES holds only with the dbt var include_post_race_features: known after the race.
POST_RACE_COLUMNS: tuple[str, ...] = ("PIT_STOPS_IN_RACE",)

# Probability columns: what snowflake-ml's predict_proba writes, and what PREDICTIONS holds.
PROBA_PREFIX = "PREDICT_PROBA_"
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"PROB_{n.upper()}" for n in CLASS_LABELS.values())


def feature_columns(columns: Iterable[str]) -> list[str]:
    """The columns of a FEATURES table a model may read: all but context, outcome and post-race
    columns (so the feature list is the table's, never a copy of features.sql)."""
    not_features = {*CONTEXT_COLUMNS, *OUTCOME_COLUMNS, *POST_RACE_COLUMNS}
    return [column for column in columns if column not in not_features]
