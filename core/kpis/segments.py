"""The customer KPIs by account segment or account type (issue 15, "breakdowns by account segment
and account type").

Each sale is put in the segment (or type) of its account, from the accounts table; sales whose
account is unknown, or whose account has no segment, go to a "Not given" row, so the rows add up
to the team's revenue. Only the sales of the reps in scope count, and only the accounts aligned to
their territories (every account for the whole team) make up a row's accounts and potential.
Per territory, a row is a territory and a segment: the sales of the territory's reps and the
accounts aligned to the territory, so a territory's rows add up to its per-territory roll-up.

Every ratio is recomputed from the row's sums (kpis.md): market share = Σ revenue over the
trailing 12 months / Σ annual potential of the row's accounts; retention = accounts active in the
previous period and again in this one / accounts active in the previous period, by the one account
rule the per-rep roll-ups use (core.kpis.formulas.account_kpis). An input that is missing gives
n/a (NaN), never 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis import metrics
from core.kpis.arrays import rows_of
from core.kpis.formulas import account_kpis
from core.kpis.grouping import group_reps, nan_array, ratio
from core.kpis.parts import period_parts
from core.periods import Period
from core.schema import UNASSIGNED

BREAKDOWNS = {"segment": "Segment", "account_type": "Account type"}
NOT_GIVEN = "Not given"
PER = ("team", "territory")       # one row per segment, or per territory and segment
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


def segment_kpis(ds: Dataset, period: Period, by: str = "segment", scope: Scope = Scope(),
                 per: str = "team") -> pd.DataFrame:
    """One row per value of accounts.`by` (segment or account_type), the "Not given" row last:
    the key column `by`, then SEGMENT_COLUMNS; rows by revenue, highest first. `per` "territory":
    one row per territory and value, territory_id first, territories in order, each row's
    revenue_share a share of its territory's revenue."""
    _check(by, per)
    return ds.memo(("segments.kpis", by, per, period.start, period.end, scope),
                   lambda: _compute(ds, period, by, scope, per == "territory")).copy()


def _check(by: str, per: str = "team") -> None:
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {sorted(BREAKDOWNS)}, not {by!r}")
    if per not in PER:
        raise ValueError(f"per must be one of {PER}, not {per!r}")


def _compute(ds: Dataset, period: Period, by: str, scope: Scope, per_territory: bool) -> pd.DataFrame:
    roster = metrics.roster(ds, scope)
    cols = ["territory_id", "key"] if per_territory else ["key"]
    accounts = _scope_accounts(ds, by, roster, scope)
    key_of = _key_of(ds, by)
    sales = metrics.sales_table(ds)
    sales = sales[sales["rep_id"].isin(roster["rep_id"])]
    sales = sales.assign(key=_keys(sales["account_id"], key_of), revenue=sales["revenue"].fillna(0.0),
                         territory_id=sales["rep_id"].map(_rep_territory(roster)))
    rows = _ordered_rows(accounts, sales, period, cols)
    index = pd.MultiIndex.from_frame(rows) if per_territory else pd.Index(rows["key"])
    accounts["row"], sales["row"] = _row_of(accounts, cols, index), _row_of(sales, cols, index)
    n = len(rows)
    out = rows.rename(columns={"key": by})
    out["accounts"] = np.bincount(accounts["row"], minlength=n).astype("float64")
    out["potential"] = accounts.groupby("row")["potential"].sum(min_count=1).reindex(range(n)).to_numpy()
    whole = rows["territory_id"] if per_territory else pd.Series(0, index=rows.index)
    out = out.assign(**_revenue(sales, period, n, whole, has_sales=metrics.has_sales(ds)))
    out["market_share"] = ratio(out["_revenue_12m"], out["potential"])
    out = out.assign(**_account_counts(ds, period, scope, index, key_of))
    out["reach"] = _reach(ds, period, roster, accounts, n, per_territory)
    return out[[*cols[:-1], by, *SEGMENT_COLUMNS]]


def _rep_territory(roster: pd.DataFrame) -> pd.Series:
    """The territory of each rep in scope by rep id (UNASSIGNED when the roster gives none)."""
    return roster.set_index("rep_id")["territory_id"].fillna(UNASSIGNED)


def _key_of(ds: Dataset, by: str) -> pd.Series:
    """accounts.`by` by account id (empty when the accounts have no such column)."""
    table = ds.table("accounts").drop_duplicates("account_id")
    return table.set_index("account_id")[by] if by in table.columns else pd.Series(dtype="object")


def _scope_accounts(ds: Dataset, by: str, roster: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """account_id, territory_id, key, potential of the accounts in scope: all of them for the whole
    team, else those aligned to a territory of a rep in scope."""
    accounts = ds.table("accounts").drop_duplicates("account_id")
    if scope != Scope():
        accounts = accounts[accounts["territory_id"].isin(roster["territory_id"])]
    key = accounts[by] if by in accounts.columns else pd.Series(np.nan, index=accounts.index)
    return pd.DataFrame({"account_id": accounts["account_id"],
                         "territory_id": accounts["territory_id"].fillna(UNASSIGNED),
                         "key": _label(key), "potential": accounts["potential"].astype("float64")})


def _label(values: pd.Series) -> pd.Series:
    """The segment as shown: blank or missing values become NOT_GIVEN."""
    text = values.astype("str").str.strip()
    return text.mask(values.isna() | (text == ""), NOT_GIVEN)


def _keys(account_ids: pd.Series, key_of: pd.Series) -> pd.Series:
    """The segment of each sale's account (NOT_GIVEN for an unknown account or a blank segment)."""
    return _label(account_ids.map(key_of))


def _ordered_rows(accounts: pd.DataFrame, sales: pd.DataFrame, period: Period, cols: list[str]) -> pd.DataFrame:
    """Every row (a key, or a territory and a key) with accounts in scope or sales in the period:
    territories in order, then by revenue (highest first), then name; NOT_GIVEN last."""
    in_period = sales[period.contains(sales["date"])]
    revenue = in_period.groupby(cols, as_index=False)["revenue"].sum()
    found = pd.concat([accounts[cols], in_period[cols]]).drop_duplicates().merge(revenue, on=cols, how="left")
    found = found.assign(revenue=found["revenue"].fillna(0.0), last=found["key"] == NOT_GIVEN)
    order = [*cols[:-1], "last", "revenue", "key"]
    found = found.sort_values(order, ascending=[name != "revenue" for name in order], kind="stable")
    return found[cols].reset_index(drop=True)


def _row_of(frame: pd.DataFrame, cols: list[str], index: pd.Index) -> np.ndarray:
    """The row (position in `index`) of each line of `frame`, -1 for none."""
    keys = pd.MultiIndex.from_frame(frame[cols]) if len(cols) > 1 else pd.Index(frame["key"])
    return np.asarray(index.get_indexer(keys), dtype=np.int64)


def _sum_in(sales: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, n: int) -> np.ndarray:
    inside = sales[(sales["date"] >= start) & (sales["date"] <= end) & (sales["row"] >= 0)]
    return np.bincount(inside["row"], weights=inside["revenue"], minlength=n).astype("float64")


def _revenue(sales: pd.DataFrame, period: Period, n: int, whole: pd.Series,
             has_sales: bool) -> dict[str, np.ndarray]:
    """Revenue of the period, its share of the whole its row belongs to (the team in scope or the
    territory), a year earlier, growth, and over the trailing 12 months."""
    if not has_sales:
        return dict.fromkeys(("revenue", "revenue_share", "revenue_prior_year", "growth", "_revenue_12m"),
                             nan_array(n))
    yoy = period.year_earlier()
    revenue = _sum_in(sales, period.start_ts, period.end_ts, n)
    prior = _sum_in(sales, yoy.start_ts, yoy.end_ts, n)
    t12 = period.end_ts - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    total = pd.Series(revenue).groupby(whole.to_numpy()).transform("sum").to_numpy(dtype="float64")
    return {"revenue": revenue, "revenue_share": ratio(revenue, total), "revenue_prior_year": prior,
            "growth": ratio(revenue, prior) - 1, "_revenue_12m": _sum_in(sales, t12, period.end_ts, n)}


def _account_counts(ds: Dataset, period: Period, scope: Scope, index: pd.Index,
                    key_of: pd.Series) -> dict[str, np.ndarray]:
    """Active, new and retained accounts per row by the roll-ups' account rule
    (formulas.account_kpis): a (rep, account) pair belongs to the row of the account's key and,
    per territory, of the rep's territory, when the rep is in scope."""
    parts = period_parts(ds, period)
    if "accounts_now" not in parts:
        return dict.fromkeys(("active_accounts", "new_accounts", "retention_rate", "churn_rate"),
                             nan_array(len(index)))
    grouping, _ = group_reps(ds, scope, "team")
    per_territory = isinstance(index, pd.MultiIndex)
    keys = pd.Index(index.get_level_values("key").unique())
    territories = pd.Index(index.get_level_values("territory_id").unique() if per_territory else [None])
    # row of each (territory, key) cell; each rep's territory cell, each account's key cell
    cells = (pd.MultiIndex.from_product([territories, keys]) if per_territory else keys)
    row_of_cell = index.get_indexer(cells).reshape(len(territories), len(keys))
    rep_cell = np.full(grouping.n_all + 1, -1, dtype=np.int64)
    rep_cell[grouping.pos] = (territories.get_indexer(grouping.reps["territory_id"].fillna(UNASSIGNED))
                              if per_territory else 0)
    acc_cell = keys.get_indexer(_keys(pd.Series(rows_of(ds, "sales")["account_ids"]), key_of))

    def group_of(rep: np.ndarray, acc: np.ndarray) -> np.ndarray:
        t, k = rep_cell[rep], acc_cell[acc]
        return np.where((t >= 0) & (k >= 0), row_of_cell[t, k], -1)

    return account_kpis(parts, group_of, len(index), named=bool(grouping.sum(parts["account_rows"]).sum() > 0))


def _reach(ds: Dataset, period: Period, roster: pd.DataFrame, accounts: pd.DataFrame, n: int,
           per_territory: bool) -> np.ndarray:
    """Accounts of a row with ≥ 1 activity in the period of a rep in scope (per territory: of a
    rep of that territory) / accounts of the row."""
    if not ds.has("activities"):
        return nan_array(n)
    acts = ds.table("activities")
    acts = acts[period.contains(acts["date"]) & acts["rep_id"].isin(roster["rep_id"])]
    if per_territory:
        touched = pd.MultiIndex.from_arrays([acts["rep_id"].map(_rep_territory(roster)), acts["account_id"]])
        hit = pd.MultiIndex.from_frame(accounts[["territory_id", "account_id"]]).isin(touched)
    else:
        hit = accounts["account_id"].isin(acts["account_id"]).to_numpy()
    return ratio(np.bincount(accounts["row"][hit], minlength=n), np.bincount(accounts["row"], minlength=n))
