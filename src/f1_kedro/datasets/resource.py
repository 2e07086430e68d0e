"""A catalog entry that hands nodes a live handle (a warehouse, a registry, a dbt project).

Kedro datasets load and save data; a resource is different: `load` returns the handle nodes call
(typed by `f1_kedro.interfaces`), and `save` refuses, because a node uses a resource and never
writes one. Each engine's resource dataset is a subclass that builds its handle in `__init__`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from kedro.io import AbstractDataset, DatasetError

R = TypeVar("R")


class ResourceDataset(AbstractDataset[None, R], Generic[R]):
    """Loads `resource`; refuses to save. Subclasses set `kind` and describe their handle."""

    kind: ClassVar[str] = "resource"

    def __init__(self, resource: R, metadata: dict[str, Any] | None = None):
        self._resource = resource
        self.metadata = metadata

    def load(self) -> R:
        return self._resource

    def save(self, data: None) -> None:
        raise DatasetError(f"the {self.kind} is a resource: nodes use it, they do not save it")

    def _describe(self) -> dict[str, Any]:
        return {"resource": type(self._resource).__name__}
