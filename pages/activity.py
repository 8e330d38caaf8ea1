"""Activity & follow-up: is the team doing the work that wins business — meetings, presentations,
workshops, reach, call plan discipline, who they meet, and keeping promises on time — per rep
against the targets, and month by month. Every number comes from core via the cache."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.fmt import count_of
from core.kpis import metrics
from ui.charts import fmt_pct, fmt_unit, region_colors, slanted_names, style, target_line
from ui.state import cached_call, context, missing_text, not_available, page_caption

ACTIVITY = ["meetings_per_week", "presentations_per_quarter", "workshops_per_quarter", "reach",
            "call_plan_adherence"]
FOLLOW_UP = ["on_time_follow_up_rate", "days_late", "overdue_open_follow_ups"]
TRENDS = ["meetings_per_week", "call_plan_adherence", "on_time_follow_up_rate"]
CONTACTS = {"share_user": "Users (clinicians)", "share_buyer": "Buyers (purchasing)",
            "share_admin": "Admins (C-suite)"}
CONTACT_COLORS = ("#9ecae1", "#3182bd", "#08519c")
TREND_MONTHS = 12

ctx = context()
ds, period, scope, settings = ctx.ds, ctx.period, ctx.scope, ctx.settings

st.title("Activity & follow-up")
page_caption(ctx)
if ds.missing("activities", "follow_ups") == ["activities", "follow_ups"]:
    not_available("Activity and follow-up KPIs", ["activities", "follow_ups"])
    st.stop()

team = cached_call(metrics.team_kpis, ds, period, settings, scope)
reps = cached_call(metrics.rep_kpis, ds, period, settings, scope)


def _known(x: object) -> bool:
    return isinstance(x, (int, float)) and not math.isnan(x)


def _fmt(kpi: str, x: object) -> str:
    return fmt_unit(x, metrics.KPIS[kpi].unit)


def _target(kpi: str) -> float | None:
    name = metrics.KPIS[kpi].target
    return None if name is None else float(getattr(settings.targets, name))


def _delta(kpi: str, value: object) -> str | None:
    t = _target(kpi)
    if t is None or not _known(value):
        return None
    diff = value - t
    unit = metrics.KPIS[kpi].unit
    text = (f"{diff * 100:+.0f} pts" if unit == "pct" else f"{diff:+.0f}" if unit in ("days", "count")
            else f"{diff:+.1f}")
    return f"{text} vs target {_fmt(kpi, t)}"


def _metric(col, kpi: str) -> None:
    k = metrics.KPIS[kpi]
    missing = metrics.missing_inputs(ds, kpi)
    if missing:
        col.metric(k.label, "n/a", help=missing_text(k.label, missing))
        return
    t = _target(kpi)
    col.metric(k.label, _fmt(kpi, team[kpi]), delta=_delta(kpi, team[kpi]),
               delta_color="normal" if k.higher_is_better else "inverse",
               help=f"Team value (per rep where it is a rate). Target: {_fmt(kpi, t) if t is not None else '—'}.")


# ------------------------------------------------------------------ headline vs targets
st.subheader("The team against its targets")
for row in (ACTIVITY, FOLLOW_UP):
    for col, kpi in zip(st.columns(len(ACTIVITY)), row, strict=False):
        _metric(col, kpi)
for table in ds.missing("activities", "follow_ups", "accounts"):
    not_available({"activities": "Meetings, reach and call plan adherence", "accounts": "Reach",
                   "follow_ups": "On-time follow-up, days late and overdue follow-ups"}[table], [table])

# ------------------------------------------------------------------ per rep vs target
st.subheader("Per rep")
shown = [k for k in ACTIVITY + FOLLOW_UP if not metrics.missing_inputs(ds, k)]
kpi = st.selectbox("KPI", shown, format_func=lambda k: metrics.KPIS[k].label, key="activity_kpi")
k = metrics.KPIS[kpi]
per_rep = reps.dropna(subset=[kpi]).sort_values(kpi, ascending=not k.higher_is_better)
if per_rep.empty:
    st.info(f"{k.label}: n/a for every rep in {period.label} — the data has nothing to compute it from.")
else:
    colors = region_colors(reps["region"])
    scale = 100 if k.unit == "pct" else 1
    fig = go.Figure()
    for region, part in per_rep.groupby("region", sort=True):
        fig.add_bar(x=part["rep_name"], y=part[kpi] * scale, name=str(region), marker_color=colors[str(region)],
                    hovertemplate="%{x}: %{y:,.1f}" + ("%" if scale == 100 else "") + "<extra>%{fullData.name}</extra>")
    fig.update_xaxes(categoryorder="array", categoryarray=per_rep["rep_name"].tolist())
    t = _target(kpi)
    if t is not None:
        target_line(fig, t * scale, f"Target {_fmt(kpi, t)}")
    slanted_names(fig)
    unit = {"pct": "%", "per_week": "per week", "per_quarter": "per quarter", "days": "days",
            "count": "count"}.get(k.unit, "")
    st.plotly_chart(style(fig, f"{k.label} per rep, {period.label} (best first)",
                          f"{k.label} ({unit})", height=420), width="stretch")
    missing_reps = len(reps) - len(per_rep)
    if missing_reps:
        st.caption(f"{count_of(missing_reps, 'rep')} not shown: n/a (nothing in the period to compute it from).")

# ------------------------------------------------------------------ contact mix
if not metrics.missing_inputs(ds, "share_user") and reps["share_user"].notna().any():
    mix = reps.dropna(subset=["share_user"]).sort_values("share_user")
    fig = go.Figure()
    for (col, label), color in zip(CONTACTS.items(), CONTACT_COLORS, strict=False):
        fig.add_bar(x=mix[col] * 100, y=mix["rep_name"], orientation="h", name=label, marker_color=color,
                    hovertemplate="%{y}: %{x:.0f}% " + label + "<extra></extra>")
    fig.update_layout(barmode="stack")
    st.plotly_chart(style(fig, f"Who the reps meet: share of activities per contact role, {period.label}", None,
                          x_title="Share of activities with a known contact role (%)",
                          height=140 + 18 * len(mix)), width="stretch")
    st.caption(f"Team: {fmt_pct(team['share_user'])} users, {fmt_pct(team['share_buyer'])} buyers, "
               f"{fmt_pct(team['share_admin'])} admins. Reps who meet only clinicians rarely win "
               "the value-analysis committee.")

# ------------------------------------------------------------------ monthly trends
st.subheader(f"Month by month (last {TREND_MONTHS} months to {period.label})")
start = (pd.Period(period.end, "M") - (TREND_MONTHS - 1)).start_time.date()
by = None if scope.region or scope.territory_id or scope.rep_id or scope.manager else "region"
trend = cached_call(metrics.monthly_activity, ds, start, period.end, scope, by=by)
cols = st.columns(len(TRENDS))
for col, name in zip(cols, TRENDS, strict=False):
    k = metrics.KPIS[name]
    if metrics.missing_inputs(ds, name) or trend[name].isna().all():
        with col:
            not_available(k.label, metrics.missing_inputs(ds, name) or ["activities"])
        continue
    scale = 100 if k.unit == "pct" else 1
    fig = go.Figure()
    series = trend.groupby(by, sort=True) if by else [(scope.label, trend)]
    colors = region_colors(trend[by]) if by else {scope.label: "#1f77b4"}
    for key, part in series:
        fig.add_scatter(x=part["month"], y=part[name] * scale, mode="lines+markers", name=str(key),
                        line_color=colors[str(key)],
                        hovertemplate="%{x|%b %Y}: %{y:,.1f}" + ("%" if scale == 100 else "")
                                      + "<extra>%{fullData.name}</extra>")
    t = _target(name)
    if t is not None:
        target_line(fig, t * scale, f"Target {_fmt(name, t)}")
    fig = style(fig, f"{k.label} per month", "%" if scale == 100 else k.label, height=360)
    fig.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0})   # three charts a row: legend below
    with col:
        st.plotly_chart(fig, width="stretch")
