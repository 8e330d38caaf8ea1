"""Pipeline page: win rate, cycle and coverage from core, the stage funnel and per-rep charts."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page, chart_specs


from core import metrics
from core.fmt import fmt_pct

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
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert any(t.startswith("Win rate per rep") for t in titles)
    assert any(t.startswith("Pipeline coverage per rep") for t in titles)
