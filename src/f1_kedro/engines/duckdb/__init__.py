"""The embedded engine: DuckDB files for the warehouse, MLflow (sqlite) for the model registry.

Catalog `type:` lines name the classes here (`f1_kedro.engines.duckdb.DuckDBWarehouseDataset`).
Each is imported from its module on first use (lazy_loader, scientific-python SPEC 1), so loading
the warehouse never imports MLflow.

- `warehouse`: `DuckDBWarehouse` attaches the database files, bootstraps, loads CSVs, reads and
  swaps tables; the warehouse, table and dbt-project datasets.
- `mlflow_registry`: `MlflowModelRegistry`, model versions in MLflow with audit copies on a
  folder (`LocalStage`) standing for the Snowflake stage; its dataset.
"""

import lazy_loader

# Public name -> the module that defines it (imported when the name is first used).
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "warehouse": [
            "DuckDBWarehouse",
            "DuckDBWarehouseDataset",
            "DuckDBTableDataset",
            "DuckDBDbtProjectDataset",
            "WarehouseBusyError",
            "WarehouseFileError",
        ],
        "mlflow_registry": ["LocalStage", "MlflowModelRegistry", "MlflowRegistryDataset"],
    },
)
