"""KPIs of a grouping from the period's summed parts: one function per family of KPIs, then any
KPI registered with its own formula (core.kpis.registry.register)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.kpis.arrays import ROLES, account_territories
from core.kpis.grouping import Grouping, count_by, distinct, distinct_inverse, nan_array, pair_keys, ratio, sum_by
from core.kpis.inputs import territory_potential
from core.kpis.parts import Parts, period_parts
from core.kpis.points import PointCounts, point_components, total_points
from core.kpis.quota import attainment, gap, revenue_against_quota
from core.kpis.registry import KPIS, kpi_columns
from core.periods import Period
from core.settings import Settings

# ---------------------------------------------------------------------------------------------
# KPIs of a grouping, from the period's parts
# ---------------------------------------------------------------------------------------------

def _sales_kpis(ds: Dataset, parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "revenue" not in parts:
        return {k: nan_array(n) for k in ("revenue", "revenue_prior_year", "growth", "market_share",
                                     "active_accounts", "new_accounts", "retention_rate", "churn_rate")}
    out = {"revenue": grouping.sum(parts["revenue"]),
           "revenue_prior_year": grouping.sum(parts["revenue_prior_year"])}
    out["growth"] = ratio(out["revenue"], out["revenue_prior_year"]) - 1
    out["market_share"] = ratio(grouping.sum(parts["revenue_12m"]), _group_potential(ds, grouping))
    return out | _account_kpis(parts, grouping)


def _group_potential(ds: Dataset, grouping: Grouping) -> np.ndarray:
    """Σ annual potential of the distinct territories of each group (NaN when unknown)."""
    pot = territory_potential(ds)
    pairs = pd.DataFrame({"g": grouping.group, "t": grouping.reps["territory_id"].to_numpy()}).drop_duplicates()
    p = pairs["t"].map(pot).to_numpy(dtype="float64")
    known = ~np.isnan(p)
    total = np.bincount(pairs["g"].to_numpy()[known], weights=p[known], minlength=grouping.n)
    return np.where(np.bincount(pairs["g"].to_numpy()[known], minlength=grouping.n) > 0, total, np.nan)


# (rep position, account code, Σ revenue) of each pair with sales in a period (parts "accounts_now",
# "accounts_before"); a function giving the group of each such pair (-1 = counted in none).
AccountRevenue = tuple[np.ndarray, np.ndarray, np.ndarray]
GroupOfPair = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _account_kpis(parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    """The account KPIs of each group of reps (account_kpis, a pair's group being its rep's)."""
    return account_kpis(parts, lambda rep, _acc: grouping.of_rep[rep], grouping.n,
                        named=bool(grouping.sum(parts["account_rows"]).sum() > 0))


def account_kpis(parts: Parts, group_of: GroupOfPair, n: int, named: bool) -> dict[str, np.ndarray]:
    """The account rules of kpis.md for `n` groups, whatever makes a group (reps, a territory, an
    account segment): an account is active for a group when the group's Σ revenue from it in the
    period is > 0 (counted once per group and account); new when active and its first ever sale,
    by any rep, falls in the period; retention = accounts active in the previous period and again
    in this one / accounts active in the previous period; churn = 1 − retention. `named` False (no
    sale of the groups names an account) gives n/a, never 0."""
    names = ("active_accounts", "new_accounts", "retention_rate", "churn_rate")
    if not named:
        return {k: nan_array(n) for k in names}
    k = max(len(parts["new_account"]), 1)
    cur = _active_pairs(parts["accounts_now"], group_of, k)
    new = cur[parts["new_account"][cur % k]]
    prior = _active_pairs(parts["accounts_before"], group_of, k)
    retained = prior[np.isin(prior, cur)]
    retention = ratio(count_by(retained // k, n), count_by(prior // k, n))
    return {"active_accounts": count_by(cur // k, n), "new_accounts": count_by(new // k, n),
            "retention_rate": retention, "churn_rate": 1 - retention}


def _active_pairs(rep_accounts: AccountRevenue, group_of: GroupOfPair, k: int) -> np.ndarray:
    """(group, account) keys whose Σ revenue is > 0."""
    rep, acc, revenue = rep_accounts
    g = group_of(rep, acc)
    inside = g >= 0
    keys, inverse = distinct_inverse(pair_keys(g[inside], acc[inside], k))
    return keys[np.bincount(inverse, weights=revenue[inside], minlength=len(keys)) > 0]


def quota_kpis(parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    """Quota, attainment, gap and remaining quota. A group's attainment is Σ revenue / Σ quota
    over its reps that have a quota (revenue of reps without one would inflate it)."""
    rep_quota = parts.get("rep_quota", nan_array(grouping.n_all))
    rep_rev, quota_q = revenue_against_quota(parts.get("revenue", nan_array(grouping.n_all)), rep_quota)
    quota, revenue_q = grouping.to_groups(quota_q), grouping.to_groups(rep_rev)
    remaining = grouping.to_groups(np.clip(quota_q - rep_rev, 0, None))
    return {"quota": grouping.to_groups(rep_quota), "attainment": attainment(revenue_q, quota),
            "gap": gap(revenue_q, quota), "remaining_quota": remaining}


def _opportunity_kpis(parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "won" not in parts:
        return {k: nan_array(n) for k in ("won", "lost", "win_rate", "sales_cycle_days", "open_pipeline",
                                     "start_pipeline")}
    won, lost = grouping.sum(parts["won"]), grouping.sum(parts["lost"])
    return {"won": won, "lost": lost, "win_rate": ratio(won, won + lost),
            "sales_cycle_days": grouping.median(parts["cycle"]), "open_pipeline": _open_pipeline(parts, grouping),
            "start_pipeline": _open_pipeline(parts, grouping, "start")}


def _open_pipeline(parts: Parts, grouping: Grouping, prefix: str = "open") -> np.ndarray:
    """Σ value of the open deals (now, or with prefix "start" at the period's start): the amount,
    else the product's list price (products table). A group whose open deals all lack a value is
    NaN (unknown, not 0); no open deals is 0."""
    valued = grouping.sum(parts[f"{prefix}_valued"])
    if valued.sum() == 0:
        return nan_array(grouping.n)
    unknown = (grouping.sum(parts[f"{prefix}_deals"]) > 0) & (valued == 0)
    return np.where(unknown, np.nan, grouping.sum(parts[f"{prefix}_value"]))


def _pipeline_coverage(parts: Parts, grouping: Grouping, kpis: dict[str, np.ndarray]) -> np.ndarray:
    """Open pipeline ÷ what it has to cover. A finished period: the pipeline open at its start
    (start_pipeline) of the reps with a quota ÷ their quota. A period under way: the pipeline open now ÷ the quota
    still to win (Σ shortfall of the reps below quota)."""
    if not parts.get("pipeline_at_start"):
        return ratio(kpis["open_pipeline"], kpis["remaining_quota"])
    rep_quota = parts.get("rep_quota", nan_array(grouping.n_all))
    with_quota = rep_quota > 0
    pipeline = grouping.to_groups(np.where(with_quota, parts["start_value"], np.nan))
    return ratio(pipeline, grouping.to_groups(np.where(with_quota, rep_quota, np.nan)))


def _activity_kpis(ds: Dataset, period: Period, parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    """Activity counts and rates. Rates per week/quarter are per rep: a group's Σ is divided by
    its number of reps, so they compare with the per-rep targets."""
    n = grouping.n
    names = ("meetings", "meetings_per_week", "presentations", "presentations_per_quarter",
             "workshops", "workshops_per_quarter", "reach", "planned", "planned_known",
             "call_plan_adherence", "share_user", "share_buyer", "share_admin", "_meeting_type")
    if "meetings" not in parts:
        return {k: nan_array(n) for k in names}
    out = {k: grouping.sum(parts[k]) for k in ("meetings", "presentations", "workshops", "planned",
                                                "planned_known")}
    out["_meeting_type"] = grouping.sum(parts["meeting_type"])
    rep_days = period.days * grouping.reps_per_group
    out["meetings_per_week"] = ratio(out["meetings"] * 7, rep_days)
    out["presentations_per_quarter"] = ratio(out["presentations"] * 91, rep_days)
    out["workshops_per_quarter"] = ratio(out["workshops"] * 91, rep_days)
    out["call_plan_adherence"] = ratio(out["planned"], out["planned_known"])
    known_role = grouping.sum(parts["role_known"])
    for r in ROLES:
        out[f"share_{r}"] = ratio(grouping.sum(parts[f"role_{r}"]), known_role)
    out["reach"] = _reach(ds, parts, grouping)
    return out


def _reach(ds: Dataset, parts: Parts, grouping: Grouping) -> np.ndarray:
    """Distinct accounts of the group's own territories with ≥ 1 activity / accounts there."""
    n = grouping.n
    if "touched" not in parts:
        return nan_array(n)
    territories, per_territory, territory_of = account_territories(ds)
    own = pd.DataFrame({"g": grouping.group,
                        "t": territories.get_indexer(grouping.reps["territory_id"])}).drop_duplicates()
    own = own[own["t"] >= 0]
    denominator = sum_by(own["g"].to_numpy(), n, per_territory[own["t"].to_numpy()])
    rep, acc = parts["touched"]
    g = grouping.of_rep[rep]
    terr = territory_of[acc]
    k_t, k_a = max(len(territories), 1), max(len(territory_of), 1)
    mine = (g >= 0) & (terr >= 0) & np.isin(pair_keys(g, terr, k_t),
                                            pair_keys(own["g"].to_numpy(), own["t"].to_numpy(), k_t))
    reached = distinct(pair_keys(g[mine], acc[mine], k_a))
    return ratio(count_by(reached // k_a, n), denominator)


def _follow_up_kpis(parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "follow_ups_due" not in parts:
        return {k: nan_array(n) for k in ("follow_ups_due", "follow_ups_on_time", "on_time_follow_up_rate",
                                     "days_late", "overdue_open_follow_ups")}
    due, on_time = grouping.sum(parts["follow_ups_due"]), grouping.sum(parts["follow_ups_on_time"])
    return {"follow_ups_due": due, "follow_ups_on_time": on_time, "on_time_follow_up_rate": ratio(on_time, due),
            "days_late": grouping.median(parts["late"]),
            "overdue_open_follow_ups": grouping.sum(parts["overdue_open_follow_ups"])}


def _training_kpis(parts: Parts, grouping: Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "score_sum" not in parts:
        return {"knowledge_quotient": nan_array(n), "_score_sum": nan_array(n)}
    score_sum = grouping.sum(parts["score_sum"])
    return {"knowledge_quotient": ratio(score_sum, grouping.sum(parts["scores"])), "_score_sum": score_sum}


def _incentive_kpis(parts: Parts, grouping: Grouping, revenue: np.ndarray) -> dict[str, np.ndarray]:
    """Payout in the period (incentive periods spread like quotas). A rep without a payout row
    while others in scope were paid for the period got 0; nobody paid = not known."""
    n = grouping.n
    per_rep = parts.get("rep_payout")
    if per_rep is None or np.isnan(per_rep[grouping.pos]).all():
        return {"payout": nan_array(n), "cost_of_sales": nan_array(n)}
    payout = grouping.to_groups(np.nan_to_num(per_rep))
    return {"payout": payout, "cost_of_sales": ratio(payout, np.where(revenue > 0, revenue, np.nan))}


def _points(kpis: dict[str, np.ndarray], settings: Settings) -> np.ndarray:
    """The points KPI: core.kpis.points' scheme over the group's counts."""
    return total_points(point_components(point_counts(kpis), settings.points))


def point_counts(kpis: dict[str, np.ndarray]) -> PointCounts:
    """What earns points, from the family KPIs of a grouping (_family_kpis)."""
    return PointCounts(meetings=kpis["_meeting_type"], presentations=kpis["presentations"],
                       workshops=kpis["workshops"], follow_ups_on_time=kpis["follow_ups_on_time"],
                       training_score=kpis["_score_sum"])


class _GroupTotals:
    """Totals (core.kpis.registry) of one grouping: summed parts and the KPIs computed so far."""

    def __init__(self, parts: Parts, grouping: Grouping, kpis: dict[str, np.ndarray]) -> None:
        self._parts, self._grouping, self._kpis = parts, grouping, kpis

    def sum(self, part: str) -> np.ndarray:
        if part not in self._parts:
            return nan_array(self._grouping.n)
        return self._grouping.sum(self._parts[part])

    def kpi(self, key: str) -> np.ndarray:
        return self._kpis[key]


def family_kpis(ds: Dataset, period: Period, grouping: Grouping) -> dict[str, np.ndarray]:
    """The built-in KPIs of each group (and the _-prefixed counts points need), family by family."""
    parts = period_parts(ds, period)
    kpis = _sales_kpis(ds, parts, grouping)
    kpis |= quota_kpis(parts, grouping)
    kpis |= _opportunity_kpis(parts, grouping)
    kpis["pipeline_coverage"] = _pipeline_coverage(parts, grouping, kpis)
    kpis |= _activity_kpis(ds, period, parts, grouping)
    kpis |= _follow_up_kpis(parts, grouping)
    kpis |= _training_kpis(parts, grouping)
    kpis |= _incentive_kpis(parts, grouping, kpis["revenue"])
    return kpis


def compute(ds: Dataset, period: Period, settings: Settings, grouping: Grouping) -> pd.DataFrame:
    """Every declared KPI (core.kpis.registry) for each group of `grouping`, in declaration order:
    the built-in families, points, then each registered KPI's formula over the summed parts."""
    kpis = family_kpis(ds, period, grouping)
    kpis["points"] = _points(kpis, settings)
    totals = _GroupTotals(period_parts(ds, period), grouping, kpis)
    for kpi in KPIS.values():
        if kpi.formula is not None:
            kpis[kpi.name] = np.asarray(kpi.formula(totals), dtype="float64")
    return pd.DataFrame({k: kpis[k] for k in kpi_columns()})


def ramping(reps: pd.DataFrame, period: Period, settings: Settings) -> pd.Series:
    """Hired less than ramp_months months before the period end."""
    cutoff = period.end_ts - pd.DateOffset(months=settings.thresholds.ramp_months)
    return (reps["hire_date"] > cutoff).fillna(False).astype(bool)

