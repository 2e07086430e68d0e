"""bench/scale.py: k copies of every played race within its season, every table consistent."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from bench.scale import DIMENSIONS, RACE_TABLES, TABLES, scale
from f1_kedro.engines.duckdb import DuckDBWarehouse
from f1_kedro.ingest_spec import table_specs
from tests.support import PROJECT_ROOT, write_subset

FACTOR = 3


@pytest.fixture(scope="module")
def subset(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 2025 is the real calendar without results: a season that must not be copied
    return write_subset(shared_data, tmp_path_factory.mktemp("f1_2021_2025"), 2021, 2025)


@pytest.fixture(scope="module")
def scaled(subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("f1_x3")
    scale(FACTOR, out, source=subset)
    return out


@pytest.fixture(scope="module")
def warehouses(subset: Path, scaled: Path, tmp_path_factory: pytest.TempPathFactory):
    """Both folders loaded by the project's own ingest code (typed, primary keys checked)."""
    params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_ingest.yml").read_text())
    specs = table_specs(params["ingest"])
    loaded = {}
    for name, folder in (("real", subset), ("scaled", scaled)):
        warehouse = DuckDBWarehouse(tmp_path_factory.mktemp(f"wh_{name}"))
        warehouse.bootstrap({"databases": {"RAW": ["FORMULA1"]}, "stage": "ML_STAGE"})
        for spec in specs:
            warehouse.load_csv_table(spec, str(folder))
        loaded[name] = warehouse
    return loaded


def _query(warehouse: DuckDBWarehouse, sql: str) -> list[tuple]:
    with warehouse.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def _rows(warehouse: DuckDBWarehouse, table: str) -> int:
    return _query(warehouse, f"SELECT count(*) FROM RAW.FORMULA1.{table.upper()}")[0][0]


def test_race_tables_grow_k_fold_and_dimensions_stay(warehouses) -> None:
    real, scaled_wh = warehouses["real"], warehouses["scaled"]
    for table in RACE_TABLES:
        assert _rows(scaled_wh, table) == FACTOR * _rows(real, table), table
    for table in DIMENSIONS:
        assert _rows(scaled_wh, table) == _rows(real, table), table
    unplayed = _query(real, f"SELECT count(*) FROM RAW.FORMULA1.RACES WHERE {_UNPLAYED}")[0][0]
    assert unplayed > 0  # the 2025 calendar: the fixture must hold a season without results
    assert _rows(scaled_wh, "races") == FACTOR * (_rows(real, "races") - unplayed) + unplayed


def test_every_race_level_row_points_at_a_race(warehouses) -> None:
    for table in RACE_TABLES:
        orphans = _query(
            warehouses["scaled"],
            f"SELECT count(*) FROM RAW.FORMULA1.{table.upper()} t "
            "ANTI JOIN RAW.FORMULA1.RACES r ON t.RACEID = r.RACEID",
        )[0][0]
        assert orphans == 0, table


# a race of a season in which no race has results
_UNPLAYED = (
    "YEAR NOT IN (SELECT r.YEAR FROM RAW.FORMULA1.RACES r "
    "SEMI JOIN RAW.FORMULA1.RESULTS USING (RACEID))"
)


def test_copies_are_new_rounds_of_the_same_seasons(warehouses) -> None:
    """Per season: the same year and dates, k x the rounds numbered 1 .. k * R without a gap;
    a season without results keeps its rounds."""
    per_season = (
        "SELECT YEAR, count(*), count(DISTINCT ROUND), min(ROUND), max(ROUND), "
        "count(DISTINCT DATE), bool_and(YEAR IN (SELECT r.YEAR FROM RAW.FORMULA1.RACES r "
        "SEMI JOIN RAW.FORMULA1.RESULTS USING (RACEID))) "
        "FROM RAW.FORMULA1.RACES GROUP BY YEAR ORDER BY YEAR"
    )
    real = _query(warehouses["real"], per_season)
    scaled_rows = _query(warehouses["scaled"], per_season)
    assert [row[0] for row in scaled_rows] == [row[0] for row in real]
    for (year, races, _, _, last, dates, played), scaled_row in zip(real, scaled_rows, strict=True):
        k = FACTOR if played else 1
        assert scaled_row[1:] == (k * races, k * races, 1, k * last, dates, played), year


def test_the_real_block_is_unchanged(warehouses, subset: Path) -> None:
    """Copy 0 is the real data, value for value, after a round trip through the CSV writer."""
    with duckdb.connect() as con:
        for name, warehouse in warehouses.items():
            con.execute(f"ATTACH '{warehouse.database_path('RAW')}' AS {name} (READ_ONLY)")
        for table in TABLES:
            where = _real_block(table)
            diff = con.execute(
                f"SELECT count(*) FROM ((SELECT * FROM scaled.FORMULA1.{table.upper()}{where}) "
                f"EXCEPT ALL (SELECT * FROM real.FORMULA1.{table.upper()}))"
            ).fetchone()[0]
            assert diff == 0, table


def _real_block(table: str) -> str:
    """The WHERE clause that keeps copy 0 (the real rows) of a scaled table."""
    if table in RACE_TABLES or table == "races":
        return " WHERE RACEID IN (SELECT RACEID FROM real.FORMULA1.RACES)"
    return ""
