"""What nodes need of the things the catalog hands them: the node-facing interfaces, in one place.

A node is typed against these Protocols and never imports an engine. Each engine implements them
(`f1_kedro.engines.duckdb`, `f1_kedro.engines.snowflake`, `f1_kedro.dbt_project`) and reaches
the node through a catalog entry; tests hand the nodes fakes (`tests/support.py`).

| Protocol | catalog entry | embedded engine | Snowflake |
|---|---|---|---|
| Bootstrappable | warehouse | DuckDBWarehouse | SnowflakeWarehouse |
| CsvLoader | warehouse | DuckDBWarehouse | SnowflakeWarehouse |
| DbtBuilder | dbt_project | DbtProject (target duckdb) | DbtProject (target snowflake) |
| ModelRegistry | model_registry | MlflowModelRegistry | SnowflakeModelRegistry |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from f1_kedro.ingest_spec import TableSpec
    from f1_kedro.registry.model_registry import Champion, RegisteredVersion, Trained


class Bootstrappable(Protocol):
    def bootstrap(self, layout: dict[str, Any]) -> dict[str, Any]:
        """Create the databases, schemas and ML stage `layout` names; safe to run again.

        `layout`: `databases` (database -> schemas), `stage` (DATABASE.SCHEMA.NAME on every
        engine) and, on Snowflake, `setup_sql` (params:bootstrap, pipelines/bootstrap/params.py).
        """
        ...


class CsvLoader(Protocol):
    def load_csv_tables(
        self,
        specs: list[TableSpec],
        source_uri: str,
        storage_options: dict[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Load every table of `specs` from `source_uri`, all or nothing; rows per table."""
        ...


class DbtBuilder(Protocol):
    def build(
        self,
        select: Sequence[str],
        vars: Mapping[str, Any] | None = None,
        exclude: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """`dbt build` of `select` (models and their tests), with `env` set for it; raises when
        one fails."""
        ...


class ModelRegistry(Protocol):
    def champion(self, model_name: str) -> Champion | None:
        """The served version (MLflow alias `champion` / Snowflake default version), or None."""
        ...

    def register(
        self,
        model_name: str,
        trained: Trained,
        metrics: dict[str, float],
        tags: dict[str, str],
    ) -> RegisteredVersion:
        """Store the trained pipeline as a new version with `metrics` and `tags`.

        Never overwrites a version; on failure removes what it created and re-raises; does not
        move the champion.
        """
        ...

    def set_champion(self, model_name: str, version: int) -> None:
        """Serve `version`: the MLflow alias `champion` / the Snowflake default version."""
        ...
