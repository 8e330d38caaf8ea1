"""Territories page on the bundled sample: balance metrics from core, the offline account map and
its colour switch, attainment vs potential with the healthy band, and the proposal."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.fmt import fmt_num, fmt_pct
from core.territory.balance import balance_summary, territory_balance
from core.territory.realign import propose_realignment
from tests.apptest import chart_specs, open_page

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page("territories")


def test_balance_metrics_come_from_core(page):
    at = page
    assert not at.exception
    ctx = at.session_state["ctx"]
    s = balance_summary(territory_balance(ctx.ds, ctx.period, ctx.settings), ctx.settings)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Potential balance (CV)"] == fmt_num(s["cv"], 2)
    assert shown["Potential index in band"] == fmt_pct(s["share_in_band"])


def test_map_draws_offline_and_switches_colouring(page):
    at = page
    decks = at.get("deck_gl_json_chart")
    spec = json.loads(decks[0].proto.json)
    assert spec.get("mapProvider") in (None, "") and not spec.get("mapStyle")
    # territory labels on; where two would touch, deck.gl keeps the larger potential's only
    assert [layer["@@type"] for layer in spec["layers"]] == ["GeoJsonLayer", "ScatterplotLayer", "TextLayer"]
    labels = spec["layers"][2]
    assert labels["extensions"] == [{"@@type": "CollisionFilterExtension"}]
    assert labels["getCollisionPriority"] == "@@=priority" and labels["collisionTestProps"]["sizeScale"] > 1
    ctx = at.session_state["ctx"]
    potential = territory_balance(ctx.ds, ctx.period, ctx.settings).set_index("territory_id")["potential"]
    priority = {row["territory_id"]: row["priority"] for row in labels["data"]}
    by_potential = potential.loc[list(priority)].sort_values(ascending=False).index.tolist()
    assert sorted(priority, key=priority.get, reverse=True) == by_potential    # the larger potential wins
    assert all(-1000 <= p <= 1000 for p in priority.values())
    outlines = spec["layers"][0]
    assert len(outlines["data"]["features"]) == 51 and outlines["pickable"] is False
    legend = "".join(h.proto.body for h in at.get("html") if "&#9632;" in h.proto.body)
    ids = sorted(at.session_state["ctx"].ds.table("territories")["territory_id"])
    assert legend.count("&#9632;") == len(ids) and all(f"&#9632;</span> {t}<" in legend for t in ids)
    # 40 chips wrap onto several lines: a space between chips (nowrap inside each), else one cut-off line
    assert legend.count("</span> <span style=\"display:inline-block") == len(ids) - 1
    at.checkbox(key="terr_labels").uncheck().run()
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert [layer["@@type"] for layer in spec["layers"]] == ["GeoJsonLayer", "ScatterplotLayer"]
    at.radio(key="terr_colour").set_value("Coverage (last 90 days)").run()
    legend = "".join(h.proto.body for h in at.get("html") if "&#9632;" in h.proto.body)
    assert legend.count("&#9632;") == 3 and "high potential, not covered" in legend
    at.checkbox(key="terr_heat").check().run()
    assert not at.exception
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert [layer["@@type"] for layer in spec["layers"]][:2] == ["GeoJsonLayer", "HeatmapLayer"]


def test_every_map_draws_state_outlines_first(page):
    decks = [json.loads(d.proto.json) for d in page.get("deck_gl_json_chart")]
    assert len(decks) == 3  # the account map, then today / proposed
    assert all(d["layers"][0]["@@type"] == "GeoJsonLayer" and not d.get("mapProvider") for d in decks)


def test_attainment_vs_potential_has_the_band(page):
    fig = chart_specs(page)[0]
    band = [s for s in fig["layout"]["shapes"] if s.get("type") == "rect"]
    assert band and (band[0]["x0"], band[0]["x1"]) == (85, 115)
    assert "potential" in fig["layout"]["title"]["text"].lower()


def test_proposal_summary_matches_core(page):
    at = page
    ctx = at.session_state["ctx"]
    s = propose_realignment(ctx.ds, ctx.settings).summary
    shown = {m.label: m.value for m in at.metric}
    assert shown["Territories in band"] == f"{s['in_band_after']} of {s['territories']}"
    assert shown["Accounts moved"] == str(s["accounts_moved"])
    assert at.get("download_button")


def test_per_territory_segment_table_comes_from_core(page):
    from core.kpis import segments

    at = page
    ctx = at.session_state["ctx"]
    [shown] = [d.value for d in at.dataframe if "segment" in d.value.columns]
    expected = segments.segment_kpis(ctx.ds, ctx.period, "segment", ctx.scope, per="territory")
    assert shown[["territory_id", "segment"]].values.tolist() == expected[["territory_id", "segment"]].values.tolist()
    assert shown["revenue"].tolist() == pytest.approx(expected["revenue"].tolist())
    at.segmented_control(key="terr_segment_by").set_value("Account type").run()
    assert not at.exception
    [shown] = [d.value for d in at.dataframe if {"account_type", "revenue_share"} <= set(d.value.columns)]
    assert shown.groupby("territory_id")["revenue"].sum().to_dict() == pytest.approx(
        expected.groupby("territory_id")["revenue"].sum().to_dict())
