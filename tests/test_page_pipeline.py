"""Pipeline page: win rate, cycle and coverage from core, the stage funnel and per-rep charts."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.fmt import fmt_money, fmt_pct
from core.kpis import metrics
from tests.apptest import chart_specs, open_page, plotly_values
from tests.test_pages_shapes import open_shape

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pipeline() -> AppTest:
    return open_page("pipeline")


def test_headline_andchart_specs(pipeline):
    at = pipeline
    assert not at.exception
    ctx = at.session_state["ctx"]
    team = metrics.team_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Win rate"] == fmt_pct(team["win_rate"]) != "n/a"
    assert shown["Sales cycle"] == f"{team['sales_cycle_days']:,.0f} days"
    charts = chart_specs(at)
    funnel = charts[0]
    funnel_stages = metrics.stage_funnel(ctx.ds, ctx.period, ctx.scope)
    assert list(funnel["data"][0]["y"]) == funnel_stages.loc[funnel_stages["status"] == "open", "stage"].tolist()
    # the funnel's numbers in the one count format, thousands separated ("1,480", not "1480")
    opened = funnel_stages.loc[funnel_stages["status"] == "open", "opportunities"]
    assert funnel["data"][0]["textinfo"] == "text"
    assert list(funnel["data"][0]["text"]) == [f"{n:,.0f}" for n in opened]
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert any(t.startswith("Win rate per rep") for t in titles)
    assert any(t.startswith("Pipeline coverage per rep") for t in titles)


def _all_axes_linear(spec: dict) -> bool:
    return all(v.get("type") != "log" for k, v in spec["layout"].items() if k.startswith(("xaxis", "yaxis")))


def test_maven_per_rep_open_pipeline_shows_the_open_deals():
    """Maven's open deals carry no amount: valued at list price, the per-rep chart shows the $4.97M
    open at the end of the data; the headline of the finished quarter is its pipeline at start."""
    at = open_shape("maven", "pipeline")
    assert not at.exception
    ctx = at.session_state["ctx"]
    opps = ctx.ds.table("opportunities")
    open_now = metrics.opportunity_value(ctx.ds, opps)[metrics.opportunity_status(opps).eq("open").to_numpy()].sum()
    assert open_now == pytest.approx(4_966_215)
    [per_rep] = [c for c in chart_specs(at) if c["layout"]["title"]["text"].startswith("Open pipeline per rep")]
    assert sum(sum(plotly_values(t["x"])) for t in per_rep["data"]) == pytest.approx(open_now)
    team = metrics.team_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    shown = {m.label: m.value for m in at.metric}
    assert shown[f"Pipeline on {ctx.period.start:%d %b %Y}"] == fmt_money(team["start_pipeline"])
    assert team["open_pipeline"] == pytest.approx(open_now)
    funnel = chart_specs(at)[0]
    assert list(funnel["data"][0]["y"]) == ["Prospecting", "Engaging"]   # process order, not count
    assert all(_all_axes_linear(c) for c in chart_specs(at))


def test_hubspot_stage_ids_shown_as_labels_in_process_order():
    at = open_shape("hubspot", "pipeline")
    assert not at.exception
    funnel = chart_specs(at)[0]
    assert list(funnel["data"][0]["y"]) == ["Appointment scheduled", "Qualified to buy", "Presentation scheduled",
                                            "Decision maker bought-in", "Contract sent"]


def test_finished_period_says_pipeline_at_start():
    """The sample's default quarter is finished: coverage is the pipeline open on its first day."""
    at = open_page("pipeline")
    ctx = at.session_state["ctx"]
    assert metrics.pipeline_at_start(ctx.ds, ctx.period)
    labels = [m.label for m in at.metric]
    assert f"Pipeline on {ctx.period.start:%d %b %Y}" in labels and "Open pipeline" not in labels
    assert all(_all_axes_linear(c) for c in chart_specs(at))
