"""The embedded engine's catalog datasets: the warehouse, a table as pandas, the dbt project."""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

from f1_kedro.datasets.resource import ResourceDataset
from f1_kedro.dbt_project import DbtProject, DbtProjectDataset
from f1_kedro.identifiers import qualified

from .warehouse import DuckDBWarehouse


class DuckDBWarehouseDataset(ResourceDataset[DuckDBWarehouse]):
    """Hands nodes the embedded warehouse; nodes call its methods and never import DuckDB."""

    kind = "warehouse"

    def __init__(
        self,
        directory: str = "data/warehouse",
        databases: list[str] | None = None,
        stage_dir: str = "data/06_models/ml_stage",
        lock_timeout: float = 30.0,
    ):
        super().__init__(
            DuckDBWarehouse(directory, databases or ("RAW", "FORMULA1"), stage_dir, lock_timeout)
        )

    def _describe(self) -> dict[str, Any]:
        return {"directory": str(self._resource.directory)}


def release_dbt_duckdb() -> None:
    """Close dbt-duckdb's in-process database, so the next reader can open the warehouse file.

    dbt-duckdb keeps one DuckDB environment (with the files attached) for the life of the process;
    a Kedro dataset that opens the same file afterwards would conflict with it.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        manager = connections.DuckDBConnectionManager
        environment, manager._ENV = manager._ENV, None
        if environment is not None:
            environment.close()


class DuckDBDbtProjectDataset(DbtProjectDataset):
    """The dbt project on the embedded warehouse: hands it out only when the warehouse files exist
    and open, because dbt-duckdb would otherwise create an empty FORMULA1.duckdb (score did)."""

    release = staticmethod(release_dbt_duckdb)

    def load(self) -> DbtProject:
        project = super().load()
        directory = project.env.get("F1_WAREHOUSE_DIR", "data/warehouse")
        with DuckDBWarehouse(directory).connect(read_only=True):
            pass  # a missing or damaged file raises WarehouseFileError naming it
        return project


class DuckDBTableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A warehouse table as a pandas DataFrame (read through Arrow); saves replace it atomically.

    A node whose SQL (dbt) already built the table returns a `f1_kedro.tables.BuiltTable`; saving
    that checks that the table exists instead of writing it again.
    """

    def __init__(
        self,
        table: str,
        directory: str = "data/warehouse",
        databases: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        lock_timeout: float = 30.0,
    ):
        self._table = qualified(*table.split("."))
        self._warehouse = DuckDBWarehouse(
            directory, databases or ("RAW", "FORMULA1"), lock_timeout=lock_timeout
        )
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return self._warehouse.read_table(self._table)

    def save(self, data: Any) -> None:
        from f1_kedro.tables import BuiltTable

        if isinstance(data, BuiltTable):
            data.check(self._table)
            if not self._warehouse.table_exists(self._table):
                raise DatasetError(f"{data.built_by} did not build {self._table}")
            return
        self._warehouse.replace_table(self._table, data)

    def _exists(self) -> bool:
        try:
            return self._warehouse.table_exists(self._table)
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        # kedro-viz shows `path` as the dataset's location: the table's three-part name
        return {
            "table": self._table,
            "path": self._table,
            "directory": str(self._warehouse.directory),
        }

    def preview(self, nrows: int = 10) -> TablePreview:
        """Rows for kedro-viz's preview panel (it picks the panel by this return annotation)."""
        frame = self._warehouse.read_table(self._table, limit=nrows)
        return frame.astype(str).to_dict(orient="split")
