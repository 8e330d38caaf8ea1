"""Plotly conventions shared by every page: one colour per region, titles, units, n/a text."""
from __future__ import annotations

from typing import Iterable

import plotly.graph_objects as go
import plotly.io as pio

from core.fmt import fmt_money, fmt_num, fmt_pct, fmt_unit  # noqa: F401  (re-exported for pages)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f", "#d62728")
GOOD, WARN, BAD, NEUTRAL = "#2ca02c", "#f0a202", "#d62728", "#7f7f7f"
# The quiet template, as every figure's default: plotly then writes it into the figure's JSON
# (the same bytes) instead of validating a deep copy of it into each figure on every rerun —
# half of a period change's CPU on the Overview (bench/load.py).
pio.templates.default = "plotly_white"


def region_colors(regions: Iterable[str]) -> dict[str, str]:
    """The same colour for the same region on every page (assigned in sorted order)."""
    return {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(sorted({str(r) for r in regions}))}


def style(fig: go.Figure, title: str, y_title: str | None = None, x_title: str | None = None,
          height: int | None = None) -> go.Figure:
    """A title that says what the chart shows, labelled axes, a quiet template."""
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"},
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, legend_title_text="",
                      hoverlabel={"namelength": -1})
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if height:
        fig.update_layout(height=height)
    return fig
