"""Activity & follow-up page: team values beside their targets, a bar per rep with the target line,
monthly trends; the KPI picker switches the per-rep chart."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.fmt import fmt_pct
from core.kpis import metrics
from tests.apptest import chart_specs, open_page

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def activity() -> AppTest:
    return open_page("activity")



def test_team_kpis_beside_targets(activity):
    at = activity
    assert not at.exception
    ctx = at.session_state["ctx"]
    team = metrics.team_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    shown = {m.label: m for m in at.metric}
    adherence = shown["Call plan adherence"]
    assert adherence.value == fmt_pct(team["call_plan_adherence"])
    assert f"target {fmt_pct(ctx.settings.targets.call_plan_adherence)}" in adherence.delta
    assert shown["Meetings per week"].value == f"{team['meetings_per_week']:,.1f}"
    assert len(shown) == 8


def test_per_rep_chart_has_a_target_line_and_switches(activity):
    at = activity
    first = chart_specs(at)[0]
    assert first["layout"]["title"]["text"].startswith("Meetings per week per rep")
    assert first["layout"]["shapes"][0]["y0"] == at.session_state["ctx"].settings.targets.meetings_per_week
    bars = sum(len(t["x"]) for t in first["data"] if t["type"] == "bar")
    ctx = at.session_state["ctx"]
    target = ctx.settings.targets.meetings_per_week
    # the target is named in the legend, not written on the bars; names slanted, not at 90°
    assert [t["name"] for t in first["data"] if t["type"] != "bar"] == [f"Target {target:.1f}"]
    assert not first["layout"]["shapes"][0].get("label") and not first["layout"].get("annotations")
    assert first["layout"]["xaxis"]["tickangle"] == -45
    assert bars == metrics.rep_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)["meetings_per_week"].notna().sum()
    at.selectbox(key="activity_kpi").set_value("on_time_follow_up_rate").run()
    assert not at.exception
    assert chart_specs(at)[0]["layout"]["title"]["text"].startswith("On-time follow-up rate per rep")
    titles = [c["layout"]["title"]["text"] for c in chart_specs(at)]
    assert {"Meetings per week per month", "Call plan adherence per month",
            "On-time follow-up rate per month"} <= set(titles)
