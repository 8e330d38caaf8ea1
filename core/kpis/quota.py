"""Quota: the one home of "quota in a period" and of attainment and gap.

Quotas are spread evenly over the months of their period (YYYY, YYYY-Qn, YYYY-MM), without the
months a rep was not employed; a rep-month's quota is its all-products quota where one is given,
else the sum of its product quotas; a period takes each month's quota in proportion to the days
of the month it covers. Attainment is revenue / quota over reps with a quota; gap is quota minus
that revenue. No quota: n/a (NaN), never 0.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.kpis.grouping import ratio
from core.kpis.inputs import employed_in_month, month_number, spread_by_month
from core.periods import Period


def quota_by_month(ds: Dataset) -> pd.DataFrame:
    """rep_id, month (month start), product (NaN = all products), quota: quotas spread evenly
    over the months of their period, without the months before the rep's hire month (a rep hired
    mid-quarter carries the quota of the months employed; a table with per-month quotas gives
    those months as they are)."""
    def spread() -> pd.DataFrame:
        out = spread_by_month(ds.table("quotas"), "quota")[["rep_id", "month", "product", "quota"]]
        return out[employed_in_month(ds, out["rep_id"], out["month"])].reset_index(drop=True)

    return ds.memo(("metrics.quota_by_month",), spread).copy(deep=False)


def total_quota_by_month(qm: pd.DataFrame) -> pd.DataFrame:
    """A rep-month's quota: its all-products quota where one is given, else Σ its product quotas
    (so product quotas that break down a total are not counted twice)."""
    blank = qm["product"].isna()
    has_blank = blank.groupby([qm["rep_id"], qm["month"]]).transform("any")
    return qm[blank | ~has_blank]


def month_weights(start: date, end: date) -> pd.Series:
    """Share of each month (by month number) inside [start, end], by days: 1 for a whole month."""
    months = pd.period_range(start, end, freq="M")
    first = np.maximum(months.start_time.values, np.datetime64(pd.Timestamp(start)))
    last = np.minimum(months.end_time.normalize().values, np.datetime64(pd.Timestamp(end)))
    inside = (last - first).astype("timedelta64[D]").astype(np.int64) + 1
    return pd.Series(inside / months.days_in_month.to_numpy(),
                     index=month_number(months.start_time.values))


def month_shares(months: pd.Series | np.ndarray, period: Period) -> np.ndarray:
    """Share of each month (given by its first day) inside `period`, by days: 1 for a month the
    period covers whole, 0 for a month outside it."""
    weights = month_weights(period.start, period.end)
    shares = pd.Series(month_number(np.asarray(months))).map(weights).fillna(0.0)
    return np.asarray(shares.to_numpy(dtype="float64"))


def quota_in_period(qm: pd.DataFrame, period: Period) -> pd.Series:
    """Each row's quota (columns month, quota, as quota_by_month gives them) counted in `period`:
    the month's quota times the share of the month inside the period (0 outside it)."""
    return qm["quota"] * month_shares(qm["month"], period)


def attainment(revenue: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Revenue / quota where there is a quota (> 0), else NaN (n/a, never 0). For a group, pass
    the sums over its reps with a quota (revenue_against_quota): ratios roll up from sums."""
    return ratio(revenue, quota)


def gap(revenue: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Quota minus revenue where there is a quota (> 0), else NaN: > 0 is a shortfall."""
    revenue, quota = np.asarray(revenue, dtype="float64"), np.asarray(quota, dtype="float64")
    return np.where(quota > 0, quota - revenue, np.nan)


def revenue_against_quota(revenue: np.ndarray, quota: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per rep: the revenue and quota that count towards attainment (NaN for a rep without a
    quota, so summing over a group leaves out the revenue of reps who have none)."""
    with_quota = np.asarray(quota, dtype="float64") > 0
    return np.where(with_quota, revenue, np.nan), np.where(with_quota, quota, np.nan)
