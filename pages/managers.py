"""Managers: each first-line manager's team — attainment, shortfall, reps at goal, the causes in
money — and the reps under one manager."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.diagnostic import findings as diagnostics
from core.fmt import cause_label, column_label
from core.kpis import metrics
from core.people.managers import manager_table
from core.schema import UNASSIGNED
from ui.charts import percent_column, show_table, style
from ui.state import cached_call, context, not_available, page_caption

MONEY = st.column_config.NumberColumn(format="dollar", step=1)
PCT = percent_column()

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
if table["attainment"].notna().any():
    fig = go.Figure(go.Bar(x=table["manager"], y=table["attainment"], marker_color="#1f77b4"))
    fig.add_hline(y=1.0, line_dash="dot")
    fig.update_yaxes(tickformat=".0%")
    st.plotly_chart(style(fig, f"Attainment per manager's team, {ctx.period.label} (dotted: goal)", "Attainment",
                          height=320), width="stretch")
else:
    not_available("Attainment per manager's team", metrics.missing_inputs(ctx.ds, "attainment") or ["quotas"])
# A measure nobody has (no quotas, no activities in the files) is left out rather than a column of n/a.
empty = [c for c in table.columns if table[c].isna().all()]
if empty:
    st.caption("Not in the data for any manager's team, so not shown: "
               + ", ".join(cause_label(c) if c in causes else column_label(c) for c in empty) + ".")
listed = table.drop(columns=empty)
if "largest_cause" in listed:
    listed = listed.assign(largest_cause=listed["largest_cause"].map(cause_label, na_action="ignore").fillna(""))
show_table(listed,
           column_config={"revenue": MONEY, "quota": MONEY, "gap": MONEY, "payout": MONEY, "attainment": PCT,
                            "growth": PCT, "win_rate": PCT, "on_time_follow_up_rate": PCT,
                            "remaining_quota": st.column_config.NumberColumn("Shortfall", format="dollar", step=1),
                            **{c: st.column_config.NumberColumn(cause_label(c), format="dollar", step=1)
                               for c in causes}})

manager = st.selectbox("Reps of", table["manager"].tolist(), key="managers_pick")
kpis = cached_call(metrics.rep_kpis, ctx.ds, ctx.period, ctx.settings, ctx.scope)
mine = kpis[kpis["manager"].fillna(UNASSIGNED) == manager]
shown = [c for c in ["rep_id", "rep_name", "region", "territory_id", "revenue", "quota", "attainment", "gap"]
         if c not in empty]
show_table(mine[shown],
           column_config={"revenue": MONEY, "quota": MONEY, "gap": MONEY, "attainment": PCT})
