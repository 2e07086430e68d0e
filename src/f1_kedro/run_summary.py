"""The closing lines of a run: how the model did, what was registered and scored, where the outputs
went and what to type next. Read from the run's own outputs (metrics.json, ...), never recomputed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# The last stage of a run -> the command that usually comes next.
NEXT_COMMAND = {
    "bootstrap": "kedro run --pipelines=ingest",
    "ingest": "kedro run --pipelines=features",
    "features": "kedro run --pipelines=train",
    "train": "kedro run --pipelines=register",
    "register": "kedro run --pipelines=score",
    "score": "make viz (the pipeline), make mlflow (the registry), make dbt-docs (the tables)",
}


def closing_summary(catalog: Any, outputs: Iterable[str], last_stage: str | None) -> list[str]:
    """Readable lines for the end of a successful run; a part that cannot be read is left out."""
    names = set(outputs)
    lines: list[str] = []
    for name, describe in (
        ("metrics", _model_vs_grid),
        ("registered_model", _registered),
        ("score_summary", _scored),
    ):
        if name in names:
            try:
                lines.append(describe(catalog.load(name)))
            except Exception:  # a summary line is not worth failing a run for
                logger.debug("no summary line for %s", name, exc_info=True)
    lines.extend(_where(catalog, names))
    if last_stage in NEXT_COMMAND:
        lines.append(f"Next: {NEXT_COMMAND[last_stage]}")
    return lines


def _model_vs_grid(metrics: dict[str, Any]) -> str:
    """The backtest (seasons the model never saw) when train ran one, else the test window."""
    backtest = metrics.get("backtest")
    if not backtest:
        model, grid = metrics["model"], metrics["baseline"]
        verdict = "beats" if metrics["model_beats_baseline"] else "does NOT beat"
        return (
            f"Model {verdict} the grid baseline on test seasons {metrics['test_seasons']}: "
            f"macro F1 {model['macro_f1']:.3f} vs {grid['macro_f1']:.3f}, "
            f"log loss {model['log_loss']:.3f} vs {grid['log_loss']:.3f} "
            "(data/08_reporting/metrics.json)"
        )
    model, grid = backtest["model"], backtest["baseline"]
    first, last = backtest["seasons"]
    seasons = last - first + 1
    wins = backtest.get("model_wins_seasons", {})
    won = ", ".join(
        f"{metric.replace('_', ' ')} {wins[metric]}/{seasons}"
        for metric in ("accuracy", "macro_f1", "log_loss")
        if metric in wins
    )
    return (
        f"Backtest {first}-{last} (each season unseen), model vs grid rule: "
        f"macro F1 {model['macro_f1']:.3f} vs {grid['macro_f1']:.3f}, "
        f"log loss {model['log_loss']:.3f} vs {grid['log_loss']:.3f}"
        + (f"; seasons won: {won}" if won else "")
        + " (data/08_reporting/metrics.json)"
    )


def _registered(registered: dict[str, Any]) -> str:
    champion = " and made it champion" if registered.get("champion_moved") else ""
    return f"Registered {registered['model_name']} version {registered['version']}{champion}"


def _scored(summary: dict[str, Any]) -> str:
    accuracy = summary.get("accuracy")
    scored = f"Scored {summary['rows']} rows of seasons {summary['seasons']}"
    return scored + (f" (accuracy {accuracy:.3f})" if accuracy is not None else "")


def _where(catalog: Any, names: set[str]) -> list[str]:
    """`Files: data/08_reporting/ (metrics.json, ...)` and `Tables: FORMULA1.ML.FEATURES`."""
    folders: dict[str, list[str]] = {}
    tables: list[str] = []
    for name in sorted(names):
        try:
            description = catalog.get(name)._describe()
        except Exception:  # memory datasets and parameters have nothing to show
            continue
        if description.get("table"):
            tables.append(str(description["table"]))
        elif description.get("filepath"):
            path = _relative(Path(str(description["filepath"])))
            folders.setdefault(f"{path.parent}/", []).append(path.name)
    lines = [f"Files: {folder} ({', '.join(files)})" for folder, files in sorted(folders.items())]
    if tables:
        lines.append(f"Tables: {', '.join(sorted(tables))}")
    return lines


def _relative(path: Path) -> Path:
    """The path as the user would type it from the project folder, when it is inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
