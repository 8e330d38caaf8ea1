"""Trends: monthly revenue against quota, where the period is heading, by region and by product,
and growth on the year before. Every number comes from core (forecast, metrics) through the cache."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.dataset import Scope
from core.fmt import NA, fmt_chance
from core.kpis import forecast, metrics
from ui.charts import (
    BAD,
    GOOD,
    NEUTRAL,
    fmt_money,
    percent_column,
    range_metric,
    region_colors,
    show_table,
    style,
)
from ui.state import cached_call, context, not_available, page_caption
from ui.text import md

HISTORY = {"12 months": 12, "24 months": 24, "36 months": 36}
HORIZON = 6
MAX_FACETS = 12
ACTUAL, QUOTA = "#1f77b4", "#7f7f7f"
MONEY_HOVER = "%{x|%b %Y}: %{y:$,.0f}<extra>%{fullData.name}</extra>"

ctx = context()
ds, period, scope, settings = ctx.ds, ctx.period, ctx.scope, ctx.settings

st.title("Trends")
page_caption(ctx)
if not metrics.has_sales(ds):
    not_available("Revenue trends and the forecast", ["sales"])
    st.stop()

# ------------------------------------------------------------------ will we make it?
# "Will we make it?" is a question about the period in progress: when the sidebar's period is
# already over, the forecast is for the same kind of period that holds the last day of data.
last_day = ds.date_span()[1]
ahead = forecast.period_to_forecast(ds, period)
if scope.rep_id:
    fc = cached_call(forecast.rep_forecast, ds, scope.rep_id, ahead, settings)
else:
    fc = cached_call(forecast.team_forecast, ds, ahead, settings, scope)

who = "the team" if scope == Scope() else scope.label
st.subheader(f"Will {md(who)} make {ahead.label}?" if fc.remaining_working_days
             else f"{ahead.label}: how {md(who)} finished")
if ahead != period:
    st.caption(f"{period.label} is over; this forecast is for the period in progress, {ahead.label} "
               f"(data up to {last_day:%d %b %Y}).")
cols = st.columns(4)
gap = fc.projected - fc.quota
cols[0].metric("Projected revenue at period end", fmt_money(fc.projected),
               delta=None if math.isnan(gap) else f"{fmt_money(gap)} vs quota",
               help="Revenue to date plus the forecast of the working days left.")
range_metric(cols[1], "80 % range", fc.low, fc.high, settings.reporting_currency,
             help="Eight times in ten the period should end inside this range.")
cols[2].metric("Chance of reaching quota", fmt_chance(fc.p_goal),
               help=f"Quota {fmt_money(fc.quota)}. From the same simulated outcomes as the range.")
if fc.remaining_working_days:
    cols[3].metric("Needed per working day", fmt_money(fc.needed_per_day),
                   help=f"To reach quota over the {fc.remaining_working_days} working days (Mon–Fri) "
                        "left; 0 once quota is reached.")
else:
    cols[3].metric("Needed per working day", "period over", help="No working days are left in this period.")
st.caption(f"Sold to date {fmt_money(fc.actual_to_date)} · {fc.remaining_working_days} working days left · "
           f"model: {fc.method}.")

# ------------------------------------------------------------------ revenue vs quota with forecast
months_back = HISTORY[st.radio("History shown", list(HISTORY), index=1, horizontal=True, key="trends_history")]
end = period.end
start = forecast.history_start(ds, end, months_back)      # from the data's first month at the earliest
team = cached_call(forecast.monthly_forecast, ds, start, end, settings, scope, HORIZON)


def _to_date(frame: pd.DataFrame) -> pd.Series:
    """The month still in progress: it has revenue to date and a forecast."""
    return frame["revenue"].notna() & frame["forecast"].notna()


def _translucent(hex_color: str, alpha: float = 0.2) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _band(fig: go.Figure, frame: pd.DataFrame, color: str, row: int | None = None, col: int | None = None,
          legend: bool = True) -> None:
    """Actual (solid), month to date (open marker), quota (dashed grey), forecast (dotted) and its
    shaded 80 % band for one series, all in the series' colour."""
    at = {"row": row, "col": col} if row else {}
    fut = frame[frame["forecast"].notna()]
    done = frame[frame["revenue"].notna() & ~_to_date(frame)]
    mtd = frame[_to_date(frame)]
    fig.add_trace(go.Scatter(x=fut["month"], y=fut["forecast_high"], mode="lines", line={"width": 0},
                             hoverinfo="skip", showlegend=False, legendgroup="band"), **at)
    fig.add_trace(go.Scatter(x=fut["month"], y=fut["forecast_low"], mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor=_translucent(color), name="80 % forecast range",
                             hoverinfo="skip", showlegend=legend, legendgroup="band"), **at)
    fig.add_trace(go.Scatter(x=done["month"], y=done["revenue"], mode="lines+markers", name="Revenue",
                             line={"color": color}, hovertemplate=MONEY_HOVER, showlegend=legend,
                             legendgroup="rev"), **at)
    fig.add_trace(go.Scatter(x=mtd["month"], y=mtd["revenue"], mode="markers", name="Month to date",
                             marker={"color": color, "symbol": "circle-open", "size": 10},
                             hovertemplate=MONEY_HOVER, showlegend=bool(legend and len(mtd) > 0),
                             legendgroup="mtd"), **at)
    fig.add_trace(go.Scatter(x=frame["month"], y=frame["quota"], mode="lines", name="Quota",
                             line={"color": QUOTA, "dash": "dash"}, hovertemplate=MONEY_HOVER,
                             showlegend=legend, legendgroup="quota"), **at)
    fig.add_trace(go.Scatter(x=fut["month"], y=fut["forecast"], mode="lines+markers", name="Forecast",
                             line={"color": color, "dash": "dot"},
                             customdata=fut[["forecast_low", "forecast_high"]],
                             hovertemplate="%{x|%b %Y}: %{y:$,.0f} (80 %: %{customdata[0]:$,.0f} – "
                                           "%{customdata[1]:$,.0f})<extra>Forecast</extra>",
                             showlegend=legend, legendgroup="fc"), **at)


fig = go.Figure()
_band(fig, team, ACTUAL)
fig.update_yaxes(tickprefix="$", tickformat="~s", rangemode="tozero")
st.plotly_chart(style(fig, f"Monthly revenue vs quota, {scope.label}, with a {HORIZON}-month forecast "
                           "and its 80 % range", "Revenue per month ($)", "Month"),
                width="stretch", key="trend_team")
if team["quota"].isna().all():
    not_available("The quota line", ["quotas"])

# ------------------------------------------------------------------ small multiples: region, product
def _grid(n: int) -> tuple[int, int]:
    ncols = min(3, n)
    return math.ceil(n / ncols), ncols


regions = cached_call(forecast.monthly_forecast_by_region, ds, start, end, settings, scope, HORIZON)
region_names = sorted(regions["region"].unique()) if len(regions) else []
if len(region_names) > 1:
    shown = region_names[:MAX_FACETS]
    colors = region_colors(region_names)
    nrows, ncols = _grid(len(shown))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=shown, shared_xaxes=True,
                        vertical_spacing=0.12 if nrows > 1 else 0.08)
    for i, r in enumerate(shown):
        _band(fig, regions[regions["region"] == r], colors[r], i // ncols + 1, i % ncols + 1, legend=i == 0)
    fig.update_yaxes(tickprefix="$", tickformat="~s", rangemode="tozero")
    st.plotly_chart(style(fig, "Monthly revenue vs quota by region, each with its own forecast",
                          None, None, height=300 * nrows), width="stretch", key="trend_regions")
    st.caption("Revenue per month ($); each region in its own colour, quota dashed grey, forecast dotted "
               "with its shaded 80 % range, open circle = month to date.")
    if len(region_names) > MAX_FACETS:
        st.caption(f"Showing {MAX_FACETS} of {len(region_names)} regions.")

last_day = ds.date_span()[1]
products = cached_call(metrics.monthly, ds, start, min(end, last_day), settings, scope, by="product")
if len(products) and products["revenue"].notna().any():
    in_progress = pd.Timestamp(last_day) < pd.Timestamp(last_day).to_period("M").end_time.normalize()
    partial = products["month"].eq(pd.Timestamp(last_day).to_period("M").start_time) & in_progress
    totals = products.groupby("product")["revenue"].sum().sort_values(ascending=False)
    shown = totals.index[:MAX_FACETS].tolist()
    nrows, ncols = _grid(len(shown))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=shown, shared_xaxes=True,
                        vertical_spacing=0.12 if nrows > 1 else 0.08)
    with_quota = products.loc[products["quota"].notna(), "product"]
    quota_legend = next((p for p in shown if p in set(with_quota)), None)
    for i, p in enumerate(shown):
        mine = products["product"] == p
        done, mtd = products[mine & ~partial], products[mine & partial]
        at = {"row": i // ncols + 1, "col": i % ncols + 1}
        fig.add_trace(go.Scatter(x=done["month"], y=done["revenue"], mode="lines+markers", name="Revenue",
                                 line={"color": ACTUAL}, hovertemplate=MONEY_HOVER, showlegend=i == 0,
                                 legendgroup="rev"), **at)
        fig.add_trace(go.Scatter(x=mtd["month"], y=mtd["revenue"], mode="markers", name="Month to date",
                                 marker={"color": ACTUAL, "symbol": "circle-open", "size": 10},
                                 hovertemplate=MONEY_HOVER, showlegend=bool(i == 0 and len(mtd)),
                                 legendgroup="mtd"), **at)
        fig.add_trace(go.Scatter(x=products.loc[mine, "month"], y=products.loc[mine, "quota"], mode="lines",
                                 name="Product quota", line={"color": QUOTA, "dash": "dash"},
                                 hovertemplate=MONEY_HOVER, showlegend=p == quota_legend, legendgroup="quota"),
                      **at)
    fig.update_yaxes(tickprefix="$", tickformat="~s", rangemode="tozero")
    st.plotly_chart(style(fig, "Monthly revenue by product (dashed: product quota where one is set)",
                          None, None, height=300 * nrows), width="stretch", key="trend_products")
    st.caption("Revenue per month ($); an open circle marks the month still in progress (to date).")
    if len(totals) > MAX_FACETS:
        st.caption(f"Showing the {MAX_FACETS} largest of {len(totals)} products.")

# ------------------------------------------------------------------ year-on-year growth
growth = cached_call(forecast.monthly_growth, ds, start, end, settings, scope)
known = growth[growth["growth"].notna()]
if known.empty:
    st.info("Year-on-year growth: not available — it needs the same months one year earlier "
            "in the sales data.", icon="ℹ️")
else:
    fig = go.Figure(go.Bar(
        x=known["month"], y=known["growth"],
        marker_color=np.where(known["growth"] >= 0, GOOD, BAD),
        customdata=known[["revenue", "revenue_year_earlier"]],
        hovertemplate="%{x|%b %Y}: %{y:+.1%}<br>revenue %{customdata[0]:$,.0f} vs "
                      "%{customdata[1]:$,.0f} a year earlier<extra></extra>"))
    fig.add_hline(y=0, line_color=NEUTRAL)
    fig.update_yaxes(tickformat="+.0%")
    st.plotly_chart(style(fig, f"Year-on-year revenue growth by month, {scope.label}",
                          "Growth vs the same month a year earlier (%)", "Month"),
                    width="stretch", key="trend_growth")

with st.expander("The numbers behind the revenue chart"):
    show_table(team, column_config={
        "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
        "revenue": st.column_config.NumberColumn("Revenue", format="dollar", step=1),
        "quota": st.column_config.NumberColumn("Quota", format="dollar", step=1),
        "attainment": percent_column("Attainment"),
        "forecast": st.column_config.NumberColumn("Forecast", format="dollar", step=1),
        "forecast_low": st.column_config.NumberColumn("Forecast low (80 %)", format="dollar", step=1),
        "forecast_high": st.column_config.NumberColumn("Forecast high (80 %)", format="dollar", step=1),
    }, placeholder=NA)
    st.caption("Revenue of the month in progress is to date; forecasts are whole months.")
