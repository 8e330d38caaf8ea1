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
    cells = _window(ds, rows, period.start_ts - pd.DateOffset(years=LOST_LOOKBACK_YEARS), period.end_ts)
    if cells is None:
        return pd.Series(dtype="float64")
    acc, pairs = _accounts(rows, cells)
    if acc.empty:
        return pd.Series(dtype="float64")
    n_months = period.end_ts.year * 12 + period.end_ts.month - cells.m0 + 1
    span = (acc["last"] - acc["start"] + 1).clip(lower=MIN_SPAN_MONTHS)
    quiet = n_months - 1 - acc["last"]
    rhythm = (acc["bought"] / span).clip(upper=0.97)          # never certain to buy every month
    stay_quiet = (1 - rhythm) ** quiet                      # chance of this quiet run while still a customer
    left = (PRIOR_LEFT / (PRIOR_LEFT + (1 - PRIOR_LEFT) * stay_quiet)).where(quiet >= MIN_QUIET_MONTHS, 0.0)
    weight = acc["revenue"] / _rep_revenue_over(rows, cells, pairs, acc["start"], span, n_months)
    total = weight.groupby(level="rep_id").sum()
    gone = (weight * left).groupby(level="rep_id").sum().reindex(total.index).fillna(0.0)
    return gone / total


@dataclass(frozen=True)
class _Cells:
    """Sales lines with a rep (of _Bought) summed per (rep, account) pair × month, sorted by pair
    then month (`pair`, `month`, `revenue`), and per rep × month (`rep_month`: a row per rep of
    _Bought.pair_rep, a column per month from `m0`). `m0` is the first month with a line, with a
    rep or without. Each sum adds its lines in row order."""

    pair: np.ndarray
    month: np.ndarray
    revenue: np.ndarray
    rep_month: np.ndarray
    m0: int


@dataclass(frozen=True)
class _Bought:
    """The sales lines with an account and revenue > 0, once per Dataset, in the sales table's
    order: day (int64 ns), month (year × 12 + month), revenue, each line's (rep, account) pair (a
    position in `pairs`, ordered as a groupby on the two columns orders them; -1 without a rep),
    the rep's position of each pair (`pair_rep`) and the months with a line (`months`, sorted)."""

    day: np.ndarray
    month: np.ndarray
    revenue: np.ndarray
    pair: np.ndarray
    pairs: pd.MultiIndex
    pair_rep: np.ndarray
    months: np.ndarray


def _ns(ts: pd.Timestamp) -> np.int64:
    return np.datetime64(ts, "ns").view(np.int64)


def _bought(ds: Dataset) -> _Bought:
    """The _Bought lines of the Dataset's sales (computed once per Dataset: a period then only
    selects the months of its window)."""
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
        return _Bought(day, month, w["revenue"].to_numpy(dtype="float64"), pair, pairs, pair_rep, _present(month))

    return ds.memo(("dataset.retention_lines",), build)


def _present(month: np.ndarray) -> np.ndarray:
    """The distinct months, in order (a count per month: no sort of every line)."""
    if not len(month):
        return month
    first = int(month.min())
    return (np.flatnonzero(np.bincount(month - first)) + first).astype(month.dtype)


def _cells(rows: _Bought, lines: slice | np.ndarray) -> _Cells | None:
    """The _Cells of the lines `lines` (None: there are none)."""
    month = rows.month[lines]
    if not len(month):
        return None
    m0 = int(month.min())
    n_months = int(month.max()) - m0 + 1
    pair = rows.pair[lines]
    with_rep = pair >= 0
    pair, month, revenue = pair[with_rep].astype(np.int64), month[with_rep] - m0, rows.revenue[lines][with_rep]
    key = pair * n_months + month
    order = np.argsort(key, kind="stable")                      # a cell's lines stay in row order
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.arange(0)
    n_reps = int(rows.pair_rep.max(initial=-1)) + 1
    rep_month = np.bincount(rows.pair_rep[pair] * n_months + month, weights=revenue, minlength=n_reps * n_months)
    return _Cells((key[starts] // n_months).astype(np.int32), (key[starts] % n_months + m0).astype(np.int32),
                  np.add.reduceat(revenue[order], starts) if len(starts) else np.zeros(0),
                  rep_month.reshape(n_reps, n_months), m0)


def _window(ds: Dataset, rows: _Bought, first: pd.Timestamp, last: pd.Timestamp) -> _Cells | None:
    """The _Cells of the lines dated first … last (None: none): summed from the window's lines the
    first time; from the second window of whole months on, a slice of every line's cells (built
    once, ~0.2 s at 1,000 reps: worth it for a user going through periods, not for the one
    period of a report)."""
    whole_months = first.day == 1 and (last + pd.Timedelta(days=1)).day == 1
    asked: list[None] = ds.memo(("dataset.retention_windows",), list)         # whole-month windows asked so far
    if whole_months:
        asked.append(None)
    if not whole_months or len(asked) < 2:
        inside = (rows.day >= _ns(first)) & (rows.day <= _ns(last))
        return _cells(rows, inside) if inside.any() else None
    every = ds.memo(("dataset.retention_cells",), lambda: _cells(rows, slice(None)))
    lo, hi = first.year * 12 + first.month, last.year * 12 + last.month
    sold = rows.months[(rows.months >= lo) & (rows.months <= hi)]
    if every is None or not len(sold):
        return None
    m0 = int(sold[0])
    inside = (every.month >= lo) & (every.month <= hi)
    return _Cells(every.pair[inside], every.month[inside], every.revenue[inside],
                  every.rep_month[:, m0 - every.m0:hi - every.m0 + 1], m0)


def _accounts(rows: _Bought, cells: _Cells) -> tuple[pd.DataFrame, np.ndarray]:
    """Per (rep, account) pair with lines in the window (its `cells`): start, last (first and last
    month bought, counted from the window's first month m0), bought (months with a purchase) and
    revenue; and the pairs' positions."""
    pair, month = cells.pair, cells.month
    if not len(pair):
        return pd.DataFrame(), pair
    first = np.r_[True, pair[1:] != pair[:-1]]
    last = np.r_[first[1:], True]
    starts = np.flatnonzero(first)
    return pd.DataFrame({"start": month[first].astype(np.int64) - cells.m0,
                         "last": month[last].astype(np.int64) - cells.m0,
                         "bought": np.diff(np.r_[starts, len(pair)]),          # a cell is one month
                         "revenue": np.add.reduceat(cells.revenue, starts)}, index=rows.pairs[pair[first]]), pair[first]


def _rep_revenue_over(rows: _Bought, cells: _Cells, pairs: np.ndarray, start: pd.Series, span: pd.Series,
                      n_months: int) -> np.ndarray:
    """Per (rep, account) pair of `pairs`: the rep's revenue over months start .. start + span − 1
    (counted from the window's first month, cut at n_months)."""
    by_month = cells.rep_month[:, :n_months]
    cum = np.concatenate([np.zeros((len(by_month), 1)), by_month.cumsum(axis=1)], axis=1)
    row = rows.pair_rep[pairs]
    lo = start.to_numpy(dtype=int)
    hi = np.minimum(lo + span.to_numpy(dtype=int), cum.shape[1] - 1)     # no sale after the last column
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
