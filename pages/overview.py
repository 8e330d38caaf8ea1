"""Overview: is the team on goal, where is the period heading, how attainment is spread over the
reps, who is furthest from goal and who moved most. Every number comes from core via the cache."""
from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.fmt import NA, cause_label, fmt_chance
from core.kpis import forecast, metrics
from ui.charts import BAD, GOOD, WARN, fmt_pct, range_metric, region_colors, style
from ui.charts import fmt_money as _fmt_money
from ui.in_progress import in_progress_block
from ui.state import (
    cached_call,
    context,
    diagnose_neighbours,
    not_available,
    page_caption,
    team_rep_diagnosis,
    view_memo,
)

BAND_COLORS = dict(zip(metrics.BANDS, (BAD, BAD, WARN, GOOD, GOOD), strict=False))
SPARK_MONTHS = 12
TOP = 5

ctx = context()
ds, period, scope, settings = ctx.ds, ctx.period, ctx.scope, ctx.settings
target = settings.targets.attainment
fmt_money = partial(_fmt_money, currency=settings.reporting_currency)   # labels in the reporting currency

st.title("Overview")
page_caption(ctx, f"amounts in {settings.reporting_currency}")
if not metrics.has_sales(ds):
    not_available("Revenue, quota and attainment", ["sales"])
    st.stop()
# The period in progress comes first on the screen but is drawn once the headline numbers (cheap)
# are shown: its forecast and diagnosis are prewarmed when the data loads (ui.state.prewarm).
heading = st.container()

# The first request of a dataset and period computes every rep's KPI parts (about a second at a
# thousand reps); every scope after that is a filter of them.
running = period.end > ds.date_span()[1]          # the chosen period goes on past the data
st.subheader(f"{period.label} to date: revenue against goal" if running else f"{period.label}: revenue against goal")
with st.spinner("Computing the KPIs…"):
    team = cached_call(metrics.team_kpis, ds, period, settings, scope)
    reps = cached_call(metrics.rep_kpis, ds, period, settings, scope)


def _known(x: float) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


# ------------------------------------------------------------------ headline numbers vs goal
cols = st.columns(4)
cols[0].metric("Revenue", fmt_money(team["revenue"]),
               delta=f"{fmt_pct(team['growth'])} vs a year earlier" if _known(team["growth"]) else None,
               help="Σ sales in the period (returns and credits netted).")
cols[1].metric("Quota", fmt_money(team["quota"]), help="Σ quota of the months of the period "
               "(a quarterly quota is spread evenly over its months).")
cols[2].metric("Attainment", fmt_pct(team["attainment"]),
               delta=(f"{(team['attainment'] - target) * 100:+.0f} pts vs {fmt_pct(target)} target"
                      if _known(team["attainment"]) else None),
               help="Σ revenue ÷ Σ quota of the reps with a quota — not an average of the reps' percentages.")
cols[3].metric("Gap to goal (team)", fmt_money(team["gap"]),
               delta=(f"reps below goal: {fmt_money(team['remaining_quota'])} short"
                      if _known(team["remaining_quota"]) else None), delta_color="off", delta_arrow="off",
               help="Team gap: Σ quota − Σ revenue (negative = ahead), so reps ahead of goal offset reps behind. "
                    "Under it, the shortfall of the reps below goal: Σ (quota − revenue) over those reps only — "
                    "larger, because nobody's surplus offsets it.")
no_quota = metrics.missing_inputs(ds, "attainment")
if no_quota:      # said once, here, with the way to fix it; the sections that need quotas are left out
    not_available("Quota, attainment, gap to goal and the charts of who is short", no_quota)
    if "quotas" in no_quota:
        st.page_link("pages/quotas.py", label="Set quotas in the app", icon=":material/target:")
with heading:
    heading_shown = in_progress_block(ctx)

# ------------------------------------------------------------------ forecast
# A period that is over has nothing to forecast: the model is not fitted for it.
fc = cached_call(forecast.team_forecast, ds, period, settings, scope) if running else None
if fc is not None and fc.remaining_working_days:
    st.subheader("Where the period is heading")
    cols = st.columns(4)
    cols[0].metric("Projected revenue", fmt_money(fc.projected),
                   delta=f"{fmt_money(fc.projected - fc.quota)} vs quota" if _known(fc.quota) else None,
                   help="Revenue to date plus the forecast of the working days left.")
    range_metric(cols[1], "80 % range", fc.low, fc.high, settings.reporting_currency,
                 help="Eight times in ten the period should end inside this range.")
    cols[2].metric("Chance of reaching quota", fmt_chance(fc.p_goal))
    cols[3].metric("Needed per working day", fmt_money(fc.needed_per_day),
                   help=f"Revenue per working day to reach quota over the {fc.remaining_working_days} left.")
    st.caption(f"Forecast model: {fc.method}. More on the Trends page.")
elif heading_shown:
    st.caption(f"{period.label} is over: these numbers are final. Where the period in progress is heading is "
               "at the top of the page.")
else:
    st.caption(f"{period.label} is over: these numbers are final.")

# ------------------------------------------------------------------ attainment distribution
dist = view_memo(ctx, "overview.dist", lambda: metrics.attainment_distribution(reps))


def _distribution() -> go.Figure:
    fig = go.Figure(go.Bar(
        x=list(dist["counts"]), y=list(dist["counts"].values()),
        marker_color=[BAND_COLORS[b] for b in dist["counts"]],
        text=[fmt_pct(s) for s in dist["bands"].values()], textposition="outside",
        customdata=list(dist["bands"].values()),
        hovertemplate="%{x} of quota: %{y} reps (%{customdata:.0%})<extra></extra>"))
    return style(fig, f"Reps per attainment band, {period.label} ({dist['n']} reps with a quota)",
                 "Reps", x_title="Attainment (revenue ÷ quota)", height=340)


if not no_quota:
    st.subheader("How attainment is spread over the reps")
    if dist["n"] == 0:
        not_available("The attainment distribution", ["quotas"])
    else:
        st.plotly_chart(view_memo(ctx, "overview.distribution", _distribution), width="stretch")
        st.caption(f"Median attainment {fmt_pct(dist['median'])}; the middle half of the reps lies between "
                   f"{fmt_pct(dist['q1'])} and {fmt_pct(dist['q3'])} (spread {fmt_pct(dist['spread'])}). "
                   f"{fmt_pct(dist['share_at_goal'])} of the reps are at or above goal.")

# ------------------------------------------------------------------ rep table
st.subheader("Every rep, by revenue" if no_quota else "Every rep, furthest below goal first")


def _rep_table() -> pd.DataFrame:
    spark_start = (pd.Period(period.end, "M") - (SPARK_MONTHS - 1)).start_time.date()
    by_month = cached_call(metrics.monthly, ds, spark_start, period.end, settings, scope, by="rep_id")
    spark = by_month.pivot(index="rep_id", columns="month", values="revenue")
    trends = {r: row[~np.isnan(row)].tolist() for r, row in zip(spark.index, spark.to_numpy("float64"), strict=True)}
    # The diagnosis is computed for the whole team once per dataset, period and settings (benchmarks
    # are the team's reps at goal), held on the Dataset and only filtered here, so a scope change never
    # re-runs it.
    if no_quota:                  # no gap, so no cause of one: the column is not shown
        primary = pd.Series(dtype=object)
    else:
        primary = team_rep_diagnosis(ctx).set_index("rep_id")["primary_cause"].map(
            lambda c: "—" if c == "none" else cause_label(c))
    table = reps[["rep_name", "region", "territory_id", "revenue", "quota"]].assign(
        attainment=reps["attainment"] * 100, gap=reps["gap"], primary_cause=reps["rep_id"].map(primary),
        # Months without data (before a CRM export starts) are left out: the sparkline cannot draw n/a.
        trend=reps["rep_id"].map(lambda r: trends.get(r, [])))
    return table.sort_values("revenue", ascending=False) if no_quota else table.sort_values("attainment")


money = {"format": "dollar", "step": 1, "width": 82}
# Widths in pixels that add up to the main column at 1366 px (about 900), so nothing is cut off on the
# right; the rep's name stays pinned when the table is narrower. Role, ramping and growth are on the
# Rep profile.
shown_columns = ["rep_name", "region", "territory_id", "revenue", *([] if no_quota else ["quota", "attainment", "gap",
                                                                                       "primary_cause"]), "trend"]
st.dataframe(view_memo(ctx, "overview.reps", _rep_table), hide_index=True, width="stretch", column_order=shown_columns,
             column_config={
                 "rep_name": st.column_config.TextColumn("Rep", width=128, pinned=True),
                 "region": st.column_config.TextColumn("Region", width=78),
                 "territory_id": st.column_config.TextColumn("Territory", width=66),
                 "revenue": st.column_config.NumberColumn("Revenue", **money),
                 "quota": st.column_config.NumberColumn("Quota", **money),
                 "attainment": st.column_config.ProgressColumn(
                     "Attainment", format="%.0f%%", min_value=0.0, max_value=150.0, width=100,
                     help=f"Revenue ÷ quota; target {fmt_pct(target)}"),
                 "gap": st.column_config.NumberColumn("Gap to goal", **money, help="Quota − revenue"),
                 "primary_cause": st.column_config.TextColumn(
                     "Primary cause", width=165, help="The cause explaining most of the rep's gap (Diagnostic page)"),
                 "trend": st.column_config.LineChartColumn(
                     "Revenue trend", width=108, help=f"Revenue per month, the last {SPARK_MONTHS} months"),
             }, placeholder=NA)

# ------------------------------------------------------------------ biggest gaps and movers
gaps = view_memo(ctx, "overview.top_gaps", lambda: reps.dropna(subset=["gap"]).nlargest(TOP, "gap"))


def _gaps() -> go.Figure:
    colors = region_colors(reps["region"])
    fig = go.Figure()
    for region, part in gaps.groupby("region", sort=True):
        fig.add_bar(x=part["gap"], y=part["rep_name"], orientation="h", name=str(region),
                    marker_color=colors[str(region)], customdata=part[["attainment"]].to_numpy(),
                    hovertemplate="%{y}: %{x:$,.0f} short (attainment %{customdata[0]:.0%})<extra></extra>")
    fig.update_yaxes(categoryorder="total ascending")
    return style(fig, f"Biggest gaps to goal, {period.label}", None, x_title="Quota − revenue ($)", height=320)


def _movers() -> go.Figure:
    fig = go.Figure(go.Bar(
        x=movers["change"] * 100, y=movers["rep_name"], orientation="h",
        marker_color=[GOOD if c > 0 else BAD for c in movers["change"]],
        customdata=movers[["attainment_previous", "attainment"]].to_numpy(),
        hovertemplate="%{y}: %{customdata[0]:.0%} → %{customdata[1]:.0%} (%{x:+.0f} pts)<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=movers["rep_name"].tolist()[::-1])
    return style(fig, f"Biggest attainment changes vs {period.previous().label}", None,
                 x_title="Change in attainment (percentage points)", height=320)


if no_quota:
    st.stop()
left, right = st.columns(2)
with left:
    if gaps.empty:
        not_available("Biggest gaps to goal", metrics.missing_inputs(ds, "gap") or ["quotas"])
    else:
        st.plotly_chart(view_memo(ctx, "overview.gaps", _gaps), width="stretch")
movers = cached_call(metrics.biggest_movers, ds, period, settings, scope, n=TOP)
with right:
    if movers.empty:
        not_available("Biggest movers", metrics.missing_inputs(ds, "attainment") or ["quotas"])
    else:
        st.plotly_chart(view_memo(ctx, "overview.movers", _movers), width="stretch")
diagnose_neighbours(ctx)      # the periods before and after, in the background, once this page is drawn
