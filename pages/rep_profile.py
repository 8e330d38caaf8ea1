"""Rep profile: one rep's scorecard against targets and peers, revenue, skills, knowledge, coaching."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.dataset import Scope
from core.diagnostic import findings as diagnostics
from core.fmt import NA, cause_label
from core.kpis import metrics
from core.kpis.forecast import monthly_forecast
from core.people import competency as comp
from ui.charts import BAD, GOOD, NEUTRAL, fmt_money, fmt_num, fmt_pct, fmt_unit, style, target_line, trend_words
from ui.notes import coaching_box, notes_box
from ui.state import cached_call, context, dataset_call, not_available
from ui.text import md, plot_text

SCORECARD = ("revenue", "quota", "attainment", "gap", "win_rate", "pipeline_coverage", "meetings_per_week",
             "call_plan_adherence", "on_time_follow_up_rate", "knowledge_quotient", "points")
def arrow(trend: float) -> str:
    if pd.isna(trend):
        return "?"
    return "↑" if trend >= 0.05 else "↓" if trend <= -0.05 else "→"


def scorecard(kpis: pd.DataFrame, rep_id: str, settings) -> pd.DataFrame:
    row = kpis.set_index("rep_id").loc[rep_id]
    pct = cached_call(metrics.peer_percentiles, kpis).set_index("rep_id").loc[rep_id]
    rows = []
    for key in SCORECARD:
        k = metrics.KPIS[key]
        show = lambda v, unit=k.unit: fmt_unit(v, unit)  # noqa: E731
        target = getattr(settings.targets, k.target) if k.target else float("nan")
        rows.append({"KPI": k.label, "Value": show(row[key]), "Target": show(target) if k.target else "—",
                     "Percentile in team": fmt_num(pct.get(f"{key}_pct_team"), 0),
                     "Percentile in role": fmt_num(pct.get(f"{key}_pct_role"), 0)})
    return pd.DataFrame(rows)


def revenue_chart(ctx, rep_id: str, name: str) -> None:
    start = (pd.Timestamp(ctx.period.end) - pd.DateOffset(months=11)).date().replace(day=1)
    series = cached_call(monthly_forecast, ctx.ds, start, ctx.period.end, ctx.settings, Scope(rep_id=rep_id))
    fig = go.Figure()
    fig.add_bar(x=series["month"], y=series["revenue"], name="Revenue", marker_color="#1f77b4",
                hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>Revenue</extra>")
    fig.add_scatter(x=series["month"], y=series["quota"], name="Quota", mode="lines+markers",
                    line={"color": NEUTRAL, "dash": "dash"},
                    hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>Quota</extra>")
    if series["forecast"].notna().any():
        fig.add_scatter(x=series["month"], y=series["forecast"], name="Forecast", mode="lines+markers",
                        line={"color": "#ff7f0e"},
                        error_y={"type": "data", "symmetric": False,
                                 "array": series["forecast_high"] - series["forecast"],
                                 "arrayminus": series["forecast"] - series["forecast_low"]},
                        hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>Forecast (80 % range)</extra>")
    st.plotly_chart(style(fig, f"{name}: revenue vs quota by month, with forecast", "Revenue ($)"),
                    width="stretch")


def competency_charts(ctx, rep_id: str, table: pd.DataFrame) -> None:
    history = cached_call(comp.rating_history, ctx.ds, rep_id, ctx.period.end)
    mine = table[table["rep_id"] == rep_id].set_index("competency")
    names = sorted(set(history["competency"]))
    cols = 3
    rows = math.ceil(len(names) / cols)
    titles = [f"{c} {arrow(mine['trend_per_90d'].get(c))}" for c in names]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes=True,
                        vertical_spacing=0.12 if rows > 1 else 0.2)
    for i, c in enumerate(names):
        r, col = i // cols + 1, i % cols + 1
        expected = mine["expected"].get(c, comp.DEFAULT_EXPECTED_RATING)
        # exclude_empty_subplots=False: the band goes in before the subplot's traces (plotly would
        # otherwise skip a subplot that has none yet, and the band the title promises is not drawn).
        fig.add_hrect(y0=expected, y1=5.2, fillcolor=GOOD, opacity=0.15, line_width=0, layer="below",
                      row=r, col=col, exclude_empty_subplots=False)
        fig.add_hline(y=expected, line={"color": GOOD, "dash": "dot"}, row=r, col=col, exclude_empty_subplots=False)
        for who, color, mode in (("manager", "#1f77b4", "lines+markers"), ("self", "#ff7f0e", "markers")):
            h = history[(history["competency"] == c) & (history["assessor"] == who)]
            fig.add_scatter(x=h["date"], y=h["rating"], mode=mode, name=f"{who.capitalize()} rating",
                            legendgroup=who, showlegend=i == 0, marker={"color": color},
                            line={"color": color},
                            hovertemplate=f"{plot_text(c)} ({who}) %{{x|%d %b %Y}}: %{{y:.1f}} "
                                          f"(expected {expected:.1f})"
                                          "<extra></extra>", row=r, col=col)
    fig.update_yaxes(range=[0.8, 5.2], dtick=1)
    style(fig, "Competency ratings over time (green band = at or above the role's expected level; "
               "arrow = trend)", None, height=260 * rows + 80)
    st.plotly_chart(fig, width="stretch")


def knowledge_chart(ctx, rep_id: str) -> None:
    kq = cached_call(comp.knowledge_quotient, ctx.ds)
    mine = kq[kq["rep_id"] == rep_id]
    if mine.empty:
        st.write("No knowledge checks recorded for this rep.")
        return
    fig = go.Figure()
    for topic, part in mine.groupby("topic"):
        fig.add_scatter(x=part["quarter"], y=part["score"], mode="lines+markers", name=str(topic),
                        customdata=part["records"],
                        hovertemplate=f"{plot_text(topic)} %{{x}}: %{{y:.0f}} (%{{customdata}} checks)<extra></extra>")
    target = ctx.settings.targets.knowledge_quotient
    target_line(fig, target, f"Target {fmt_num(target, 0)}", color=GOOD, dash="dot")
    fig.update_xaxes(type="category", categoryorder="category ascending")
    first = mine.iloc[0]
    st.caption(f"Knowledge quotient (all checks): {fmt_num(first['kq'], 0)}, "
               f"{trend_words(first['kq_trend_per_90d'], 'points a quarter')}.")
    st.plotly_chart(style(fig, "Knowledge check score by topic and quarter", "Mean score (0–100)"),
                    width="stretch")


def activity_chart(ctx, rep_id: str) -> None:
    start = (pd.Timestamp(ctx.period.end) - pd.DateOffset(months=11)).date().replace(day=1)
    act = cached_call(metrics.monthly_activity, ctx.ds, start, ctx.period.end, Scope(rep_id=rep_id), "rep_id")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=act["month"], y=act["meetings_per_week"], name="Meetings per week", marker_color="#1f77b4",
                hovertemplate="%{x|%b %Y}: %{y:.1f} a week<extra></extra>", secondary_y=False)
    fig.add_scatter(x=act["month"], y=act["on_time_follow_up_rate"], name="On-time follow-ups",
                    mode="lines+markers", line={"color": BAD},
                    hovertemplate="%{x|%b %Y}: %{y:.0%}<extra>On-time follow-ups</extra>", secondary_y=True)
    fig.update_yaxes(title_text="Meetings per week", secondary_y=False)
    # Round ticks of its own (0 %, 20 % … 100 %), not ticks lined up with the left axis' grid.
    fig.update_yaxes(title_text="On-time follow-up rate", tickformat=".0%", range=[0, 1.05], tickmode="linear",
                     tick0=0, dtick=0.2, showgrid=False, secondary_y=True)
    st.plotly_chart(style(fig, "Customer meetings per week and on-time follow-ups by month"), width="stretch")


def diagnosis_section(ctx, rep_id: str) -> None:
    """The rep's primary cause and the findings about them, from the whole team's diagnostic."""
    diagnosis = dataset_call(diagnostics.diagnose, ctx.ds, ctx.period, ctx.settings, Scope())
    row = diagnosis.reps.set_index("rep_id").loc[rep_id] if rep_id in set(diagnosis.reps["rep_id"]) else None
    if row is None or row["primary_cause"] in ("none", "n/a"):
        st.success("At or above goal in this period: nothing to diagnose."
                   if row is not None and row["primary_cause"] == "none" else "No quota in this period.")
        return
    cause = cause_label(row["primary_cause"])
    st.markdown(f"**{fmt_pct(row['attainment'])} of quota, {fmt_money(row['gap'])} short.** "
                f"Primary cause: **{md(cause)}**; unexplained {fmt_money(row['unexplained'])}.")
    mine = diagnosis.findings[diagnosis.findings["who"].fillna("").str.split(", ").map(lambda w: rep_id in w)]
    for f in mine.itertuples():
        st.markdown(f"- **{md(cause_label(f.cause))}** ({fmt_money(f.impact)}, severity {f.severity}): "
                    f"{md(f.evidence)}. *What to do:* {md(f.actions)}")
    st.caption("Findings are associations in the data, not proof of cause.")


ctx = context()
st.title("Rep profile")
roster = cached_call(metrics.roster, ctx.ds, Scope(ctx.scope.region, ctx.scope.territory_id,
                                                     manager=ctx.scope.manager))
if roster.empty:
    st.warning("No reps in this scope.")
    st.stop()
names = dict(zip(roster["rep_id"], roster["rep_name"], strict=False))
ids = sorted(names, key=lambda r: str(names[r]))
rep_id = st.selectbox("Rep", ids, index=ids.index(ctx.scope.rep_id) if ctx.scope.rep_id in ids else 0,
                      format_func=lambda r: f"{names[r]} ({r})" if names[r] != r else r,   # id = name in CRM exports
                      key="profile_rep")
info = roster.set_index("rep_id").loc[rep_id]
tenure = ("n/a" if pd.isna(info["hire_date"])
          else f"{(pd.Timestamp(ctx.period.end) - info['hire_date']).days / 365.25:.1f} years")
st.subheader(f"{md(info['rep_name'])} — {md(info['role'])}, {md(info['region'])} / {md(info['territory_id'])}")
st.caption(f"Period {ctx.period.label} · tenure {tenure} · source: {md(ctx.source_label)}")
notes_box("rep", rep_id, "Notes on this rep")

# Why this rep is where they are comes first; the scorecard below is its evidence.
st.header("Diagnosis")
if metrics.has_sales(ctx.ds):
    diagnosis_section(ctx, rep_id)
else:
    not_available("The diagnosis", ["sales"])

st.header("Scorecard against targets and peers")
kpis = cached_call(metrics.rep_kpis, ctx.ds, ctx.period, ctx.settings, Scope())
st.dataframe(scorecard(kpis, rep_id, ctx.settings), hide_index=True, width="stretch", placeholder=NA)
st.caption("Percentile: share of reps this rep does better than (100 = best), in the whole team and "
           "among reps of the same role.")

st.header("Revenue vs quota")
if metrics.has_sales(ctx.ds):
    revenue_chart(ctx, rep_id, info["rep_name"])
else:
    not_available("Revenue by month", ["sales"])

st.header("Competencies")
table = cached_call(comp.competency_table, ctx.ds, ctx.settings, ctx.period.end)
if table[table["rep_id"] == rep_id].empty:
    not_available("Competency ratings for this rep", ["assessments"])
else:
    competency_charts(ctx, rep_id, table)
    st.subheader("Coaching focus")
    focus = cached_call(comp.coaching_focus, table[table["rep_id"] == rep_id], ctx.ds, ctx.settings,
                        ctx.period.end)
    if focus.empty:
        st.success("Every competency is at or above the role's expected level and none is falling.")
    for _, f in focus.iterrows():
        st.markdown(f"**{f['rank']}. {md(f['competency'])}** — {md(f['reason'])}")
    st.subheader("Coaching log: is the coaching working?")
    coaching_box(ctx.ds, rep_id, sorted(table.loc[table["rep_id"] == rep_id, "competency"].unique()))

st.header("Knowledge")
if ctx.ds.has("training"):
    knowledge_chart(ctx, rep_id)
else:
    not_available("Knowledge quotient", ["training"])

st.header("Activity and follow-ups")
if ctx.ds.has("activities") or ctx.ds.has("follow_ups"):
    activity_chart(ctx, rep_id)
else:
    not_available("Activity and follow-ups", ["activities", "follow_ups"])
