"""Per-rep parts of one period: numerators, denominators and counts per rep of the whole roster,
plus the few rows that medians and distinct counts need, computed once per Dataset and period.
Any grouping of the roster sums these parts, so ratios always roll up from summed parts.
core.engine.parts computes the month-additive ones per rep × month where the data lives in a
database; in memory these are cheaper (measured: see its docstring).
"""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.kpis.arrays import (
    LOST,
    MEETING,
    OPEN,
    PRESENTATION,
    ROLES,
    WON,
    WORKSHOP,
    Arrays,
    accounts_table,
    dated_rows,
    rows_of,
)
from core.kpis.grouping import distinct, distinct_inverse, pair_keys, per_rep
from core.kpis.inputs import data_end, day, has_sales, not_employed, whole_roster, within
from core.kpis.quota import month_weights
from core.kpis.registry import extra_parts
from core.periods import Period
from core.schema import FACE_TO_FACE

# A period's per-rep parts by name: arrays over the whole roster, or (rep, value) rows for medians.
Parts = dict[str, Any]


def period_parts(ds: Dataset, period: Period) -> Parts:
    """Every per-rep part of `period` (whole roster), computed once per Dataset and period: the
    built-in ones, then those of registered KPIs (core.kpis.registry). A table that is absent
    contributes no parts; its KPIs are NaN."""
    extra = extra_parts()

    def build() -> Parts:
        n_all = len(whole_roster(ds))
        parts: Parts = {}
        for fn in (_sales_parts, _quota_parts, _opportunity_parts, _activity_parts, _follow_up_parts,
                   _training_parts, _incentive_parts):
            parts |= fn(ds, period, n_all)
        for name, part in extra:
            values = part(ds, period, n_all)
            if values is not None:
                parts[name] = np.asarray(values, dtype="float64")
        return parts

    return ds.memo(_memo_key(period), build)


def _memo_key(period: Period) -> tuple[Any, ...]:
    return ("metrics.period", period.start, period.end, tuple(name for name, _ in extra_parts()))


def _sales_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    """Revenue in the period, a year earlier and over the trailing 12 months; the (rep, account)
    revenue of the period and of the one before (accounts count once per group, so they are kept
    per account); which accounts are new in the period."""
    if not has_sales(ds):
        return {}
    a = rows_of(ds, "sales")
    prev, yoy = period.previous(), period.year_earlier()
    t12_start = (period.end_ts - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
    lo = min(period.start, prev.start, yoy.start, t12_start)
    since_lo = dated_rows(ds, "sales", "date", lo, period.end)
    r = a["r"][since_lo]
    return {
        "revenue": revenue_per_rep(ds, period.start, period.end, n_all),
        "revenue_prior_year": revenue_per_rep(ds, yoy.start, yoy.end, n_all),
        "revenue_12m": revenue_per_rep(ds, t12_start, period.end, n_all),
        "account_rows": per_rep(r, (r >= 0) & (a["acc"][since_lo] >= 0), n_all),
        "accounts_now": _rep_accounts(a, dated_rows(ds, "sales", "date", period.start, period.end)),
        "accounts_before": _rep_accounts(a, dated_rows(ds, "sales", "date", prev.start, prev.end)),
        "new_account": ~(a["first_bought"] < day(period.start)),
    }


def revenue_per_rep(ds: Dataset, start: date, end: date, n_all: int) -> np.ndarray:
    """Σ revenue of the sales lines dated start … end per whole-roster rep."""
    a = rows_of(ds, "sales")
    at = dated_rows(ds, "sales", "date", start, end)
    r = a["r"][at]
    return per_rep(r, r >= 0, n_all, a["revenue"][at])


def attainment_parts(ds: Dataset, period: Period) -> Parts:
    """Only the parts attainment reads (revenue and quota per rep): for a reader that needs no other
    KPI of the period (the Overview's movers read the period before the one shown), a few ms
    instead of every part. The period's full parts when they are computed already."""
    kept, parts = ds.cache.peek(_memo_key(period))
    if kept:
        return {k: parts[k] for k in ("revenue", "rep_quota") if k in parts}

    def build() -> Parts:
        n_all = len(whole_roster(ds))
        out: Parts = {"revenue": revenue_per_rep(ds, period.start, period.end, n_all)} if has_sales(ds) else {}
        return out | _quota_parts(ds, period, n_all)

    return ds.memo(("metrics.period_attainment", period.start, period.end), build)


def _rep_accounts(a: Arrays, at: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rep, account, Σ revenue of each (rep, account) pair among the lines `at`."""
    k = max(len(a["first_bought"]), 1)
    r, acc = a["r"][at], a["acc"][at]
    m = (r >= 0) & (acc >= 0)
    keys, inverse = distinct_inverse(pair_keys(r[m], acc[m], k))
    return keys // k, keys % k, np.bincount(inverse, weights=a["revenue"][at][m], minlength=len(keys))


def period_value(ds: Dataset, name: str, period: Period, n_all: int) -> np.ndarray:
    """Σ of a month-spread value (quotas, incentives) over the period, partial months pro rata
    by days, per rep; NaN for reps with no row in the period."""
    a = rows_of(ds, name)
    weights = month_weights(period.start, period.end)
    at = a["month"] - weights.index[0]
    inside = (at >= 0) & (at < len(weights)) & (a["r"] >= 0)
    w = weights.to_numpy()[at[inside]]
    r = a["r"][inside]
    total = np.bincount(r, weights=a["value"][inside] * w, minlength=n_all)
    return np.where(np.bincount(r, minlength=n_all) > 0, total, np.nan)


def _quota_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    return {"rep_quota": rep_period_quota(ds, period, n_all)} if ds.has("quotas") else {}


def rep_period_quota(ds: Dataset, period: Period, n_all: int) -> np.ndarray:
    """Quota of each whole-roster rep for the period (NaN: no quota row, or not yet employed)."""
    return np.where(not_employed(ds, period), np.nan, period_value(ds, "quotas", period, n_all))


def period_quota(ds: Dataset, period: Period) -> pd.Series:
    """Quota per rep_id for the period, as the quota KPI counts it (spread over months, partial
    months by days, a rep-month's total else Σ its product quotas, employment applied); reps
    without a quota in the period are left out. Empty without a quotas table."""
    if not ds.has("quotas"):
        return pd.Series(dtype="float64", name="quota")
    whole = whole_roster(ds)
    quota = pd.Series(rep_period_quota(ds, period, len(whole)), index=whole["rep_id"].to_numpy(), name="quota")
    return quota.dropna()


def _incentive_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    return {"rep_payout": period_value(ds, "incentives", period, n_all)} if ds.has("incentives") else {}


def _opportunity_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    """Deals won and lost in the period; the deals open now and those open at the period's start
    (all, those with a value, and their value); the cycle of each deal won (for the median)."""
    if not ds.has("opportunities"):
        return {}
    a = rows_of(ds, "opportunities")
    r, status = a["r"], a["status"]
    closed = (r >= 0) & within(a["close"], period.start, period.end)
    won = closed & (status == WON)
    timed = won & ~np.isnan(a["cycle"])
    start = day(period.start)
    # open at the start: created before it and not closed before it (a deal still open counts)
    open_at_start = (r >= 0) & (a["created"] < start) & ((status == OPEN) | (a["close"] >= start))
    return {"won": per_rep(r, won, n_all), "lost": per_rep(r, closed & (status == LOST), n_all),
            **_pipeline_parts("open", r, (r >= 0) & (status == OPEN), a["value"], n_all),
            **_pipeline_parts("start", r, open_at_start, a["value_open"], n_all),
            "cycle": (r[timed], a["cycle"][timed]), "pipeline_at_start": pipeline_at_start(ds, period)}


def deals_decided(ds: Dataset, period: Period) -> pd.DataFrame:
    """Deals won and lost in `period` per rep of the whole roster (indexed by rep_id): the parts of
    the won and lost KPIs alone, for a reader that needs nothing else of the period (the
    diagnostic's win rate over its habit window)."""
    n_all = len(whole_roster(ds))
    parts = _opportunity_parts(ds, period, n_all)
    return pd.DataFrame({"won": parts["won"], "lost": parts["lost"]}, index=pd.Index(whole_roster(ds)["rep_id"]))


def _pipeline_parts(prefix: str, r: np.ndarray, is_open: np.ndarray, value: np.ndarray, n_all: int) -> Parts:
    valued = is_open & ~np.isnan(value)
    return {f"{prefix}_deals": per_rep(r, is_open, n_all), f"{prefix}_valued": per_rep(r, valued, n_all),
            f"{prefix}_value": per_rep(r, valued, n_all, value)}


def pipeline_at_start(ds: Dataset, period: Period) -> bool:
    """Whether the period is over in the data (the data reaches its last day): then its coverage
    is the pipeline open at its start (start_pipeline) over its quota — what the reps had to work
    with — not today's pipeline over what it missed."""
    end = data_end(ds)
    return end is not None and period.end_ts <= end


def _activity_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    """Activities of the period per rep and type, plan flag and contact role; the distinct
    (rep, account) pairs touched (for reach)."""
    if not ds.has("activities"):
        return {}
    a = rows_of(ds, "activities")
    at = dated_rows(ds, "activities", "date", period.start, period.end)
    rep = a["r"][at]
    m = rep >= 0
    r = rep[m].astype(np.int64)

    def by_code(codes: np.ndarray, k: int) -> np.ndarray:
        return np.bincount(r * k + codes[at][m], minlength=n_all * k).reshape(n_all, k).astype("float64")

    kind = by_code(a["kind"], len(FACE_TO_FACE) + 2)
    planned = by_code(a["planned"], 3)
    role = by_code(a["role"], len(ROLES) + 2)
    out = {"meetings": kind[:, 1:len(FACE_TO_FACE) + 1].sum(axis=1), "presentations": kind[:, PRESENTATION],
           "workshops": kind[:, WORKSHOP], "meeting_type": kind[:, MEETING],
           "planned": planned[:, 2], "planned_known": planned[:, 1] + planned[:, 2],
           "role_known": role[:, 1:].sum(axis=1)}
    out |= {f"role_{name}": role[:, i + 1] for i, name in enumerate(ROLES)}
    if "acc" in a:
        k = max(len(accounts_table(ds)), 1)
        acc = a["acc"][at]
        touched = m & (acc >= 0)
        pairs = distinct(pair_keys(rep[touched], acc[touched], k))
        out["touched"] = (pairs // k, pairs % k)
    return out


def _follow_up_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    """Follow-ups due in the period up to the as-of day (min(period end, last day in the data)),
    those done on time, the days late of the others (for the median), and those overdue and
    open as of that day."""
    if not ds.has("follow_ups"):
        return {}
    a = rows_of(ds, "follow_ups")
    end = data_end(ds)
    as_of = day(period.end_ts if end is None else min(period.end_ts, end))
    r, due, done = a["r"], a["due"], a["done"]
    on = r >= 0
    in_p = on & (due >= day(period.start)) & (due <= as_of)
    on_time = done <= due                         # NaT compares False: open counts as late
    late = in_p & ~on_time
    late_by = (np.where(np.isnat(done[late]), as_of, done[late]) - due[late]) // np.timedelta64(1, "D")
    overdue = on & (due < as_of) & (np.isnat(done) | (done > as_of))
    return {"follow_ups_due": per_rep(r, in_p, n_all), "follow_ups_on_time": per_rep(r, in_p & on_time, n_all),
            "overdue_open_follow_ups": per_rep(r, overdue, n_all),
            "late": (r[late], late_by.astype("float64"))}


def _training_parts(ds: Dataset, period: Period, n_all: int) -> Parts:
    if not ds.has("training"):
        return {}
    a = rows_of(ds, "training")
    m = (a["r"] >= 0) & within(a["date"], period.start, period.end) & ~np.isnan(a["score"])
    return {"score_sum": per_rep(a["r"], m, n_all, a["score"]), "scores": per_rep(a["r"], m, n_all)}
