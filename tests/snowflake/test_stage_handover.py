"""Issue 18, defect 6: under `--env snowflake` no stage hands the next one a file on local disk.

`kedro run --env snowflake --pipeline=train`, `--pipeline=register` and `--pipeline=score` must work
as three processes on three machines, so whatever one pipeline writes and another reads lives in
Snowflake: a table, the registry, or a file on the ML stage (`SnowflakeStageDataset`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from kedro.io import DatasetError

from f1_kedro.engines.snowflake.datasets import SnowflakeStageDataset

# Datasets that hold nothing on local disk or in the process (a MemoryDataset handed over would
# be lost between `kedro run --pipelines <stage>` processes).
IN_SNOWFLAKE = {
    "SnowflakeStageDataset",
    "SnowflakeTableDataset",
    "SnowflakeWarehouseDataset",
    "SnowflakeRegistryDataset",
    "DbtProjectDataset",
}


def test_what_one_pipeline_hands_another_lives_in_snowflake(project: Path, monkeypatch) -> None:
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    for name in [n for n in os.environ if n.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(name)
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="snowflake") as session:
        catalog = session.load_context().catalog
    stages = {n: p for n, p in pipelines.items() if n != "__default__"}
    handed_over = {
        dataset
        for writer, pipeline in stages.items()
        for dataset in pipeline.all_outputs()
        if any(dataset in other.inputs() for name, other in stages.items() if name != writer)
    }
    # the artefacts the issue names are among them
    assert {"trained_model", "registered_model", "ingest_report"} <= handed_over
    kinds = {name: type(catalog.get(name)).__name__ for name in sorted(handed_over)}
    on_disk = {name: kind for name, kind in kinds.items() if kind not in IN_SNOWFLAKE}
    assert not on_disk, f"handed over through local disk or memory under --env snowflake: {on_disk}"


def test_stage_file_round_trip(local_session: Any) -> None:
    """JSON and joblib files on a stage (Snowpark local testing emulates PUT/GET streams)."""
    document = SnowflakeStageDataset(
        location="@FORMULA1.ML.ML_STAGE/kedro/train/metrics.json", session=local_session
    )
    assert not document._exists()
    document.save({"model": {"accuracy": 0.7}})
    document.save({"model": {"accuracy": 0.8}})  # a later run replaces the file
    assert document.load() == {"model": {"accuracy": 0.8}}
    pickled = SnowflakeStageDataset(
        location="@FORMULA1.ML.ML_STAGE/kedro/train/model.joblib",
        format="joblib",
        session=local_session,
    )
    pickled.save({"weights": [1.0, 2.0]})
    assert pickled.load() == {"weights": [1.0, 2.0]} and pickled._exists()


def test_missing_stage_file_names_the_path(local_session: Any) -> None:
    dataset = SnowflakeStageDataset(
        location="@FORMULA1.ML.ML_STAGE/kedro/register/registered_model.json",
        session=local_session,
    )
    with pytest.raises(DatasetError, match="registered_model.json"):
        dataset.load()


@pytest.mark.parametrize(
    "filepath",
    [
        "@FORMULA1.ML.ML_STAGE",  # no file
        "@FORMULA1.ML/kedro/x.json",  # stage not fully qualified
        "@FORMULA1.ML.ML_STAGE/../x.json",
        "@FORMULA1.ML.ML_STAGE/kedro/x.json; DROP TABLE X",
    ],
)
def test_stage_paths_are_validated(filepath: str) -> None:
    with pytest.raises((DatasetError, ValueError)):
        SnowflakeStageDataset(location=filepath)
