"""Customers and market: market share (penetration of potential), new customers, retention and
churn, per rep, territory or region, and their trend over the periods before.

Every number is a KPI of core.kpis.metrics (kpis.md) at the chosen level — this module only picks
the customer columns and lines up the periods; it computes no formula of its own.
"""
from __future__ import annotations

import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.rollup import rep_kpis, rollup, team_kpis
from core.periods import Period
from core.settings import Settings

MEASURES = ("market_share", "active_accounts", "new_accounts", "retention_rate", "churn_rate", "revenue")
KEYS = {"rep": ["rep_id", "rep_name", "region", "territory_id"], "territory": ["territory_id", "region"],
        "region": ["region"]}
TREND_PERIODS = 6


def customer_table(ds: Dataset, period: Period, settings: Settings, level: str = "rep",
                   scope: Scope = Scope()) -> pd.DataFrame:
    """The customer KPIs of `period` per rep, territory or region (ratios rolled up from sums)."""
    if level == "rep":
        frame = rep_kpis(ds, period, settings, scope)
    elif level in ("territory", "region"):
        frame = rollup(ds, period, settings, level, scope)
    else:
        raise ValueError(f"level must be rep, territory or region, not {level!r}")
    return frame[KEYS[level] + list(MEASURES)].reset_index(drop=True)


def customer_trend(ds: Dataset, period: Period, settings: Settings, level: str = "team",
                   scope: Scope = Scope(), periods: int = TREND_PERIODS) -> pd.DataFrame:
    """The customer KPIs of `period` and the `periods` − 1 periods of the same kind before it,
    oldest first, none that ends before the data's first day (it would only draw an empty stretch
    of axis, as forecast.history_start keeps months): period label, the level's key columns and
    MEASURES."""
    span = ds.date_span()
    chain = [period]
    for _ in range(periods - 1):
        before = chain[-1].previous()
        if span is not None and before.end < span[0]:
            break
        chain.append(before)
    frames = []
    for p in reversed(chain):        # a handful of periods, each computed once and memoized
        if level == "team":
            row = team_kpis(ds, p, settings, scope)
            frame = pd.DataFrame([row.reindex(list(MEASURES)).astype("float64")])
        else:
            frame = customer_table(ds, p, settings, level, scope)
        frames.append(frame.assign(period=p.label, start=pd.Timestamp(p.start)))
    return pd.concat(frames, ignore_index=True)
