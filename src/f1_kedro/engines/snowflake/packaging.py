"""What one Snowflake registry version is made of: the custom model around the fitted parts and
the sample input that types its signature (`served_model` holds the model class itself)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from f1_kedro.registry import Trained, fitted_model


def custom_model_of(fitted: Any) -> Any:
    """The one object a version serves: a snowflake-ml custom model holding the fitted parts."""
    from snowflake.ml.model import custom_model

    from f1_kedro.engines.snowflake import served_model as served

    models = fitted if isinstance(fitted, dict) else {served.PIPELINE: fitted}
    return served.PipelineProbabilities(custom_model.ModelContext(models=dict(models)))


def forget_pickle_by_value() -> None:
    """Undo the custom handler's process-wide `register_pickle_by_value` of the served module."""
    import cloudpickle

    from f1_kedro.engines.snowflake import served_model as served

    if served.__name__ in cloudpickle.list_registry_pickle_by_value():
        cloudpickle.unregister_pickle_by_value(served)


def sample_input(trained: Trained) -> pd.DataFrame:
    """Two rows of the model's input, for its signature: a category the encoder knows for text
    columns (the fitted OneHotEncoder's `categories_`), 0.0 and NULL for numbers, so numbers are
    typed DOUBLE and scoring may pass NULLs."""
    fitted = fitted_model(trained)
    steps = fitted["preprocessing"].steps if isinstance(fitted, dict) else fitted.steps[:-1]
    categories: dict[str, Any] = {}
    for _, step in steps:
        categories.update(getattr(step, "categories_", None) or {})
    return pd.DataFrame(
        {
            column: [str(categories[column][0])] * 2 if column in categories else [0.0, math.nan]
            for column in trained["summary"]["input_columns"]
        }
    )
