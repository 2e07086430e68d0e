"""Grow the real F1 data k-fold: copies of the real seasons become new seasons with fresh ids.

Copy c (1 .. k-1) of every season that has results is shifted to a new block of years after the
last year in `races.csv` (2025 on the real data), so copy 1 is 2026-2100, copy 2 2101-2175, ...;
race dates move with their year. Every id that a table owns (raceId, resultId, qualifyId,
constructorResultsId, driverStandingsId, constructorStandingsId) gets `c * stride` added, where the
stride is the next power of ten above the largest real id, so copies never collide. Drivers,
constructors, circuits and status are shared dimensions and are copied unchanged.

The work is one DuckDB `COPY (... CROSS JOIN range(k)) TO` per table: 100x (2.7M results, 11.6M
laps) takes seconds, not minutes.

    python -m bench.scale --factor 10 --out bench/.data/x10
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = (PROJECT_ROOT / ".." / "shared" / "data" / "formula1").resolve()
DEFAULT_DATA_DIR = PROJECT_ROOT / "bench" / ".data"
COMPLETE = ".complete"  # written last: a folder without it is a partial write

DIMENSIONS = ("circuits", "constructors", "drivers", "status")
# Race-level tables and the id column each one owns (None: the key is raceId + other columns).
RACE_TABLES: dict[str, str | None] = {
    "results": "resultId",
    "sprint_results": "resultId",
    "qualifying": "qualifyId",
    "constructor_results": "constructorResultsId",
    "constructor_standings": "constructorStandingsId",
    "driver_standings": "driverStandingsId",
    "lap_times": None,
    "pit_stops": None,
}
RACE_DATE_COLUMNS = ("date", "fp1_date", "fp2_date", "fp3_date", "quali_date", "sprint_date")
TABLES = (*DIMENSIONS, "seasons", "races", *RACE_TABLES)

# The files' dialect, given explicitly: DuckDB's sniffer cannot detect races.csv on its own.
_READ = (
    "header=true, delim=',', quote='\"', escape='\"', all_varchar=true, null_padding=true, "
    "nullstr='\\N'"
)
_WRITE = "HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '\\N'"


@dataclass(frozen=True)
class Seasons:
    """The real seasons that have results, and where copy c of them lands."""

    first: int
    last: int
    last_listed: int  # the last year in races.csv (a calendar without results may follow `last`)

    @property
    def span(self) -> int:
        return self.last - self.first + 1

    def offset_sql(self, copy: str) -> str:
        """SQL for the year shift of copy number `copy` (a column, 0 = the real data)."""
        start = self.last_listed + 1 - self.first
        return f"(CASE WHEN {copy} = 0 THEN 0 ELSE {start} + ({copy} - 1) * {self.span} END)"


def scale(factor: int, out_dir: Path, source: Path = REAL_DATA) -> dict[str, int]:
    """Write `factor` x the real data as Ergast CSVs into `out_dir`; return rows per table."""
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / COMPLETE).unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        rows = {table: _copy_dimension(source, out_dir, table) for table in DIMENSIONS}
        for table in TABLES:
            path = _sql_string(source / f"{table}.csv")
            con.execute(f"CREATE VIEW src_{table} AS SELECT * FROM read_csv('{path}', {_READ})")
        con.execute(f"CREATE TABLE copies AS SELECT range AS c FROM range({factor})")
        seasons = _seasons(con)
        rows["seasons"] = _write(con, _seasons_sql(seasons), out_dir / "seasons.csv")
        rows["races"] = _write(con, _races_sql(con, seasons), out_dir / "races.csv")
        race_stride = _stride(con, "races", "raceId")
        for table, own_id in RACE_TABLES.items():
            query = _race_table_sql(con, table, own_id, race_stride, seasons)
            rows[table] = _write(con, query, out_dir / f"{table}.csv")
    finally:
        con.close()
    (out_dir / COMPLETE).write_text(f"{factor}\n")
    return rows


def _copy_dimension(source: Path, out_dir: Path, table: str) -> int:
    shutil.copyfile(source / f"{table}.csv", out_dir / f"{table}.csv")
    with open(out_dir / f"{table}.csv", "rb") as handle:
        return sum(1 for _ in handle) - 1  # no quoted newlines in the dimension tables


def _seasons(con: duckdb.DuckDBPyConnection) -> Seasons:
    first, last = con.execute(
        "SELECT min(r.year::INTEGER), max(r.year::INTEGER) FROM src_races r "
        "WHERE r.raceId IN (SELECT raceId FROM src_results)"
    ).fetchone()
    (last_listed,) = con.execute("SELECT max(year::INTEGER) FROM src_races").fetchone()
    return Seasons(first=int(first), last=int(last), last_listed=int(last_listed))


def _stride(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """The next power of ten above the largest id: copy c's ids are id + c * stride."""
    (largest,) = con.execute(f'SELECT max("{column}"::BIGINT) FROM src_{table}').fetchone()
    return 10 ** len(str(int(largest or 0)))


def _seasons_sql(seasons: Seasons) -> str:
    shift = seasons.offset_sql("c")
    return (
        f"SELECT * EXCLUDE (c) REPLACE ((year::INTEGER + {shift})::VARCHAR AS year) "
        f"FROM src_seasons CROSS JOIN copies "
        f"WHERE c = 0 OR year::INTEGER BETWEEN {seasons.first} AND {seasons.last} "
    )


def _races_sql(con: duckdb.DuckDBPyConnection, seasons: Seasons) -> str:
    shift = seasons.offset_sql("c")
    stride = _stride(con, "races", "raceId")
    dates = [
        f'strftime("{col}"::DATE + to_years({shift}::INTEGER), \'%Y-%m-%d\') AS "{col}"'
        for col in RACE_DATE_COLUMNS
    ]
    replaced = ", ".join(
        [
            f'("raceId"::BIGINT + c * {stride})::VARCHAR AS "raceId"',
            f"(year::INTEGER + {shift})::VARCHAR AS year",
            *dates,
        ]
    )
    return (
        f"SELECT * EXCLUDE (c) REPLACE ({replaced}) FROM src_races CROSS JOIN copies "
        f"WHERE c = 0 OR year::INTEGER BETWEEN {seasons.first} AND {seasons.last} "
    )


def _race_table_sql(
    con: duckdb.DuckDBPyConnection,
    table: str,
    own_id: str | None,
    race_stride: int,
    seasons: Seasons,
) -> str:
    replaced = [f'("raceId"::BIGINT + c * {race_stride})::VARCHAR AS "raceId"']
    if own_id is not None:
        stride = _stride(con, table, own_id)
        replaced.append(f'("{own_id}"::BIGINT + c * {stride})::VARCHAR AS "{own_id}"')
    return (
        f"SELECT * EXCLUDE (c) REPLACE ({', '.join(replaced)}) FROM src_{table} CROSS JOIN copies "
        f'WHERE c = 0 OR "raceId" IN (SELECT "raceId" FROM src_races '
        f"WHERE year::INTEGER BETWEEN {seasons.first} AND {seasons.last}) "
    )


def _write(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """COPY the query's rows to a CSV file; DuckDB answers with the number of rows written."""
    (rows,) = con.execute(f"COPY ({query}) TO '{_sql_string(path)}' ({_WRITE})").fetchone()
    return int(rows)


def _sql_string(value: object) -> str:
    return str(value).replace("'", "''")


def ensure_scaled(factor: int, data_dir: Path = DEFAULT_DATA_DIR) -> Path:
    """The folder of `factor` x the real data, written once and reused (1x is the real folder)."""
    if factor == 1:
        return REAL_DATA
    out_dir = data_dir / f"x{factor}"
    if not (out_dir / COMPLETE).exists():
        scale(factor, out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=10, help="k: copies of the real data (10)")
    parser.add_argument("--out", type=Path, help="output folder (default bench/.data/x<k>)")
    parser.add_argument("--source", type=Path, default=REAL_DATA, help="the real Ergast CSVs")
    args = parser.parse_args(argv)
    out_dir = args.out or DEFAULT_DATA_DIR / f"x{args.factor}"
    started = time.perf_counter()
    rows = scale(args.factor, out_dir, args.source)
    seconds = time.perf_counter() - started
    for table, count in rows.items():
        print(f"{table:<24}{count:>12,}")
    print(f"{args.factor}x written to {out_dir} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
