"""The known third-party warnings a run prints, silenced in one place (each: which and why).

`install()` is called when the project is loaded (settings.py, and cli.py for the CLI, whose
`--pipeline` warning is raised before settings are read). Only these exact messages are hidden;
any other warning still prints. `python -W error` or PYTHONWARNINGS still win for the others.
"""

from __future__ import annotations

import importlib
import re
import warnings

# (message regex, category, module regex, why it is safe to hide)
KNOWN_WARNINGS: tuple[tuple[str, type[Warning], str, str], ...] = (
    (
        r"Option '--pipeline' is deprecated",
        DeprecationWarning,  # KedroDeprecationWarning subclasses it
        r"kedro\.framework\.cli\.project",
        "README and users type --pipeline=train; Kedro 1.x still runs it as --pipelines=train",
    ),
    (
        r"register_new_resolver\(\) is deprecated",
        UserWarning,
        r"kedro\.config\.omegaconf_config",
        "raised inside Kedro's own config loader (Kedro's to migrate), not by project code",
    ),
    (
        r"X has feature names, but \w+ was fitted without feature names",
        UserWarning,
        r"sklearn\.utils\.validation",
        "the sub-steps of the preprocessing ColumnTransformer are fitted on arrays by design; "
        "the column order is fixed by train's feature lists",
    ),
    (
        r"The sample input has \d+ rows\. Using the first \d+ rows",
        UserWarning,
        r"snowflake\.ml\.model\.model_signature",
        "snowflake-ml's note that it infers the signature from 100 rows: all rows share the schema",
    ),
    (
        r"Null value detected in column \w+",
        UserWarning,
        r"snowflake\.ml\.model\.model_signature",
        "form/standing columns are NULL for a driver's first races by design; the signature keeps "
        "the pandas dtype (float), which is what scoring sends",
    ),
    (
        r"register_new_resolver\(\) is deprecated",
        UserWarning,
        r"kedro_mlflow\.framework\.hooks\.mlflow_hook",
        "kedro-mlflow 2.0.3 registers its km.random_name resolver so (the plugin's to migrate)",
    ),
)


def install() -> None:
    """Add the filters (idempotent: warnings.filterwarnings drops duplicates)."""
    for message, category, module, _why in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


def import_hiding(module: str, message: str, why: str) -> None:
    """Import `module`, hiding the warnings whose text matches `message` (stated with `why`).

    For warnings that MLflow raises under its own "once" filter (mlflow.utils.annotations.
    filter_user_warnings_once puts it first, so no `filterwarnings` reaches them): recorded, and
    every other warning of the import printed as usual.
    """
    pattern = re.compile(rf"(\x1b\[[\d;]*m)?(?:{message})")  # MLflow colours its messages
    with warnings.catch_warnings(record=True) as caught:
        importlib.import_module(module)
    for warning in caught:
        if not pattern.match(str(warning.message)):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
