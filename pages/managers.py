"""Managers: each first-line manager's team — attainment, shortfall, reps at goal, the causes in
money — and the reps under one manager."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.diagnostic import findings as diagnostics
from core.fmt import cause_label
from core.kpis import metrics
from core.people.managers import manager_table
from core.schema import UNASSIGNED
from ui.charts import show_table, style
from ui.state import cached_call, context, not_available, page_caption

MONEY = st.column_config.NumberColumn(format="dollar", step=1)
PCT = st.column_config.NumberColumn(format="percent")

ctx = context()
st.title("Managers")
page_caption(ctx, "roll-ups per first-line manager "
           "(the reps table's manager column)")
if not metrics.has_sales(ctx.ds):
    not_available("Roll-ups per manager", ["sales"])
    st.stop()
if ctx.ds.table("reps")["manager"].isna().all():
    not_available("Roll-ups per manager (a manager column)", ["reps"])
    st.stop()

table = cached_call(manager_table, ctx.ds, ctx.period, ctx.settings, ctx.scope)
causes = [c for c in diagnostics.CAUSES if c in table.columns]
fig = go.Figure(go.Bar(x=table["manager"], y=table["attainment"], marker_color="#1f77b4"))
fig.add_hline(y=1.0, line_dash="dot")
fig.update_yaxes(tickformat=".0%")
st.plotly_chart(style(fig, f"Attainment per manager's team, {ctx.period.label}", "Attainment", height=320),
                width="stretch")
show_table(table.assign(largest_cause=table["largest_cause"].map(cause_label, na_action="ignore").fillna("")),
           column_config={"revenue": MONEY, "quota": MONEY, "gap": MONEY, "payout": MONEY, "attainment": PCT,
                            "growth": PCT, "win_rate": PCT, "on_time_follow_up_rate": PCT,
                            "remaining_quota": st.column_config.NumberColumn("Shortfall", format="dollar", step=1),
                            **{c: st.column_config.NumberColumn(cause_label(c), format="dollar", step=1)
                               for c in causes}})

manager = st.selectbox("Reps of", table["manager"].tolist(), key="managers_pick")
kpis = cached_call(metrics.rep_kpis, ctx.ds, ctx.period, ctx.settings, ctx.scope)
mine = kpis[kpis["manager"].fillna(UNASSIGNED) == manager]
show_table(mine[["rep_id", "rep_name", "region", "territory_id", "revenue", "quota", "attainment", "gap"]],
           column_config={"revenue": MONEY, "quota": MONEY, "gap": MONEY, "attainment": PCT})
