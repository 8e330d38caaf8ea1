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
scale (relative to the benchmark, or per `scale` units); the money model in core.impact turns
shortfalls into attainment.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import metrics
from core.competency import competency_table
from core.dataset import Dataset, Scope
from core.periods import Period
from core.settings import Settings
from core.territory import territory_balance

MIN_AT_GOAL = 3                      # reps at goal needed before their median is the benchmark
FALLING_PER_90D = -0.10              # weakest competencies losing this much a quarter = falling
QUARTER_END_DAYS = 21                # "the last 3 weeks of a quarter"
WINDOW_QUARTERS = 4                  # quarters read for revenue bunching
FOCUS_SHORT = 0.50                   # product-quota vs overall attainment below 50 % of the reps at goal
MIX_EXCESS = 0.10                    # share of the best-paying product this far above the benchmark
REACH_SHORT = 0.80                   # reach below 80 % of the reps at goal
PIPELINE_SHORT = 0.50                # open pipeline / quota below half the reps at goal
CYCLE_EXCESS = 2.0                   # sales cycle twice as long as than the team's median
OVERDUE_MIN = 5                      # overdue open follow-ups: at least this many ...
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
    Signal("focus_vs_overall", "incentive_misalignment",
           "Product-quota attainment / overall attainment", "ratio", True, True),
    Signal("top_pay_share", "incentive_misalignment", "Revenue share of the best-paying product", "pct",
           False),
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
    Signal("win_rate", "pipeline", "Win rate", "pct", True),
    Signal("sales_cycle_days", "pipeline", "Sales cycle (median days)", "days", False),
    Signal("churn_rate", "customer_retention", "Account churn", "pct", False, True, 1.0),
    Signal("tenure_months", "ramping", "Tenure (months)", "count", True),
)}

SIGNAL_COLUMNS = ["rep_id", "rep_name", "cause", "signal", "label", "unit", "value", "target",
                  "benchmark", "threshold", "p_value", "flagged", "driver", "shortfall"]


@dataclass(frozen=True)
class Inputs:
    """Everything the diagnostic reads for one period, computed once for the whole team."""

    kpis: pd.DataFrame           # core.metrics.rep_kpis, every rep of the roster
    balance: pd.DataFrame        # core.territory.territory_balance (empty without territories)
    competency: pd.DataFrame     # core.competency.competency_table as of the period end
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
    out = pd.DataFrame(index=kpis["rep_id"])
    if not ds.has("incentives"):
        return out
    sales = _period_sales(ds, period.start_ts, period.end_ts)
    qm = metrics.quota_by_month(ds)
    qm = qm[qm["product"].notna() & (qm["month"] <= period.end_ts)
            & (qm["month"] + pd.offsets.MonthEnd(0) >= period.start_ts)]
    if len(qm):
        quota = _quota_in_period(qm, period).groupby(qm["rep_id"]).sum()
        focus = sales[sales["product"].isin(qm["product"].unique())]
        revenue = focus.groupby("rep_id")["revenue"].sum().reindex(quota.index).fillna(0.0)
        focus_att = (revenue / quota.where(quota > 0)).reindex(out.index)
        # Relative to the rep's overall attainment: a rep below goal everywhere is not misaligned.
        overall = pd.Series(kpis["attainment"].to_numpy(), index=out.index)
        ratio = focus_att / overall.where(overall > 0)
        out["focus_vs_overall"] = ratio
        out["focus_vs_overall__target"] = 1.0
        out["focus_vs_overall__threshold"] = FOCUS_SHORT * benchmark(ratio, good, 1.0)
    top = _best_paying_product(ds, sales)
    if top is not None and len(sales):
        total = sales.groupby("rep_id")["revenue"].sum()
        share = (sales[sales["product"] == top].groupby("rep_id")["revenue"].sum()
                 .reindex(total.index).fillna(0.0) / total.where(total > 0)).reindex(out.index)
        bench = benchmark(share, good, share.median())
        out["top_pay_share"] = share
        out["top_pay_share__target"] = bench
        out["top_pay_share__threshold"] = bench + MIX_EXCESS
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


def _best_paying_product(ds: Dataset, sales: pd.DataFrame) -> str | None:
    """The product whose commission pays most per $ of revenue (incentive components named after
    products); None when no component names a product."""
    inc = ds.table("incentives")
    paid = inc[inc["component"].isin(sales["product"].unique())].groupby("component")["payout"].sum()
    if paid.empty:
        return None
    revenue = sales.groupby("product")["revenue"].sum().reindex(paid.index)
    rate = paid / revenue.where(revenue > 0)
    return None if rate.isna().all() else str(rate.idxmax())


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
        out["overdue_open_follow_ups__threshold"] = max(OVERDUE_MIN, OVERDUE_TIMES * benchmark(overdue, good, 0))
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
        frames.append(pd.DataFrame({
            "rep_id": wide.index, "cause": sig.cause, "signal": key, "label": sig.label, "unit": sig.unit,
            "value": value.to_numpy(), "target": target.to_numpy(),
            "benchmark": benchmark(value, good_ids.reindex(wide.index).fillna(False), target.median()),
            "threshold": threshold.to_numpy(), "p_value": p.to_numpy(), "driver": sig.driver}))
    if not frames:
        text = {"rep_id", "rep_name", "cause", "signal", "label", "unit"}
        return pd.DataFrame({c: pd.Series(dtype="str" if c in text else bool if c in ("flagged", "driver")
                                          else "float64") for c in SIGNAL_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    hib = out["signal"].map({k: s.higher_is_better for k, s in SIGNALS.items()}).astype(bool)
    beyond = np.where(hib, out["value"] < out["threshold"], out["value"] > out["threshold"])
    cutoff = _bh_cutoff(out.loc[beyond, "p_value"], settings.thresholds.false_discovery_rate)
    significant = out["p_value"].isna() | (out["p_value"] <= cutoff)
    out["flagged"] = pd.Series(beyond, index=out.index) & significant & out["value"].notna()
    out.loc[out["signal"] == "tenure_months", "flagged"] = False   # ramping is read from the KPIs
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

