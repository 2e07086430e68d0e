"""The Snowflake SQL the engine generates: raw-table DDL, `COPY INTO`, and the generated files.

`python -m f1_kedro.engines.snowflake.sql` rewrites `sql/snowflake/04_raw_tables.sql` and
`90_copy_into_raw_tables.sql` from `conf/base/parameters_ingest.yml` (a test fails if they drift).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from f1_kedro.identifiers import identifier, qualified
from f1_kedro.ingest_spec import TableSpec, column_type, table_specs


def split_statements(sql: str) -> list[str]:
    """Split a SQL script into statements, dropping `--` comments; `;` inside quotes is kept."""
    statements, current, quoted = [], [], False
    for line in sql.splitlines():
        if not quoted and line.lstrip().startswith("--"):
            continue
        for i, char in enumerate(line):
            if char == "'" and not (i and line[i - 1] == "\\"):
                quoted = not quoted
            if char == ";" and not quoted:
                statements.append("".join(current).strip())
                current = []
            else:
                current.append(char)
        current.append("\n")
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def raw_table_ddl(spec: TableSpec) -> str:
    """`CREATE TABLE IF NOT EXISTS` for one raw table, columns upper-cased."""
    return create_table_sql(spec, spec.target, if_not_exists=True)


def copy_into_sql(spec: TableSpec, table: str, stage: str, file_format: str) -> str:
    """`COPY INTO table (cols) FROM @stage FILES = ('<name>.csv')`, the columns by file position."""
    columns = ", ".join(column_sql(c) for c in spec.columns)
    # Snowflake's FILE_FORMAT takes FORMAT_NAME *or* TYPE with options, never both: races.csv
    # (next season's rows stop after the first columns) has a named format of its own.
    name = ragged_format(file_format) if spec.ragged_tail else file_format
    options = f"FORMAT_NAME = '{qualified(*name.split('.'), what='file format')}'"
    return (
        f"COPY INTO {table} ({columns})\n"
        f"  FROM {stage_reference(stage)}\n"
        f"  FILES = ('{identifier(spec.name, 'table')}.csv')\n"
        f"  FILE_FORMAT = ({options})\n"
        "  ON_ERROR = ABORT_STATEMENT\n"
        "  FORCE = TRUE"
    )


def ragged_format(file_format: str) -> str:
    """The named file format for files whose last rows are short (sql/snowflake/03 creates it)."""
    return f"{file_format}_RAGGED"


def stage_reference(stage: str) -> str:
    """`@DB.SCHEMA.STAGE` from `DB.SCHEMA.STAGE` or `@DB.SCHEMA.STAGE`, every part validated."""
    name = stage[1:] if stage.startswith("@") else stage
    parts = name.rstrip("/").split(".")
    if len(parts) != 3:
        raise ValueError(f"stage {stage!r} must be fully qualified: @DATABASE.SCHEMA.STAGE")
    return "@" + qualified(*parts, what="stage")


def generated_sql(ingest_params: Mapping[str, Any], stage: str, file_format: str) -> dict[str, str]:
    """The two generated files of sql/snowflake, from the ingest parameters (so they cannot drift).

    Regenerate with `python -m f1_kedro.engines.snowflake.sql` after changing parameters_ingest.yml.
    """
    specs = table_specs(ingest_params)
    header = (
        "-- GENERATED from conf/base/parameters_ingest.yml by\n"
        "-- `python -m f1_kedro.engines.snowflake.sql`: edit the YAML, then regenerate.\n"
    )
    tables = header + "-- The 14 raw tables, columns in the CSV files' order.\n\n"
    tables += "".join(raw_table_ddl(s) + ";\n\n" for s in specs)
    copies = header + (
        "-- The guide's manual load: run it in a worksheet after 01-05 (as LOADER or SYSADMIN).\n"
        "-- `kedro run --pipelines ingest` runs the same COPY INTO into a fresh table per file\n"
        "-- and swaps it in, so bootstrap does not run this file.\n\n"
    )
    copies += "".join(copy_into_sql(s, s.target, stage, file_format) + ";\n\n" for s in specs)
    return {
        "04_raw_tables.sql": tables.rstrip() + "\n",
        "90_copy_into_raw_tables.sql": copies.rstrip() + "\n",
    }


def create_table_sql(spec: TableSpec, table: str, if_not_exists: bool = False) -> str:
    columns = ",\n".join(f"  {column_sql(c)} {_type(t)}" for c, t in spec.columns.items())
    guard = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE TABLE {guard}{table} (\n{columns}\n)"


def column_sql(name: str) -> str:
    return identifier(name.upper(), "column")


# Snowflake's own name for a timestamp without time zone; the other types are spelled alike.
_SNOWFLAKE_TYPES = {"TIMESTAMP": "TIMESTAMP_NTZ"}


def _type(name: str) -> str:
    checked = column_type(name)  # the one list both engines know
    return _SNOWFLAKE_TYPES.get(checked, checked)


def write_generated_sql(
    project_root: Path, ingest_params: Mapping[str, Any], stage: str, file_format: str
) -> list[Path]:
    """Write the generated files into sql/snowflake; returns their paths."""
    written = []
    for name, text in generated_sql(ingest_params, stage, file_format).items():
        path = project_root / "sql" / "snowflake" / name
        path.write_text(text)
        written.append(path)
    return written


def _main(argv: Iterable[str] = ()) -> None:
    import yaml

    root = Path.cwd()
    ingest = yaml.safe_load((root / "conf/base/parameters_ingest.yml").read_text())["ingest"]
    snowflake = yaml.safe_load((root / "conf/snowflake/parameters_snowflake.yml").read_text())
    names = snowflake["snowflake"]
    for path in write_generated_sql(root, ingest, names["source_stage"], names["file_format"]):
        print(f"wrote {path.relative_to(root)}")


if __name__ == "__main__":
    _main()
