"""`kedro viz build`: every pipeline and every catalog dataset is in the viz data, with its layer.

The viz data is what the kedro-viz page draws: `build/api/main` (nodes, edges, layers, pipelines)
and `build/api/nodes/<id>` (a dataset's type and preview type).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

# Kedro's data layers, in the order kedro-viz draws them top to bottom; dbt's layers (the schemas
# FORMULA1.STAGING, INTERMEDIATE, MARTS) sit between raw and the feature table.
LAYERS = (
    "raw",
    "staging",
    "intermediate",
    "marts",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
)
# Handles that nodes call (a warehouse, a dbt project, a registry): no data layer of their own.
RESOURCE_TYPES = ("DuckDBWarehouseDataset", "DbtProjectDataset", "MlflowRegistryDataset")
# What the kedro-viz side panel renders, by dataset class.
PREVIEW_TYPES = {
    "DuckDBTableDataset": "TablePreview",
    "BuiltTableDataset": "TablePreview",
    "JSONDataset": "JSONPreview",
    "MatplotlibDataset": "ImagePreview",
}


@pytest.fixture(scope="module")
def registered(viz_project: Path) -> dict[str, Any]:
    """The project's own view: registered pipelines and catalog entries (base + local)."""
    from kedro.config import OmegaConfigLoader
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project
    from kedro.io.catalog_config_resolver import CatalogConfigResolver

    bootstrap_project(viz_project)
    loader = OmegaConfigLoader(
        conf_source=str(viz_project / "conf"), base_env="base", default_run_env="local"
    )
    # entries, and the datasets of the pipelines that a factory pattern ("{name}_plot") makes
    config = loader["catalog"]
    catalog = {k: v for k, v in config.items() if not k.startswith("_") and "{" not in k}
    resolver = CatalogConfigResolver(config)
    used = set().union(*(p.datasets() for p in pipelines.values()))
    for name in sorted(used - set(catalog)):
        if resolver.match_dataset_pattern(name):
            catalog[name] = resolver.resolve_pattern(name)
    return {"pipelines": dict(pipelines), "catalog": catalog}


@pytest.fixture(scope="module")
def main(viz_build: Path) -> dict[str, Any]:
    return json.loads((viz_build / "api" / "main").read_text())


def _data_nodes(main: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in main["nodes"] if n["type"] == "data"}


def test_every_registered_pipeline_is_in_the_viz(
    main: dict[str, Any], registered: dict[str, Any], viz_build: Path
) -> None:
    assert {p["id"] for p in main["pipelines"]} == set(registered["pipelines"])
    for name, pipeline in registered["pipelines"].items():
        view = json.loads((viz_build / "api" / "pipelines" / name).read_text())
        tasks = {n["name"] for n in view["nodes"] if n["type"] == "task"}
        assert tasks == {node.name for node in pipeline.nodes}, name
    # the stages this users look for (score once it exists)
    assert {"bootstrap", "ingest", "features", "train"} <= set(registered["pipelines"])


def test_every_catalog_dataset_is_in_the_viz_with_a_layer(
    main: dict[str, Any], registered: dict[str, Any]
) -> None:
    data = _data_nodes(main)
    used = set().union(*(p.datasets() for p in registered["pipelines"].values()))
    catalog = registered["catalog"]
    assert not set(catalog) - used, "catalog entries no pipeline uses (dead config)"
    missing = set(catalog) - set(data)
    assert not missing, f"catalog entries kedro-viz does not show: {sorted(missing)}"
    unlayered = sorted(
        name
        for name, entry in catalog.items()
        if entry["type"] != "MemoryDataset"
        and not entry["type"].endswith(RESOURCE_TYPES)
        and data[name].get("layer") not in LAYERS
    )
    assert not unlayered, (
        f"datasets without a kedro-viz layer (one of {LAYERS}): {unlayered}; add "
        "`metadata: {kedro-viz: {layer: ...}}` to their catalog entries"
    )


def test_layers_are_drawn_in_order(main: dict[str, Any]) -> None:
    # kedro-viz switches layers off (an empty list) when the layers of the datasets form a cycle,
    # e.g. a `reporting` dataset that feeds a node writing `models`: name every such step.
    backward = _backward_steps(main)
    assert main["layers"] and not backward, (
        f"kedro-viz draws layers {main['layers']}; nodes that write an earlier layer than they "
        f"read: {backward}"
    )
    assert set(main["layers"]) <= set(LAYERS), main["layers"]
    assert list(main["layers"]) == sorted(main["layers"], key=LAYERS.index)
    # no `models` layer: the fitted parts stay in memory until the trained unit (model_output)
    assert {"raw", "model_input", "model_output", "reporting"} <= set(main["layers"])


def _backward_steps(main: dict[str, Any]) -> list[str]:
    by_id = {n["id"]: n for n in main["nodes"]}
    steps = []
    for node in (n for n in main["nodes"] if n["type"] == "task"):
        ins = [by_id[e["source"]] for e in main["edges"] if e["target"] == node["id"]]
        outs = [by_id[e["target"]] for e in main["edges"] if e["source"] == node["id"]]
        for i in (n for n in ins if n.get("layer") in LAYERS):
            for o in (n for n in outs if n.get("layer") in LAYERS):
                if LAYERS.index(o["layer"]) < LAYERS.index(i["layer"]):
                    step = f"{i['name']} ({i['layer']}) -> {node['name']}"
                    steps.append(f"{step} -> {o['name']} ({o['layer']})")
    return steps


def test_node_names_are_readable(main: dict[str, Any]) -> None:
    # Kedro's default name is the function's repr with its inputs and outputs.
    names = [n["name"] for n in main["nodes"] if n["type"] == "task"]
    unreadable = [n for n in names if not re.fullmatch(r"[a-z][a-z0-9_]*_node", n)]
    assert not unreadable, unreadable


def test_dbt_nodes_sit_between_their_inputs_and_the_tables_they_build(
    main: dict[str, Any],
) -> None:
    by_id = {n["id"]: n for n in main["nodes"]}
    dbt_project = next(n for n in main["nodes"] if n["name"] == "dbt_project")
    dbt_nodes = [by_id[e["target"]] for e in main["edges"] if e["source"] == dbt_project["id"]]
    built: dict[str, set[str]] = {}
    for node in dbt_nodes:
        inputs = [by_id[e["source"]] for e in main["edges"] if e["target"] == node["id"]]
        outputs = [by_id[e["target"]] for e in main["edges"] if e["source"] == node["id"]]
        before = [LAYERS.index(n["layer"]) for n in inputs if n.get("layer") in LAYERS]
        tables = [n for n in outputs if n.get("dataset_type", "").endswith("TableDataset")]
        assert before and tables, node["name"]
        for table in tables:
            assert table.get("layer") in LAYERS, table["name"]
            assert max(before) <= LAYERS.index(table["layer"]), (node["name"], table["name"])
        built[node["name"]] = {t["name"] for t in tables}
    # features: one node per dbt layer, RAW -> staging -> intermediate -> marts -> FEATURES
    layer_of = {n["name"]: n.get("layer") for n in main["nodes"] if n["type"] == "data"}
    assert {layer_of[t] for t in built["dbt_staging_node"]} == {"staging"}
    assert {layer_of[t] for t in built["dbt_intermediate_node"]} == {"intermediate"}
    assert {layer_of[t] for t in built["dbt_marts_node"]} == {"marts"}
    assert built["dbt_ml_node"] == {"model_input_table", "features_build"}
    staging_inputs = {
        by_id[e["source"]]["name"]
        for e in main["edges"]
        if by_id[e["target"]]["name"] == "dbt_staging_node"
    }
    raw_tables = {n for n in staging_inputs if n.startswith("RAW__FORMULA1__")}
    assert len(raw_tables) == 14, staging_inputs
    assert "FORMULA1__MARTS__FCT_RESULTS" in built["dbt_marts_node"]


def test_warehouse_tables_show_their_three_part_name(main: dict[str, Any], viz_build: Path) -> None:
    """The side panel's location of a table is DATABASE.SCHEMA.TABLE, not "N/A"."""
    tables = {
        name: node
        for name, node in _data_nodes(main).items()
        if node.get("dataset_type", "").endswith("TableDataset")
    }
    assert len(tables) >= 14 + 28 - 1  # RAW, every SQL model, the predictions table
    paths = {}
    for name, node in tables.items():
        meta = json.loads((viz_build / "api" / "nodes" / node["id"]).read_text())
        paths[name] = meta.get("filepath")
    assert paths["RAW__FORMULA1__RESULTS"] == "RAW.FORMULA1.RESULTS"
    assert paths["FORMULA1__MARTS__FCT_RESULTS"] == "FORMULA1.MARTS.FCT_RESULTS"
    assert paths["model_input_table"] == "FORMULA1.ML.FEATURES"
    assert [n for n, p in paths.items() if not p or p.count(".") != 2] == []


def test_tables_metrics_and_plots_have_previews(main: dict[str, Any], viz_build: Path) -> None:
    checked = {}
    for node in _data_nodes(main).values():
        meta = json.loads((viz_build / "api" / "nodes" / node["id"]).read_text())
        kind = meta["type"].rsplit(".", 1)[-1]
        if kind in PREVIEW_TYPES:
            checked[node["name"]] = (meta["preview_type"], PREVIEW_TYPES[kind])
    wrong = {k: v for k, v in checked.items() if v[0] != v[1]}
    assert not wrong, f"preview type (got, expected): {wrong}"
    assert {"model_input_table", "metrics"} <= set(checked)
    assert any(expected == "ImagePreview" for _, expected in checked.values())
