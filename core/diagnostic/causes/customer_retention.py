"""Customer retention: are existing customers being lost?

Read from sales with accounts: the share of the rep's business from accounts that have stopped
buying (quiet for longer than their own buying rhythm explains, looked at over the two years before
the period and the period) and account churn, both against the team.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dataset import Dataset, Task
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
    return ds.memo(*lost_share_task(ds, period)).copy()


def lost_share_task(ds: Dataset, period: Period) -> Task:
    """lost_revenue_share's memo key and computation, once per Dataset and period (the command line
    computes it beside the rest)."""
    return ("diagnostic.lost_revenue_share", period.start, period.end), lambda: _lost_revenue_share(ds, period)


def _lost_revenue_share(ds: Dataset, period: Period) -> pd.Series:
    rows = _bought(ds)
    first = period.start_ts - pd.DateOffset(years=LOST_LOOKBACK_YEARS)
    lo, hi = _ns(first), _ns(period.end_ts)
    window = (rows.day >= lo) & (rows.day <= hi)
    if not window.any():
        return pd.Series(dtype="float64")
    m0 = int(rows.month[window].min())
    n_months = period.end_ts.year * 12 + period.end_ts.month - m0 + 1
    acc, pairs = _accounts(rows, window, (lo, hi), m0)
    if acc.empty:
        return pd.Series(dtype="float64")
    span = (acc["last"] - acc["start"] + 1).clip(lower=MIN_SPAN_MONTHS)
    quiet = n_months - 1 - acc["last"]
    rhythm = (acc["bought"] / span).clip(upper=0.97)          # never certain to buy every month
    stay_quiet = (1 - rhythm) ** quiet                      # chance of this quiet run while still a customer
    left = (PRIOR_LEFT / (PRIOR_LEFT + (1 - PRIOR_LEFT) * stay_quiet)).where(quiet >= MIN_QUIET_MONTHS, 0.0)
    weight = acc["revenue"] / _rep_revenue_over(rows, window, m0, pairs, acc["start"], span, n_months)
    total = weight.groupby(level="rep_id").sum()
    gone = (weight * left).groupby(level="rep_id").sum().reindex(total.index).fillna(0.0)
    return gone / total


@dataclass(frozen=True)
class _Bought:
    """The sales lines with an account and revenue > 0, once per Dataset, in the sales table's
    order: day (int64 ns), month (year × 12 + month), revenue, each line's (rep, account) pair (a
    position in `pairs`, ordered as a groupby on the two columns orders them; -1 without a rep)
    and rep (its rep's position among the pairs' reps, -1 without one), the rep's position of each
    pair (`pair_rep`); and the day, pair and month of the lines with a rep sorted by pair then
    month (`by_pair`)."""

    day: np.ndarray
    month: np.ndarray
    revenue: np.ndarray
    pair: np.ndarray
    rep: np.ndarray
    pairs: pd.MultiIndex
    pair_rep: np.ndarray
    by_pair: tuple[np.ndarray, np.ndarray, np.ndarray]


def _ns(ts: pd.Timestamp) -> np.int64:
    return np.datetime64(ts, "ns").view(np.int64)


def _bought(ds: Dataset) -> _Bought:
    """The _Bought lines of the Dataset's sales (computed once per Dataset: a period then only
    selects the lines of its window)."""
    def build() -> _Bought:
        s = metrics.sales_table(ds)
        w = s.loc[s["account_id"].notna() & (s["revenue"] > 0), ["date", "rep_id", "account_id", "revenue"]]
        grouped = w.groupby(["rep_id", "account_id"])
        pairs = grouped.size().index
        pair = grouped.ngroup().fillna(-1).to_numpy(dtype=np.int32)        # -1: a line without a rep
        reps = pairs.get_level_values("rep_id")
        pair_rep = pd.Index(reps.unique()).get_indexer(reps).astype(np.int32)
        month = (w["date"].dt.year * 12 + w["date"].dt.month).to_numpy(dtype=np.int32)
        day = w["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        order = np.lexsort((month, pair))
        order = order[pair[order] >= 0]                             # a line without a rep is no rep's account
        rep = np.append(pair_rep, np.int32(-1))[pair]
        return _Bought(day, month, w["revenue"].to_numpy(dtype="float64"), pair, rep, pairs, pair_rep,
                       (day[order], pair[order], month[order]))

    return ds.memo(("dataset.retention_lines",), build)


def _accounts(rows: _Bought, window: np.ndarray, bounds: tuple[np.int64, np.int64],
              m0: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Per (rep, account) pair with lines in the window (its lines `window`, its first and last
    day `bounds`): start, last (first and last month bought, counted from month m0), bought
    (months with a purchase) and revenue; and the pairs' positions."""
    day, pair, month = rows.by_pair
    inside = (day >= bounds[0]) & (day <= bounds[1])
    pair, month = pair[inside], month[inside]
    if not len(pair):
        return pd.DataFrame(), pair
    first = np.r_[True, pair[1:] != pair[:-1]]
    last = np.r_[first[1:], True]
    new_month = first | np.r_[True, month[1:] != month[:-1]]
    lines = window & (rows.pair >= 0)
    revenue = pd.Series(rows.revenue[lines]).groupby(_codes(rows.pair[lines], len(rows.pairs)), observed=True).sum()
    return pd.DataFrame({"start": month[first].astype(np.int64) - m0, "last": month[last].astype(np.int64) - m0,
                         "bought": np.add.reduceat(new_month.astype(np.int64), np.flatnonzero(first)),
                         "revenue": revenue.to_numpy()}, index=rows.pairs[pair[first]]), pair[first]


def _codes(codes: np.ndarray, n: int) -> pd.Categorical:
    """Codes 0 … n − 1 as a categorical key (a groupby on it needs no hashing); a groupby sums
    each group's values in row order, as a groupby on the columns they stand for does."""
    return pd.Categorical.from_codes(codes, categories=pd.RangeIndex(n))


def _rep_revenue_over(rows: _Bought, window: np.ndarray, m0: int, pairs: np.ndarray, start: pd.Series,
                      span: pd.Series, n_months: int) -> np.ndarray:
    """Per (rep, account) pair of `pairs`: the rep's revenue over months start .. start + span − 1
    (counted from month m0, cut at n_months) in the window."""
    lines = window & (rows.rep >= 0)
    n_reps = int(rows.pair_rep.max()) + 1
    cell = rows.rep[lines].astype(np.int64) * n_months + (rows.month[lines] - m0)
    sums = pd.Series(rows.revenue[lines]).groupby(_codes(cell, n_reps * n_months), observed=True).sum()
    cells = np.zeros(n_reps * n_months)
    cells[sums.index.to_numpy(dtype=np.int64)] = sums.to_numpy()
    by_month = cells.reshape(n_reps, n_months)
    cum = np.concatenate([np.zeros((n_reps, 1)), by_month.cumsum(axis=1)], axis=1)
    row = rows.pair_rep[pairs]
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
