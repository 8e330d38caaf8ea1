"""Diagnostic page: on the bundled sample it shows the waterfall, the ranked findings, the reps
below goal and a rep's evidence, all from core.diagnostic.findings, and says findings are not proof."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.diagnostic import findings as diagnostics
from core.fmt import fmt_money
from tests.apptest import chart_specs, open_page

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page("diagnostic")


def test_runs_and_says_findings_are_associations(page):
    assert not page.exception
    assert any("not proof of cause" in i.value for i in page.info)


def test_waterfall_and_findings_come_from_core(page):
    ctx = page.session_state["ctx"]
    diag = diagnostics.diagnose(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    charts = chart_specs(page)
    waterfall = next(c for c in charts if c["data"][0]["type"] == "waterfall")
    assert waterfall["data"][0]["x"][0] == "Quota" and waterfall["data"][0]["x"][-1] == "Revenue"
    assert waterfall["data"][0]["y"][0] == pytest.approx(diag.waterfall["amount"].iloc[0])
    labels = [e.label for e in page.expander]
    top = diag.findings.iloc[0]
    assert any("#1 ·" in lab and fmt_money(top["impact"]) in lab for lab in labels)
    shown = {m.label: m.value for m in page.metric}
    assert shown["Shortfall of reps below goal"] == fmt_money(diag.reps["gap"].clip(lower=0).sum())


def test_drill_down_shows_a_rep_and_itschart_specs(page):
    box = page.selectbox[-1]
    ctx = page.session_state["ctx"]
    diag = diagnostics.diagnose(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    follow_up = diag.reps[(diag.reps["primary_cause"] == "follow_up_discipline")]
    if follow_up.empty:
        pytest.skip("no follow-up rep in the bundled sample")
    box.set_value(follow_up["rep_id"].iloc[0]).run()
    assert not page.exception
    titles = [c["layout"]["title"]["text"] for c in chart_specs(page)]
    assert any(t.startswith("On-time follow-up by month vs target") for t in titles)
