"""The features node and the dbt runner's plumbing, without running dbt (fast)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from f1_kedro import dbt_project
from f1_kedro.dbt_project import DbtBuildError, DbtProject
from f1_kedro.pipelines.features.nodes import build_features
from f1_kedro.tables import BuiltTable
from tests.support import FakeDbt

PARAMS = {
    "select": ["f1_formula1"],
    "exclude": ["file:*.py+"],
    "vars": {"form_window": 5},
    "feature_table": "FORMULA1.ML.FEATURES",
}
FAILED_TEST_MESSAGE = "Got 3 results, configured to fail if != 0"


def test_node_builds_the_selection_and_returns_the_built_table() -> None:
    fake = FakeDbt()
    table, report = build_features(fake, {"source": "/data/f1"}, PARAMS)
    assert table == BuiltTable("FORMULA1.ML.FEATURES")
    assert fake.calls == [
        {
            "select": ["f1_formula1"],
            "vars": {"form_window": 5},
            "exclude": ["file:*.py+"],
            "env": {},
        }
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


def _parsed(args: list[str]) -> SimpleNamespace:
    return SimpleNamespace(success=True, exception=None, result=f"manifest {args[-1]}")


def test_build_passes_args_and_raises_with_dbt_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def invoke(args: list[str], manifest: object = None) -> SimpleNamespace:
        if args[0] == "parse":
            return _parsed(args)
        seen.append(args)
        results = [
            _result("model.f1_formula1.stg_status", "success", "OK"),
            _result("test.f1_formula1.assert_x", "fail", FAILED_TEST_MESSAGE),
        ]
        execution = SimpleNamespace(results=results)
        return SimpleNamespace(success=False, exception=None, result=execution)

    monkeypatch.setattr(dbt_project, "_invoke", invoke)
    project = DbtProject(target="snowflake", vars={"form_window": 5})
    with pytest.raises(DbtBuildError, match="assert_x .fail.: Got 3 results") as err:
        project.build(["stg_status"], vars={"include_post_race_features": True}, exclude=["x"])
    assert err.value.failures[0]["node"] == "test.f1_formula1.assert_x"
    args = seen[0]
    assert args[:4] == ["build", "--no-use-colors", "--project-dir", "dbt"]
    assert args[args.index("--target") + 1] == "snowflake"
    assert args[args.index("--select") + 1] == "stg_status"
    assert args[args.index("--exclude") + 1] == "x"
    assert "--no-write-json" in args  # the parse writes the manifest; the report has the results
    assert '"include_post_race_features": true' in args[args.index("--vars") + 1]
    assert '"form_window": 5' in args[args.index("--vars") + 1]


def test_dbt_parses_once_per_vars_and_env_and_keeps_a_state_per_their_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The features layers share one parse; the score build (its request in env) parses into its
    own target path, once per request, so neither invalidates the other's partial-parse state;
    other var names (a features override) get a third."""
    calls: list[tuple[list[str], object, str | None]] = []

    def invoke(args: list[str], manifest: object = None) -> SimpleNamespace:
        calls.append((args, manifest, os.environ.get("F1_SCORE_RACES")))
        if args[0] == "parse":
            return SimpleNamespace(success=True, exception=None, result=f"manifest {len(calls)}")
        return SimpleNamespace(success=True, exception=None, result=SimpleNamespace(results=[]))

    monkeypatch.setattr(dbt_project, "_invoke", invoke)
    monkeypatch.delenv("F1_SCORE_RACES", raising=False)
    project = DbtProject()
    for layer in ("staging", "marts"):
        project.build([f"path:models/{layer}"])
    project.build(["predictions"], env={"F1_SCORE_RACES": "[1121]"})
    project.build(["predictions"], env={"F1_SCORE_RACES": "[1122]"})
    project.build(["path:models/staging"], vars={"form_window": 3})

    def target_path(args: list[str]) -> str:
        return args[args.index("--target-path") + 1]

    parses = [(args, env) for args, _, env in calls if args[0] == "parse"]
    builds = [(args, manifest, env) for args, manifest, env in calls if args[0] == "build"]
    assert len(parses) == 4  # features once; score once per request; the override once
    assert [env for _, env in parses] == [None, "[1121]", "[1122]", None]  # parsed as built
    assert [env for _, _, env in builds] == [None, None, "[1121]", "[1122]", None]
    assert builds[0][1] == builds[1][1] == "manifest 1"  # one parse, reused
    assert builds[2][1] == "manifest 4" and builds[3][1] == "manifest 6"  # each its own
    assert "--vars" not in builds[2][0]  # the request is no var: no full parse when it changes
    assert all("--no-write-json" not in args for args, _ in parses)  # target/*/manifest.json
    paths = [target_path(args) for args, _, _ in builds]
    assert paths[0].startswith("target/kedro-duckdb-")
    assert paths[0] == paths[1] != paths[2] == paths[3] != paths[4] != paths[0]
    assert os.environ.get("F1_SCORE_RACES") is None  # set for the build only


def _node(uid: str, layer: str, parents: list[str], database: str = "FORMULA1") -> dict:
    name = uid.rsplit(".", 1)[1]
    return {
        "resource_type": "model",
        "package_name": "f1_formula1",
        "language": "sql",
        "fqn": ["f1_formula1", layer, name],
        "database": database,
        "schema": layer.upper(),
        "name": name,
        "depends_on": {"nodes": parents},
    }


def test_the_layer_that_reads_sources_waits_for_ingest_whatever_their_database() -> None:
    """Sources are what ingest loads, under any database name (the smoke's renamed F1_SMOKE_*_RAW
    as well as RAW): the layer reading them, and only it, waits for ingest_report."""
    from f1_kedro.dbt_layers import layers

    source = "source.f1_formula1.f1.results"
    manifest = {
        "metadata": {"project_name": "f1_formula1"},
        "sources": {
            source: {"database": "F1_SMOKE_X_RAW", "schema": "FORMULA1", "name": "results"}
        },
        "nodes": {
            "model.f1_formula1.stg_results": _node(
                "model.f1_formula1.stg_results", "staging", [source]
            ),
            "model.f1_formula1.fct": _node(
                "model.f1_formula1.fct", "marts", ["model.f1_formula1.stg_results"]
            ),
        },
    }
    staging, marts = layers(manifest)
    assert (staging.name, staging.reads_sources) == ("staging", True)
    assert staging.inputs == ("F1_SMOKE_X_RAW.FORMULA1.RESULTS",)
    assert (marts.name, marts.reads_sources) == ("marts", False)


def test_the_features_pipeline_runs_the_source_layer_after_ingest() -> None:
    from f1_kedro.pipelines.features import create_pipeline

    waiting = {n.name for n in create_pipeline().nodes if "ingest_report" in n.inputs}
    assert waiting == {"dbt_staging_node", "summarise_dbt_build_node"}
