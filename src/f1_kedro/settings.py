"""Project settings: hooks and the configuration loader.

The engine is chosen by Kedro environment: `conf/base` is the embedded DuckDB engine (the default
`local` environment only adds git-ignored credentials), `conf/snowflake` overrides the catalog and
parameters for `kedro run --env snowflake`.
"""

from f1_kedro.engines.snowflake import SnowflakeSessionHook
from f1_kedro.hooks import RunLockHook, StageTimingHook

# Hooks run last-registered first: SnowflakeSessionHook checks credentials before the run lock.
HOOKS = (RunLockHook(), StageTimingHook(), SnowflakeSessionHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}
