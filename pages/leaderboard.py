"""Leaderboard: points for the actions behind goals, by rep and by region, for the chosen period."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.fmt import NA, table_label
from core.people.leaderboard import COMPONENTS, leaderboard, team_points
from ui.charts import fmt_num, region_colors, style
from ui.state import cached_call, context, not_available
from ui.text import md, plot_text

TOP = 25
# The parts are points, not counts: "Meeting points 5310", never "Meetings 5310".
LABELS = {"meetings_pts": "Meeting points", "presentations_pts": "Presentation points",
          "workshops_pts": "Workshop points", "follow_ups_pts": "Follow-up points (on time)",
          "training_pts": "Training points"}
SOURCES = {"activities": "meetings, presentations and workshops", "follow_ups": "follow-ups on time",
           "training": "training scores"}


def bars(frame: pd.DataFrame, label: str, colors: dict[str, str], title: str, value: str,
         parts_note: str = "") -> go.Figure:
    """Horizontal bars of `value` per row (labelled by column `label`), one colour per region."""
    hover = "<br>".join(f"{LABELS[c]}{parts_note}: %{{customdata[{i}]:,.0f}}" for i, c in enumerate(COMPONENTS))
    fig = go.Figure()
    for region, part in frame.groupby("region", sort=True):
        fig.add_bar(x=part[value], y=part[label], orientation="h", name=str(region),
                    marker_color=colors[str(region)], customdata=part[COMPONENTS].to_numpy(),
                    hovertemplate=f"%{{y}}: %{{x:,.0f}} points<br>{hover}<extra>{plot_text(region)}</extra>")
    fig.update_yaxes(categoryorder="array", categoryarray=frame[label].tolist()[::-1])
    return style(fig, title, None, x_title="Points", height=120 + 22 * len(frame))


ctx = context()
st.title("Leaderboard")
p = ctx.settings.points
st.caption(f"{ctx.period.label} · {md(ctx.scope.label)} · {fmt_num(p.meeting, 0)} points a meeting, "
           f"{fmt_num(p.presentation, 0)} a presentation, {fmt_num(p.workshop, 0)} a workshop, "
           f"{fmt_num(p.follow_up_on_time, 0)} a follow-up done on time, score × "
           f"{fmt_num(p.training_per_score_point, 2)} a training record (edit on the Settings page).")
missing = ctx.ds.missing(*SOURCES)
if len(missing) == len(SOURCES):
    not_available("The points leaderboard", list(SOURCES))
    st.stop()
if missing:
    st.info("Not counted: " + ", ".join(SOURCES[m] for m in missing) + " — upload "
            + ", ".join(f"**{table_label(m)}**" for m in missing) + " on the Data page to enable them.", icon="ℹ️")

board = cached_call(leaderboard, ctx.ds, ctx.period, ctx.settings, ctx.scope)
team = cached_call(team_points, board)
colors = region_colors(board["region"])

st.plotly_chart(bars(team, "region", colors, "Points per rep by region (total ÷ reps)", "points_per_rep",
                     " (region total)"), width="stretch")
st.dataframe(team.rename(columns={"region": "Region", "reps": "Reps", "points": "Points",
                                  "points_per_rep": "Points per rep", "rank": "Rank", **LABELS}),
             hide_index=True, width="stretch", placeholder=NA)

top = board.head(TOP).assign(label=lambda b: b["rep_name"] + " (" + b["rep_id"] + ")")
st.plotly_chart(bars(top, "label", colors, f"Top {min(TOP, len(board))} reps by points", "points"),
                width="stretch")
st.dataframe(board.rename(columns={"rep_id": "Rep ID", "rep_name": "Rep", "region": "Region",
                                   "points": "Points", "rank": "Rank", **LABELS}),
             hide_index=True, width="stretch", placeholder=NA)
