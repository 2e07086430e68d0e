"""dbt's Python models (dbt/models/ml/*.py) imported as dbt loads them: a file, not a module of
a package (they cannot import project code, so tests call their functions directly)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ML = Path(__file__).resolve().parents[1] / "dbt" / "models" / "ml"


def load(name: str) -> ModuleType:
    """dbt/models/ml/<name>.py as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"{name}_model", ML / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
