"""The embedded engine: DuckDB files for the warehouse, MLflow (sqlite) for the model registry.

Catalog `type:` lines name the classes here (`f1_kedro.engines.duckdb.DuckDBWarehouseDataset`).
Each is imported from its module on first use (lazy_loader, scientific-python SPEC 1), so loading
the warehouse never imports MLflow.

| module | what it holds |
|---|---|
| `datasets` | the catalog's datasets: the warehouse, a table as pandas, the dbt project |
| `warehouse` | `DuckDBWarehouse`: attach the files, bootstrap, load CSVs all or nothing, tables |
| `csv_ingest` | read the raw CSVs: locate, copy remote files, read typed, check rows and keys |
| `csv_diagnostics` | name the column or lines of a CSV error that DuckDB's message leaves out |
| `errors` | a warehouse file busy, missing, damaged or on a full disk: what to do |
| `mlflow_registry` | `MlflowModelRegistry`: versions in MLflow, the champion alias; its dataset |
| `mlflow_version` | what one version logs: input example, signature, parameters, requirements |
| `served_model` | the MLflow pyfunc a version serves (stored by value: loads without f1_kedro) |
| `mlflow_store` | re-base the sqlite store's artefact paths after the project moved |
| `local_stage` | `LocalStage`: the folder standing for `@ML_STAGE`, write-once version folders |
"""

import lazy_loader

# Public name -> the module that defines it (imported when the name is first used).
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "datasets": [
            "DuckDBDbtProjectDataset",
            "DuckDBTableDataset",
            "DuckDBWarehouseDataset",
            "release_dbt_duckdb",
        ],
        "errors": ["WarehouseBusyError", "WarehouseFileError"],
        "warehouse": ["DuckDBWarehouse"],
        "local_stage": ["LocalStage"],
        "mlflow_registry": ["MlflowModelRegistry", "MlflowRegistryDataset"],
        "mlflow_store": ["rebase_artifact_paths"],
    },
)
