"""The Snowflake engine, one module per concern; nodes see its objects through conf/snowflake.

- `credentials`: `SnowflakeCredentials` from SNOWFLAKE_* variables or credentials.yml, scrubbed
- `session`: the run's one Snowpark session (`SESSIONS`), `SnowflakeSessionHook`, query tags
- `sql`: generated DDL and `COPY INTO`; `python -m f1_kedro.engines.snowflake.sql` writes
  sql/snowflake's generated files
- `warehouse`: `SnowflakeWarehouse(Dataset)`: bootstrap runs sql/snowflake, ingest loads RAW
- `datasets`: `SnowflakeTableDataset` (Snowpark DataFrame), `SnowflakeStageDataset` (stage file)
- `registry`, `packaging`, `served_model`: the Snowflake Model Registry (snowflake-ml)

The public classes are exported here lazily (module `__getattr__`), so a catalog `type:` reads
`f1_kedro.engines.snowflake.SnowflakeTableDataset` and importing one never imports the others
(snowflake-ml only when the registry is used).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SnowflakeCredentials": "credentials",
    "MissingSnowflakeCredentialsError": "credentials",
    "SnowflakeConnectionError": "credentials",
    "SnowflakeNamespaceError": "credentials",
    "SESSIONS": "session",
    "SnowparkSessions": "session",
    "SnowflakeSessionHook": "session",
    "SnowflakeWarehouse": "warehouse",
    "SnowflakeWarehouseDataset": "warehouse",
    "SnowflakeTableDataset": "datasets",
    "SnowflakeStageDataset": "datasets",
    "SnowflakeModelRegistry": "registry",
    "SnowflakeRegistryDataset": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # the next lookup skips this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
