"""Customer retention: are existing customers being lost?

Read from sales with accounts: the share of the rep's business from accounts that have stopped
buying (quiet for longer than their own buying rhythm explains, looked at over the two years before
the period and the period) and account churn, both against the team.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading
from core.fmt import fmt_pct
from core.kpis import metrics
from core.periods import Period
from core.settings import Targets

KEY = "customer_retention"
LOST_LOOKBACK_YEARS = 2              # accounts that bought this far back before the period are looked at
PRIOR_LEFT = 0.02                    # before its quiet run is seen, the chance an account has left
MIN_QUIET_MONTHS = 3                 # at least a quarter without a purchase before an account counts as lost
MIN_SPAN_MONTHS = 3                  # an account's buying rhythm is read over at least this many months


def read(ctx: Context) -> list[Reading]:
    ds = ctx.ds
    if not (ds.has("sales") and metrics.sales_table(ds)["account_id"].notna().any()):
        return []
    excess = ctx.settings.thresholds.churn_excess
    lost = lost_revenue_share(ds, ctx.period).reindex(ctx.rep_ids)
    churn = ctx.kpis.set_index("rep_id")["churn_rate"]
    team_churn = churn.median()
    return [
        Reading("lost_revenue_share", lost, lost.median(), lost.median() + excess),
        Reading("churn_rate", churn, team_churn, team_churn + excess),
    ]


def lost_revenue_share(ds: Dataset, period: Period) -> pd.Series:
    """Per rep: the share of its business that came from accounts which have stopped buying.

    Looked at: every account the rep sold to from LOST_LOOKBACK_YEARS before the period to its end.
    An account quiet for q months up to the period end (at least MIN_QUIET_MONTHS), with a purchase
    in a share f of the months from its first to its last purchase, would be that quiet while still
    a customer with chance (1 − f)^q; against a prior PRIOR_LEFT that an account leaves, the chance
    it has left is PRIOR_LEFT / (PRIOR_LEFT + (1 − PRIOR_LEFT)(1 − f)^q). So a regular buyer gone
    for a year counts in full, a loss that started a quarter ago mostly, and a now-and-then buyer
    quiet for a quarter hardly at all.
    An account weighs its share of the rep's revenue over the months it bought (its revenue over the
    rep's revenue in those months): an account lost while the rep was ramping or the market was
    smaller weighs what it was to the rep then, not its small amounts in money. The value is the
    accounts' weights times their chance of having left, over the sum of the weights."""
    s = metrics.sales_table(ds)
    first = period.start_ts - pd.DateOffset(years=LOST_LOOKBACK_YEARS)
    keep = s["account_id"].notna() & (s["revenue"] > 0) & (s["date"] >= first) & (s["date"] <= period.end_ts)
    w = s.loc[keep, ["date", "rep_id", "account_id", "revenue"]]      # one copy, of the columns read
    if w.empty:
        return pd.Series(dtype="float64")
    months = w["date"].dt.year * 12 + w["date"].dt.month
    m0 = int(months.min())
    n_months = period.end_ts.year * 12 + period.end_ts.month - m0 + 1
    w = w.assign(k=(months - m0).astype(int))
    acc = w.groupby(["rep_id", "account_id"]).agg(start=("k", "min"), last=("k", "max"), bought=("k", "nunique"),
                                                   revenue=("revenue", "sum"))
    span = (acc["last"] - acc["start"] + 1).clip(lower=MIN_SPAN_MONTHS)
    quiet = n_months - 1 - acc["last"]
    rhythm = (acc["bought"] / span).clip(upper=0.97)          # never certain to buy every month
    stay_quiet = (1 - rhythm) ** quiet                      # chance of this quiet run while still a customer
    left = (PRIOR_LEFT / (PRIOR_LEFT + (1 - PRIOR_LEFT) * stay_quiet)).where(quiet >= MIN_QUIET_MONTHS, 0.0)
    weight = acc["revenue"] / _rep_revenue_over(w, acc["start"], span, n_months)
    total = weight.groupby(level="rep_id").sum()
    gone = (weight * left).groupby(level="rep_id").sum().reindex(total.index).fillna(0.0)
    return gone / total


def _rep_revenue_over(w: pd.DataFrame, start: pd.Series, span: pd.Series, n_months: int) -> np.ndarray:
    """Per (rep, account) of `start`'s index: the rep's revenue over months start .. start + span − 1
    (month numbers `k` of `w`, cut at n_months)."""
    by_month = (w.groupby(["rep_id", "k"])["revenue"].sum().unstack(fill_value=0.0)
                .reindex(columns=range(n_months), fill_value=0.0))
    cum = np.concatenate([np.zeros((len(by_month), 1)), by_month.to_numpy().cumsum(axis=1)], axis=1)
    row = by_month.index.get_indexer(start.index.get_level_values("rep_id"))
    lo = start.to_numpy(dtype=int)
    hi = np.minimum(lo + span.to_numpy(dtype=int), n_months)
    return np.asarray(cum[row, hi] - cum[row, lo], dtype="float64")


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    team = inp.table.loc[inp.table["signal"] == "churn_rate", "target"]
    team_churn = team.iloc[0] if len(team) else float("nan")
    return [f"account reviews and win-back calls to lapsed customers: churn {fmt_pct(c)} vs team "
            f"{fmt_pct(team_churn)}" for c in v["churn_rate"]]


CAUSE = Cause(
    KEY, "Customer retention", "Are existing customers being lost?", ("sales",),
    measures=(
        Measure("lost_revenue_share", "Revenue of accounts that stopped buying", "pct", False, True, 1.0,
                test="peer z-test"),
        Measure("churn_rate", "Account churn", "pct", False, test="peer z-test"),
    ),
    read=read, actions=actions)
