"""Score nodes on small frames, and the pipeline's place in `kedro run`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pytest

from f1_kedro.pipeline_registry import register_pipelines
from f1_kedro.pipelines.score.nodes import (
    build_predictions,
    normalise_seasons,
    summarise_predictions,
)
from f1_kedro.tables import BuiltTable

PARAMS = {"seasons": None, "select": ["predictions"], "vars": {}, "predictions_table": "ML.P"}


class RecordingDbt:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def build(
        self,
        select: Sequence[str],
        vars: Mapping[str, Any] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        self.calls.append({"select": list(select), "vars": dict(vars or {})})
        return {"counts": {"pass": 1, "success": 1}, "seconds": 1.0}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ([], []),
        (2023, [2023]),
        ("2023", [2023]),
        ([2024, 2023], [2023, 2024]),
        ("2022-2024", [2022, 2023, 2024]),
        (["2022 2024"], [2022, 2024]),  # what `--params=score.seasons=[2022 2024]` gives
    ],
)
def test_seasons_are_normalised(value: Any, expected: list[int]) -> None:
    assert normalise_seasons(value) == expected


@pytest.mark.parametrize("value", ["last", "2024-2022", [True], [20.5]])
def test_bad_seasons_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="score.seasons"):
        normalise_seasons(value)


def test_build_passes_seasons_and_model_name_to_dbt() -> None:
    dbt = RecordingDbt()
    built, report = build_predictions(
        dbt, {"model_name": "m1"}, {**PARAMS, "seasons": [2023], "vars": {"ml_stage_dir": "s"}}
    )

    assert built == BuiltTable("ML.P")
    assert dbt.calls == [
        {
            "select": ["predictions"],
            "vars": {"ml_stage_dir": "s", "score_seasons": [2023], "registry_model_name": "m1"},
        }
    ]
    assert report["seasons_requested"] == [2023]


PREDICTIONS = pd.DataFrame(
    {
        "RACE_ID": [1, 1, 2],
        "DRIVER_ID": [7, 8, 7],
        "PREDICTED_LABEL": [0, 2, 1],
        "MODEL_NAME": "m",
        "MODEL_VERSION": "4",
        "SCORED_AT": pd.Timestamp("2026-11-27 12:00:00"),
    }
)
FEATURES = pd.DataFrame(
    {
        "RACE_ID": [1, 1, 2, 3],
        "DRIVER_ID": [7, 8, 7, 7],
        "SEASON": [2023, 2023, 2023, 2022],
        "LABEL": [0, 1, 1, 2],
    }
)


@pytest.mark.parametrize("engine", ["pandas", "snowpark"])
def test_summary_counts_rows_and_accuracy_of_the_scored_seasons(engine: str) -> None:
    predictions, features = PREDICTIONS, FEATURES
    if engine == "snowpark":  # the same node code on Snowpark frames (local testing)
        from snowflake.snowpark import Session

        session = Session.builder.config("local_testing", True).create()
        predictions, features = (session.create_dataframe(f) for f in (PREDICTIONS, FEATURES))

    summary = summarise_predictions(predictions, features, {"seconds": 2.0, "counts": {}})

    assert summary["seasons"] == [2023]
    assert (summary["rows"], summary["races"], summary["rows_with_results"]) == (3, 2, 3)
    assert summary["accuracy"] == pytest.approx(2 / 3)
    assert summary["model_version"] == "4"
    assert summary["predicted_label_counts"] == {"podium": 1, "points": 1, "no_points": 1}


def test_kedro_run_scores_last() -> None:
    from kedro.framework.project import configure_project

    configure_project("f1_kedro")
    pipelines = register_pipelines()
    names = [n.name for n in pipelines["__default__"].nodes]

    assert names[-2:] == ["build_predictions_node", "summarise_predictions_node"]
    assert names.index("register_model_node") < names.index("build_predictions_node")
