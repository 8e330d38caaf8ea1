"""Incentives: pay against attainment per rep (who is paid like the reps at goal while below it),
the pay mix against the product goals, and what the plan appears to reward."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.fmt import is_missing
from core.people import incentives
from ui.charts import BAD, GOOD, NEUTRAL, fmt_money, percent_column, show_table, style
from ui.state import cached_call, context, not_available, page_caption

MONEY = st.column_config.NumberColumn(format="dollar", step=1)
PCT = percent_column()

ctx = context()
st.title("Incentives — does pay follow performance?")
page_caption(ctx)
if not ctx.ds.has("incentives"):
    not_available("Pay against performance", ["incentives"])
    st.stop()

pay, goal_pay = cached_call(incentives.pay_vs_attainment, ctx.ds, ctx.period, ctx.settings, ctx.scope)
mix = cached_call(incentives.pay_mix, ctx.ds, ctx.period, ctx.scope)

st.subheader("What the plan appears to reward")
for line in incentives.what_it_rewards(pay, goal_pay, mix, ctx.settings) or ["Nothing stands out."]:
    st.text(line)
st.caption("Associations in the data, not proof of intent: check them against the written plan.")

st.subheader("Pay against attainment")
shown = pay.dropna(subset=["attainment", "payout"])
flag = shown["paid_like_goal"].fillna(False).astype(bool)
colors = [BAD if f else GOOD if g else NEUTRAL for f, g in zip(flag, shown["at_goal"].fillna(False), strict=False)]
fig = go.Figure(go.Scatter(x=shown["attainment"], y=shown["payout"], mode="markers",
                           marker={"color": colors, "size": 10}, text=shown["rep_name"],
                           hovertemplate="%{text}: %{x:.0%} of quota, paid $%{y:,.0f}<extra></extra>"))
fig.add_vline(x=1.0, line_dash="dot")
if not is_missing(goal_pay):
    fig.add_hline(y=goal_pay, line_dash="dot", annotation_text=f"median pay at goal {fmt_money(goal_pay)}")
fig.update_xaxes(tickformat=".0%")
fig.update_yaxes(tickprefix="$", tickformat="~s")
st.plotly_chart(style(fig, f"Payout vs attainment, {ctx.period.label} (red: below goal, paid like the reps at goal)",
                      "Payout ($)", "Attainment"), width="stretch")
show_table(pay.sort_values("payout", ascending=False),
           column_config={"payout": MONEY, "attainment": PCT, "cost_of_sales": PCT,
                            "paid_like_goal": "Below goal, paid like reps at goal"})

st.subheader("Pay mix against the product goals")
if mix.empty:
    st.caption("No pay in this period.")
else:
    bars = go.Figure()
    bars.add_bar(x=mix["component"], y=mix["pay_share"], name="Share of pay")
    bars.add_bar(x=mix["component"], y=mix["revenue_share"], name="Share of revenue")
    bars.update_yaxes(tickformat=".0%")
    st.plotly_chart(style(bars, "Where the pay goes vs where the revenue comes from", "Share"), width="stretch")
    show_table(mix, column_config={"payout": MONEY, "revenue": MONEY, "quota": MONEY, "pay_share": PCT,
                                "revenue_share": PCT, "attainment": PCT})
