"""Grow the real F1 data k-fold within its seasons: every race of a season with results is run k
times, the copies being new rounds of the same season with fresh ids.

Copy c (0 .. k-1) of round r of a season whose last round is R becomes round c * R + r, so a
season of R rounds has k * R rounds, in k blocks that each replay the real calendar (copy 0 is
the real data, unchanged). Race dates stay the real ones: the features order races by season and
round, never by date. Every id that a table owns (raceId, resultId, qualifyId,
constructorResultsId, driverStandingsId, constructorStandingsId) gets `c * stride` added, where the
stride is the next power of ten above the largest real id, so copies never collide. Seasons,
drivers, constructors, circuits and status are shared and copied unchanged, and a season without
results (the 2025 calendar in the real data) is not copied: the next race to score stays the
real one.

Why within seasons: the model is fitted and backtested on seasons (`train.seasons`), so k x the
data must mean k x the rows in those seasons, not k x the seasons (copies as new seasons after
the real ones would sit outside every window, and after the unplayed 2025 calendar).

The work is one DuckDB `COPY (... CROSS JOIN range(k)) TO` per table: 100x (2.7M results, 11.6M
laps) takes seconds, not minutes.

    python -m bench.scale --factor 10 --out bench/.data/x10
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = (PROJECT_ROOT / ".." / "shared" / "data" / "formula1").resolve()
DEFAULT_DATA_DIR = PROJECT_ROOT / "bench" / ".data"
# Written last, naming how and how much the folder was grown: a folder without it (a partial
# write) or with another text (an older scheme) is written again.
COMPLETE = ".complete"
SCHEME = "within-seasons"

DIMENSIONS = ("circuits", "constructors", "drivers", "status", "seasons")
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
TABLES = (*DIMENSIONS, "races", *RACE_TABLES)

# The files' dialect, given explicitly: DuckDB's sniffer cannot detect races.csv on its own.
_READ = (
    "header=true, delim=',', quote='\"', escape='\"', all_varchar=true, null_padding=true, "
    "nullstr='\\N'"
)
_WRITE = "HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '\\N'"

# The races that are copied, and their season's last round: the races of every season that has
# results (a season's unplayed races are copied with it, as they are in the real data).
_COPIED_RACES = """
CREATE TABLE copied_races AS
SELECT r."raceId", max(r.round::INTEGER) OVER (PARTITION BY r.year) AS last_round
FROM src_races r
WHERE r.year IN (SELECT s.year FROM src_races s SEMI JOIN src_results USING ("raceId"))
"""


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
        con.execute(_COPIED_RACES)
        race_stride = _stride(con, "races", "raceId")
        rows["races"] = _write(con, _races_sql(race_stride), out_dir / "races.csv")
        for table, own_id in RACE_TABLES.items():
            query = _race_table_sql(con, table, own_id, race_stride)
            rows[table] = _write(con, query, out_dir / f"{table}.csv")
    finally:
        con.close()
    (out_dir / COMPLETE).write_text(_complete_text(factor))
    return rows


def _complete_text(factor: int) -> str:
    return f"{SCHEME} {factor}\n"


def _copy_dimension(source: Path, out_dir: Path, table: str) -> int:
    shutil.copyfile(source / f"{table}.csv", out_dir / f"{table}.csv")
    with open(out_dir / f"{table}.csv", "rb") as handle:
        return sum(1 for _ in handle) - 1  # no quoted newlines in the dimension tables


def _stride(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """The next power of ten above the largest id: copy c's ids are id + c * stride."""
    (largest,) = con.execute(f'SELECT max("{column}"::BIGINT) FROM src_{table}').fetchone()
    return 10 ** len(str(int(largest or 0)))


def _races_sql(stride: int) -> str:
    """Copy c of a copied race: a fresh raceId and round c * (its season's last round) + round."""
    return (
        "SELECT r.* REPLACE ("
        f'(r."raceId"::BIGINT + copies.c * {stride})::VARCHAR AS "raceId", '
        "(copies.c * coalesce(copied.last_round, 0) + r.round::INTEGER)::VARCHAR AS round) "
        'FROM src_races r LEFT JOIN copied_races copied USING ("raceId") CROSS JOIN copies '
        'WHERE copies.c = 0 OR copied."raceId" IS NOT NULL'
    )


def _race_table_sql(
    con: duckdb.DuckDBPyConnection, table: str, own_id: str | None, race_stride: int
) -> str:
    replaced = [f'(t."raceId"::BIGINT + copies.c * {race_stride})::VARCHAR AS "raceId"']
    if own_id is not None:
        stride = _stride(con, table, own_id)
        replaced.append(f'(t."{own_id}"::BIGINT + copies.c * {stride})::VARCHAR AS "{own_id}"')
    return (
        f"SELECT t.* REPLACE ({', '.join(replaced)}) FROM src_{table} t CROSS JOIN copies "
        'WHERE copies.c = 0 OR t."raceId" IN (SELECT "raceId" FROM copied_races)'
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
    marker = out_dir / COMPLETE
    if not marker.exists() or marker.read_text() != _complete_text(factor):
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
