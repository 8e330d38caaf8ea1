"""Pipeline: do the reps win the deals they work, how long deals take, and is there enough open
pipeline to close the rest of the gap — with the stage funnel, per rep. Every number comes from
core via the cache."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.fmt import count_of
from core.kpis import metrics
from ui.charts import fmt_money, fmt_num, fmt_pct, fmt_unit, region_colors, slanted_names, style, target_line
from ui.state import cached_call, context, not_available, page_caption
from ui.text import plot_text

HEADLINE = ["win_rate", "sales_cycle_days", "pipeline_coverage", "open_pipeline"]
STATUS_COLORS = {"won": "#2ca02c", "lost": "#d62728"}
OPEN_COLORS = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")

ctx = context()
ds, period, scope, settings = ctx.ds, ctx.period, ctx.scope, ctx.settings
coverage_target = settings.targets.pipeline_coverage

st.title("Pipeline")
page_caption(ctx)
if not ds.has("opportunities"):
    not_available("Win rate, sales cycle, pipeline coverage and the stage funnel", ["opportunities"])
    st.stop()

team = cached_call(metrics.team_kpis, ds, period, settings, scope)
reps = cached_call(metrics.rep_kpis, ds, period, settings, scope)
colors = region_colors(reps["region"])


def _known(x: object) -> bool:
    return isinstance(x, (int, float)) and not math.isnan(x)


# ------------------------------------------------------------------ headline
cols = st.columns(4)
cols[0].metric("Win rate", fmt_pct(team["win_rate"]),
               help=f"Won ÷ (won + lost) of deals closed in {period.label}: "
                    f"{fmt_num(team['won'], 0)} won, {fmt_num(team['lost'], 0)} lost. Open deals do not count.")
cols[1].metric("Sales cycle",
               fmt_num(team["sales_cycle_days"], 0) + (" days" if _known(team["sales_cycle_days"]) else ""),
               help="Median days from created to close of the deals won in the period.")
at_start = cached_call(metrics.pipeline_at_start, ds, period)
cols[2].metric("Pipeline coverage",
               fmt_num(team["pipeline_coverage"], 1) + ("×" if _known(team["pipeline_coverage"]) else ""),
               delta=(f"{team['pipeline_coverage'] - coverage_target:+.1f}× vs target {coverage_target:.0f}×"
                      if _known(team["pipeline_coverage"]) else None),
               help=(f"{period.label} is over: the pipeline open on its first day ÷ its quota (reps with a quota)."
                     if at_start else "Open pipeline now ÷ the quota still to win (Σ over the reps below quota)."))
cols[3].metric(f"Pipeline on {period.start:%d %b %Y}" if at_start else "Open pipeline",
               fmt_money(team["start_pipeline" if at_start else "open_pipeline"]),
               help=("Deals created before the period and not closed before it, at their amount (else list price)."
                     if at_start else f"Quota still to win: {fmt_money(team['remaining_quota'])}."))
if metrics.missing_inputs(ds, "pipeline_coverage"):
    not_available("Pipeline coverage", metrics.missing_inputs(ds, "pipeline_coverage"))
elif not _known(team["pipeline_coverage"]):
    st.caption("Pipeline coverage is n/a: " + ("no rep in scope had a quota for the period." if at_start else
                                               "every rep in scope has reached quota (nothing left to cover)."))

# ------------------------------------------------------------------ stage funnel
st.subheader("Stage funnel")
funnel = cached_call(metrics.stage_funnel, ds, period, scope)
if funnel.empty:
    st.info("No open deals now and none closed in the period.")
else:
    left, right = st.columns(2)
    open_ = funnel[funnel["status"] == "open"]
    with left:
        # Counts only: open deals now are a snapshot, not a conversion from the first stage (a later
        # stage can hold more deals, and "118 % of initial" reads as an error).
        fig = go.Figure(go.Funnel(y=open_["stage"], x=open_["opportunities"], textinfo="text",
                                  text=[fmt_unit(n, "count") for n in open_["opportunities"]],
                                  customdata=open_[["amount"]].to_numpy(), marker_color="#4292c6",
                                  hovertemplate="%{y}: %{x:,} open deals, %{customdata[0]:$,.0f}<extra></extra>"))
        st.plotly_chart(style(fig, "Open deals per stage, in stage order (now)", None, height=360),
                        width="stretch")
    with right:
        closed = funnel[funnel["status"] != "open"]
        fig = go.Figure(go.Bar(x=closed["stage"], y=closed["opportunities"],
                               marker_color=[STATUS_COLORS[s] for s in closed["status"]],
                               customdata=closed[["amount"]].to_numpy(),
                               hovertemplate="%{x}: %{y:,} deals, %{customdata[0]:$,.0f}<extra></extra>"))
        fig.update_yaxes(tickformat=",")      # 1,200 deals, as the funnel beside it writes them
        st.plotly_chart(style(fig, f"Deals closed in {period.label}", "Deals", height=360), width="stretch")

    by_rep = cached_call(metrics.stage_funnel, ds, period, scope, by_rep=True)
    by_rep = by_rep[by_rep["status"] == "open"].merge(reps[["rep_id", "rep_name"]], on="rep_id")
    if not by_rep.empty:
        # CRM exports often leave open deals without an amount (Maven's close_value): then the deals
        # are counted, rather than drawing an empty chart of $0 bars.
        priced = bool(by_rep["amount"].fillna(0).gt(0).any())
        value = "amount" if priced else "opportunities"
        order = by_rep.groupby("rep_name")[value].sum().sort_values().index.tolist()
        fig = go.Figure()
        for stage, color in zip(open_["stage"], OPEN_COLORS * (len(open_) // len(OPEN_COLORS) + 1), strict=False):
            part = by_rep[by_rep["stage"] == stage]
            fig.add_bar(x=part[value], y=part["rep_name"], orientation="h", name=str(stage), marker_color=color,
                        customdata=part[["opportunities", "amount"]].to_numpy(),
                        hovertemplate="%{y} · " + plot_text(stage) + ": %{customdata[0]:,} deals"
                                      + (", %{customdata[1]:$,.0f}" if priced else "") + "<extra></extra>")
        fig.update_layout(barmode="stack")
        fig.update_yaxes(categoryorder="array", categoryarray=order)
        if priced:
            fig.update_xaxes(tickprefix="$", tickformat="~s")
        title = "Open pipeline per rep by stage (now)" if priced else \
            "Open deals per rep by stage (now; the open deals carry no amount)"
        st.plotly_chart(style(fig, title, None, x_title="Open amount ($)" if priced else "Open deals",
                              height=160 + 18 * len(order)), width="stretch")

# ------------------------------------------------------------------ per rep
st.subheader("Per rep")


def _axis_cap(values: pd.Series, target: float | None) -> float | None:
    """A linear axis top that keeps most bars readable when a few are far taller (> 3× the 80th
    percentile and the target); None when every bar fits."""
    ref = max(float(values.quantile(0.8)), target or 0.0)
    return 3 * ref if ref > 0 and float(values.max()) > 3 * ref else None


def _bars(kpi: str, title: str, y_title: str, scale: float = 1.0, target: float | None = None,
          hover: str = "%{y:,.1f}", cap_if_wide: bool = False) -> None:
    k = metrics.KPIS[kpi]
    data = reps.dropna(subset=[kpi]).sort_values(kpi, ascending=not k.higher_is_better)
    if data.empty:
        st.info(f"{k.label}: n/a for every rep in {period.label}.")
        return
    fig = go.Figure()
    for region, part in data.groupby("region", sort=True):
        fig.add_bar(x=part["rep_name"], y=part[kpi] * scale, name=str(region), marker_color=colors[str(region)],
                    hovertemplate="%{x}: " + hover + "<extra>%{fullData.name}</extra>")
    fig.update_xaxes(categoryorder="array", categoryarray=data["rep_name"].tolist())
    if target is not None:
        target_line(fig, target * scale, f"Target {fmt_num(target * scale, 1)}")
    slanted_names(fig)
    cap = _axis_cap(data[kpi] * scale, None if target is None else target * scale) if cap_if_wide else None
    if cap is not None:   # a rep with almost no quota left would flatten everyone else: cut, never log
        fig.update_yaxes(range=[0, cap])
    st.plotly_chart(style(fig, title, y_title, height=380), width="stretch")
    if cap is not None:
        above = int((data[kpi] * scale > cap).sum())
        st.caption(f"Axis cut at {cap:,.1f}: {count_of(above, 'rep')} above it (hover a bar for its value).")
    if len(data) < len(reps):
        st.caption(f"{count_of(len(reps) - len(data), 'rep')} not shown: n/a ({k.label.lower()} has nothing "
                   "to compute it from for them).")


_bars("win_rate", f"Win rate per rep, {period.label} (won ÷ closed)", "Win rate (%)", 100, hover="%{y:.0f}%")
coverage_rule = "pipeline at start ÷ quota" if at_start else "open pipeline ÷ quota left"
if not metrics.missing_inputs(ds, "pipeline_coverage"):   # else said once, at the top
    _bars("pipeline_coverage", f"Pipeline coverage per rep ({coverage_rule}), {period.label}",
          "Coverage (×)", target=coverage_target, hover="%{y:.1f}×", cap_if_wide=True)
_bars("sales_cycle_days", f"Median sales cycle of deals won in {period.label}", "Days", hover="%{y:.0f} days")
