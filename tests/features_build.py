"""FORMULA1.ML.FEATURES_BUILD as the features build writes it, for tests that package a unit."""

from __future__ import annotations

import pandas as pd


def features_build_frame(form_window: int = 5, rows: int = 100) -> pd.DataFrame:
    """The one row of dbt/models/ml/features_build.sql (DuckDB's column names and types)."""
    return pd.DataFrame(
        {
            "BUILD": [f"form_window={form_window};include_post_race_features=false"],
            "FORM_WINDOW": [form_window],
            "INCLUDE_POST_RACE_FEATURES": [False],
            "FEATURES_ROWS": [rows],
            "LABELLED_ROWS": [rows],
            "FIRST_SEASON": [2010],
            "LAST_SEASON": [2024],
        }
    )
