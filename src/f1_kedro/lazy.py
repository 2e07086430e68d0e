"""Modules imported on first use: `find_pipelines()` imports every pipeline for every `kedro`
command, and the model code (snowflake-ml, scikit-learn, matplotlib: ~5 s) is needed only by the
nodes that run it. The recipe is the standard library's (`importlib.util.LazyLoader`)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, imported when one of its attributes is first read (then a plain module)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
