"""The features node and the dbt runner's plumbing, without running dbt (fast)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from f1_kedro import dbt_runner
from f1_kedro.dbt_runner import DbtBuildError, DbtProject
from f1_kedro.pipelines.features.nodes import build_features
from f1_kedro.tables import BuiltTable

PARAMS = {
    "select": ["f1_formula1"],
    "exclude": ["file:*.py+"],
    "vars": {"form_window": 5},
    "feature_table": "FORMULA1.ML.FEATURES",
}
FAILED_TEST_MESSAGE = "Got 3 results, configured to fail if != 0"


class FakeDbt:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def build(
        self,
        select: Sequence[str],
        vars: Mapping[str, Any] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        self.calls.append({"select": select, "vars": vars, "exclude": exclude})
        return {"counts": {"pass": 3, "success": 2}}


def test_node_builds_the_selection_and_returns_the_built_table() -> None:
    fake = FakeDbt()
    table, report = build_features(fake, {"source": "/data/f1"}, PARAMS)
    assert table == BuiltTable("FORMULA1.ML.FEATURES")
    assert fake.calls == [
        {"select": ["f1_formula1"], "vars": {"form_window": 5}, "exclude": ["file:*.py+"]}
    ]
    assert report["raw_source"] == "/data/f1"


def _result(node: str, status: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(
        node=SimpleNamespace(unique_id=node),
        status=status,
        execution_time=0.1,
        message=message,
        failures=1,
    )


def test_build_passes_args_and_raises_with_dbt_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def invoke(args: list[str]) -> SimpleNamespace:
        seen.append(args)
        results = [
            _result("model.f1_formula1.stg_status", "success", "OK"),
            _result("test.f1_formula1.assert_x", "fail", FAILED_TEST_MESSAGE),
        ]
        execution = SimpleNamespace(results=results)
        return SimpleNamespace(success=False, exception=None, result=execution)

    monkeypatch.setattr(dbt_runner, "_invoke", invoke)
    project = DbtProject(target="snowflake", vars={"form_window": 5})
    with pytest.raises(DbtBuildError, match="assert_x .fail.: Got 3 results") as err:
        project.build(["stg_status"], vars={"include_post_race_features": True}, exclude=["x"])
    assert err.value.failures[0]["node"] == "test.f1_formula1.assert_x"
    args = seen[0]
    assert args[:4] == ["build", "--no-use-colors", "--project-dir", "dbt"]
    assert args[args.index("--target") + 1] == "snowflake"
    assert args[args.index("--select") + 1] == "stg_status"
    assert args[args.index("--exclude") + 1] == "x"
    assert '"include_post_race_features": true' in args[args.index("--vars") + 1]
    assert '"form_window": 5' in args[args.index("--vars") + 1]
