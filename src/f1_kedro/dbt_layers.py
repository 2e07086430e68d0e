"""The dbt project's layers as dbt's manifest describes them, for the features pipeline's graph.

A layer is a folder under dbt/models (staging, intermediate, marts, analytics, ml). Each layer
becomes one Kedro node that builds it; its inputs are the tables of earlier layers and the RAW
sources its models read, its outputs the tables it writes, all named DATABASE.SCHEMA.TABLE. The
structure is read from `dbt/target/manifest.json`, re-parsed (`dbt parse`, a few seconds) when
any file under dbt/ is newer, so the graph never drifts from the SQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Only SQL models: the Python model (predictions) is built by the score pipeline.
BUILT_BY_FEATURES = frozenset({"sql"})


@dataclass(frozen=True)
class Layer:
    name: str
    inputs: tuple[str, ...]  # DATABASE.SCHEMA.TABLE of sources and earlier layers' tables
    outputs: tuple[str, ...]  # the tables this layer writes
    reads_sources: bool = False  # reads a dbt source: a raw table, which only ingest loads


def relation(node: Mapping[str, Any]) -> str:
    """DATABASE.SCHEMA.TABLE, upper-cased as Snowflake shows it (DuckDB ignores case)."""
    table = node.get("alias") or node.get("identifier") or node["name"]
    return f"{node['database']}.{node['schema']}.{table}".upper()


def layers(manifest: Mapping[str, Any]) -> list[Layer]:
    """The project's layers in build order, each with the tables it reads and writes."""
    project = manifest["metadata"]["project_name"]
    scored = _scoring_models(manifest)
    models = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["package_name"] == project
        and node["language"] in BUILT_BY_FEATURES
        and uid not in scored
    }
    layer_of = {uid: node["fqn"][1] for uid, node in models.items()}
    names = {uid: relation(node) for uid, node in models.items()}
    names.update({uid: relation(src) for uid, src in manifest["sources"].items()})
    reads: dict[str, set[str]] = {}
    writes: dict[str, list[str]] = {}
    after: dict[str, set[str]] = {}
    sourced: set[str] = set()
    for uid, node in sorted(models.items()):
        layer = layer_of[uid]
        writes.setdefault(layer, []).append(names[uid])
        after.setdefault(layer, set())
        for parent in node["depends_on"]["nodes"]:
            if parent in models and layer_of[parent] == layer:
                continue  # built in the same dbt invocation
            if parent in names:
                reads.setdefault(layer, set()).add(names[parent])
            if parent in models:
                after[layer].add(layer_of[parent])
            if parent in manifest["sources"]:
                sourced.add(layer)
    order = _build_order(after)
    return [
        Layer(
            name, tuple(sorted(reads.get(name, ()))), tuple(sorted(writes[name])), name in sourced
        )
        for name in order
    ]


def _scoring_models(manifest: Mapping[str, Any]) -> set[str]:
    """The Python models and everything built on them (`file:*.py+`, the features build's
    exclude): the score pipeline builds those (PREDICTIONS, PREDICTIONS_LATEST, monitoring)."""
    children = manifest.get("child_map", {})
    todo = [uid for uid, n in manifest["nodes"].items() if n.get("language") == "python"]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid not in seen:
            seen.add(uid)
            todo.extend(children.get(uid, []))
    return seen


def _build_order(after: Mapping[str, set[str]]) -> list[str]:
    from graphlib import TopologicalSorter

    sorter = TopologicalSorter({layer: sorted(deps) for layer, deps in sorted(after.items())})
    return list(sorter.static_order())


def load_manifest(project_dir: str | Path = "dbt", profiles_dir: str | Path = "dbt") -> dict:
    """dbt's manifest of the project, parsed again when a project file is newer than it.

    Relative paths are the Kedro project root's (a notebook kernel starts in notebooks/).
    """
    from kedro.utils import find_kedro_project

    root = find_kedro_project(Path.cwd()) or Path.cwd()
    project, profiles_dir = root / project_dir, root / profiles_dir
    manifest = project / "target" / "manifest.json"
    if not manifest.exists() or _newest_source(project) > manifest.stat().st_mtime:
        _parse(project, Path(profiles_dir))
    return json.loads(manifest.read_text())


def _newest_source(project: Path) -> float:
    files = [project / "dbt_project.yml"]
    for folder in ("models", "macros", "tests", "snapshots", "seeds"):
        files.extend(p for p in (project / folder).rglob("*") if p.is_file())
    return max((p.stat().st_mtime for p in files if p.exists()), default=0.0)


def _parse(project: Path, profiles: Path) -> None:
    from dbt.cli.main import dbtRunner

    logger.info("dbt parse: reading the dbt project's layers for the features pipeline")
    args = ["parse", "--quiet", "--project-dir", str(project), "--profiles-dir", str(profiles)]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise RuntimeError(
            f"dbt parse failed in {project}: {result.exception}. Run "
            f"`dbt parse --project-dir {project} --profiles-dir {profiles}` to see dbt's message."
        )
