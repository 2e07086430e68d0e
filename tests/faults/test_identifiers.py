"""SQL identifiers from configuration: a name with `; DROP ...` is refused wherever config reaches
SQL (ingest, bootstrap, table datasets), before any statement runs, and the warehouse is unchanged.

The checks themselves are `f1_kedro.identifiers`; these tests drive real runs with poisoned
parameters and catalog entries and compare the warehouse before and after.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from kedro.io import DatasetError

from f1_kedro.engines.duckdb import DuckDBTableDataset, DuckDBWarehouseDataset
from f1_kedro.identifiers import InvalidIdentifierError
from f1_kedro.tables import BuiltTable
from tests.support import fingerprints, run_kedro, warehouse_files

DROP = "FORMULA1; DROP TABLE RAW.FORMULA1.STATUS; --"
STATUS_COLUMNS = {"statusId": "INTEGER", "status": "VARCHAR"}


def schemas(project: Path) -> dict[str, set[str]]:
    found = {}
    for name, path in warehouse_files(project).items():
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()
        found[name] = {r[0] for r in rows}
    return found


@pytest.mark.parametrize(
    ("pipeline", "params", "message"),
    [
        ("ingest", {"ingest.raw_database": "RAW; DROP SCHEMA RAW.FORMULA1 CASCADE"}, "database"),
        ("ingest", {"ingest.raw_schema": DROP}, "schema"),
        (
            "ingest",
            {"ingest.tables": {"status; DROP TABLE x": {"columns": STATUS_COLUMNS}}},
            "table",
        ),
        (
            "ingest",
            {
                "ingest.tables.status.columns": {
                    **STATUS_COLUMNS,
                    'x" INT); DROP TABLE y; --': "INTEGER",
                }
            },
            "ingest.tables.status.columns",
        ),
        (
            "ingest",
            {"ingest.tables.status.columns.status": "VARCHAR); DROP TABLE RAW.FORMULA1.STATUS; --"},
            "unknown column type",
        ),
        ("bootstrap", {"bootstrap.databases": {"RAW": [DROP]}}, "bootstrap.databases.RAW"),
        ("bootstrap", {"bootstrap.databases": {"RAW; DROP": ["FORMULA1"]}}, "database"),
        ("bootstrap", {"bootstrap.stage": "FORMULA1.ML./outside"}, "stage"),  # an absolute path
    ],
    ids=[
        "ingest-raw-database",
        "ingest-raw-schema",
        "ingest-table-name",
        "ingest-column-name",
        "ingest-column-type",
        "bootstrap-schema",
        "bootstrap-database",
        "bootstrap-stage-path",
    ],
)
def test_poisoned_parameter_is_refused_before_any_sql(
    project: Path,
    loaded_warehouse: Path,
    season_2024: Path,
    pipeline: str,
    params: dict[str, Any],
    message: str,
) -> None:
    shutil.copytree(loaded_warehouse, project / "data", dirs_exist_ok=True)
    before = fingerprints(project), schemas(project)
    with pytest.raises(ValueError, match=f"{message}.*(not a plain SQL identifier|use one of)"):
        run_kedro(project, pipeline, params={"ingest.source_uri": str(season_2024), **params})
    assert (fingerprints(project), schemas(project)) == before
    assert not (project.parent / "outside").exists()


@pytest.mark.parametrize(
    "entry",
    [
        {"table": "FORMULA1.ML.FEATURES; DROP TABLE FORMULA1.ML.FEATURES"},
        {"table": "FORMULA1.ML.FEATURES", "databases": ["RAW", "FORMULA1; DROP"]},
    ],
    ids=["table-name", "attached-database"],
)
def test_poisoned_catalog_table_entry_is_refused_when_the_catalog_is_read(
    project: Path, loaded_warehouse: Path, entry: dict[str, Any]
) -> None:
    shutil.copytree(loaded_warehouse, project / "data", dirs_exist_ok=True)
    before = fingerprints(project)
    catalog = {"model_input_table": {"type": "f1_kedro.engines.duckdb.DuckDBTableDataset", **entry}}
    (project / "conf/local/catalog_faults.yml").write_text(yaml.safe_dump(catalog))
    # Kedro wraps a dataset's constructor error in a DatasetError naming the entry
    with pytest.raises(DatasetError, match="not a plain SQL identifier") as error:
        run_kedro(project, "train")
    assert isinstance(error.value.__cause__, InvalidIdentifierError)
    assert "dataset 'model_input_table'" in str(error.value)
    assert fingerprints(project) == before


def test_table_names_that_nodes_return_never_reach_sql(tmp_path: Path) -> None:
    """features.feature_table and score.predictions_table come back as BuiltTable: compared with
    the catalog's (checked) name, never executed."""
    dataset = DuckDBTableDataset(table="FORMULA1.ML.FEATURES", directory=str(tmp_path))
    with pytest.raises(Exception, match="catalog entry is FORMULA1.ML.FEATURES"):
        dataset.save(BuiltTable("FORMULA1.ML.FEATURES; DROP TABLE FORMULA1.ML.FEATURES"))
    with pytest.raises(InvalidIdentifierError):
        DuckDBWarehouseDataset(directory=str(tmp_path), databases=["RAW", "X' AS Y; --"])


def test_model_name_that_would_leave_the_stage_folder_is_refused(tmp_path: Path) -> None:
    """register.model_name becomes a stage folder (and an MLflow name): `..` must not escape."""
    from f1_kedro.engines.duckdb import LocalStage

    stage = LocalStage(tmp_path / "ml_stage", "ML_STAGE")
    with pytest.raises(InvalidIdentifierError, match="model name"):
        stage.write("../../escaped", 1, {"manifest.json": b"{}"})
    assert not (tmp_path / "escaped").exists()
    assert not list(tmp_path.rglob("manifest.json"))


def test_a_column_type_is_one_both_engines_know_or_refused() -> None:
    from f1_kedro.ingest_spec import COLUMN_TYPES, column_type

    assert column_type("integer") == "INTEGER"
    assert {column_type(t) for t in COLUMN_TYPES} == COLUMN_TYPES
    for bad in ("VARCHAR); DROP TABLE RAW.FORMULA1.STATUS; --", "TEXT", 3):
        with pytest.raises(ValueError, match="unknown column type"):
            column_type(bad)
