"""The features pipeline: raw tables to the ML feature table, in SQL (dbt), one node per dbt layer.

The layers (folders of dbt/models) and the tables each reads and writes come from dbt's manifest
(`f1_kedro.dbt_layers`), so kedro-viz draws the dbt lineage RAW -> staging -> intermediate ->
marts -> FEATURES as it is in the SQL. Every table is a catalog dataset named
DATABASE__SCHEMA__TABLE (the `{database}__{schema}__{table}` pattern of catalog_features.yml;
Kedro keeps dots in dataset names for namespaces); kedro-viz shows DATABASE.SCHEMA.TABLE.
"""

from kedro.pipeline import Node, Pipeline

from f1_kedro.dbt_layers import layers, load_manifest

from .nodes import layer_builder, summarise_dbt_build

# The tables that other pipelines read under their own catalog names, by SCHEMA.TABLE: the
# database is conf's (FORMULA1, or the smoke's renamed one), the schema and table are dbt's.
DATASET_OF_TABLE = {
    "ML.FEATURES": "model_input_table",
    "ML.FEATURES_BUILD": "features_build",  # train records it (lineage, issue 15.5)
}


def _dataset(table: str) -> str:
    return DATASET_OF_TABLE.get(table.split(".", 1)[1]) or table.replace(".", "__")


def create_pipeline(**kwargs) -> Pipeline:
    nodes, reports = [], []
    for layer in layers(load_manifest()):
        report = f"dbt_{layer.name}_report"
        # a layer that reads dbt sources runs after ingest has loaded them (they have no producer
        # here; their database is conf's, e.g. RAW or a renamed smoke database)
        after_ingest = ["ingest_report"] if layer.reads_sources else []
        nodes.append(
            Node(
                layer_builder(layer.name, layer.outputs),
                inputs=[
                    "dbt_project",
                    "params:features",
                    *after_ingest,
                    *map(_dataset, layer.inputs),
                ],
                outputs=[*map(_dataset, layer.outputs), report],
                name=f"dbt_{layer.name}_node",
                tags=["dbt"],
            )
        )
        reports.append(report)
    nodes.append(
        Node(
            summarise_dbt_build,
            # ingest_report names the raw source in the report
            inputs=["ingest_report", *reports],
            outputs="dbt_features_report",
            name="summarise_dbt_build_node",
        )
    )
    return Pipeline(nodes)
