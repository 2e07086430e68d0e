"""A warehouse table that dbt builds, as a Kedro dataset that passes a reference, not the rows.

The features pipeline draws each dbt layer as a node and each table as a dataset between them.
Loading a table there would read it whole for nothing: this dataset loads a `BuiltTable` (after
checking that the table exists), saves one by checking it, and hands previews and the
DATABASE.SCHEMA.TABLE name (kedro-viz shows `path`) to the engine's own table dataset.
"""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

from f1_kedro.tables import BuiltTable


class BuiltTableDataset(AbstractDataset[BuiltTable, BuiltTable]):
    """`table` in the warehouse of `dataset` (an engine table dataset's config, without table)."""

    def __init__(self, table: str, dataset: dict[str, Any], metadata: dict[str, Any] | None = None):
        self._table = table
        self._dataset = AbstractDataset.from_config(table, {**dataset, "table": table})
        self.metadata = metadata

    def load(self) -> BuiltTable:
        if not self._dataset.exists():
            raise DatasetError(
                f"table {self._table} does not exist: run `kedro run --pipelines=features` "
                "(after bootstrap and ingest) to build it"
            )
        return BuiltTable(self._table)

    def save(self, data: BuiltTable) -> None:
        if not isinstance(data, BuiltTable):
            raise DatasetError(f"{self._table} is built by dbt; a node returns BuiltTable for it")
        self._dataset.save(data)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._table, "dataset": type(self._dataset).__name__}

    def preview(self, nrows: int = 10) -> TablePreview:
        """The engine dataset's preview: the table's first rows in kedro-viz's panel."""
        return self._dataset.preview(nrows)  # type: ignore[attr-defined]
