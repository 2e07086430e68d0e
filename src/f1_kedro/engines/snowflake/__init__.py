"""The Snowflake engine, one module per concern; nodes see its objects through conf/snowflake.

- `credentials`: `SnowflakeCredentials` from SNOWFLAKE_* variables or credentials.yml, scrubbed
- `session`: the run's one Snowpark session (`SESSIONS`), `SnowflakeSessionHook`, query tags
- `sql`: generated DDL and `COPY INTO`; `python -m f1_kedro.engines.snowflake.sql` writes
  sql/snowflake's generated files
- `warehouse`: `SnowflakeWarehouse(Dataset)`: bootstrap runs sql/snowflake, ingest loads RAW
- `raw_load`: ingest's all-or-nothing load: a clone of the raw schema, loaded, swapped in
- `datasets`: `SnowflakeTableDataset` (Snowpark DataFrame), `SnowflakeStageDataset` (stage file)
- `registry`, `packaging`, `served_model`: the Snowflake Model Registry (snowflake-ml)

Catalog `type:` lines name the classes here (`f1_kedro.engines.snowflake.SnowflakeTableDataset`).
Each is imported from its module on first use (lazy_loader, as engines/duckdb), so the registry
imports neither Snowpark's session nor snowflake-ml until it is used.
"""

import lazy_loader

# Public name -> the module that defines it (imported when the name is first used).
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "credentials": [
            "MissingSnowflakeCredentialsError",
            "SnowflakeConnectionError",
            "SnowflakeCredentials",
            "SnowflakeNamespaceError",
        ],
        "session": ["SESSIONS", "SnowflakeSessionHook", "SnowparkSessions"],
        "warehouse": ["SnowflakeWarehouse", "SnowflakeWarehouseDataset"],
        "datasets": ["SnowflakeStageDataset", "SnowflakeTableDataset"],
        "registry": ["SnowflakeModelRegistry", "SnowflakeRegistryDataset"],
    },
)
