"""Tables that SQL built: how a node tells the catalog that dbt already wrote a table."""

from __future__ import annotations

from dataclasses import dataclass

from kedro.io import DatasetError


@dataclass(frozen=True)
class BuiltTable:
    """Returned by a node whose SQL built `table`; the table dataset then only checks it."""

    table: str
    built_by: str = "dbt"

    def check(self, dataset_table: str) -> None:
        if self.table.upper() != dataset_table.upper():
            raise DatasetError(
                f"{self.built_by} built {self.table}, but the catalog entry is {dataset_table}"
            )
