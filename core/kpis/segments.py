"""The customer KPIs by account segment or account type (issue 15, "breakdowns by account segment
and account type").

Each sale is put in the segment (or type) of its account, from the accounts table; sales whose
account is unknown, or whose account has no segment, go to a "Not given" row, so the rows add up
to the team's revenue. Only the sales of the reps in scope count, and only the accounts aligned to
their territories (every account for the whole team) make up a row's accounts and potential.

Every ratio is recomputed from the row's sums (kpis.md): market share = Σ revenue over the
trailing 12 months / Σ annual potential of the row's accounts; retention = accounts active in the
previous period and again in this one / accounts active in the previous period. An input that is
missing gives n/a (NaN), never 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis import metrics
from core.kpis.grouping import ratio
from core.periods import Period

BREAKDOWNS = {"segment": "Segment", "account_type": "Account type"}
NOT_GIVEN = "Not given"
SEGMENT_COLUMNS = ["accounts", "potential", "revenue", "revenue_share", "revenue_prior_year", "growth",
                   "market_share", "active_accounts", "new_accounts", "retention_rate", "churn_rate", "reach"]


def missing_inputs(ds: Dataset, by: str) -> list[str]:
    """The tables the breakdown `by` needs that the dataset lacks (opportunities stand in for sales)."""
    missing = [] if metrics.has_sales(ds) else ["sales"]
    return missing + ds.missing("accounts")


def is_given(ds: Dataset, by: str) -> bool:
    """True when at least one account carries a value in column `by`."""
    _check(by)
    accounts = ds.table("accounts")
    return by in accounts.columns and bool(accounts[by].notna().any())


def segment_kpis(ds: Dataset, period: Period, by: str = "segment", scope: Scope = Scope()) -> pd.DataFrame:
    """One row per value of accounts.`by` (segment or account_type), the "Not given" row last:
    the key column `by`, then SEGMENT_COLUMNS. Rows by revenue, highest first."""
    _check(by)
    return ds.memo(("segments.kpis", by, period.start, period.end, scope),
                   lambda: _compute(ds, period, by, scope)).copy()


def _check(by: str) -> None:
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {sorted(BREAKDOWNS)}, not {by!r}")


def _compute(ds: Dataset, period: Period, by: str, scope: Scope) -> pd.DataFrame:
    roster = metrics.roster(ds, scope)
    accounts = _scope_accounts(ds, by, roster, scope)
    table = ds.table("accounts").drop_duplicates("account_id")
    key_of = table.set_index("account_id")[by] if by in table.columns else pd.Series(dtype="object")
    sales = metrics.sales_table(ds)
    sales = sales[sales["rep_id"].isin(roster["rep_id"])]
    sales = sales.assign(key=_keys(sales["account_id"], key_of), revenue=sales["revenue"].fillna(0.0))
    keys = _ordered_keys(accounts, sales, period)
    out = pd.DataFrame({by: keys})
    out["accounts"] = accounts.groupby("key").size().reindex(keys, fill_value=0).to_numpy(dtype="float64")
    out["potential"] = accounts.groupby("key")["potential"].sum(min_count=1).reindex(keys).to_numpy()
    out = out.assign(**_revenue(sales, period, keys, has_sales=metrics.has_sales(ds)))
    out["market_share"] = ratio(out["_revenue_12m"], out["potential"])
    out = out.assign(**_account_counts(sales, period, keys))
    out["reach"] = _reach(ds, period, roster, accounts, keys)
    return out[[by, *SEGMENT_COLUMNS]]


def _scope_accounts(ds: Dataset, by: str, roster: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """account_id, key, potential of the accounts in scope: all of them for the whole team, else
    those aligned to a territory of a rep in scope."""
    accounts = ds.table("accounts").drop_duplicates("account_id")
    if scope != Scope():
        accounts = accounts[accounts["territory_id"].isin(roster["territory_id"])]
    key = accounts[by] if by in accounts.columns else pd.Series(np.nan, index=accounts.index)
    return pd.DataFrame({"account_id": accounts["account_id"], "key": _label(key),
                         "potential": accounts["potential"].astype("float64")})


def _label(values: pd.Series) -> pd.Series:
    """The segment as shown: blank or missing values become NOT_GIVEN."""
    text = values.astype("str").str.strip()
    return text.mask(values.isna() | (text == ""), NOT_GIVEN)


def _keys(account_ids: pd.Series, key_of: pd.Series) -> pd.Series:
    """The segment of each sale's account (NOT_GIVEN for an unknown account or a blank segment)."""
    return _label(account_ids.map(key_of))


def _ordered_keys(accounts: pd.DataFrame, sales: pd.DataFrame, period: Period) -> list[str]:
    """Every key with accounts in scope or sales in the period, by revenue (highest first), then
    name; NOT_GIVEN last."""
    revenue = sales[period.contains(sales["date"])].groupby("key")["revenue"].sum()
    keys = sorted(set(accounts["key"]) | set(revenue.index), key=lambda k: (k == NOT_GIVEN,
                                                                              -revenue.get(k, 0.0), k))
    return keys


def _sum_in(sales: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, keys: list[str]) -> np.ndarray:
    inside = sales[(sales["date"] >= start) & (sales["date"] <= end)]
    total: np.ndarray = inside.groupby("key")["revenue"].sum().reindex(keys, fill_value=0.0).to_numpy(dtype="float64")
    return total


def _revenue(sales: pd.DataFrame, period: Period, keys: list[str], has_sales: bool) -> dict[str, np.ndarray]:
    """Revenue of the period, of its share, a year earlier, growth, and over the trailing 12 months."""
    if not has_sales:
        nan = np.full(len(keys), np.nan)
        return dict.fromkeys(("revenue", "revenue_share", "revenue_prior_year", "growth", "_revenue_12m"), nan)
    yoy = period.year_earlier()
    revenue = _sum_in(sales, period.start_ts, period.end_ts, keys)
    prior = _sum_in(sales, yoy.start_ts, yoy.end_ts, keys)
    t12 = period.end_ts - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    total = np.full(len(keys), revenue.sum())
    return {"revenue": revenue, "revenue_share": ratio(revenue, total), "revenue_prior_year": prior,
            "growth": ratio(revenue, prior) - 1, "_revenue_12m": _sum_in(sales, t12, period.end_ts, keys)}


def _active(sales: pd.DataFrame, period: Period) -> pd.Series:
    """key per account active in `period` (Σ revenue of the reps in scope > 0), indexed by account."""
    inside = sales[period.contains(sales["date"]) & sales["account_id"].notna()]
    per_account = inside.groupby("account_id").agg(revenue=("revenue", "sum"), key=("key", "first"))
    return per_account.loc[per_account["revenue"] > 0, "key"]


def _account_counts(sales: pd.DataFrame, period: Period, keys: list[str]) -> dict[str, np.ndarray]:
    """Active, new and retained accounts per key; n/a when no sale names an account."""
    names = ("active_accounts", "new_accounts", "retention_rate", "churn_rate")
    prev = period.previous()
    window = sales[(sales["date"] >= prev.start_ts) & (sales["date"] <= period.end_ts)]
    if not window["account_id"].notna().any():
        return dict.fromkeys(names, np.full(len(keys), np.nan))
    now, before = _active(sales, period), _active(sales, prev)
    bought = sales[(sales["revenue"] > 0) & sales["account_id"].notna()]
    first = bought.groupby("account_id")["date"].min()
    new = now[first.reindex(now.index) >= period.start_ts]
    retained = before[before.index.isin(now.index)]

    def count(series: pd.Series) -> np.ndarray:
        counted: np.ndarray = series.value_counts().reindex(keys, fill_value=0).to_numpy(dtype="float64")
        return counted

    retention = ratio(count(retained), count(before))
    return {"active_accounts": count(now), "new_accounts": count(new), "retention_rate": retention,
            "churn_rate": 1 - retention}


def _reach(ds: Dataset, period: Period, roster: pd.DataFrame, accounts: pd.DataFrame,
           keys: list[str]) -> np.ndarray:
    """Accounts in scope with ≥ 1 activity of a rep in scope in the period / accounts in scope."""
    if not ds.has("activities"):
        return np.full(len(keys), np.nan)
    acts = ds.table("activities")
    acts = acts[period.contains(acts["date"]) & acts["rep_id"].isin(roster["rep_id"])]
    touched = accounts[accounts["account_id"].isin(acts["account_id"])]
    per_key = accounts.groupby("key").size().reindex(keys, fill_value=0).to_numpy(dtype="float64")
    return ratio(touched.groupby("key").size().reindex(keys, fill_value=0).to_numpy(dtype="float64"), per_key)

