"""bench/fresh_clone.py reads the per-stage times out of a `kedro run` log."""

from __future__ import annotations

from bench.fresh_clone import stage_timings

LOG = """\
10:33:57 INFO    Stage timings up to the failure:
  bootstrap        9.9 s
10:34:57 INFO    Stage timings:
  bootstrap        0.1 s
    bootstrap_warehouse_node                   0.1 s
  features        29.8 s
    dbt_staging_node                          16.4 s
  train        1 min 45 s
    backtest_node                          1 min 40 s
  total        2 min 34 s
10:34:58 INFO    Done.
"""


def test_stage_timings_come_from_the_last_block_minutes_included() -> None:
    assert stage_timings(LOG) == {
        "bootstrap": 0.1,
        "features": 29.8,
        "train": 105.0,
        "total": 154.0,
    }


def test_a_log_without_timings_gives_none() -> None:
    assert stage_timings("Traceback ...") == {}
