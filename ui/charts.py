"""Plotly conventions shared by every page: one colour per region, titles, units, n/a text."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from core.fmt import NA, column_label, fmt_money, fmt_num, fmt_pct, fmt_unit, is_missing  # noqa: F401  (re-exported for pages)
from ui.text import plot_text

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f", "#d62728")
GOOD, WARN, BAD, NEUTRAL = "#2ca02c", "#f0a202", "#d62728", "#7f7f7f"
# The quiet template with GoalGap's title, margins and legend, as every figure's default: plotly
# then writes it into the figure's JSON (the same bytes) instead of validating a deep copy of it
# into each figure on every rerun — half of a period change's CPU on the Overview once
# (bench/load.py) — and `style` only sets a figure's own texts (plotly validates every property
# set through update_layout: ~4 ms a figure for the same layout each time).
_TEMPLATE = go.layout.Template(pio.templates["plotly_white"])
_TEMPLATE.layout.update(title={"x": 0, "xanchor": "left"}, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                        legend={"title": {"text": ""}}, hoverlabel={"namelength": -1})
pio.templates["goalgap"] = _TEMPLATE
pio.templates.default = "goalgap"


def region_colors(regions: Iterable[str]) -> dict[str, str]:
    """The same colour for the same region on every page (assigned in sorted order)."""
    return {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(sorted({str(r) for r in regions}))}


def style(fig: go.Figure, title: str, y_title: str | None = None, x_title: str | None = None,
          height: int | None = None) -> go.Figure:
    """A title that says what the chart shows, labelled axes, a quiet template; every text the
    figure carries is made literal (escape_text), so call it once the traces are added."""
    escape_text(fig)
    fig.layout.title.text = plot_text(title)
    if y_title is not None:
        for axis in fig.select_yaxes():
            axis.title.text = plot_text(y_title)
    if x_title is not None:
        for axis in fig.select_xaxes():
            axis.title.text = plot_text(x_title)
    if height:
        fig.layout.height = height
    return fig


def _escaped(value: Any) -> Any:
    """Strings (alone, in a list, tuple or array) through plot_text; anything else unchanged."""
    if isinstance(value, str):
        return plot_text(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "OU":
        return np.vectorize(_escaped, otypes=[object])(value) if value.size else value
    if isinstance(value, (list, tuple)) and any(isinstance(v, str) for v in value):
        return type(value)(_escaped(v) for v in value)
    return value


def escape_text(fig: go.Figure) -> go.Figure:
    """Make the user text a figure carries literal: trace names, categories, labels and hover data,
    axis category orders and annotations (subplot titles). Plotly draws `<a>`, `<b>` … in all of
    them; hovertemplates are code, so a page wraps the user text it writes into one itself."""
    for trace in fig.data:
        for attr in ("x", "y", "text", "hovertext", "labels", "name", "customdata"):
            value = getattr(trace, attr, None) if attr in trace else None
            if value is not None:
                trace[attr] = _escaped(value)
    for axis in [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]:
        if fig.layout[axis].categoryarray is not None:
            fig.layout[axis].categoryarray = _escaped(fig.layout[axis].categoryarray)
    for annotation in fig.layout.annotations:
        annotation.text = _escaped(annotation.text)
    return fig


_PERCENT = "goalgap_percent_digits"


def percent_column(label: str | None = None, help: str | None = None, digits: int = 0) -> dict[str, Any]:
    """The config of a share column (0.588) that show_table shows as a percentage with a fixed number
    of decimals ("59%"): Streamlit's format="percent" writes 58.8% and 61.72% in one column."""
    return {"label": label, "help": help, _PERCENT: digits}


def show_table(frame: pd.DataFrame, column_config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """st.dataframe with every header in words: a column the config leaves unlabelled gets its
    label from core.fmt.column_label ('win_rate' → 'Win rate'), never the program's key; shares
    configured with percent_column shown as percentages."""
    config: dict[str, Any] = dict(column_config or {})
    shares = {c: v for c, v in config.items() if isinstance(v, dict) and _PERCENT in v and c in frame.columns}
    if shares:
        frame = frame.assign(**{c: pd.to_numeric(frame[c], errors="coerce") * 100 for c in shares})
        for col, spec in shares.items():
            config[col] = st.column_config.NumberColumn(spec["label"] or column_label(str(col)), help=spec["help"],
                                                        format=f"%.{spec[_PERCENT]}f%%")
    for col in frame.columns:
        given = config.get(col)
        if given is None:
            config[col] = column_label(str(col))
        elif isinstance(given, dict) and not given.get("label"):
            config[col] = {**given, "label": column_label(str(col))}
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    kwargs.setdefault("placeholder", NA)        # a missing value reads "n/a", as everywhere else
    return st.dataframe(frame, column_config=config, **kwargs)


def trend_words(x: Any, unit: str, digits: int = 1) -> str:
    """A trend with its sign and unit: "trend +1.2 points a quarter"; one that rounds to zero reads
    "steady (0.0 points a quarter)", never "-0.0"; missing → "trend n/a"."""
    if is_missing(x):
        return f"trend {NA}"
    rounded = round(float(x), digits) + 0.0      # + 0.0 turns -0.0 into 0.0
    if rounded == 0:
        return f"steady ({rounded:.{digits}f} {unit})"
    return f"trend {rounded:+.{digits}f} {unit}"


def range_metric(col: Any, label: str, low: Any, high: Any, currency: str = "USD", help: str | None = None) -> None:
    """A money range as a metric that fits a quarter of the page at 1366 px: the low end as the value,
    "to <high end>" under it (one line "$18.60M–$19.10M" is cut off there)."""
    col.metric(label, fmt_money(low, currency=currency), delta=f"to {fmt_money(high, currency=currency)}",
               delta_color="off", delta_arrow="off", help=help)


def target_line(fig: go.Figure, y: float, label: str, color: str = NEUTRAL, dash: str = "dash") -> go.Figure:
    """A target as a dashed line across the plot, named in the legend ("Target 5.0") rather than by a
    label inside the plot, where it sat on the bars and lines."""
    fig.add_hline(y=y, line_dash=dash, line_color=color)
    fig.add_scatter(x=[None], y=[None], mode="lines", name=label, line={"color": color, "dash": dash},
                    hoverinfo="skip")
    return fig


def slanted_names(fig: go.Figure) -> go.Figure:
    """Rep names under bars at 45°, not 90° (read without turning one's head)."""
    fig.update_xaxes(tickangle=-45, automargin=True)
    return fig
