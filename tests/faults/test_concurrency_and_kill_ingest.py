"""SIGKILL in the middle of ingest, a reader and a second run meanwhile, on real DuckDB files.

Ingest is all-or-nothing: each table is read into a temporary table and checked, then all 14 are
replaced in one transaction. The kill lands at the 7th table, LAP_TIMES, at either step (the
injected pause of inject/sitecustomize.py): in `_check_primary_key` while staging, or in
`_replace_table` inside the swap transaction, after six tables were replaced but not committed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from f1_kedro.engines.duckdb import DuckDBWarehouse, WarehouseBusyError
from f1_kedro.hooks import RunLockError
from tests.support import (
    README_ROW_COUNTS,
    KedroProcess,
    run_kedro,
    start_kedro,
    table_counts,
    warehouse_files,
    write_subset,
)

TABLES = list(README_ROW_COUNTS)  # the order of conf/base/parameters_ingest.yml
PAUSE_IN_LOAD = "f1_kedro.engines.duckdb.csv_ingest:_check_primary_key"
PAUSE_IN_SWAP = "f1_kedro.engines.duckdb.warehouse:_replace_table"
KILLED_TABLE = 7  # lap_times: the largest table


def raw_counts(project: Path) -> dict[str, int]:
    counts = table_counts(warehouse_files(project)["RAW"])
    return {name: counts[f"FORMULA1.{name.upper()}"] for name in TABLES}


def csv_rows(folder: Path) -> dict[str, int]:
    return {name: sum(1 for _ in (folder / f"{name}.csv").open()) - 1 for name in TABLES}


@pytest.fixture
def old_data(shared_data: Path, tmp_path: Path) -> Path:
    return write_subset(shared_data, tmp_path / "f1_2021_2022", 2021, 2022)


def lap_times_reader(results: list, timeout: float) -> threading.Thread:
    """A reader in this process (the writer is another one) through the engine's own connect."""

    def read() -> None:
        warehouse = DuckDBWarehouse("data/warehouse", lock_timeout=timeout)
        try:
            results.append(len(warehouse.read_table("RAW.FORMULA1.LAP_TIMES")))
        except Exception as err:
            results.append(err)

    thread = threading.Thread(target=read)
    thread.start()
    return thread


@pytest.mark.parametrize("pause", [PAUSE_IN_LOAD, PAUSE_IN_SWAP], ids=["staging", "swap"])
def test_sigkill_mid_load_leaves_every_table_old_and_the_next_run_succeeds(
    project: Path,
    old_data: Path,
    recent_data: Path,
    kedro_processes: list[KedroProcess],
    pause: str,
) -> None:
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest", params={"ingest.source_uri": str(old_data)})
    old, new = csv_rows(old_data), csv_rows(recent_data)
    assert raw_counts(project) == old
    assert old["lap_times"] != new["lap_times"]

    writer = start_kedro(
        project, "ingest", {"ingest.source_uri": recent_data},
        pause=pause, pause_call=KILLED_TABLE,
    )  # fmt: skip
    kedro_processes.append(writer)
    writer.wait_for_pause()
    pid = writer.process.pid
    raw_file = warehouse_files(project)["RAW"]

    # A reader meanwhile: DuckDB refuses it the file, naming the file and the writer's pid ...
    with pytest.raises(
        duckdb.IOException, match=rf'Could not set lock on file "{raw_file}".*PID {pid}'
    ):
        duckdb.connect(str(raw_file), read_only=True)
    # ... the engine waits up to lock_timeout, then says who holds which file.
    with pytest.raises(
        WarehouseBusyError, match=rf"{raw_file} is locked by another process.*PID {pid}"
    ):
        DuckDBWarehouse("data/warehouse", lock_timeout=0.3).read_table("RAW.FORMULA1.LAP_TIMES")

    # A second run of the project stops at once, naming the lock file and the running pid.
    with pytest.raises(RunLockError) as second:
        run_kedro(project, "ingest", params={"ingest.source_uri": str(recent_data)})
    assert f"pid {pid}" in str(second.value)
    assert str(project / "data" / ".kedro_run.lock") in str(second.value)

    # A patient reader waits through the kill, then sees the old table (the load never committed).
    seen: list = []
    reader = lap_times_reader(seen, timeout=60)
    writer.kill()
    reader.join(timeout=90)
    assert seen == [old["lap_times"]]

    # All old: the six tables replaced before the kill were never committed.
    assert raw_counts(project) == old
    with duckdb.connect(str(raw_file), read_only=True) as con:  # nothing half-built left behind
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert names == {t.upper() for t in TABLES}

    # The next run takes the lock the killed one held and loads everything.
    assert f"pid {pid}" in (project / "data" / ".kedro_run.lock").read_text()
    run_kedro(project, "ingest", params={"ingest.source_uri": str(recent_data)})
    assert raw_counts(project) == new


def test_second_run_stops_while_the_first_finishes_and_a_waiting_reader_sees_the_new_table(
    project: Path, old_data: Path, recent_data: Path, kedro_processes: list[KedroProcess]
) -> None:
    run_kedro(project, "bootstrap")
    run_kedro(project, "ingest", params={"ingest.source_uri": str(old_data)})
    before_report = (project / "data/08_reporting/ingest_report.json").read_text()
    first = start_kedro(
        project, "ingest", {"ingest.source_uri": recent_data},
        pause=PAUSE_IN_LOAD, pause_call=KILLED_TABLE,
    )  # fmt: skip
    kedro_processes.append(first)
    first.wait_for_pause()

    with pytest.raises(
        RunLockError, match=rf"pid {first.process.pid}; lock file .*\.kedro_run\.lock"
    ):
        run_kedro(project, "bootstrap")
    # The refused run wrote nothing: not even its report.
    assert (project / "data/08_reporting/ingest_report.json").read_text() == before_report

    seen: list = []
    reader = lap_times_reader(seen, timeout=120)
    first.resume()
    assert first.finish() == 0, first.output()[-3000:]
    reader.join(timeout=150)
    assert raw_counts(project) == csv_rows(recent_data)
    assert seen == [csv_rows(recent_data)["lap_times"]]
