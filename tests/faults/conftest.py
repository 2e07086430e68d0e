"""Fixtures of the fault tests; the helpers they use (a `kedro run` subprocess that a test can
pause and kill, read-only views of the warehouse and the registry) are in tests/support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# Re-exported for tests that still import them from here.
from tests.support import (  # noqa: F401
    PROJECT_ROOT,
    KedroProcess,
    fingerprints,
    load_raw_in_memory,
    registry_state,
    run_kedro,
    start_kedro,
    table_counts,
    version_is_complete,
    warehouse_files,
    write_subset,
)


@pytest.fixture
def kedro_processes() -> Iterator[list[KedroProcess]]:
    """Collects the test's subprocesses and kills any still running when the test ends."""
    started: list[KedroProcess] = []
    yield started
    for proc in started:
        proc.kill()


@pytest.fixture(scope="session")
def season_2024(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_subset(shared_data, tmp_path_factory.mktemp("f1_2024"), 2024, 2024)


@pytest.fixture(scope="session")
def loaded_warehouse(season_2024: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`data/` after bootstrap and a clean ingest of 2024 (in memory, once per test process);
    each case copies it and must not change it."""
    root = tmp_path_factory.mktemp("baseline")
    load_raw_in_memory(root, source_uri=str(season_2024))
    return root / "data"
