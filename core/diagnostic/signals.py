"""The rep-level signal table of the diagnostic (diagnostics.md, "Causes").

Every cause is read from a few signals per rep. Each signal has a value, a target (from settings
or the team's own level), a benchmark (the median of the reps at goal — non-ramping reps with
attainment ≥ 100 % — or the target when fewer than three reps are at goal), a threshold beyond
which it counts as a problem, and, where the signal is a count, a one-sided test against the
threshold. A signal is flagged when it is beyond its threshold and, if it has a test, the test
survives the Benjamini–Hochberg correction over all the tests of all reps (so a large team does
not flag reps by chance). A cause is flagged for a rep when one of its driver signals is flagged;
the other signals add evidence.

`shortfall` says how far a driver signal sits on the wrong side of its benchmark, on a common
scale (relative to the benchmark, or per `scale` units); the money model in core.diagnostic.impact turns
shortfalls into attainment.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis import metrics
from core.people.competency import competency_table
from core.periods import Period, custom
from core.settings import Settings
from core.territory.balance import territory_balance

MIN_AT_GOAL = 3                      # reps at goal needed before their median is the benchmark
FALLING_PER_90D = -0.10              # weakest competencies losing this much a quarter = falling
QUARTER_END_DAYS = 21                # "the last 3 weeks of a quarter"
WINDOW_QUARTERS = 4                  # quarters read for revenue bunching
MIX_EXCESS = 0.04                    # product mix this far (total variation) beyond the reps at goal
PAID_TILT_MIN = 0.05                 # the mix earns ≥ 5 % more pay than the goal mix would
MIX_MONTHS = 12                      # months of product mix read against the product goals
PAY_QUARTERS = 8                     # rep-quarters of payouts read to infer the plan's rates
RATE_SPREAD = 1.3                    # best rate ≥ 1.3× the median rate: the plan favours products
REGULAR_BUYER = 0.5                  # share of months with a purchase that makes an account a regular buyer
LOST_LOOKBACK_YEARS = 2              # accounts that bought this far back and not in the period are lost
PEER_Z_MIN_REPS = 8                  # reps with a value needed before a peer test is run
REACH_SHORT = 0.80                   # reach below 80 % of the reps at goal
PIPELINE_SHORT = 0.50                # open pipeline / quota below half the reps at goal
CYCLE_EXCESS = 2.0                   # sales cycle twice as long as than the team's median
OVERDUE_MIN = 4                      # overdue open follow-ups: more than this many ...
OVERDUE_TIMES = 2.0                  # ... and twice the reps at goal


@dataclass(frozen=True)
class Cause:
    """A canonical cause of diagnostics.md: its key, label, question and the tables it reads."""

    key: str
    label: str
    question: str
    needs: tuple[str, ...]


CAUSES: dict[str, Cause] = {c.key: c for c in (
    Cause("territory_imbalance", "Territory imbalance",
          "Is the goal fair for the opportunity the rep was given?", ("accounts", "territories")),
    Cause("training_gap", "Training gap", "Does the rep lack the knowledge or skills?",
          ("assessments", "training")),
    Cause("incentive_misalignment", "Incentive misalignment",
          "Does the pay plan reward something other than the goal?", ("incentives",)),
    Cause("follow_up_discipline", "Follow-up discipline", "Does the rep keep commitments to customers?",
          ("follow_ups",)),
    Cause("activity_shortfall", "Activity shortfall", "Is the rep in front of customers enough?",
          ("activities",)),
    Cause("plan_adherence", "Plan adherence", "Does the rep work a plan, or react?", ("activities",)),
    Cause("pipeline", "Pipeline", "Is there enough pipeline, and does it convert?", ("opportunities",)),
    Cause("customer_retention", "Customer retention", "Are existing customers being lost?", ("sales",)),
    Cause("ramping", "Ramping", "Is the rep new?", ("reps",)),
)}
BLAMED = tuple(k for k in CAUSES if k != "ramping")


@dataclass(frozen=True)
class Signal:
    """How one signal reads: unit for display, direction, whether it drives the money model and
    the scale of its shortfall (None = relative to the benchmark)."""

    key: str
    cause: str
    label: str
    unit: str                       # pct | count | score | ratio | per_week | days | index | rating | money
    higher_is_better: bool
    driver: bool = False
    scale: float | None = None


SIGNALS: dict[str, Signal] = {s.key: s for s in (
    Signal("potential_index", "territory_imbalance", "Territory potential index", "index", True, True),
    Signal("quota_per_potential", "territory_imbalance", "Quota / potential", "ratio", False, True),
    Signal("overlap", "territory_imbalance", "Activities on other territories", "pct", False),
    Signal("competency_gap", "training_gap", "Weakest competency vs expected", "rating", True, True, 3.0),
    Signal("competency_trend", "training_gap", "Trend of below-expected competencies (per 90 days)",
           "rating", True),
    Signal("knowledge_quotient", "training_gap", "Knowledge quotient", "score", True, True),
    Signal("self_minus_manager", "training_gap", "Self rating minus manager rating", "rating", False),
    Signal("mix_gap", "incentive_misalignment", "Product mix off the product goals", "pct", False, True,
           1.0),
    Signal("paid_mix_tilt", "incentive_misalignment", "Pay earned by the mix vs the goal mix", "pct", False),
    Signal("quarter_end_share", "incentive_misalignment", "Revenue in the last 3 weeks of quarters",
           "pct", False, True, 1.0),
    Signal("payout_vs_goal", "incentive_misalignment", "Payout vs reps at goal", "money", False),
    Signal("on_time_follow_up_rate", "follow_up_discipline", "On-time follow-up", "pct", True, True),
    Signal("days_late", "follow_up_discipline", "Days late (median)", "days", False),
    Signal("overdue_open_follow_ups", "follow_up_discipline", "Overdue open follow-ups", "count", False),
    Signal("meetings_per_week", "activity_shortfall", "Meetings per week", "per_week", True, True),
    Signal("reach", "activity_shortfall", "Reach of territory accounts", "pct", True),
    Signal("call_plan_adherence", "plan_adherence", "Call plan adherence", "pct", True, True),
    Signal("buyer_admin_share", "plan_adherence", "Contacts with buyers and admins", "pct", True),
    Signal("pipeline_coverage", "pipeline", "Pipeline coverage", "ratio", True),
    Signal("pipeline_to_quota", "pipeline", "Open pipeline / quota", "ratio", True, True),
    Signal("win_rate", "pipeline", "Win rate", "pct", True, True),   # conversion far from peers (binomial)
    Signal("sales_cycle_days", "pipeline", "Sales cycle (median days)", "days", False),
    Signal("lost_revenue_share", "customer_retention",
           "Revenue of accounts that stopped buying", "pct", False, True, 1.0),
    Signal("churn_rate", "customer_retention", "Account churn", "pct", False),
    Signal("tenure_months", "ramping", "Tenure (months)", "count", True),
)}

SIGNAL_COLUMNS = ["rep_id", "rep_name", "cause", "signal", "label", "unit", "value", "target",
                  "benchmark", "threshold", "test", "p_value", "flagged", "driver", "shortfall"]
# Signals judged against the team's own spread get a robust z-test against their peers; the
# others with no test are plain rules (the "test" column says which).
PEER_TESTED = ("quota_per_potential", "mix_gap", "paid_mix_tilt", "reach", "pipeline_to_quota", "lost_revenue_share",
               "churn_rate", "sales_cycle_days")
TESTS = {"knowledge_quotient": "t-test", "on_time_follow_up_rate": "binomial", "meetings_per_week": "Poisson",
         "call_plan_adherence": "binomial", "win_rate": "binomial", "overdue_open_follow_ups": "Poisson"} | {k: "peer z-test" for k in PEER_TESTED}


@dataclass(frozen=True)
class Inputs:
    """Everything the diagnostic reads for one period, computed once for the whole team."""

    kpis: pd.DataFrame           # core.kpis.metrics.rep_kpis, every rep of the roster
    balance: pd.DataFrame        # core.territory.balance.territory_balance (empty without territories)
    competency: pd.DataFrame     # core.people.competency.competency_table as of the period end
    table: pd.DataFrame          # the long signal table (SIGNAL_COLUMNS), every rep


# ---------------------------------------------------------------------------------------------
# Small helpers

def at_goal(kpis: pd.DataFrame) -> pd.Series:
    """Reps at goal: a quota, attainment ≥ 100 %, not ramping."""
    return (kpis["attainment"] >= 1.0) & ~kpis["ramping"].astype(bool)


def benchmark(values: pd.Series, good: pd.Series, fallback: float) -> float:
    """Median of the reps at goal; `fallback` (the target) with fewer than MIN_AT_GOAL of them."""
    v = values[good.to_numpy()].dropna()
    return float(v.median()) if len(v) >= MIN_AT_GOAL else float(fallback)


def _bh_cutoff(p: pd.Series, level: float) -> float:
    """Benjamini–Hochberg: the largest p-value still called significant (−1 when none is)."""
    ps = np.sort(p.dropna().to_numpy())
    if not len(ps):
        return -1.0
    ok = ps <= level * np.arange(1, len(ps) + 1) / len(ps)
    return float(ps[ok].max()) if ok.any() else -1.0


def _peer_test(values: pd.Series, higher_is_better: bool, log: bool = False) -> pd.Series:
    """One-sided robust z-test of each rep against its peers: how far the value sits on the wrong
    side of the team's median, in units of 1.4826 × the median absolute deviation (ratios on a log
    scale). NaN (a rule, no test) with fewer than PEER_Z_MIN_REPS values or no spread."""
    from scipy import stats

    if log:
        values = np.log(values.where(values > 0))
    v = values.dropna()
    # Robust spread, floored at half the standard deviation: with most reps at one value (no lost
    # accounts, say) the MAD is near 0 and would make any difference "significant".
    spread = max(1.4826 * (v - v.median()).abs().median(), 0.5 * v.std()) if len(v) > 1 else 0.0
    if len(v) < PEER_Z_MIN_REPS or not spread > 0:
        return pd.Series(np.nan, index=values.index)
    z = (values - v.median()) / spread
    return pd.Series(stats.norm.sf(-z if higher_is_better else z), index=values.index)


def _quota_in_period(qm: pd.DataFrame, period: Period) -> pd.Series:
    """Σ quota of each row's months, weighted by the share of the month inside the period."""
    month_end = qm["month"] + pd.offsets.MonthEnd(0)
    lo = qm["month"].clip(lower=period.start_ts)
    hi = month_end.clip(upper=period.end_ts)
    share = ((hi - lo).dt.days + 1).clip(lower=0) / qm["month"].dt.days_in_month
    return qm["quota"] * share


def _period_sales(ds: Dataset, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    s = metrics.sales_table(ds)
    return s[(s["date"] >= start) & (s["date"] <= end)]


# ---------------------------------------------------------------------------------------------
# Signal values per cause. Each returns a frame indexed by rep_id with, per signal, the columns
# <signal>, <signal>__target, <signal>__threshold and optionally <signal>__p.

def _territory(ds: Dataset, kpis: pd.DataFrame, balance: pd.DataFrame, good: pd.Series,
               settings: Settings) -> pd.DataFrame:
    out = pd.DataFrame(index=kpis["rep_id"])
    if balance.empty or balance["potential"].isna().all():
        return out
    by_terr = balance.set_index("territory_id")
    terr = kpis["territory_id"].to_numpy()
    out["potential_index"] = by_terr["potential_index"].reindex(terr).to_numpy()
    out["potential_index__target"] = 100.0
    out["potential_index__threshold"] = settings.targets.potential_index_low
    known = balance[balance["quota"].notna() & balance["potential"].gt(0)]
    team_ratio = known["quota"].sum() / known["potential"].sum() if len(known) else np.nan
    out["quota_per_potential"] = by_terr["quota_per_potential"].reindex(terr).to_numpy()
    out["quota_per_potential__target"] = team_ratio
    out["quota_per_potential__threshold"] = team_ratio * (1 + settings.thresholds.quota_per_potential_excess)
    out["overlap"] = by_terr["overlap"].reindex(terr).to_numpy()
    out["overlap__target"] = out["overlap__threshold"] = settings.targets.overlap
    return out


def _training(ds: Dataset, kpis: pd.DataFrame, comp: pd.DataFrame, period: Period,
              settings: Settings) -> pd.DataFrame:
    out = pd.DataFrame(index=kpis["rep_id"])
    th = settings.thresholds
    if len(comp) and comp["latest_rating"].notna().any():
        rated = comp[comp["latest_rating"].notna()]
        g = rated.groupby("rep_id")
        out["competency_gap"] = g["gap"].min().reindex(out.index)
        out["competency_gap__target"] = settings.targets.competency_gap
        out["competency_gap__threshold"] = th.competency_gap_min
        below = rated[rated["gap"] < 0]
        out["competency_trend"] = below.groupby("rep_id")["trend_per_90d"].mean().reindex(out.index)
        out["competency_trend__target"] = settings.targets.competency_trend
        out["competency_trend__threshold"] = FALLING_PER_90D
        out["self_minus_manager"] = g["self_minus_manager"].mean().reindex(out.index)
        out["self_minus_manager__target"] = 0.0
        out["self_minus_manager__threshold"] = th.self_minus_manager_max
    if ds.has("training"):
        out["knowledge_quotient"] = kpis["knowledge_quotient"].to_numpy()
        out["knowledge_quotient__target"] = settings.targets.knowledge_quotient
        out["knowledge_quotient__threshold"] = th.knowledge_min
        out["knowledge_quotient__p"] = _score_test(ds, period, out.index, th.knowledge_min)
    return out


def _score_test(ds: Dataset, period: Period, reps: pd.Index, mu: float) -> np.ndarray:
    """One-sided t-test p-value that a rep's mean training score in the period is below `mu`."""
    from scipy import stats

    tr = ds.table("training")
    tr = tr[period.contains(tr["date"]) & tr["score"].notna()]
    g = tr.groupby("rep_id")["score"].agg(["mean", "std", "count"]).reindex(reps)
    se = g["std"] / np.sqrt(g["count"])
    t = (g["mean"] - mu) / se.where(se > 0)
    return stats.t.cdf(t, (g["count"] - 1).where(g["count"] > 1)).astype("float64")


def _incentive(ds: Dataset, kpis: pd.DataFrame, good: pd.Series, period: Period,
               settings: Settings) -> pd.DataFrame:
    """Product mix against the product goals (and, with pay data, whether the plan pays the mix
    more than the goals), quarter-end bunching and payout against the reps at goal."""
    out = pd.DataFrame(index=kpis["rep_id"])
    window = mix_window(period)
    sales = _period_sales(ds, window.start_ts, window.end_ts)
    mix = product_mix_vs_goals(ds, pd.Index(kpis["rep_id"]), sales, window)
    if mix is not None:
        rev, quota = mix
        gap = (0.5 * (rev.div(rev.sum(axis=1), axis=0) - quota.div(quota.sum(axis=1), axis=0)).abs()
               .sum(axis=1)).where((rev.sum(axis=1) > 0) & (quota.sum(axis=1) > 0)).reindex(out.index)
        bench = benchmark(gap, good, gap.median())
        out["mix_gap"] = gap
        out["mix_gap__target"] = bench
        out["mix_gap__threshold"] = bench + MIX_EXCESS
        rates = plan_rates(ds, period) if ds.has("incentives") else None
        if rates is not None:
            tilt = paid_mix_tilt(rev, quota, _bucket_rates(rates, rev.columns, sales)).reindex(out.index)
            out["paid_mix_tilt"] = tilt
            out["paid_mix_tilt__target"] = 0.0
            out["paid_mix_tilt__threshold"] = PAID_TILT_MIN
            # A mix off the goals is an incentive problem where the plan pays that mix more.
            out["mix_gap__gate"] = (tilt > PAID_TILT_MIN).to_numpy()
    if not ds.has("incentives"):
        return out
    out["quarter_end_share"] = _quarter_end_share(ds, period).reindex(out.index)
    out["quarter_end_share__target"] = QUARTER_END_DAYS / 91
    out["quarter_end_share__threshold"] = settings.thresholds.quarter_end_share_max
    payout = pd.Series(kpis["payout"].to_numpy(), index=out.index)
    bench_pay = benchmark(payout, good, payout.median())
    below = (kpis["attainment"] < 1.0).to_numpy()
    out["payout_vs_goal"] = payout
    out["payout_vs_goal__target"] = bench_pay
    # An inversion: paid at least like the reps at goal while below quota.
    out["payout_vs_goal__threshold"] = np.where(below, bench_pay, np.inf)
    return out


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
    total = metrics._total_quota_by_month(qm)
    total_quota = _quota_in_period(total, period).groupby(total["rep_id"]).sum().reindex(reps)
    qm = qm[qm["product"].notna()]
    pq = _quota_in_period(qm, period).groupby([qm["rep_id"], qm["product"]]).sum().unstack()
    products = list(pq.columns)
    pq = pq.reindex(reps)
    rev = (sales.groupby(["rep_id", "product"])["revenue"].sum().unstack()
           .reindex(index=reps).reindex(columns=products).fillna(0.0))
    total_rev = sales.groupby("rep_id")["revenue"].sum().reindex(reps).fillna(0.0)
    rev["other"] = (total_rev - rev.sum(axis=1)).clip(lower=0)
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


def _bucket_rates(rates: pd.Series, buckets: pd.Index, sales: pd.DataFrame) -> pd.Series:
    """Rates per column of the mix: a product's own rate; "other" pays the revenue-weighted rate
    of the products without a product quota."""
    out = rates.reindex(buckets)
    if "other" in buckets:
        rest = sales[~sales["product"].isin(buckets)].groupby("product")["revenue"].sum()
        r = rates.reindex(rest.index)
        ok = r.notna() & rest.gt(0)
        out["other"] = float((r[ok] * rest[ok]).sum() / rest[ok].sum()) if ok.any() else float(rates.median())
    return out.fillna(float(rates.median()))


def plan_rates(ds: Dataset, period: Period) -> pd.Series | None:
    """What the pay plan pays per $ of revenue, per product. From components named after products
    when there are such; otherwise inferred: payout per rep and quarter regressed (non-negative
    least squares) on revenue per product, over the last PAY_QUARTERS quarters up to the period
    end. None when it cannot be told."""
    inc = ds.table("incentives")
    end = period.end_ts
    start = (end - pd.offsets.QuarterBegin(PAY_QUARTERS, startingMonth=1)).normalize()
    sales = _period_sales(ds, start, end)
    products = sales["product"].dropna().unique()
    named = inc[inc["component"].isin(products)]
    if named["component"].nunique() >= 2:
        paid = named.groupby("component")["payout"].sum()
        revenue = sales.groupby("product")["revenue"].sum().reindex(paid.index)
        rate = paid / revenue.where(revenue > 0)
        return None if rate.isna().all() else rate.dropna()
    # The plan's rate line is its largest component (commission); bonuses and SPIFs paid on
    # other rules would only blur the rates, so they are left out when components are named.
    if inc["component"].notna().any():
        main = inc.groupby("component")["payout"].sum().idxmax()
        inc = inc[inc["component"] == main]
    pay = metrics._spread_by_month(inc, "payout")
    pay = pay[(pay["month"] >= start) & (pay["month"] <= end)]
    if pay.empty or len(products) < 2:
        return None
    quarter = lambda d: d.dt.to_period("Q").astype("str")
    y = pay.groupby([pay["rep_id"], quarter(pay["month"])])["payout"].sum()
    x = sales.groupby([sales["rep_id"], quarter(sales["date"]), sales["product"]])["revenue"].sum().unstack()
    x = x.reindex(y.index).fillna(0.0)
    if len(x) < 3 * x.shape[1]:
        return None
    from scipy.optimize import nnls

    scale = x.abs().max().where(lambda v: v > 0, 1.0)
    coef, _ = nnls((x / scale).to_numpy(), y.to_numpy(dtype="float64"))
    rates = pd.Series(coef / scale.to_numpy(), index=x.columns)
    return rates if rates.max() > 0 else None


def _lost_revenue(ds: Dataset, period: Period) -> pd.DataFrame:
    """Per rep: of the monthly run-rate of the accounts it sold to in the LOST_LOOKBACK_YEARS before
    the period, the share from accounts that bought nothing in the period (lost accounts). An
    account's run-rate is its revenue over the months from its first to its last purchase (at
    least 3), so an account lost long ago weighs what it bought while it was a customer."""
    s = metrics.sales_table(ds)
    s = s[s["account_id"].notna()]
    first = period.start_ts - pd.DateOffset(years=LOST_LOOKBACK_YEARS)
    window = s[(s["date"] >= first) & (s["date"] < period.start_ts)]
    g = window.groupby(["rep_id", "account_id"])
    span = ((g["date"].max() - g["date"].min()).dt.days / 30.44 + 1).clip(lower=3)
    months = window["date"].dt.to_period("M")
    active = months.groupby([window["rep_id"], window["account_id"]]).nunique()
    rate = g["revenue"].sum() / span
    # Only regular buyers (a purchase in at least half the months of their span) can be "lost" by
    # a quiet period; an account buying now and then is quiet in many periods without leaving.
    rate = rate[(rate > 0) & (active / span.round().clip(lower=1) >= REGULAR_BUYER)]
    now = s[period.contains(s["date"]) & (s["revenue"] > 0)]
    lost = ~rate.index.get_level_values("account_id").isin(now["account_id"].unique())
    total = rate.groupby(level="rep_id").sum()
    gone = rate[lost].groupby(level="rep_id").sum().reindex(total.index).fillna(0.0)
    return pd.DataFrame({"share": gone / total})


def _quarter_end_share(ds: Dataset, period: Period) -> pd.Series:
    """Share of each rep's revenue booked in the last 3 weeks of its quarter, over the last
    WINDOW_QUARTERS complete quarters up to the period end."""
    end = period.end_ts
    q_end = end if (end + pd.Timedelta(days=1)).is_quarter_start else end - pd.offsets.QuarterEnd(1)
    start = q_end - pd.offsets.QuarterEnd(WINDOW_QUARTERS) + pd.Timedelta(days=1)
    s = _period_sales(ds, start, q_end)
    days_left = (s["date"] + pd.offsets.QuarterEnd(0) - s["date"]).dt.days
    late = s["revenue"].where(days_left < QUARTER_END_DAYS, 0.0).groupby(s["rep_id"]).sum()
    total = s.groupby("rep_id")["revenue"].sum()
    return late / total.where(total > 0)


def _rates(ds: Dataset, kpis: pd.DataFrame, good: pd.Series, period: Period,
           settings: Settings) -> pd.DataFrame:
    """Follow-ups, activity, plan, pipeline and retention: straight from the KPIs."""
    from scipy import stats

    k = kpis.set_index("rep_id")
    out = pd.DataFrame(index=k.index)
    t, th = settings.targets, settings.thresholds
    if ds.has("follow_ups"):
        out["on_time_follow_up_rate"] = k["on_time_follow_up_rate"]
        out["on_time_follow_up_rate__target"] = t.on_time_follow_up_rate
        out["on_time_follow_up_rate__threshold"] = th.on_time_follow_up_min
        out["on_time_follow_up_rate__p"] = stats.binom.cdf(k["follow_ups_on_time"], k["follow_ups_due"],
                                                           th.on_time_follow_up_min)
        out["days_late"] = k["days_late"]
        out["days_late__target"] = t.days_late
        out["days_late__threshold"] = th.days_late_max
        overdue = k["overdue_open_follow_ups"]
        out["overdue_open_follow_ups"] = overdue
        out["overdue_open_follow_ups__target"] = t.overdue_open_follow_ups
        usual = benchmark(overdue, good, 0)
        out["overdue_open_follow_ups__threshold"] = max(OVERDUE_MIN, OVERDUE_TIMES * usual)
        # Poisson: this many overdue when the reps at goal have `usual` (at least half a one).
        out["overdue_open_follow_ups__p"] = stats.poisson.sf(overdue - 1, max(usual, 0.5))
    if ds.has("activities"):
        weeks = period.days / 7
        floor = th.meetings_shortfall * t.meetings_per_week
        out["meetings_per_week"] = k["meetings_per_week"]
        out["meetings_per_week__target"] = t.meetings_per_week
        out["meetings_per_week__threshold"] = floor
        out["meetings_per_week__p"] = stats.poisson.cdf(k["meetings"], floor * weeks)
        out["reach"] = k["reach"]
        out["reach__target"] = benchmark(k["reach"], good, k["reach"].median())
        out["reach__threshold"] = REACH_SHORT * out["reach__target"]
        out["call_plan_adherence"] = k["call_plan_adherence"]
        out["call_plan_adherence__target"] = t.call_plan_adherence
        out["call_plan_adherence__threshold"] = th.plan_adherence_min
        out["call_plan_adherence__p"] = stats.binom.cdf(k["planned"], k["planned_known"], th.plan_adherence_min)
        out["buyer_admin_share"] = k["share_buyer"] + k["share_admin"]
        out["buyer_admin_share__target"] = out["buyer_admin_share__threshold"] = th.buyer_admin_share_min
    if ds.has("opportunities"):
        out["pipeline_coverage"] = k["pipeline_coverage"]
        out["pipeline_coverage__target"] = t.pipeline_coverage
        out["pipeline_coverage__threshold"] = th.pipeline_coverage_min
        ptq = k["open_pipeline"] / k["quota"].where(k["quota"] > 0)
        out["pipeline_to_quota"] = ptq
        out["pipeline_to_quota__target"] = benchmark(ptq, good, ptq.median())
        out["pipeline_to_quota__threshold"] = PIPELINE_SHORT * out["pipeline_to_quota__target"]
        decided = k["won"] + k["lost"]
        team_win = k["won"].sum() / decided.sum() if decided.sum() > 0 else np.nan
        out["win_rate"] = k["win_rate"]
        out["win_rate__target"] = team_win
        out["win_rate__threshold"] = team_win - th.win_rate_gap
        out["win_rate__p"] = stats.binom.cdf(k["won"], decided, max(team_win - th.win_rate_gap, 0.0))
        cycle = k["sales_cycle_days"].median()
        out["sales_cycle_days"] = k["sales_cycle_days"]
        out["sales_cycle_days__target"] = cycle
        out["sales_cycle_days__threshold"] = CYCLE_EXCESS * cycle
    if ds.has("sales") and metrics.sales_table(ds)["account_id"].notna().any():
        lost = _lost_revenue(ds, period)["share"].reindex(k.index)
        out["lost_revenue_share"] = lost
        out["lost_revenue_share__target"] = lost.median()
        out["lost_revenue_share__threshold"] = lost.median() + th.churn_excess
        churn = k["churn_rate"]
        team_churn = churn.median()
        out["churn_rate"] = churn
        out["churn_rate__target"] = team_churn
        out["churn_rate__threshold"] = team_churn + th.churn_excess
    return out


def _tenure(kpis: pd.DataFrame, period: Period, settings: Settings) -> pd.DataFrame:
    out = pd.DataFrame(index=kpis["rep_id"])
    if kpis["hire_date"].notna().any():
        months = (period.end_ts - kpis["hire_date"]).dt.days / 30.44
        out["tenure_months"] = months.to_numpy()
        out["tenure_months__target"] = out["tenure_months__threshold"] = float(settings.thresholds.ramp_months)
    return out


# ---------------------------------------------------------------------------------------------
# Assembly

def _long(wide: pd.DataFrame, kpis: pd.DataFrame, good: pd.Series, settings: Settings) -> pd.DataFrame:
    """One row per rep × signal, with benchmark, flag and shortfall."""
    names = kpis.set_index("rep_id")["rep_name"]
    good_ids = pd.Series(good.to_numpy(), index=kpis["rep_id"].to_numpy())
    frames = []
    for key, sig in SIGNALS.items():
        if key not in wide:
            continue
        value = wide[key].astype("float64")
        target = wide[f"{key}__target"].astype("float64")
        threshold = pd.Series(wide[f"{key}__threshold"], index=wide.index, dtype="float64")
        p = wide.get(f"{key}__p", pd.Series(np.nan, index=wide.index)).astype("float64")
        if key in PEER_TESTED:
            p = _peer_test(value, sig.higher_is_better, log=sig.unit == "ratio")
        gate = wide.get(f"{key}__gate", pd.Series(True, index=wide.index)).astype("boolean").fillna(False)
        frames.append(pd.DataFrame({
            "rep_id": wide.index, "cause": sig.cause, "signal": key, "label": sig.label, "unit": sig.unit,
            "value": value.to_numpy(), "target": target.to_numpy(),
            "benchmark": benchmark(value, good_ids.reindex(wide.index).fillna(False), target.median()),
            "threshold": threshold.to_numpy(), "p_value": p.to_numpy(), "driver": sig.driver,
            "test": np.where(p.notna(), TESTS.get(key, "rule"), "rule"), "_gate": gate.to_numpy(bool)}))
    if not frames:
        text = {"rep_id", "rep_name", "cause", "signal", "label", "unit", "test"}
        return pd.DataFrame({c: pd.Series(dtype="str" if c in text else bool if c in ("flagged", "driver")
                                          else "float64") for c in SIGNAL_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    hib = out["signal"].map({k: s.higher_is_better for k, s in SIGNALS.items()}).astype(bool)
    beyond = np.where(hib, out["value"] < out["threshold"], out["value"] > out["threshold"])
    # Benjamini–Hochberg over every test run (all reps, all tested signals), not only the values
    # past their threshold; a signal without a test is a rule and says so in "test".
    cutoff = _bh_cutoff(out["p_value"], settings.thresholds.false_discovery_rate)
    tested = out["p_value"].notna()
    significant = ~tested | (out["p_value"] <= cutoff)
    # A rule (no test) also needs the value worse than the reps at goal: a fixed threshold the
    # reps at goal themselves miss says nothing about a rep.
    worse = np.where(hib, out["value"] < out["benchmark"], out["value"] > out["benchmark"])
    out["flagged"] = (pd.Series(beyond, index=out.index) & significant & out["value"].notna() & out["_gate"]
                      & (tested | worse))
    out.loc[out["signal"] == "tenure_months", "flagged"] = False   # ramping is read from the KPIs
    # A driver past its threshold whose own test does not survive the correction still counts when
    # another tested or driver signal of its cause is flagged for the rep: two readings agree.
    vouches = out["flagged"] & (tested | out["driver"])
    sibling = vouches.groupby([out["rep_id"], out["cause"]]).transform("sum") - vouches.astype(int) > 0
    corroborated = out["driver"] & pd.Series(beyond, index=out.index) & out["_gate"] & sibling
    out["flagged"] = out["flagged"] | corroborated
    # A rule alone names no cause: a driver flagged by a rule (no test) needs another signal of
    # its cause flagged for the rep.
    others = out.groupby(["rep_id", "cause"])["flagged"].transform("sum") - out["flagged"].astype(int)
    out.loc[out["driver"] & ~tested & (others == 0), "flagged"] = False
    scale = out["signal"].map({k: s.scale for k, s in SIGNALS.items()}).astype("float64")
    ref = out["benchmark"]
    gap = np.where(hib, ref - out["value"], out["value"] - ref)
    denom = scale.fillna(ref.abs().where(ref.abs() > 0))
    out["shortfall"] = np.where(out["driver"], np.clip(gap / denom, 0, None), np.nan)
    out["rep_name"] = out["rep_id"].map(names)
    return out[SIGNAL_COLUMNS]


def gather(ds: Dataset, period: Period, settings: Settings) -> Inputs:
    """Compute the KPIs, territory balance, competencies and the signal table for every rep."""
    kpis = metrics.rep_kpis(ds, period, settings)
    good = at_goal(kpis)
    has_territories = ds.has("accounts") or ds.has("territories")
    balance = territory_balance(ds, period, settings) if has_territories else pd.DataFrame()
    comp = (competency_table(ds, settings, period.end) if ds.has("assessments")
            else pd.DataFrame())
    wide = pd.concat([
        _territory(ds, kpis, balance, good, settings),
        _training(ds, kpis, comp, period, settings),
        _incentive(ds, kpis, good, period, settings),
        _rates(ds, kpis, good, period, settings),
        _tenure(kpis, period, settings),
    ], axis=1)
    return Inputs(kpis=kpis, balance=balance, competency=comp, table=_long(wide, kpis, good, settings))


def signals(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """The rep-level signal table (SIGNAL_COLUMNS) for the reps in scope; benchmarks and tests are
    always taken over the whole team."""
    table = gather(ds, period, settings).table
    keep = scope.rep_ids(metrics.roster(ds))
    return table[table["rep_id"].isin(keep)].reset_index(drop=True)

