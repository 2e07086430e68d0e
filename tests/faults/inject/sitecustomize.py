"""Fault injection for the fault tests: pause a real `kedro run` subprocess at a chosen call.

Only the tests put this folder on PYTHONPATH. With F1_FAULT_PAUSE="module:Qualified.name" set,
the named function is wrapped when its module is imported: on its Nth matching call
(F1_FAULT_PAUSE_CALL, default 1; calls count only when F1_FAULT_PAUSE_MATCH, any case, is in
their arguments' repr) it writes the marker file F1_FAULT_MARKER and waits, so that the test can
SIGKILL the process at exactly that point, or let it go on by creating `<marker>.resume`.
Nothing in the project's code knows about it.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import os
import sys
import time

_TARGET = os.environ.get("F1_FAULT_PAUSE", "")
_MODULE, _, _ATTRIBUTE = _TARGET.partition(":")
_CALL = int(os.environ.get("F1_FAULT_PAUSE_CALL", "1"))
_MATCH = os.environ.get("F1_FAULT_PAUSE_MATCH", "")
_MARKER = os.environ.get("F1_FAULT_MARKER", "")
_calls = 0


def _pausing(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global _calls
        if _MATCH.lower() in (repr(args) + repr(kwargs)).lower():
            _calls += 1
            if _calls == _CALL:
                with open(_MARKER, "w") as marker:
                    marker.write(f"{os.getpid()} {_TARGET} call {_calls}\n")
                resume = _MARKER + ".resume"
                deadline = time.monotonic() + 600
                while not os.path.exists(resume) and time.monotonic() < deadline:
                    time.sleep(0.05)  # the test kills the process here, or lets it go on
        return function(*args, **kwargs)

    return wrapper


def _patch(module) -> None:
    owner_path, _, name = _ATTRIBUTE.rpartition(".")
    owner = module
    for part in filter(None, owner_path.split(".")):
        owner = getattr(owner, part)
    setattr(owner, name, _pausing(getattr(owner, name)))


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None:
            return None
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _patch(module)


if _MODULE and _ATTRIBUTE and _MARKER:
    sys.meta_path.insert(0, _PatchOnImport())
