"""Territories: is each rep's goal fair for the opportunity they were given? Balance, coverage and
overlap per territory, a map of accounts, and a proposed realignment to download.
Every number comes from core via the cache; this page only lays it out."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st

from core.errors import UserError
from core.fmt import NA
from core.kpis.inputs import territories_in_scope
from core.territory.balance import (
    COVERED,
    UNCOVERED,
    UNCOVERED_HIGH,
    account_map,
    balance_summary,
    territory_balance,
    underserved_pockets,
)
from core.territory.geo import geocode_report, state_outlines
from core.territory.realign import moves_workbook, propose_realignment
from ui.charts import PALETTE, fmt_money, fmt_num, fmt_pct, percent_column, region_colors, show_table, style
from ui.segments import segment_breakdown
from ui.state import cached_call, context, not_available, page_caption
from ui.text import html_text, md

STATUS_COLORS = {COVERED: [44, 160, 44, 170], UNCOVERED_HIGH: [214, 39, 40, 230],
                 UNCOVERED: [150, 150, 150, 140], "n/a": [31, 119, 180, 160]}
MOVED_COLOR = [255, 127, 14, 255]
STATUS_WORDS = {COVERED: "covered (an activity in the 90 days to the period end)",
                UNCOVERED_HIGH: "high potential, not covered", UNCOVERED: "other accounts, not covered"}
# deck.gl hides a territory label that would touch one of higher priority (the larger potential),
# again at each zoom; a label is tested 1.5× its size so neighbours keep a margin.
LABEL_SPACING = 1.5


def map_legend(colours: dict[str, list[int]], words: dict[str, str] | None = None) -> None:
    """The map's colour key under it (pydeck draws none): a coloured square and its meaning, user
    text (territory ids) escaped as HTML."""
    chips = [f'<span style="display:inline-block;white-space:nowrap;margin-right:14px">'
             f'<span style="color:rgb({r},{g},{b});font-size:1.2em">&#9632;</span> '
             f'{html_text((words or {}).get(key, key))}</span>'
             for key, (r, g, b, _) in colours.items()]
    st.html('<div style="font-size:0.85em;line-height:1.9">' + " ".join(chips) + "</div>")   # HTML, not Markdown


def territory_labels(territories: pd.DataFrame) -> pd.DataFrame:
    """Territory centres to label, each with its collision priority (deck.gl: -1000 to 1000, the
    higher kept): the largest potential first, territories without one last."""
    cents = territories.dropna(subset=["lat", "lon"])[["territory_id", "lat", "lon", "potential"]]
    rank = cents["potential"].rank(ascending=False, method="first", na_option="bottom")
    return cents.assign(priority=(1000 - rank).clip(lower=-1000)).drop(columns="potential")


def _states_layer() -> pdk.Layer:
    """US state outlines drawn under the points: geographic context without map tiles (no network).
    Not pickable, so the point tooltips never fire on it."""
    return pdk.Layer("GeoJsonLayer", state_outlines(), stroked=True, filled=True, get_fill_color=[245, 245, 245],
                     get_line_color=[170, 170, 170], line_width_min_pixels=1, pickable=False)


ctx = context()
ds, period, scope, settings = ctx.ds, ctx.period, ctx.scope, ctx.settings
t = settings.targets

st.title("Territories")
page_caption(ctx)
if ds.missing("accounts", "territories") == ["accounts", "territories"]:
    not_available("Territory balance, coverage and maps", ["accounts", "territories"])
    st.stop()

balance = cached_call(territory_balance, ds, period, settings)
summary = balance_summary(balance, settings)  # a few sums over one row per territory


def _in_scope(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of a per-territory or per-account frame inside the sidebar's scope."""
    region = balance.set_index("territory_id")["region"]
    return frame[territories_in_scope(ds, scope, frame["territory_id"], frame["territory_id"].map(region))]


# ------------------------------------------------------------------ team balance
c = st.columns(4)
# The deltas are reference values, not changes: no arrow.
c[0].metric("Potential balance (CV)", fmt_num(summary["cv"], 2), f"healthy ≤ {t.balance_cv:.2f}",
            delta_color="off", delta_arrow="off", help="Standard deviation / mean of territory potentials.")
c[1].metric("Gini of potential", fmt_num(summary["gini"], 2), "0 = all equal", delta_color="off",
            delta_arrow="off", help="How unequally potential is spread over territories: 0 all equal, 1 all in one.")
c[2].metric("Quota fairness (CV)", fmt_num(summary["quota_fairness_cv"], 2),
            f"healthy ≤ {t.quota_fairness_cv:.2f}", delta_color="off", delta_arrow="off",
            help="Coefficient of variation of quota / potential across territories: how differently "
                 "territories are asked to convert their potential.")
c[3].metric("Potential index in band", fmt_pct(summary["share_in_band"]),
            f"{t.potential_index_low:.0f}–{t.potential_index_high:.0f}, {summary['n']} territories",
            delta_color="off", delta_arrow="off",
            help="Share of territories whose potential index (100 = the team's average) lies in the band.")

missing = ds.missing("accounts", "activities", "quotas", "sales")
if missing:
    not_available("Some balance measures (workload, coverage, overlap, attainment)", missing)

shown = _in_scope(balance)

# ------------------------------------------------------------------ map
st.subheader("Accounts on the map")
if not ds.has("accounts"):
    not_available("The account map", ["accounts"])
else:
    placed = geocode_report(ds.table("accounts"))  # a merge on a cached ZIP table
    accounts = _in_scope(cached_call(account_map, ds, period, settings))
    if placed["unplaced"]:
        st.caption(f"{placed['unplaced']} of {placed['accounts']} accounts have no coordinates and no known "
                   "ZIP, so they are not on the map (their numbers still count).")
    if accounts["potential"].isna().all():
        st.info("The accounts have no potential: points are drawn at one size, and the balance uses "
                "the territories' market potential where given.")
    pts = accounts.dropna(subset=["latitude", "longitude"]).copy()
    if pts.empty:
        st.info("No account can be placed: add latitude/longitude or a US ZIP to the accounts table.")
    else:
        colour_by = st.radio("Colour accounts by", ["Territory", "Coverage (last 90 days)"], horizontal=True,
                             key="terr_colour")
        heat = st.checkbox("Heat map of high-potential accounts not covered in the last 90 days",
                           key="terr_heat")
        cents = territory_labels(_in_scope(balance))
        labelled = st.checkbox("Label territory centres", value=True, key="terr_labels",
                               help="Where labels would touch, only the territory with the larger potential is "
                                    "named: zoom in (or choose a region in the sidebar) to name the others.")
        terr_ids = sorted(balance["territory_id"])
        rgb = {tid: [int(PALETTE[i % len(PALETTE)][k:k + 2], 16) for k in (1, 3, 5)] + [190]
               for i, tid in enumerate(terr_ids)}
        pts["color"] = (pts["territory_id"].map(rgb) if colour_by == "Territory"
                        else pts["status"].map(STATUS_COLORS))
        pts["radius"] = (pts["potential"].fillna(pts["potential"].median()).clip(lower=0) ** 0.5 * 15).fillna(2000)
        pts["potential_text"] = pts["potential"].map(fmt_money)
        pts["last_text"] = pts["last_activity"].dt.strftime("%Y-%m-%d").fillna("none")
        pts = pts.drop(columns=["last_activity"])
        pts = pts.assign(**{c: pts[c].map(html_text) for c in ("account_name", "account_type", "rep_name",
                                                              "territory_id")})  # tooltip html
        layers = [
            _states_layer(),
            pdk.Layer("ScatterplotLayer", pts, get_position=["longitude", "latitude"], get_radius="radius",
                      get_fill_color="color", pickable=True, radius_min_pixels=2, radius_max_pixels=30),
        ]
        if labelled:
            layers.append(pdk.Layer("TextLayer", cents, get_position=["lon", "lat"], get_text="territory_id",
                                    get_size=13, get_color=[20, 20, 20, 230], get_alignment_baseline="'center'",
                                    background=True, get_background_color=[255, 255, 255, 200],
                                    extensions=[{"@@type": "CollisionFilterExtension"}],
                                    get_collision_priority="priority",
                                    collision_test_props={"sizeScale": LABEL_SPACING}))
        if heat:
            gaps = pts[pts["status"] == UNCOVERED_HIGH]
            layers.insert(1, pdk.Layer("HeatmapLayer", gaps, get_position=["longitude", "latitude"],
                                       get_weight="potential", radius_pixels=60, opacity=0.6))
        view = pdk.ViewState(latitude=float(pts["latitude"].mean()), longitude=float(pts["longitude"].mean()),
                             zoom=3.3 if scope.region is None else 5)
        tooltip = {"html": "<b>{account_name}</b><br/>{account_type}<br/>Potential {potential_text}"
                           "<br/>Last activity {last_text}<br/>Territory {territory_id} · {rep_name}"
                           "<br/>{status}"}
        st.pydeck_chart(pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=None,
                                 tooltip=tooltip), height=520)
        if colour_by == "Territory":      # the ids as loaded (pts holds them escaped for the tooltip)
            placed_ids = set(accounts.dropna(subset=["latitude", "longitude"])["territory_id"].dropna())
            map_legend({tid: rgb[tid] for tid in terr_ids if tid in placed_ids})
        else:
            map_legend({s: STATUS_COLORS[s] for s in STATUS_WORDS}, STATUS_WORDS)
        st.caption("Point size = account potential. Coverage: green = an activity in the 90 days to the "
                   "period end, red = top-quartile potential in its territory and not covered, grey = "
                   "other accounts not covered. Labels mark territory centres, the larger potential where two "
                   "would touch (zoom in for the others). The map needs no internet: it draws the points over US "
                   "state outlines instead of map tiles.")

# ------------------------------------------------------------------ table + scatter
st.subheader("Balance per territory")
table = shown[["territory_id", "territory_name", "region", "rep_name", "potential", "potential_index", "quota",
               "quota_per_potential", "accounts", "workload_index", "coverage", "overlap", "attainment",
               "spread_km"]].sort_values("potential_index")
# 14 measures do not fit 1366 px: the territory stays pinned while the rest scrolls beside it.
show_table(table, column_config={
    "territory_id": st.column_config.TextColumn("Territory", width=75, pinned=True), "territory_name": "Name",
    "region": "Region", "rep_name": "Rep",
    "potential": st.column_config.NumberColumn("Potential ($/yr)", format="dollar", step=1),
    "potential_index": st.column_config.NumberColumn("Potential index", format="%.0f",
                                                     help="Potential / mean × 100; healthy 85–115."),
    "quota": st.column_config.NumberColumn(f"Quota {period.label}", format="dollar", step=1),
    "quota_per_potential": percent_column(
        "Quota / potential", help="The period's quota as a share of the territory's annual potential."),
    "accounts": st.column_config.NumberColumn("Accounts", format="%d"),
    "workload_index": st.column_config.NumberColumn(
        "Workload index", format="%.0f",
        help="Visits a year needed (top-quartile accounts monthly, others quarterly) / mean × 100."),
    "coverage": percent_column("Coverage", help="Top-quartile accounts seen in the last 90 days."),
    "overlap": percent_column("Overlap", help="The rep's activities on other territories' accounts."),
    "attainment": percent_column("Attainment"),
    "spread_km": st.column_config.NumberColumn("Spread (km)", format="%.0f",
                                               help="Mean distance of accounts to the territory centre."),
}, placeholder=NA)

pts_att = shown.dropna(subset=["potential_index", "attainment"])
if pts_att.empty:
    not_available("Attainment vs potential", [n for n in ("quotas", "sales") if not ds.has(n)] or ["accounts"])
else:
    colors = region_colors(balance["region"])
    fig = go.Figure()
    fig.add_vrect(x0=t.potential_index_low, x1=t.potential_index_high, fillcolor="#2ca02c", opacity=0.08,
                  line_width=0, annotation_text="healthy band", annotation_position="top left")
    fig.add_hline(y=t.attainment * 100, line_dash="dot", line_color="#7f7f7f")
    for region, grp in pts_att.groupby("region"):
        fig.add_trace(go.Scatter(
            x=grp["potential_index"], y=grp["attainment"] * 100, mode="markers", name=region,
            marker={"color": colors[region], "size": 11},
            customdata=grp[["rep_name", "territory_id"]].to_numpy(),
            hovertemplate="%{customdata[0]} (%{customdata[1]})<br>Potential index %{x:.0f}"
                          "<br>Attainment %{y:.0f}%<extra></extra>"))
    style(fig, "Attainment vs territory potential: reps in poor territories sit left and low",
          "Attainment (%)", "Territory potential index (mean = 100)")
    st.plotly_chart(fig, width="stretch")

# ------------------------------------------------------------------ by account segment / type
st.subheader("Per territory, by account segment and type")
segment_breakdown(ctx, "terr_segment_by", per="territory")

if ds.has("activities") and ds.has("accounts"):
    pockets = _in_scope(cached_call(underserved_pockets, ds, period, settings))
    st.subheader(f"Underserved high-potential accounts ({len(pockets)})")
    st.caption("Top-quartile potential in their territory, no activity in the 90 days to the period end.")
    st.dataframe(pockets.drop(columns=["latitude", "longitude"]), hide_index=True, width="stretch",
                 column_config={"account_id": "Account ID", "account_name": "Account", "territory_id": "Territory",
                                "account_type": "Type",
                                "potential": st.column_config.NumberColumn("Potential ($/yr)", format="dollar", step=1),
                                "last_activity": st.column_config.DateColumn("Last activity", format="YYYY-MM-DD")},
                 placeholder=NA)

# ------------------------------------------------------------------ proposal
st.subheader("A better alignment to propose")
try:
    proposal = cached_call(propose_realignment, ds, settings)
except UserError as err:
    st.info(md(str(err)))
    st.stop()
s = proposal.summary
c = st.columns(4)
c[0].metric("Territories in band", f"{s['in_band_after']} of {s['territories']}",
            f"{s['in_band_after'] - s['in_band_before']:+d} vs today")
c[1].metric("Potential CV", fmt_num(s["cv_after"], 3), f"{s['cv_after'] - s['cv_before']:+.3f}",
            delta_color="inverse")
c[2].metric("Accounts moved", f"{s['accounts_moved']}", f"revenue changing hands {fmt_money(s['revenue_moved'])}",
            delta_color="off")
c[3].metric("Mean km to territory centre", fmt_num(s["compactness_after"], 0),
            f"{fmt_num(s['compactness_after'] - s['compactness_before'], 1)} km", delta_color="inverse")
st.caption(proposal.method)

if proposal.moves.empty:
    st.success("Every territory it can reach is already inside the band: nothing to move.")
else:
    st.download_button("Download the moves (.xlsx)", data=lambda: moves_workbook(proposal),
                       file_name="goalgap_realignment.xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.dataframe(proposal.moves, hide_index=True, width="stretch", column_config={
        "account_id": "Account ID", "account_name": st.column_config.TextColumn("Account", pinned=True),
        "from_territory": "From territory",
        "to_territory": "To territory",
        "potential": st.column_config.NumberColumn("Potential ($/yr)", format="dollar", step=1),
        "revenue_12m": st.column_config.NumberColumn("Revenue, last 12 months", format="dollar", step=1),
        "distance_km": st.column_config.NumberColumn("km to new territory centre", format="%.0f")}, placeholder=NA)
    side = proposal.before.merge(proposal.after[["territory_id", "potential", "potential_index", "accounts",
                                                 "compactness"]], on="territory_id", suffixes=(" before", " after"))
    side = _in_scope(side)
    changed = side[side["accounts before"] != side["accounts after"]]
    st.dataframe(changed.drop(columns=["in_band"]), hide_index=True, width="stretch", column_config={
        "territory_id": st.column_config.TextColumn("Territory", width=75, pinned=True), "territory_name": "Name",
        "region": "Region", "accounts before": "Accounts before", "accounts after": "Accounts after",
        "potential before": st.column_config.NumberColumn("Potential before", format="dollar", step=1),
        "potential after": st.column_config.NumberColumn("Potential after", format="dollar", step=1),
        "potential_index before": st.column_config.NumberColumn("Potential index before", format="%.0f"),
        "potential_index after": st.column_config.NumberColumn("Potential index after", format="%.0f"),
        "compactness before": st.column_config.NumberColumn("km to centre before", format="%.0f"),
        "compactness after": st.column_config.NumberColumn("km to centre after", format="%.0f")}, placeholder=NA)

    if ds.has("accounts"):
        pts = cached_call(account_map, ds, period, settings).dropna(subset=["latitude", "longitude"])
        pts = pts[pts["territory_id"].isin(changed["territory_id"])]
        move_to = dict(zip(proposal.moves["account_id"], proposal.moves["to_territory"], strict=False))
        ids = sorted(changed["territory_id"])
        rgb = {tid: [int(PALETTE[i % len(PALETTE)][k:k + 2], 16) for k in (1, 3, 5)] + [170]
               for i, tid in enumerate(ids)}
        if not pts.empty:
            view = pdk.ViewState(latitude=float(pts["latitude"].mean()), longitude=float(pts["longitude"].mean()),
                                 zoom=4.5)
            cols = st.columns(2)
            for col, label, terr in ((cols[0], "Today", pts["territory_id"]),
                                     (cols[1], "Proposed", pts["account_id"].map(move_to).fillna(pts["territory_id"]))):
                frame = pts.assign(terr=terr, color=terr.map(rgb)).drop(columns=["last_activity"])
                frame = frame.assign(account_name=frame["account_name"].map(html_text),
                                     terr=frame["terr"].map(html_text))  # tooltip html
                moved = frame[frame["account_id"].isin(move_to)]
                col.markdown(f"**{label}** — territories that change; moved accounts ringed in orange")
                col.pydeck_chart(pdk.Deck(layers=[
                    _states_layer(),
                    pdk.Layer("ScatterplotLayer", frame, get_position=["longitude", "latitude"],
                              get_fill_color="color", get_radius=6000, radius_min_pixels=3, pickable=True),
                    pdk.Layer("ScatterplotLayer", moved, get_position=["longitude", "latitude"], get_radius=9000,
                              filled=False, stroked=True, get_line_color=MOVED_COLOR, line_width_min_pixels=2),
                ], initial_view_state=view, map_provider=None, map_style=None,
                    tooltip={"html": "<b>{account_name}</b><br/>{terr}"}), height=380)
