"""The monitoring figure of the score pipeline (matplotlib, saved by a MatplotlibDataset entry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PSI_PREFIX = "PSI_"


def monitoring_figure(monitoring: pd.DataFrame) -> Figure:
    """Left: the served model's and the grid rule's macro F1 per evaluated race; right: PSI."""
    import matplotlib.pyplot as plt  # here: every `kedro` command imports the pipelines (0.9 s)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    races = monitoring[(monitoring["LEVEL"] == "RACE") & (monitoring["ROWS_EVALUATED"] > 0)]
    races = races.sort_values(["SEASON", "ROUND"])
    if races.empty:
        left.text(0.5, 0.5, "no forecast has a result yet", ha="center", va="center")
    else:
        labels = [f"{s}-{r}" for s, r in zip(races["SEASON"], races["ROUND"], strict=True)]
        left.plot(labels, races["MODEL_MACRO_F1"], marker="o", label="served model")
        left.plot(labels, races["GRID_RULE_MACRO_F1"], marker="s", label="grid rule")
        left.tick_params(axis="x", labelrotation=90, labelsize=7)
        left.legend()
    left.set_title("Macro F1 per race (forecasts with results)")
    seasons = monitoring[monitoring["LEVEL"] == "SEASON"].set_index("SEASON").sort_index()
    psi = seasons[[c for c in seasons.columns if c.startswith(PSI_PREFIX)]]
    psi.columns = [c.removeprefix(PSI_PREFIX) for c in psi.columns]
    if not psi.empty:
        psi.plot.bar(ax=right)
    right.axhline(0.25, color="grey", linestyle="--", linewidth=1)  # a large shift above
    right.set_title("Input drift vs the fit seasons (PSI)")
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig
