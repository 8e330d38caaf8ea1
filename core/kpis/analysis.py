"""Analyses on top of the KPI tables: attainment bands, peer percentiles, product mix, biggest
movers and pay for performance."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.arrays import dated_rows, rows_of, source_rows
from core.kpis.grouping import group_reps, ratio
from core.kpis.inputs import has_sales, sales_table
from core.kpis.quota import month_shares, quota_by_month, quota_in_period
from core.kpis.registry import KPIS
from core.kpis.rollup import rep_attainment, rep_kpis
from core.periods import Period
from core.settings import Settings

BANDS = ("<50%", "50–80%", "80–100%", "100–120%", ">120%")
BAND_EDGES = (-np.inf, 0.5, 0.8, 1.0, 1.2, np.inf)


def attainment_distribution(kpis: pd.DataFrame) -> dict[str, Any]:
    """How attainment is spread over the reps with a quota: share per band (left-closed:
    100 % exactly is in "100–120%"), counts, median, quartiles, spread (IQR), share at goal, n."""
    a = kpis["attainment"].dropna()
    counts = pd.cut(a, BAND_EDGES, right=False, labels=list(BANDS)).value_counts().reindex(list(BANDS))
    n = int(len(a))
    q1, q3 = (a.quantile(0.25), a.quantile(0.75)) if n else (np.nan, np.nan)
    return {
        "n": n,
        "counts": {b: int(c) for b, c in counts.items()},
        "bands": {b: (c / n if n else np.nan) for b, c in counts.items()},
        "median": float(a.median()) if n else np.nan,
        "q1": float(q1), "q3": float(q3), "spread": float(q3 - q1),
        "share_at_goal": float((a >= 1.0).mean()) if n else np.nan,
    }


def peer_percentiles(kpis: pd.DataFrame) -> pd.DataFrame:
    """rep_id and, per KPI of KPIS, `<kpi>_pct_team` and `<kpi>_pct_role`: the rep's percentile
    (0–100, ties averaged) among all reps / reps of the same role. For lower-is-better KPIs the
    order is reversed, so a higher percentile always means better. NaN stays NaN."""
    cols = [k for k in KPIS if k in kpis.columns]
    signed = pd.DataFrame({k: kpis[k].astype("float64") * (1 if KPIS[k].higher_is_better else -1)
                           for k in cols}, index=kpis.index)
    team = signed.rank(pct=True).mul(100).add_suffix("_pct_team")
    role = signed.groupby(kpis["role"].to_numpy()).rank(pct=True).mul(100).add_suffix("_pct_role")
    out = pd.concat([kpis[["rep_id"]], team, role], axis=1)
    return out[["rep_id"] + [f"{k}_pct_{s}" for k in cols for s in ("team", "role")]]


def product_mix(ds: Dataset, period: Period, scope: Scope = Scope()) -> pd.DataFrame:
    """product, revenue, share (of the period's revenue), quota (Σ product quotas), attainment."""
    cols = ["product", "revenue", "share", "quota", "attainment"]
    if not has_sales(ds):
        return pd.DataFrame(columns=cols)
    grouping, _ = group_reps(ds, scope)
    a = rows_of(ds, "sales")
    at = dated_rows(ds, "sales", "date", period.start, period.end)
    rows = np.flatnonzero(grouping.of_rep[a["r"][at]] >= 0) + at.start
    revenue = sales_table(ds).iloc[source_rows(a, rows)].groupby("product")["revenue"].sum()
    qm = quota_by_month(ds)
    qm = qm[qm["product"].notna() & qm["rep_id"].isin(grouping.reps["rep_id"])]
    inside_period = quota_in_period(qm, period).where(month_shares(qm["month"], period) > 0)
    quota = inside_period.groupby(qm["product"]).sum(min_count=1)
    out = pd.concat([revenue.rename("revenue"), quota.rename("quota")], axis=1)
    out.index.name = "product"
    out = out.reset_index()
    total = out["revenue"].sum()
    out["share"] = out["revenue"] / total if total > 0 else np.nan
    out["attainment"] = ratio(out["revenue"].fillna(0).to_numpy(), out["quota"].to_numpy())
    return out.sort_values("revenue", ascending=False, na_position="last")[cols].reset_index(drop=True)


def biggest_movers(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope(),
                   n: int = 5) -> pd.DataFrame:
    """rep_id, rep_name, region, attainment, attainment_previous, change: the n reps whose
    attainment changed most (either way) since period.previous(). The previous period's
    attainment comes from its revenue and quota parts alone (rep_attainment)."""
    now = rep_kpis(ds, period, settings, scope)
    out = now[["rep_id", "rep_name", "region", "attainment"]].assign(
        attainment_previous=rep_attainment(ds, period.previous(), scope))
    out["change"] = out["attainment"] - out["attainment_previous"]
    order = out["change"].abs().sort_values(ascending=False).dropna().index
    return out.loc[order].head(n).reset_index(drop=True)


def pay_for_performance(kpis: pd.DataFrame) -> float:
    """Spearman rank correlation of payout and attainment across reps (NaN with < 3 reps)."""
    both = kpis[["payout", "attainment"]].dropna()
    if len(both) < 3:
        return float("nan")
    return float(both["payout"].rank().corr(both["attainment"].rank()))

