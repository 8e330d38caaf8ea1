"""Customers & market: market share (penetration of potential), new customers, retention and
churn, per rep, territory or region, with their trends."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.kpis import customers, metrics
from ui.charts import fmt_num, fmt_pct, percent_column, show_table, style
from ui.segments import segment_breakdown
from ui.state import cached_call, context, not_available, page_caption

PCT = percent_column()
LEVELS = {"Rep": "rep", "Territory": "territory", "Region": "region"}

ctx = context()
st.title("Customers & market")
page_caption(ctx, "market share = revenue over "
           "12 months / annual potential of the territory (penetration of potential)")
if not metrics.has_sales(ctx.ds):
    not_available("Customers and market", ["sales"])
    st.stop()

team = cached_call(metrics.team_kpis, ctx.ds, ctx.period, ctx.settings, ctx.scope)
cols = st.columns(4)
for col, (key, text) in zip(cols, (("market_share", fmt_pct(team["market_share"], 1)),
                                   ("new_accounts", fmt_num(team["new_accounts"], 0)),
                                   ("retention_rate", fmt_pct(team["retention_rate"], 1)),
                                   ("churn_rate", fmt_pct(team["churn_rate"], 1))), strict=False):
    col.metric(metrics.KPIS[key].label, text)
st.caption("Account retention: an account that bought in the previous period counts as kept by the team in "
           "scope if any of its reps sells to it again, by a rep only if that same rep does — so the team can "
           "read 100% while its reps read less (accounts passing from one rep to another).")
if "accounts" in metrics.missing_inputs(ctx.ds, "market_share"):
    not_available("Market share", ["accounts"])

trend = cached_call(customers.customer_trend, ctx.ds, ctx.period, ctx.settings, "team", ctx.scope)
fig = go.Figure()
for key in ("market_share", "retention_rate", "churn_rate"):
    fig.add_scatter(x=trend["period"], y=trend[key], mode="lines+markers", name=metrics.KPIS[key].label)
fig.update_yaxes(tickformat=".0%")
st.plotly_chart(style(fig, "Market share, retention and churn over the last periods", "Share", "Period"),
                width="stretch")
new = go.Figure(go.Bar(x=trend["period"], y=trend["new_accounts"], name="New accounts"))
st.plotly_chart(style(new, "New customers per period", "Accounts", "Period", height=300), width="stretch")

level = LEVELS[st.segmented_control("Per", list(LEVELS), default="Rep", key="customers_level") or "Rep"]
table = cached_call(customers.customer_table, ctx.ds, ctx.period, ctx.settings, level, ctx.scope)
show_table(table, column_config={"market_share": PCT, "retention_rate": PCT, "churn_rate": PCT,
                            "revenue": st.column_config.NumberColumn(format="dollar", step=1)})

# --- By account segment and account type (core.kpis.segments) ---------------------------------
st.subheader("By account segment and type")
segment_breakdown(ctx, "customers_segment_by")
