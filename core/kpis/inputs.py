"""The inputs every KPI starts from: the roster (and which reps a scope holds), the sales source,
opportunity statuses, employment dates, month arithmetic and the last day of the data. Each is
derived once per Dataset (Dataset.memo) and handed out as a shallow copy, so a caller adding a
column never changes what the next caller gets.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope, members
from core.kpis.registry import KPIS
from core.periods import Period, PeriodError, parse_period
from core.schema import DEFAULT_ROLE, OPPORTUNITY_STATUSES, UNASSIGNED

ROSTER_COLUMNS = ["rep_id", "rep_name", "region", "territory_id", "role", "manager", "hire_date"]
_REP_TABLES = ("sales", "opportunities", "activities", "follow_ups", "quotas", "training",
               "assessments", "incentives")


# ---------------------------------------------------------------------------------------------
# Inputs: the roster, the sales source, statuses, quotas and incentives spread over months.
# Each is derived once per Dataset (Dataset.memo) and handed out as a shallow copy, so a caller
# adding a column never changes what the next caller gets.
# ---------------------------------------------------------------------------------------------

def roster(ds: Dataset, scope: Scope = Scope()) -> pd.DataFrame:
    """The reps in scope with ROSTER_COLUMNS; without a reps table, every rep id the data names."""
    whole = whole_roster(ds)
    return whole[in_scope(whole, scope)].reset_index(drop=True)


def whole_roster(ds: Dataset) -> pd.DataFrame:
    return ds.memo(("metrics.roster",), lambda: _build_roster(ds))


def _build_roster(ds: Dataset) -> pd.DataFrame:
    if ds.has("reps"):
        reps = ds.table("reps").drop_duplicates("rep_id")
    else:
        named = [ds.table(t)["rep_id"] for t in _REP_TABLES if ds.has(t)]
        ids = pd.concat(named, ignore_index=True).dropna().unique() if named else []
        reps = pd.DataFrame({"rep_id": pd.Series(ids, dtype="str")})
    out = reps.reindex(columns=ROSTER_COLUMNS)
    return out.assign(
        rep_id=out["rep_id"].astype("str"),
        rep_name=out["rep_name"].astype("str").fillna(out["rep_id"]),
        region=out["region"].astype("str").fillna(UNASSIGNED),
        territory_id=out["territory_id"].astype("str").fillna(UNASSIGNED),
        role=out["role"].astype("str").fillna(DEFAULT_ROLE),
        manager=out["manager"].astype("str"),
        hire_date=pd.to_datetime(out["hire_date"]).astype("datetime64[ns]"),
    ).reset_index(drop=True)


def in_scope(whole: pd.DataFrame, scope: Scope) -> np.ndarray:
    """Boolean mask of the whole roster's reps inside `scope`."""
    if scope == Scope():
        return np.ones(len(whole), dtype=bool)
    return members(whole["rep_id"], scope.rep_ids(whole))


def territories_in_scope(ds: Dataset, scope: Scope, territory_ids: pd.Series, regions: pd.Series) -> np.ndarray:
    """Which rows of a per-territory (or per-account) frame are inside `scope`: rows of the
    scope's region (`regions`: the territory's region on each row), of its territory, of the
    territory the roster gives its rep, or of the territories of a manager's reps. The whole team
    keeps every row, territories without reps too."""
    keep = np.ones(len(territory_ids), dtype=bool)
    if scope.region:
        keep &= (regions == scope.region).to_numpy(dtype=bool)
    if scope.territory_id:
        keep &= (territory_ids == scope.territory_id).to_numpy(dtype=bool)
    if scope.rep_id:
        whole = whole_roster(ds)
        keep &= territory_ids.isin(whole.loc[whole["rep_id"] == scope.rep_id, "territory_id"]).to_numpy(dtype=bool)
    if scope.manager:
        whole = whole_roster(ds)
        team = whole["rep_id"].isin(scope.rep_ids(whole))
        keep &= territory_ids.isin(whole.loc[team, "territory_id"]).to_numpy(dtype=bool)
    return keep


def has_sales(ds: Dataset) -> bool:
    """Revenue is known: a sales table, or opportunities whose won deals become sales."""
    return ds.has("sales") or ds.has("opportunities")


def sales_table(ds: Dataset) -> pd.DataFrame:
    """The sales lines; without a sales table, won opportunities (amount on close_date)."""
    if ds.has("sales") or not ds.has("opportunities"):
        return ds.table("sales")
    return ds.memo(("metrics.sales_table",), lambda: _sales_from_opportunities(ds)).copy(deep=False)


def _sales_from_opportunities(ds: Dataset) -> pd.DataFrame:
    opps = ds.table("opportunities")
    won = opps[(opportunity_statuses(ds) == "won") & opps["close_date"].notna().to_numpy()]
    return pd.DataFrame({
        "date": won["close_date"], "rep_id": won["rep_id"], "account_id": won["account_id"],
        "product": won["product"], "revenue": won["amount"].astype("float64"),
        "units": np.nan,
    }).reset_index(drop=True)


def opportunity_status(opps: pd.DataFrame) -> pd.Series:
    """won / lost / open: the status column where valid, else derived from the CRM stage."""
    return pd.Series(_statuses(opps), index=opps.index, dtype="str")


def _statuses(opps: pd.DataFrame) -> np.ndarray:
    """opportunity_status as an object array whose rows share the three status strings (a text
    object per row cost ~58 bytes a deal, 38 MB at 3,000 reps, kept for the Dataset's life)."""
    def from_stage(stage: str) -> str:
        text = stage.lower()
        return "won" if "won" in text else "lost" if "lost" in text else "open"

    def clean(status: str) -> str | None:
        text = status.strip().lower()
        return text if text in OPPORTUNITY_STATUSES else None

    derived = _map_distinct(opps["stage"], from_stage, "open")
    status = _map_distinct(opps["status"], clean, None)
    return np.asarray(np.where(pd.isna(status), derived, status), dtype=object)


def opportunity_statuses(ds: Dataset) -> np.ndarray:
    """opportunity_status of the dataset's opportunities, derived once."""
    return ds.memo(("metrics.opportunity_status",), lambda: _statuses(ds.table("opportunities")))


def _map_distinct(values: pd.Series, fn: Callable[[str], str | None], missing: str | None) -> np.ndarray:
    """fn applied to each distinct value (not each row); `missing` for missing values."""
    codes, uniques = pd.factorize(values)
    return np.asarray(np.array([fn(str(u)) for u in uniques] + [missing], dtype=object)[codes])


def month_number(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each date (NaT must be removed before)."""
    return np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").view(np.int64)


def month_start(numbers: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(numbers, dtype=np.int64).astype("datetime64[M]")
                            .astype("datetime64[ns]"))


def spread_by_month(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """Rows labelled with a period (YYYY, YYYY-Qn, YYYY-MM) become one row per month of it,
    the value split evenly (a quarterly 90 gives 30 a month). Unreadable labels are dropped:
    ingest reports them."""
    labels = frame["period"].astype("str")
    spans: dict[str, tuple[int, int]] = {}
    for label in labels.dropna().unique():   # distinct labels, not rows
        try:
            p = parse_period(label)
        except PeriodError:
            continue
        spans[label] = (int(month_number([p.start_ts])[0]), len(p.months()))
    first = labels.map({k: v[0] for k, v in spans.items()})
    n = labels.map({k: v[1] for k, v in spans.items()})
    keep = first.notna() & frame[value].notna()
    rows, first, n = frame[keep], first[keep].astype(np.int64).to_numpy(), n[keep].astype(np.int64).to_numpy()
    idx = np.repeat(np.arange(len(rows)), n)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n)
    out = rows.iloc[idx].reset_index(drop=True)
    out["month"] = month_start(first[idx] + offset)
    out[value] = out[value].to_numpy(dtype="float64") / n[idx]
    return out



def _employment(ds: Dataset) -> pd.DataFrame:
    """hire_date and end_date (last day employed; optional reps column) per whole-roster rep,
    indexed by rep_id, NaT where unknown."""
    def build() -> pd.DataFrame:
        whole = whole_roster(ds)
        reps = ds.table("reps")
        ends = (reps.drop_duplicates("rep_id").set_index("rep_id")["end_date"]
                if "end_date" in reps.columns else pd.Series(dtype="datetime64[ns]"))
        return pd.DataFrame({"hire_date": whole["hire_date"].to_numpy(dtype="datetime64[ns]"),
                             "end_date": ends.reindex(whole["rep_id"]).to_numpy(dtype="datetime64[ns]")},
                            index=whole["rep_id"].to_numpy())

    return ds.memo(("metrics.employment",), build)


def employed_in_month(ds: Dataset, rep_ids: pd.Series, months: pd.Series) -> np.ndarray:
    """Per row: the rep was employed in that month (hired in it or before, left in it or after;
    an unknown date does not limit)."""
    dates = _employment(ds).reindex(rep_ids.to_numpy())
    month = months.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    hired = dates["hire_date"].to_numpy(dtype="datetime64[ns]")
    left = dates["end_date"].to_numpy(dtype="datetime64[ns]")
    return np.asarray((np.isnat(hired) | (month >= hired.astype("datetime64[M]")))
            & (np.isnat(left) | (month <= left.astype("datetime64[M]"))))


def not_employed(ds: Dataset, period: Period) -> np.ndarray:
    """Per whole-roster rep: hired after the period ended, or gone before it began. Such a rep
    has no quota, revenue, attainment or gap in the period (n/a) and stays out of the team's
    quota and waterfall."""
    dates = _employment(ds)
    hired = dates["hire_date"].to_numpy(dtype="datetime64[ns]")
    left = dates["end_date"].to_numpy(dtype="datetime64[ns]")
    return np.asarray((~np.isnat(hired) & (hired > day(period.end)))
            | (~np.isnat(left) & (left < day(period.start))))



def between(dates: pd.Series, start: date, end: date) -> pd.Series:
    return (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))


def day(d: date | pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(d), "ns")


def within(days: np.ndarray, start: date, end: date) -> np.ndarray:
    """days inside [start, end] (NaT is not): one subtraction and one comparison on the offsets
    from start taken modulo 2⁶⁴, where a day before start (or NaT, the smallest int64) lands above
    any span of int64 days."""
    lo, hi = int(day(start).view(np.int64)), int(day(end).view(np.int64))
    if hi < lo:
        return np.zeros(len(days), dtype=bool)
    offset = days.view(np.int64) - np.int64(lo)
    return np.asarray(offset.view(np.uint64) <= np.uint64(hi - lo))


def data_end(ds: Dataset) -> pd.Timestamp | None:
    """The last day anything happened in the data (future due dates and expected closes excluded).
    Open follow-ups count as late up to min(period end, this day), never up to the wall clock."""
    return ds.memo(("metrics.data_end",), lambda: _data_end(ds))


def _data_end(ds: Dataset) -> pd.Timestamp | None:
    cols = [("sales", "date"), ("activities", "date"), ("follow_ups", "completed_date"),
            ("training", "date"), ("opportunities", "created_date"), ("assessments", "date")]
    ends = [ds.table(t)[c].max() for t, c in cols if ds.has(t)]
    if ds.has("opportunities"):
        opps = ds.table("opportunities")
        ends.append(opps.loc[opportunity_statuses(ds) != "open", "close_date"].max())
    ends = [e for e in ends if pd.notna(e)]
    return max(ends) if ends else None


def territory_potential(ds: Dataset) -> pd.Series:
    """Annual potential per territory_id: territories.market_potential, else Σ account potential."""
    def potential() -> pd.Series:
        acc = ds.table("accounts")
        from_accounts = acc.groupby("territory_id")["potential"].sum(min_count=1)
        terr = ds.table("territories").drop_duplicates("territory_id").set_index("territory_id")
        given = terr["market_potential"].astype("float64")
        return given.combine_first(from_accounts).astype("float64")

    return ds.memo(("metrics.territory_potential",), potential).copy(deep=False)


def missing_inputs(ds: Dataset, kpi: str) -> list[str]:
    """The tables a KPI needs that the dataset lacks (opportunities stand in for sales, and
    territories with a market potential for accounts in market share)."""
    missing = ds.missing(*KPIS[kpi].needs)
    if "sales" in missing and has_sales(ds):
        missing.remove("sales")
    if kpi == "market_share" and "accounts" in missing and territory_potential(ds).notna().any():
        missing.remove("accounts")
    return missing
