"""Fixtures of the features tests (none yet); helpers are in tests/support.py."""

from __future__ import annotations

# Re-exported for tests outside this folder that still import them from here.
from tests.support import ingest, read_features, truncate_after  # noqa: F401
