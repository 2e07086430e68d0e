"""Project settings: hooks and the configuration loader.

The engine is chosen by Kedro environment: `conf/base` is the embedded DuckDB engine (the default
`local` environment only adds git-ignored credentials), `conf/snowflake` overrides the catalog and
parameters for `kedro run --env snowflake`.
"""

import atexit
import gc

from f1_kedro import quiet
from f1_kedro.hooks import LazyEngineHook, RunLockHook, StageTimingHook, UnfinishedRunHook
from f1_kedro.params import ParamsValidationHook
from f1_kedro.run_tracking import RunTrackingHook, project_root

quiet.install()  # before Kedro's config loader raises the first known warning

# Exit without the collector's last walk: at interpreter exit Python collects, module by module,
# every object of the ~3,400 modules a run imports, 1.4 s after the last line of a `kedro run`
# (measured, --pipeline=train: 8.8 s -> 7.4 s). Handlers run last-registered first, so this runs
# after every exit handler a library registers later (MLflow's end of run); files and connections
# are closed by their owners before, and the exit code is unchanged (how it was found and
# measured: docs/benchmarks.md, "Exit").
atexit.register(gc.freeze)

# Hooks run last-registered first: parameters are checked before anything else (nothing written
# on a bad value), then the Snowflake hook checks credentials, then the run lock is taken, then
# the summaries this run rewrites are marked unfinished (a killed run leaves no stale summary).
# The Snowflake hook is imported only when the `snowflake` parameters group exists (conf/snowflake).
# MLflow run tracking (kedro-mlflow, conf/base/mlflow.yml) starts last, once the lock is held.
HOOKS = (
    RunTrackingHook(
        metrics=("metrics",),
        artifacts=(
            "metrics",
            "confusion_matrix_plot",
            "feature_importance_plot",
            "backtest_plot",
            "reliability_plot",
        ),
    ),
    UnfinishedRunHook(("score_summary",), rerun="kedro run --pipelines=score"),
    RunLockHook(),
    StageTimingHook(),
    LazyEngineHook(
        "f1_kedro.engines.snowflake.session:SnowflakeSessionHook", when_param="snowflake"
    ),
    ParamsValidationHook(),
)

# kedro-mlflow's own hook is RunTrackingHook's parent: the plugin's copy would track twice.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)  # its distribution name

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
    "custom_resolvers": {"project_root": project_root},  # conf/base/mlflow.yml's store path
}
