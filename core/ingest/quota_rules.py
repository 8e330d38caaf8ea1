"""Quotas set in the app: by hand, or by a rule, kept with the settings and applied to the data.

Rules (each previewed before it is applied):
- growth: a rep's quota for a period = their revenue in the same period a year earlier × (1 + x %);
- split by share: a team number split in proportion to each rep's revenue a year earlier;
- split by potential: a team number split in proportion to the annual potential of each rep's
  territory (territories.market_potential, else the sum of its accounts' potential).
A rep with no basis (no revenue a year earlier, no known potential) gets no quota (n/a), never 0,
and the preview says so.

`with_quotas` gives a Dataset whose quotas table is the one kept in the settings (it replaces the
uploaded quotas), with period labels read as ingest reads them (fiscal labels included).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import ISSUE_COLUMNS, Dataset, SourceInfo
from core.ingest.quota_sheet import pieces
from core.kpis.metrics import sales_table, territory_potential
from core.periods import Period, PeriodError, parse_period
from core.schema import empty_table
from core.settings import QuotaRow

APP_SOURCE = "set in the app: quotas"
COLUMNS = ["rep_id", "period", "quota", "product"]


# --------------------------------------------------------------------------------------- rules (pure)
def growth(last_year: pd.Series, pct: float) -> pd.Series:
    """Last year's revenue per rep plus `pct` percent; NaN where there was no revenue."""
    base = last_year.astype("float64").where(last_year > 0)
    return base * (1 + pct / 100)


def split(total: float, weights: pd.Series) -> pd.Series:
    """`total` split in proportion to `weights` (reps without a positive weight get NaN)."""
    w = weights.astype("float64").where(weights > 0)
    whole = w.sum(min_count=1)
    if pd.isna(whole) or not np.isfinite(total) or total <= 0:
        return pd.Series(np.nan, index=weights.index, dtype="float64")
    return total * w / whole


# --------------------------------------------------------------------------------------- their bases
def revenue_by_rep(ds: Dataset, period: Period, reps: Sequence[str]) -> pd.Series:
    """Each rep's revenue in `period` (0 for a rep with no sales in it, NaN without sales data)."""
    sales = sales_table(ds)
    inside = sales[period.contains(sales["date"])]
    got = inside.groupby("rep_id")["revenue"].sum()
    out = got.reindex(list(reps)).astype("float64")
    return out if sales.empty else out.fillna(0.0)


def potential_by_rep(ds: Dataset, reps: Sequence[str]) -> pd.Series:
    """The annual potential of each rep's territory (NaN when unknown)."""
    roster = ds.table("reps").drop_duplicates("rep_id").set_index("rep_id")["territory_id"]
    potential = territory_potential(ds)
    return roster.reindex(list(reps)).map(potential).astype("float64")


def preview(ds: Dataset, period: Period, rule: str, value: float) -> pd.DataFrame:
    """rep_id, rep_name, basis, quota for every rep under `rule` ("growth" with value = %, "share"
    or "potential" with value = the team's number) for `period`."""
    reps = ds.table("reps")[["rep_id", "rep_name"]].drop_duplicates("rep_id").reset_index(drop=True)
    ids = reps["rep_id"].tolist()
    if rule == "potential":
        basis = potential_by_rep(ds, ids)
        quota = split(value, basis)
    else:
        basis = revenue_by_rep(ds, period.year_earlier(), ids)
        quota = growth(basis, value) if rule == "growth" else split(value, basis)
    return reps.assign(period=period.label, basis=basis.to_numpy(), quota=quota.to_numpy())


# --------------------------------------------------------------------------------------- kept in settings
def rows_of(frame: pd.DataFrame) -> tuple[QuotaRow, ...]:
    """A quota table (rep_id, period, quota, product) as the rows the settings keep; rows without a
    rep, a period or a quota above 0 are left out."""
    f = frame.reindex(columns=COLUMNS)
    quota = pd.to_numeric(f["quota"], errors="coerce")
    ok = f["rep_id"].notna() & f["period"].notna() & quota.gt(0)
    f = f[ok]
    return tuple((str(r), str(p), float(q), "" if pd.isna(d) else str(d))
                 for r, p, q, d in zip(f["rep_id"], f["period"], quota[ok], f["product"], strict=True))


def frame_of(rows: Sequence[QuotaRow]) -> pd.DataFrame:
    """The settings' quota rows as a table (product blank = all products)."""
    f = pd.DataFrame(list(rows), columns=COLUMNS)
    f["product"] = f["product"].replace("", pd.NA)
    return f.astype({"rep_id": "str", "period": "str", "quota": "float64", "product": "str"})


def with_quotas(ds: Dataset, rows: Sequence[QuotaRow], fiscal_start: int = 1,
                seasonality: Sequence[float] = ()) -> Dataset:
    """`ds` with the quotas kept in the settings as its quotas table (the uploaded ones replaced),
    periods stored as ingest stores them (core.ingest.quota_sheet.pieces); `ds` itself when the settings
    keep none. Unreadable periods are reported, not loaded."""
    if not rows:
        return ds
    f = frame_of(rows)
    found: dict[str, list[tuple[str, float]]] = {}
    for label in f["period"].unique():
        try:
            found[label] = pieces(parse_period(label, fiscal_start), seasonality)
        except PeriodError:
            found[label] = []
    parts = f["period"].map(found)
    bad = parts.str.len().eq(0)
    good, parts = f[~bad], parts[~bad]
    long = good.loc[good.index.repeat(parts.str.len())].copy()
    flat = [x for row in parts for x in row]
    long["period"] = [label for label, _ in flat]
    long["quota"] = long["quota"].to_numpy() * np.array([share for _, share in flat])
    quotas = pd.concat([empty_table("quotas"), long[COLUMNS]], ignore_index=True)
    quotas = quotas.astype(empty_table("quotas").dtypes.to_dict())
    issues = [ds.issues, _note(len(f), int(bad.sum()))]
    if bad.any():
        issues.append(_rejected(f[bad]))
    sources = [s for s in ds.sources if s.table != "quotas"] + [
        SourceInfo(APP_SOURCE, "quotas", len(f), note="Quotas set on the Quotas page (kept with the settings); "
                                                      "they replace any uploaded quotas.")]
    tables = {**ds.tables, "quotas": quotas}
    return Dataset(tables=tables, issues=pd.concat(issues, ignore_index=True), sources=sources)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=ISSUE_COLUMNS)
    return f.astype({c: "str" for c in ISSUE_COLUMNS if c != "Row"}).astype({"Row": "Int64"})


def _note(n: int, bad: int) -> pd.DataFrame:
    return _frame([{"Table": "quotas", "Source": APP_SOURCE, "Row": pd.NA, "Column": "",
                    "Problem": f"{n - bad:,} quotas set in the app replace the uploaded quotas",
                    "Value": "", "Kind": "info"}])


def _rejected(bad: pd.DataFrame) -> pd.DataFrame:
    return _frame([{"Table": "quotas", "Source": APP_SOURCE, "Row": i + 1, "Column": "period",
                    "Problem": "cannot read the period (use 2025-Q3, 2025-07, 2025 or FY2026-Q1)",
                    "Value": p, "Kind": "rejected"} for i, p in zip(bad.index, bad["period"], strict=True)])
