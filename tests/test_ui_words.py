"""The words pages show for what core computes (issue 16): methods, trends, what is missing and
where to fix it, targets named in the legend."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from core.fmt import method_words
from core.people import competency as comp
from ui.charts import slanted_names, target_line, trend_words
from ui.state import missing_text


def test_methods_in_plain_words():
    assert method_words("rules (11 reps: too few for a model)") == \
        "rules of thumb (only 11 reps, too few to fit a model)"
    assert method_words("rules (0 reps: too few for a model)") == "rules of thumb (no reps to fit a model on)"
    assert method_words("model: OLS across 38 reps; 12 tests") == \
        "a regression (least squares) across 38 reps; 12 tests"
    for raw in (comp.METHOD_MIXED, comp.METHOD_OLS, comp.METHOD_FEW, "rules (team-level measure)"):
        words = method_words(raw)
        assert words != raw and "(per-rep" not in words and "rules (" not in words
    assert method_words("Holt-Winters (multiplicative seasonality, 34 months)") == \
        "Holt-Winters (multiplicative seasonality, 34 months)"     # what it does not know stays as it is


def test_a_trend_never_reads_minus_zero():
    assert trend_words(-0.04, "points a quarter") == "steady (0.0 points a quarter)"
    assert trend_words(0.04, "points a quarter") == "steady (0.0 points a quarter)"
    assert trend_words(-1.26, "points a quarter") == "trend -1.3 points a quarter"
    assert trend_words(2.0, "points a quarter") == "trend +2.0 points a quarter"
    assert trend_words(math.nan, "points a quarter") == "trend n/a"


def test_missing_quotas_point_to_the_quotas_page_and_tables_to_the_data_page():
    quotas = missing_text("The attainment distribution", ["quotas"])
    assert "Quotas, fiscal year & currency" in quotas and "upload" not in quotas.split("(")[0]
    both = missing_text("Some balance measures", ["accounts", "quotas"])
    assert "upload **accounts** on the Data page" in both and "Quotas, fiscal year & currency" in both
    follow = missing_text("On-time follow-up", ["follow_ups"])
    assert "**follow-ups**" in follow and "Data page" in follow and "Quotas" not in follow


def test_a_target_is_named_in_the_legend_not_written_on_the_plot():
    fig = go.Figure(go.Bar(x=["Ann", "Bob"], y=[4.0, 6.0]))
    target_line(fig, 5.0, "Target 5.0")
    slanted_names(fig)
    assert [s.y0 for s in fig.layout.shapes] == [5.0] and not fig.layout.annotations
    legend = [t for t in fig.data if t.type == "scatter"]
    assert [t.name for t in legend] == ["Target 5.0"] and legend[0].line.dash == "dash"
    assert fig.layout.xaxis.tickangle == -45


def test_shares_are_shown_as_percentages_with_one_format(monkeypatch):
    """show_table scales percent_column shares to percentages and gives them one fixed format (no
    '58.8%' beside '61.72%'); other columns and the caller's frame are left as they are."""
    import pandas as pd
    import streamlit as st

    from ui.charts import percent_column, show_table

    sent = {}
    monkeypatch.setattr(st, "dataframe",
                        lambda frame, column_config, **kw: sent.update(frame=frame, config=column_config))
    frame = pd.DataFrame({"rep": ["Ann", "Bob"], "win_rate": [0.588, 0.6172]})
    show_table(frame, column_config={"win_rate": percent_column(help="won ÷ closed")})
    assert sent["frame"]["win_rate"].tolist() == [58.8, 61.72] and frame["win_rate"].tolist() == [0.588, 0.6172]
    win = sent["config"]["win_rate"]
    assert win["label"] == "Win rate" and win["type_config"]["format"] == "%.0f%%" and win["help"] == "won ÷ closed"
    assert sent["config"]["rep"] == "Rep"
