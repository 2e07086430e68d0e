"""Lineage between stages (issue 15.5): which feature build a registered version was trained on.

The features build writes one row, FORMULA1.ML.FEATURES_BUILD (dbt/models/ml/features_build.sql):
BUILD names the dbt vars that shape FEATURES. Train stamps it into the trained unit's summary,
register turns it into the version tag `features_build`, and the scoring model refuses a FEATURES
table whose BUILD differs (dbt/models/ml/predictions.py, `check_features_build`). New races do
not change BUILD; a features build with another form window does.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# The dbt vars that shape FEATURES, as FEATURES_BUILD records them (columns of the row, lower
# case); tests/score/test_features_build.py ties them to the vars features.sql reads.
BUILD_VARS: tuple[str, ...] = ("form_window", "include_post_race_features")


class FeaturesBuildError(ValueError):
    """FORMULA1.ML.FEATURES_BUILD is missing or not one row: the features build did not finish."""


def features_build_record(features_build: Any) -> dict[str, Any]:
    """The FEATURES_BUILD row (pandas or Snowpark, one row) as the summary's `features_build`:
    {"build", "vars", "features_rows", "labelled_rows", "seasons"}."""
    frame = features_build.to_pandas() if hasattr(features_build, "to_pandas") else features_build
    frame = pd.DataFrame(frame).rename(columns=str.lower)
    if len(frame) != 1:
        raise FeaturesBuildError(
            f"FORMULA1.ML.FEATURES_BUILD holds {len(frame)} rows, not 1: run "
            "`kedro run --pipeline=features` again"
        )
    row = frame.iloc[0]
    return {
        "build": str(row["build"]),
        "vars": {
            "form_window": int(row["form_window"]),
            "include_post_race_features": _bool(row["include_post_race_features"]),
        },
        "features_rows": int(row["features_rows"]),
        "labelled_rows": int(row["labelled_rows"]),
        "seasons": [int(row["first_season"]), int(row["last_season"])],
    }


def _bool(value: Any) -> bool:
    # DuckDB gives numpy.bool_, Snowflake a Python bool; text only if a driver stringifies it
    return str(value).strip().lower() in ("true", "1")
