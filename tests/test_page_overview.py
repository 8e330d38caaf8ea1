"""Overview page: on the bundled sample it shows the team's numbers from core, the attainment
distribution, a row per rep, and it follows the sidebar's scope."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.dataset import Scope
from core.fmt import cause_label, fmt_money, fmt_pct
from core.kpis import metrics
from tests.apptest import chart_specs, open_page

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def overview() -> AppTest:
    return open_page("overview")



def test_headline_numbers_come_from_core(overview):
    at = overview
    assert not at.exception
    ctx = at.session_state["ctx"]
    team = metrics.team_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Revenue"] == fmt_money(team["revenue"]) and shown["Quota"] == fmt_money(team["quota"])
    assert shown["Attainment"] == fmt_pct(team["attainment"]) != "n/a"
    assert shown["Gap to goal (team)"] == fmt_money(team["gap"])
    gap = next(m for m in at.metric if m.label == "Gap to goal (team)")
    assert gap.delta == f"reps below goal: {fmt_money(team['remaining_quota'])} short"   # said apart from the gap


def test_distribution_and_rep_table(overview):
    """One bar per band, counting every rep with a quota; one table row per rep."""
    at = overview
    ctx = at.session_state["ctx"]
    reps = metrics.rep_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    dist = next(c for c in chart_specs(at) if "attainment band" in c["layout"]["title"]["text"])
    assert list(dist["data"][0]["x"]) == list(metrics.BANDS)
    assert sum(dist["data"][0]["y"]) == reps["attainment"].notna().sum() > 0
    table = at.dataframe[0].value
    assert len(table) == len(reps)
    shown = table["attainment"].dropna().tolist()
    assert shown == sorted(shown) and len(shown) == reps["attainment"].notna().sum()   # furthest below goal first
    titles = [c["layout"]["title"]["text"] for c in chart_specs(at)]
    assert any("Biggest gaps" in t for t in titles) and any("Biggest attainment changes" in t for t in titles)


def test_follows_a_region_scope(overview):
    """The page shows what the context (set by the sidebar) says: here one region."""
    at = overview
    ctx = at.session_state["ctx"]
    region = sorted(metrics.roster(ctx.ds)["region"].unique())[0]
    at.session_state["scope_region"] = region
    at.session_state["ctx"] = replace(ctx, scope=Scope(region=region))
    at.run()
    assert not at.exception
    ctx = at.session_state["ctx"]
    assert ctx.scope.region == region
    assert len(at.dataframe[0].value) == len(metrics.roster(ctx.ds, ctx.scope))


def test_a_region_change_does_not_rediagnose_the_team(monkeypatch):
    """The team's diagnosis is held on the Dataset: a new region, even with st.cache_data empty
    (its first visit), filters it instead of running the diagnostic again."""
    import streamlit as st

    from core.diagnostic import findings as diagnostics

    calls = []
    diagnose = diagnostics.diagnose

    def counted(*args, **kwargs):
        calls.append(args[3])
        return diagnose(*args, **kwargs)

    monkeypatch.setattr(diagnostics, "diagnose", counted)
    at = open_page("overview")
    regions = sorted(metrics.roster(at.session_state["ctx"].ds)["region"].unique())
    for region in regions[:2]:
        st.cache_data.clear()
        at.session_state["scope_region"] = region
        at._finished_page_script_hash = ""            # rerun through app.py and its sidebar
        at.run()
        assert not at.exception and at.session_state["ctx"].scope.region == region
    assert calls == [Scope()]                          # once, for the whole team
    ctx = at.session_state["ctx"]
    team = diagnose(ctx.ds, ctx.period, ctx.settings).reps[["rep_id", "primary_cause"]].merge(
        metrics.roster(ctx.ds), on="rep_id")
    expected = team[team["region"] == regions[1]].set_index("rep_name")["primary_cause"].map(
        lambda c: "—" if c == "none" else cause_label(c))
    shown = at.dataframe[0].value.set_index("rep_name")["primary_cause"]
    assert shown.sort_index().tolist() == expected.sort_index().tolist()


def test_without_quotas_the_page_says_so_once_and_shows_what_it_can():
    """A CRM export without quotas: one box that says where quotas are set (the Quotas page), no
    empty charts, and the rep table without the columns that would all read n/a."""
    from ui.sidebar import MINE
    from ui.state import UPLOAD_KEY

    sales = ("date,rep_id,rep_name,product,revenue\n" + "".join(
        f"2025-{m:02d}-1{d},R{d},Rep {d},Stent,{100 * m + d}\n" for m in range(1, 13) for d in range(1, 4))).encode()
    at = open_page("overview")
    at.session_state[UPLOAD_KEY] = [("crm_export.csv", sales)]
    at.session_state["source"] = MINE
    at.run()
    assert not at.exception
    boxes = [i.value for i in at.info if "not available" in i.value]
    assert len(boxes) == 1 and "Quotas, fiscal year & currency" in boxes[0]
    assert not chart_specs(at)          # no distribution, gaps or movers drawn empty
    table = at.dataframe[0]
    assert list(table.value["revenue"]) == sorted(table.value["revenue"], reverse=True)
    assert {"quota", "attainment", "gap", "primary_cause"}.isdisjoint(table.proto.column_order)
