"""Shared fixtures: the real F1 data, subsets of it, a scratch copy of the project, emulators.
Helpers that tests import are in tests/support.py.

Everything here is real: DuckDB files, a fakesnow server and a moto S3 server on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# Helpers live in tests/support.py; re-exported for tests that import them from here.
from tests.support import (  # noqa: F401
    KEDRO,
    PROJECT_ROOT,
    RACE_LEVEL_TABLES,
    README_ROW_COUNTS,
    RECENT_DATA,
    RECENT_PARAMS,
    RECENT_RUN_LOG,
    SHARED_DATA,
    built_once,
    copy_project,
    kedro_env,
    nested_params,
    race_id_of,
    remove_race_outcomes,
    run_kedro,
    write_subset,
)

# The order in which pytest-xdist hands modules to the workers (`make test`: --dist loadscope
# --no-loadscope-reorder): the longest modules first, so that no worker ends the run alone on a
# long one, and the two session builds lead on different workers (built_recent in the first,
# built_full in the second), so that neither worker sits waiting for the other's build; the other
# users of built_recent come after those two. Seconds are each module's test time on 2 workers,
# from a per-worker timeline of 2026-11-28 (docs/benchmarks.md, fourth session); a module not
# listed runs after these, in collection order. Only the order: every module runs, listed or not.
SLOWEST_FIRST = (
    "tests/faults/test_model_stages.py",  # 93 s: builds built_recent, then three SIGKILL runs
    "tests/notebooks/test_notebooks.py",  # 50 s: builds built_full, then three kernels
    "tests/score/test_score_pipeline.py",  # 39 s
    "tests/ux/test_quiet_run.py",  # 21 s
    "tests/faults/test_concurrency_and_kill_ingest.py",  # 27 s
    "tests/snowflake/test_emulated_run.py",  # 25 s
    "tests/score/test_race_week.py",  # 25 s
    "tests/ux/test_run_tracking.py",  # 24 s
    "tests/viz/test_viz_browser.py",  # 20 s
    "tests/features/test_full_data.py",  # built_full
    "tests/train/test_full_data_model_vs_baseline.py",  # built_full
    "tests/register/test_mlflow_registry.py",  # 17 s
    "tests/features/test_leakage.py",  # 16 s
    "tests/train/test_train_register_pipeline.py",  # 13 s
    "tests/faults/test_source_drift.py",  # 12 s
    "tests/snowflake/test_load_csv_table.py",  # 12 s
    "tests/snowflake/test_snowflake_env.py",  # 11 s
    "tests/bench/test_bench_features.py",  # 11 s
)
_stale = [name for name in SLOWEST_FIRST if not (PROJECT_ROOT / name).is_file()]
if _stale:
    raise pytest.UsageError(f"tests/conftest.py SLOWEST_FIRST names no test module: {_stale}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "results.csv").exists():
        pytest.fail(f"the real F1 data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def recent_data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real data cut to seasons 2019-2024: small, but with lap times, pit stops and sprints."""
    return write_subset(shared_data, tmp_path_factory.mktemp("f1_2019_2024"), 2019, 2024)


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's temporary folder, shared by the pytest-xdist workers (each has its own
    `popen-gw<N>` below it): what is built there once serves every worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def built_recent(shared_tmp: Path) -> Path:
    """A whole `kedro run` on the real data of 2019-2024 (RECENT_PARAMS, in the project's
    conf/local), typed as a user types it and built once per session: a served model, its
    predictions, the registry, and what the command printed (`RECENT_RUN_LOG` beside the
    project). Copy it (`copy_built`) before running in it."""

    def build(root: Path) -> None:
        data = write_subset(SHARED_DATA, root.parent / RECENT_DATA, 2019, 2024)
        params = nested_params({**RECENT_PARAMS, "ingest.source_uri": str(data)})
        (root / "conf" / "local" / "parameters_recent.yml").write_text(yaml.safe_dump(params))
        done = subprocess.run(
            [KEDRO, "run"], cwd=root, env=kedro_env(), capture_output=True, text=True
        )
        output = done.stdout + done.stderr
        (root.parent / RECENT_RUN_LOG).write_text(output)
        assert done.returncode == 0, f"the shared `kedro run` failed:\n{output[-4000:]}"

    return built_once(shared_tmp, "recent", build)


@pytest.fixture(scope="session")
def built_full(shared_tmp: Path) -> Path:
    """A whole `kedro run` as a user types it: the default parameters, the whole data set
    (1950-2024), built once per session. Copy it (`copy_built`) before running in it."""
    return built_once(shared_tmp, "full", lambda root: run_kedro(root))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch copy of the project as the working directory.

    Kedro resolves catalog paths against the working directory, so every test that runs a
    pipeline gets its own `data/` and never touches the developer's.
    """
    root = copy_project(tmp_path)
    monkeypatch.chdir(root)
    return root


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """A fakesnow server on 127.0.0.1: the real snowflake-connector-python talks to it by HTTP."""
    import fakesnow

    with fakesnow.server() as conn_kwargs:
        yield conn_kwargs
        # Connections still open (dbt-snowflake's, Snowpark's) say goodbye at interpreter exit,
        # after the server is gone: keep those refused requests out of the test report.
        logging.getLogger("snowflake.connector").setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[dict[str, Any]]:
    """A moto S3 server on 127.0.0.1; yields the fsspec storage options that reach it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {
                "endpoint_url": f"http://127.0.0.1:{port}",
                "region_name": "us-east-1",
            },
        }
    finally:
        server.stop()
