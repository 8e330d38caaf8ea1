"""Incentive misalignment: does the pay plan reward something other than the goal?

Read from the product mix against the product goals and, with pay data, what misalignment looks like:
the rep sells the products the plan pays most for further over their goals than the other products
(the plan's rate per product from components named after products or inferred from payouts and
sales). A rep weak on every product (a skills or activity problem) shows a mix near the goals and no
such lead, so the mix flags only with it. Also read: whether the plan pays the mix more than the goal
mix would, revenue bunched into the last weeks of quarters, and payout at or above the reps at goal
while below quota. The team finding: weak pay-for-performance.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Task
from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading, TeamView, benchmark, column, team_finding
from core.fmt import fmt_num, fmt_pct, is_missing
from core.kpis import metrics
from core.kpis.arrays import dated_rows, factorized, positions, rows_of, source_rows
from core.kpis.inputs import spread_by_month
from core.kpis.quota import quota_in_period, total_quota_by_month
from core.periods import Period, custom
from core.settings import Targets

KEY = "incentive_misalignment"
QUARTER_END_DAYS = 21                # "the last 3 weeks of a quarter"
WINDOW_QUARTERS = 4                  # quarters read for revenue bunching
MIX_EXCESS = 0.04                    # product mix this far (total variation) beyond the reps at goal
PAID_TILT_MIN = 0.05                 # the mix earns ≥ 5 % more pay than the goal mix would
BEST_PAID_RATE = 1.25                # "best-paid": a rate ≥ 1.25 × the plan's quota-weighted mean rate
BEST_PAID_LEAD_MIN = 0.25            # best-paid products ≥ 25 % further over their goals than the rest
MIX_MONTHS = 12                      # months of product mix read against the product goals
PAY_QUARTERS = 8                     # rep-quarters of payouts read to infer the plan's rates


def read(ctx: Context) -> list[Reading]:
    """Product mix against the product goals (and, with pay data, whether the plan pays the mix
    more than the goals), quarter-end bunching and payout against the reps at goal."""
    ds, period, kpis, good = ctx.ds, ctx.period, ctx.kpis, ctx.good
    out: list[Reading] = []
    window = mix_window(period)
    sales = period_sales(ds, window.start_ts, window.end_ts)
    mix = product_mix_vs_goals(ds, ctx.rep_ids, sales, window)
    if mix is not None:
        rev, quota = mix
        gap = (0.5 * (rev.div(rev.sum(axis=1), axis=0) - quota.div(quota.sum(axis=1), axis=0)).abs()
               .sum(axis=1)).where((rev.sum(axis=1) > 0) & (quota.sum(axis=1) > 0)).reindex(ctx.rep_ids)
        bench = benchmark(gap, good, gap.median())
        rates = plan_rates(ds, period) if ds.has("incentives") else None
        if rates is None:
            out.append(Reading("mix_gap", gap, bench, bench + MIX_EXCESS))
        else:
            paid = _bucket_rates(rates, rev.columns, sales)
            tilt = paid_mix_tilt(rev, quota, paid).reindex(ctx.rep_ids)
            lead = best_paid_lead(rev, quota, paid).reindex(ctx.rep_ids)
            # A mix off the goals is an incentive problem where the rep sells the best-paid
            # products further over their goals than the others (over there, under elsewhere).
            out += [Reading("mix_gap", gap, bench, bench + MIX_EXCESS, gate=lead > BEST_PAID_LEAD_MIN),
                    Reading("best_paid_lead", lead, 0.0, BEST_PAID_LEAD_MIN),
                    Reading("paid_mix_tilt", tilt, 0.0, PAID_TILT_MIN)]
    if not ds.has("incentives"):
        return out
    payout = pd.Series(kpis["payout"].to_numpy(), index=ctx.rep_ids)
    bench_pay = benchmark(payout, good, payout.median())
    below = (kpis["attainment"] < 1.0).to_numpy()
    return [*out,
            Reading("quarter_end_share", quarter_end_share(ds, period).reindex(ctx.rep_ids),
                    QUARTER_END_DAYS / 91, ctx.settings.thresholds.quarter_end_share_max),
            # An inversion: paid at least like the reps at goal while below quota.
            Reading("payout_vs_goal", payout, bench_pay, np.where(below, bench_pay, np.inf))]


def period_sales(ds: Dataset, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The sales lines dated start .. end (in date order), with the columns the incentive signals
    read (and `late`: the revenue booked in the last QUARTER_END_DAYS of its quarter, else 0)."""
    return _dated_sales(ds).iloc[dated_rows(ds, "sales", "date", start, end)]


def _dated_sales(ds: Dataset) -> pd.DataFrame:
    """The sales lines with the columns period_sales gives, in the order of the KPIs' arrays (date
    order: a window is one slice of them, core.kpis.arrays.dated_rows): once per Dataset."""
    def build() -> pd.DataFrame:
        s = metrics.sales_table(ds)[["date", "rep_id", "product", "revenue"]]
        s = s.iloc[source_rows(rows_of(ds, "sales"), slice(None))]          # taken only when out of order
        days_left = (s["date"] + pd.offsets.QuarterEnd(0) - s["date"]).dt.days
        return s.assign(late=s["revenue"].where(days_left < QUARTER_END_DAYS, 0.0))

    return ds.memo(("dataset.incentive_sales",), build)


def mix_window(period: Period) -> Period:
    """The months the product mix is read over: the MIX_MONTHS up to the period end (a pay plan
    steers the mix all year; one quarter of one product is mostly noise), or the period if longer."""
    start = (period.end_ts - pd.DateOffset(months=MIX_MONTHS) + pd.Timedelta(days=1)).date()
    return custom(min(start, period.start), period.end)
def product_mix_vs_goals(ds: Dataset, reps: pd.Index, sales: pd.DataFrame,
                         period: Period) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Revenue and quota per rep (rows) and product with a product quota (columns), plus "other":
    the revenue on other products against the quota not broken down by product, over `period`
    (`sales` are its sales). None without product quotas in the period."""
    qm = metrics.quota_by_month(ds)
    qm = qm[(qm["month"] <= period.end_ts) & (qm["month"] + pd.offsets.MonthEnd(0) >= period.start_ts)]
    if qm["product"].isna().all():
        return None
    total = total_quota_by_month(qm)
    total_quota = quota_in_period(total, period).groupby(total["rep_id"]).sum().reindex(reps)
    qm = qm[qm["product"].notna()]
    pq = quota_in_period(qm, period).groupby([qm["rep_id"], qm["product"]]).sum().unstack()
    products = list(pq.columns)
    pq = pq.reindex(reps)
    rev = _revenue_by(sales, reps, pd.Index(products))
    rev["other"] = rev["other"].clip(lower=0)
    pq["other"] = (total_quota - pq.sum(axis=1)).clip(lower=0)
    has = pq[products].notna().any(axis=1)
    if not (rev["other"] > 0).any() and not (pq["other"] > 0).any():
        rev, pq = rev.drop(columns="other"), pq.drop(columns="other")
    return rev[has], pq[has].fillna(0.0)


def paid_mix_tilt(rev: pd.DataFrame, quota: pd.DataFrame, rates: pd.Series) -> pd.Series:
    """How much more the plan pays for the rep's product mix than for the goal mix at the same
    revenue: Σ rate × revenue / Σ rate × (revenue spread like the quotas) − 1."""
    goal_mix = quota.div(quota.sum(axis=1).where(quota.sum(axis=1) > 0), axis=0).mul(rev.sum(axis=1), axis=0)
    paid = (rev * rates).sum(axis=1)
    at_goal_mix = (goal_mix * rates).sum(axis=1)
    return paid / at_goal_mix.where(at_goal_mix > 0) - 1


def best_paid_lead(rev: pd.DataFrame, quota: pd.DataFrame, rates: pd.Series) -> pd.Series:
    """How much further over its goal a rep sells the products the plan pays most for (a rate at
    least BEST_PAID_RATE × the plan's quota-weighted mean rate) than the other products: attainment
    on the best-paid products / attainment on the others − 1. NaN where the plan pays no product
    clearly more, or a side has no quota."""
    mean_rate = float((quota.sum() * rates).sum() / quota.sum().sum()) if quota.to_numpy().sum() > 0 else np.nan
    top = rates.reindex(rev.columns) >= BEST_PAID_RATE * mean_rate
    if not top.any() or top.all():
        return pd.Series(np.nan, index=rev.index)
    q_top, q_rest = quota.loc[:, top].sum(axis=1), quota.loc[:, ~top].sum(axis=1)
    att_top = rev.loc[:, top].sum(axis=1) / q_top.where(q_top > 0)
    att_rest = rev.loc[:, ~top].sum(axis=1) / q_rest.where(q_rest > 0)
    return att_top / att_rest.where(att_rest > 0) - 1


def _bucket_rates(rates: pd.Series, buckets: pd.Index, sales: pd.DataFrame) -> pd.Series:
    """Rates per column of the mix: a product's own rate; "other" pays the revenue-weighted rate
    of the products without a product quota."""
    out = rates.reindex(buckets)
    if "other" in buckets:
        rest = _product_revenue(sales)
        rest = rest[~rest.index.isin(buckets)]
        r = rates.reindex(rest.index)
        ok = r.notna() & rest.gt(0)
        out["other"] = float((r[ok] * rest[ok]).sum() / rest[ok].sum()) if ok.any() else float(rates.median())
    return out.fillna(float(rates.median()))


def _sum_at(at: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Σ values per position 0 … n − 1 (a missing value adds nothing, as in a group-by sum)."""
    return np.bincount(at, weights=np.nan_to_num(values, nan=0.0), minlength=n)


def _revenue_by(sales: pd.DataFrame, reps: pd.Index, products: pd.Index) -> pd.DataFrame:
    """Revenue per rep of `reps` (rows, 0 without a line) and product of `products` (columns), and
    the revenue on every other product or none ("other")."""
    rep, product = positions(reps, sales["rep_id"]), positions(products, sales["product"])
    n = len(products) + 1
    on = rep >= 0
    cells = _sum_at(rep[on] * n + np.where(product[on] >= 0, product[on], len(products)),
                    sales["revenue"].to_numpy()[on], len(reps) * n).reshape(len(reps), n)
    out = pd.DataFrame(cells[:, :-1], index=reps, columns=products)
    out["other"] = cells[:, -1]
    return out


def _product_revenue(sales: pd.DataFrame) -> pd.Series:
    """Σ revenue per product sold (a product with at least one line, as a group-by gives them)."""
    at, products = factorized(sales["product"])
    inside = at >= 0
    sold = np.bincount(at[inside], minlength=len(products)) > 0
    return pd.Series(_sum_at(at[inside], sales["revenue"].to_numpy()[inside], len(products)), index=products)[sold]


def _quarter(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("Q").astype("str")


def plan_rates(ds: Dataset, period: Period) -> pd.Series | None:
    """What the pay plan pays per $ of revenue, per product. From components named after products
    when there are such; otherwise inferred: payout per rep and quarter regressed (non-negative
    least squares) on revenue per product, over the last PAY_QUARTERS quarters up to the period
    end. None when it cannot be told."""
    inc = ds.table("incentives")
    end = period.end_ts
    start = (end - pd.offsets.QuarterBegin(PAY_QUARTERS, startingMonth=1)).normalize()
    sales = period_sales(ds, start, end)
    product_revenue = _product_revenue(sales)
    products = product_revenue.index
    named = inc[inc["component"].isin(products)]
    if named["component"].nunique() >= 2:
        paid = named.groupby("component")["payout"].sum()
        revenue = product_revenue.reindex(paid.index)
        rate = paid / revenue.where(revenue > 0)
        return None if rate.isna().all() else rate.dropna()
    # The plan's rate line is its largest component (commission); bonuses and SPIFs paid on
    # other rules would only blur the rates, so they are left out when components are named.
    if inc["component"].notna().any():
        main = inc.groupby("component")["payout"].sum().idxmax()
        inc = inc[inc["component"] == main]
    pay = spread_by_month(inc, "payout")
    pay = pay[(pay["month"] >= start) & (pay["month"] <= end)]
    if pay.empty or len(products) < 2:
        return None
    y = pay.groupby([pay["rep_id"], _quarter(pay["month"])])["payout"].sum()
    x = sales.groupby([sales["rep_id"], _quarter(sales["date"]), sales["product"]])["revenue"].sum().unstack()
    x = x.reindex(y.index).fillna(0.0)
    if len(x) < 3 * x.shape[1]:
        return None
    from scipy.optimize import nnls

    scale = x.abs().max().where(lambda v: v > 0, 1.0)
    coef, _ = nnls((x / scale).to_numpy(), y.to_numpy(dtype="float64"))
    rates = pd.Series(coef / scale.to_numpy(), index=x.columns)
    return rates if rates.max() > 0 else None


def quarter_end_share(ds: Dataset, period: Period) -> pd.Series:
    """Share of each rep's revenue booked in the last 3 weeks of its quarter, over the last
    WINDOW_QUARTERS complete quarters up to the period end (the same quarters for every period
    ending in one quarter: computed once per Dataset and last quarter)."""
    return ds.memo(*quarter_end_task(ds, period)).copy()


def quarter_end_task(ds: Dataset, period: Period) -> Task:
    """quarter_end_share's memo key and computation (the command line computes it beside the rest)."""
    end = period.end_ts
    q_end = end if (end + pd.Timedelta(days=1)).is_quarter_start else end - pd.offsets.QuarterEnd(1)
    return ("diagnostic.quarter_end_share", q_end), lambda: _quarter_end_share(ds, q_end)


def _quarter_end_share(ds: Dataset, q_end: pd.Timestamp) -> pd.Series:
    start = q_end - pd.offsets.QuarterEnd(WINDOW_QUARTERS) + pd.Timedelta(days=1)
    s = period_sales(ds, start, q_end)
    at, reps = factorized(s["rep_id"])
    inside = at >= 0
    sold = np.bincount(at[inside], minlength=len(reps)) > 0           # the reps with a line
    late, total = (pd.Series(_sum_at(at[inside], s[col].to_numpy()[inside], len(reps)), index=reps)[sold]
                   for col in ("late", "revenue"))
    return late / total.where(total > 0)


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    out = []
    qe_max = inp.table.loc[inp.table["signal"] == "quarter_end_share", "threshold"].max()
    for mix, lead, tilt, qe in zip(column(v, "mix_gap"), column(v, "best_paid_lead"), column(v, "paid_mix_tilt"),
                                   column(v, "quarter_end_share"), strict=False):
        parts = ["align pay with the goal"]
        if not is_missing(mix):
            parts.append(f"{fmt_pct(mix)} of revenue sits on other products than the product goals ask: "
                         "pay the goal products at least as well as the others")
        if not is_missing(lead) and lead > BEST_PAID_LEAD_MIN:
            parts.append(f"the best-paid products sell {fmt_pct(lead)} further over their goals than the others")
        if not is_missing(tilt) and tilt > 0:
            parts.append(f"the mix sold earns {fmt_pct(tilt)} more pay than the goal mix would")
        if not is_missing(qe) and qe > qe_max:
            parts.append(f"check quarter-end deal timing ({fmt_pct(qe)} of revenue in the last 3 weeks)")
        out.append("; ".join(parts))
    return out


def _partial_spearman(x: pd.Series, y: pd.Series, z: pd.Series) -> float:
    """Rank correlation of x and y after removing the linear effect of z's ranks from both."""
    d = pd.concat([x, y, z], axis=1).dropna().rank()
    if len(d) < 4:
        return np.nan
    zc = d.iloc[:, 2] - d.iloc[:, 2].mean()
    if (zc ** 2).sum() == 0:
        return float(d.iloc[:, 0].corr(d.iloc[:, 1]))
    res = [d.iloc[:, i] - d.iloc[:, i].mean() - zc * (zc @ (d.iloc[:, i] - d.iloc[:, i].mean())) / (zc @ zc)
           for i in (0, 1)]
    return float(res[0].corr(res[1]))


def team(view: TeamView) -> list[dict[str, Any]]:
    """Weak pay-for-performance: payout does not follow attainment across the reps."""
    kpis, settings, balance = view.kpis, view.settings, view.inputs.balance
    p4p = metrics.pay_for_performance(kpis)
    if is_missing(p4p) or not p4p < settings.thresholds.pay_for_performance_min:
        return []
    idx = balance.set_index("territory_id")["potential_index"] if len(balance) else pd.Series()
    partial = _partial_spearman(kpis["payout"], kpis["attainment"], kpis["territory_id"].map(idx).astype("float64"))
    return [team_finding(
        KEY, "team", view.money[KEY], view.base,
        f"Pay-for-performance {p4p:.2f} vs {settings.targets.pay_for_performance:.2f} target "
        f"(Spearman of payout and attainment); {fmt_num(partial, 2)} controlling for territory potential",
        "redesign the pay plan so that payout follows attainment of the goal")]


CAUSE = Cause(
    KEY, "Incentive misalignment", "Does the pay plan reward something other than the goal?", ("incentives",),
    measures=(
        Measure("mix_gap", "Product mix off the product goals", "pct", False, True, 1.0, test="peer z-test"),
        Measure("best_paid_lead", "Best-paid products sold ahead of the others (vs their goals)", "pct", False,
                test="peer z-test"),
        Measure("paid_mix_tilt", "Pay earned by the mix vs the goal mix", "pct", False, test="peer z-test"),
        Measure("quarter_end_share", "Revenue in the last 3 weeks of quarters", "pct", False, True, 1.0),
        Measure("payout_vs_goal", "Payout vs reps at goal", "money", False),
    ),
    read=read, actions=actions, team=team)
