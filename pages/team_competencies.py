"""Team competencies: every rep's ratings against the role's expected level, and where they are heading."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.fmt import NA, method_words, table_label
from core.kpis import metrics
from core.people import competency as comp
from ui.charts import fmt_num, style
from ui.state import cached_call, context, not_available
from ui.text import md

MAX_ROWS = 60
SORTS = {"Largest total shortfall first": ("shortfall", False), "Name": ("rep_name", True),
         "Most slipping first": ("steepest_fall", True)}


def arrow(trend: float) -> str:
    if pd.isna(trend):
        return ""
    return " ↑" if trend >= 0.05 else " ↓" if trend <= -0.05 else " →"


def heatmap(table: pd.DataFrame, order: list[str]) -> go.Figure:
    gap = table.pivot(index="rep_id", columns="competency", values="gap").reindex(order)
    rating = table.pivot(index="rep_id", columns="competency", values="latest_rating").reindex(order)
    expected = table.pivot(index="rep_id", columns="competency", values="expected").reindex(order)
    trend = table.pivot(index="rep_id", columns="competency", values="trend_per_90d").reindex(order)
    names = table.drop_duplicates("rep_id").set_index("rep_id")["rep_name"].reindex(order)
    text = rating.map(lambda v: fmt_num(v, 1) if pd.notna(v) else "") + trend.map(arrow)
    hover = np.dstack([rating.to_numpy(), expected.to_numpy(), trend.to_numpy()])
    fig = go.Figure(go.Heatmap(
        z=gap.to_numpy(), x=list(gap.columns), y=[f"{n} ({r})" for r, n in names.items()],
        text=text.to_numpy(), texttemplate="%{text}", customdata=hover, colorscale="RdBu", zmid=0,
        zmin=-2, zmax=2, colorbar={"title": "Gap to expected"},
        hovertemplate="%{y} — %{x}<br>latest %{customdata[0]:.1f} vs %{customdata[1]:.1f} expected"
                      "<br>gap %{z:+.1f}<br>trend %{customdata[2]:+.2f} a quarter<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    # The competency names above the columns, where the reader starts: with dozens of reps the
    # bottom of the chart is far below the first screen.
    fig.update_xaxes(side="top", tickangle=-25)
    fig = style(fig, "Latest manager rating by rep and competency, coloured by gap to the role's "
                     "expected level (↑/↓ = trend)", None, height=200 + 24 * len(order))
    fig.update_layout(margin={"t": 130}, title={"y": 0.99, "yanchor": "top", "yref": "container"})
    return fig


def movers(table: pd.DataFrame, improving: bool) -> pd.DataFrame:
    clear = table[table["trend_low"] > 0] if improving else table[table["trend_high"] < 0]
    clear = clear.sort_values("trend_per_90d", ascending=not improving)
    return pd.DataFrame({"Rep": clear["rep_name"], "Competency": clear["competency"],
                         "Latest": clear["latest_rating"].map(lambda v: fmt_num(v, 1)),
                         "Expected": clear["expected"].map(lambda v: fmt_num(v, 1)),
                         "Per quarter": clear["trend_per_90d"].map(lambda v: f"{v:+.2f}")})


# Half the page at 1366 px is about 440 px: widths that fit it, so no column is cut off on the right.
MOVER_COLUMNS = {"Rep": st.column_config.TextColumn(width=115, pinned=True),
                 "Competency": st.column_config.TextColumn(width=125),
                 "Latest": st.column_config.TextColumn(width=50), "Expected": st.column_config.TextColumn(width=65),
                 "Per quarter": st.column_config.TextColumn(width=80, help="Change of the rating per quarter "
                                                                           "(the trend of the manager's ratings)")}


ctx = context()
st.title("Team competencies")
st.caption(f"Manager ratings up to {ctx.period.end:%d %b %Y} · {md(ctx.scope.label)} · each rep against "
           "the level the role expects, never against a team average.")
if not ctx.ds.has("assessments"):
    not_available("Competency ratings", ["assessments"])
    st.stop()
if not ctx.ds.has("expected_levels"):
    st.info("No expected levels uploaded: every competency is compared with 3 (out of 5). Upload "
            f"**{table_label('expected_levels')}** to set what each role should reach.", icon="ℹ️")

in_scope = set(cached_call(metrics.roster, ctx.ds, ctx.scope)["rep_id"])
table = cached_call(comp.competency_table, ctx.ds, ctx.settings, ctx.period.end)
table = table[table["rep_id"].isin(in_scope)]
if table.empty:
    st.info("No manager ratings for the reps in this scope up to the end of the period.")
    st.stop()
summary = cached_call(comp.rep_summary, table, ctx.settings)
short = int((summary["clearly_below"] > 0).sum())
c1, c2, c3 = st.columns(3)
c1.metric("Reps rated", fmt_num(len(summary), 0))
c2.metric("Reps clearly below expected somewhere", fmt_num(short, 0),
          help="At least one competency more than the threshold (Settings) below the role's level.")
c3.metric("Reps with a clearly slipping competency", fmt_num((summary["slipping"] > 0).sum(), 0),
          help="The whole 80 % interval of the trend is below zero.")

sort = st.radio("Sort reps", list(SORTS), horizontal=True, key="team_comp_sort")
col, ascending = SORTS[sort]
ordered = summary.sort_values([col, "rep_name"], ascending=[ascending, True], na_position="last")
if len(ordered) > MAX_ROWS:
    st.caption(f"Showing the first {MAX_ROWS} of {len(ordered)} reps in this order; narrow the scope "
               "in the sidebar to see others.")
st.plotly_chart(heatmap(table, ordered["rep_id"].head(MAX_ROWS).tolist()), width="stretch")

for col, improving, word in zip(st.columns(2), (True, False), ("improving", "slipping"), strict=False):
    with col:
        st.subheader(f"Who is {word}")
        listed = movers(table, improving=improving)
        if len(listed):
            st.dataframe(listed, hide_index=True, width="stretch", column_config=MOVER_COLUMNS, placeholder=NA)
        else:
            st.write(f"Nobody clearly {word}.")
st.caption("Listed when the whole 80 % interval of the trend is above (improving) or below (slipping) zero. "
           "How each trend was estimated, per rep and competency: "
           + "; ".join(f"{method_words(m)}: {n}" for m, n in table["method"].value_counts().items()) + ".")

st.subheader("Coaching focus")
focus = cached_call(comp.coaching_focus, table, ctx.ds, ctx.settings, ctx.period.end)
names = dict(zip(table["rep_id"], table["rep_name"], strict=False))
st.dataframe(pd.DataFrame({"Rep": focus["rep_id"].map(names), "Priority": focus["rank"],
                           "Competency": focus["competency"], "Why": focus["reason"]}),
             hide_index=True, width="stretch", placeholder=NA)
