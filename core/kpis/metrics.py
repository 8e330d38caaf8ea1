"""Every KPI of kpis.md per rep, rolled up per territory, region and team, and monthly series.

One engine computes every KPI for any grouping of the roster. Once per Dataset, each table's rows
become numpy arrays with the rep of each row as an integer position on the roster. Once per Dataset
and period, those rows become per-rep parts (numerators, denominators, counts) plus the few rows
that medians and distinct counts need. Any grouping of reps then sums the per-rep parts: "per rep"
is the grouping where every rep is its own group; a scope's reps, territory, region and team are
other groupings. So ratios always roll up from summed numerators and denominators, medians come
from the group's own rows, and an account served by two reps of a group counts once for that group.

Ratios are fractions (0.63 = 63 %). A KPI whose input table is missing is NaN, never 0; a rep with
no rows in a table that exists gets a real 0 for counts and NaN for ratios without a denominator.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.stages import stage_labels, stage_order
from core.periods import Period, PeriodError, parse_period
from core.schema import DEFAULT_ROLE, FACE_TO_FACE, OPPORTUNITY_STATUSES, UNASSIGNED, empty_table
from core.settings import Settings

UNITS = ("money", "pct", "count", "days", "per_week", "per_quarter", "score", "ratio")


@dataclass(frozen=True)
class Kpi:
    """What a KPI column is: how to show it, which way is good, its target and its input tables."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    target: str | None = None          # attribute name on settings.targets
    needs: tuple[str, ...] = ()


_S, _Q, _O, _A, _F = ("sales",), ("quotas",), ("opportunities",), ("activities",), ("follow_ups",)
KPIS: dict[str, Kpi] = {k.name: k for k in (
    Kpi("revenue", "Revenue", "money", True, None, _S),
    Kpi("quota", "Quota", "money", True, None, _Q),
    Kpi("attainment", "Attainment", "pct", True, "attainment", _S + _Q),
    Kpi("gap", "Gap to goal", "money", False, None, _S + _Q),
    Kpi("revenue_prior_year", "Revenue a year earlier", "money", True, None, _S),
    Kpi("growth", "Growth vs a year earlier", "pct", True, None, _S),
    Kpi("market_share", "Market share (12 months)", "pct", True, None, _S + ("accounts",)),
    Kpi("active_accounts", "Active accounts", "count", True, None, _S),
    Kpi("new_accounts", "New accounts", "count", True, None, _S),
    Kpi("retention_rate", "Account retention", "pct", True, None, _S),
    Kpi("churn_rate", "Account churn", "pct", False, None, _S),
    Kpi("won", "Deals won", "count", True, None, _O),
    Kpi("lost", "Deals lost", "count", False, None, _O),
    Kpi("win_rate", "Win rate", "pct", True, None, _O),
    Kpi("sales_cycle_days", "Sales cycle (median days)", "days", False, None, _O),
    Kpi("open_pipeline", "Open pipeline", "money", True, None, _O),
    Kpi("start_pipeline", "Pipeline at period start", "money", True, None, _O),
    Kpi("remaining_quota", "Remaining quota", "money", False, None, _S + _Q),
    Kpi("pipeline_coverage", "Pipeline coverage", "ratio", True, "pipeline_coverage", _O + _S + _Q),
    Kpi("meetings", "Meetings", "count", True, None, _A),
    Kpi("meetings_per_week", "Meetings per week", "per_week", True, "meetings_per_week", _A),
    Kpi("presentations", "Presentations", "count", True, None, _A),
    Kpi("presentations_per_quarter", "Presentations per quarter", "per_quarter", True,
        "presentations_per_quarter", _A),
    Kpi("workshops", "Workshops", "count", True, None, _A),
    Kpi("workshops_per_quarter", "Workshops per quarter", "per_quarter", True,
        "workshops_per_quarter", _A),
    Kpi("reach", "Reach (accounts touched)", "pct", True, None, _A + ("accounts",)),
    Kpi("planned", "Planned activities", "count", True, None, _A),
    Kpi("planned_known", "Activities with plan flag", "count", True, None, _A),
    Kpi("call_plan_adherence", "Call plan adherence", "pct", True, "call_plan_adherence", _A),
    Kpi("share_user", "Contacts: users", "pct", True, None, _A),
    Kpi("share_buyer", "Contacts: buyers", "pct", True, None, _A),
    Kpi("share_admin", "Contacts: admins", "pct", True, None, _A),
    Kpi("follow_ups_due", "Follow-ups due", "count", True, None, _F),
    Kpi("follow_ups_on_time", "Follow-ups on time", "count", True, None, _F),
    Kpi("on_time_follow_up_rate", "On-time follow-up rate", "pct", True, "on_time_follow_up_rate", _F),
    Kpi("days_late", "Days late (median)", "days", False, "days_late", _F),
    Kpi("overdue_open_follow_ups", "Overdue open follow-ups", "count", False,
        "overdue_open_follow_ups", _F),
    Kpi("knowledge_quotient", "Knowledge quotient", "score", True, "knowledge_quotient", ("training",)),
    Kpi("payout", "Incentive payout", "money", True, None, ("incentives",)),
    Kpi("cost_of_sales", "Cost of sales", "pct", False, None, ("incentives",) + _S),
    Kpi("points", "Points", "score", True, None, _A + _F + ("training",)),
)}

ROSTER_COLUMNS = ["rep_id", "rep_name", "region", "territory_id", "role", "manager", "hire_date"]
KPI_COLUMNS = list(KPIS)
REP_KPI_COLUMNS = ROSTER_COLUMNS + ["ramping"] + KPI_COLUMNS
BANDS = ("<50%", "50–80%", "80–100%", "100–120%", ">120%")
_BAND_EDGES = (-np.inf, 0.5, 0.8, 1.0, 1.2, np.inf)
_REP_TABLES = ("sales", "opportunities", "activities", "follow_ups", "quotas", "training",
               "assessments", "incentives")
_LEVEL_KEYS = {"territory": "territory_id", "region": "region", "manager": "manager", "team": "team"}


# ---------------------------------------------------------------------------------------------
# Inputs: the roster, the sales source, statuses, quotas and incentives spread over months.
# Each is derived once per Dataset (Dataset.memo) and handed out as a shallow copy, so a caller
# adding a column never changes what the next caller gets.
# ---------------------------------------------------------------------------------------------

def roster(ds: Dataset, scope: Scope = Scope()) -> pd.DataFrame:
    """The reps in scope with ROSTER_COLUMNS; without a reps table, every rep id the data names."""
    whole = _whole_roster(ds)
    return whole[_in_scope(whole, scope)].reset_index(drop=True)


def _whole_roster(ds: Dataset) -> pd.DataFrame:
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


def _in_scope(whole: pd.DataFrame, scope: Scope) -> np.ndarray:
    """Boolean mask of the whole roster's reps inside `scope`."""
    if scope == Scope():
        return np.ones(len(whole), dtype=bool)
    return whole["rep_id"].isin(scope.rep_ids(whole)).to_numpy()


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
    won = opps[(_opportunity_status(ds) == "won") & opps["close_date"].notna().to_numpy()]
    return pd.DataFrame({
        "date": won["close_date"], "rep_id": won["rep_id"], "account_id": won["account_id"],
        "product": won["product"], "revenue": won["amount"].astype("float64"),
        "units": np.nan,
    }).reset_index(drop=True)


def opportunity_status(opps: pd.DataFrame) -> pd.Series:
    """won / lost / open: the status column where valid, else derived from the CRM stage."""
    def from_stage(stage: str) -> str:
        text = stage.lower()
        return "won" if "won" in text else "lost" if "lost" in text else "open"

    def clean(status: str) -> str | None:
        text = status.strip().lower()
        return text if text in OPPORTUNITY_STATUSES else None

    derived = _map_distinct(opps["stage"], from_stage, "open")
    status = _map_distinct(opps["status"], clean, None)
    return pd.Series(np.where(pd.isna(status), derived, status), index=opps.index, dtype="str")


def _opportunity_status(ds: Dataset) -> np.ndarray:
    """opportunity_status of the dataset's opportunities, derived once."""
    return ds.memo(("metrics.opportunity_status",),
                   lambda: opportunity_status(ds.table("opportunities")).to_numpy())


def _map_distinct(values: pd.Series, fn, missing: str | None) -> np.ndarray:
    """fn applied to each distinct value (not each row); `missing` for missing values."""
    codes, uniques = pd.factorize(values)
    return np.array([fn(str(u)) for u in uniques] + [missing], dtype=object)[codes]


def _month_number(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each date (NaT must be removed before)."""
    return np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def _month_start(numbers: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(numbers, dtype=np.int64).astype("datetime64[M]")
                            .astype("datetime64[ns]"))


def _spread_by_month(frame: pd.DataFrame, value: str) -> pd.DataFrame:
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
        spans[label] = (int(_month_number([p.start_ts])[0]), len(p.months()))
    first = labels.map({k: v[0] for k, v in spans.items()})
    n = labels.map({k: v[1] for k, v in spans.items()})
    keep = first.notna() & frame[value].notna()
    rows, first, n = frame[keep], first[keep].astype(np.int64).to_numpy(), n[keep].astype(np.int64).to_numpy()
    idx = np.repeat(np.arange(len(rows)), n)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n)
    out = rows.iloc[idx].reset_index(drop=True)
    out["month"] = _month_start(first[idx] + offset)
    out[value] = out[value].to_numpy(dtype="float64") / n[idx]
    return out


def quota_by_month(ds: Dataset) -> pd.DataFrame:
    """rep_id, month (month start), product (NaN = all products), quota: quotas spread evenly
    over the months of their period, without the months before the rep's hire month (a rep hired
    mid-quarter carries the quota of the months employed; a table with per-month quotas gives
    those months as they are)."""
    def spread() -> pd.DataFrame:
        out = _spread_by_month(ds.table("quotas"), "quota")[["rep_id", "month", "product", "quota"]]
        return out[_employed_in_month(ds, out["rep_id"], out["month"])].reset_index(drop=True)

    return ds.memo(("metrics.quota_by_month",), spread).copy(deep=False)


def _employment(ds: Dataset) -> pd.DataFrame:
    """hire_date and end_date (last day employed; optional reps column) per whole-roster rep,
    indexed by rep_id, NaT where unknown."""
    def build() -> pd.DataFrame:
        whole = _whole_roster(ds)
        reps = ds.table("reps")
        ends = (reps.drop_duplicates("rep_id").set_index("rep_id")["end_date"]
                if "end_date" in reps.columns else pd.Series(dtype="datetime64[ns]"))
        return pd.DataFrame({"hire_date": whole["hire_date"].to_numpy(dtype="datetime64[ns]"),
                             "end_date": ends.reindex(whole["rep_id"]).to_numpy(dtype="datetime64[ns]")},
                            index=whole["rep_id"].to_numpy())

    return ds.memo(("metrics.employment",), build)


def _employed_in_month(ds: Dataset, rep_ids: pd.Series, months: pd.Series) -> np.ndarray:
    """Per row: the rep was employed in that month (hired in it or before, left in it or after;
    an unknown date does not limit)."""
    dates = _employment(ds).reindex(rep_ids.to_numpy())
    month = months.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    hired = dates["hire_date"].to_numpy(dtype="datetime64[ns]")
    left = dates["end_date"].to_numpy(dtype="datetime64[ns]")
    return ((np.isnat(hired) | (month >= hired.astype("datetime64[M]")))
            & (np.isnat(left) | (month <= left.astype("datetime64[M]"))))


def not_employed(ds: Dataset, period: Period) -> np.ndarray:
    """Per whole-roster rep: hired after the period ended, or gone before it began. Such a rep
    has no quota, revenue, attainment or gap in the period (n/a) and stays out of the team's
    quota and waterfall."""
    dates = _employment(ds)
    hired = dates["hire_date"].to_numpy(dtype="datetime64[ns]")
    left = dates["end_date"].to_numpy(dtype="datetime64[ns]")
    return ((~np.isnat(hired) & (hired > _day(period.end)))
            | (~np.isnat(left) & (left < _day(period.start))))


def _total_quota_by_month(qm: pd.DataFrame) -> pd.DataFrame:
    """A rep-month's quota: its all-products quota where one is given, else Σ its product quotas
    (so product quotas that break down a total are not counted twice)."""
    blank = qm["product"].isna()
    has_blank = blank.groupby([qm["rep_id"], qm["month"]]).transform("any")
    return qm[blank | ~has_blank]


def _month_weights(start: date, end: date) -> pd.Series:
    """Share of each month (by month number) inside [start, end], by days: 1 for a whole month."""
    months = pd.period_range(start, end, freq="M")
    first = np.maximum(months.start_time.values, np.datetime64(pd.Timestamp(start)))
    last = np.minimum(months.end_time.normalize().values, np.datetime64(pd.Timestamp(end)))
    inside = (last - first).astype("timedelta64[D]").astype(np.int64) + 1
    return pd.Series(inside / months.days_in_month.to_numpy(),
                     index=_month_number(months.start_time.values))


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
        ends.append(opps.loc[_opportunity_status(ds) != "open", "close_date"].max())
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


# ---------------------------------------------------------------------------------------------
# Each table's rows as numpy arrays, once per Dataset: the rep of each row as its position in the
# whole roster (ids factorized once, not on every call), dates as datetime64, categories as codes
# ---------------------------------------------------------------------------------------------

_Arrays = dict[str, np.ndarray]


def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in `index` (-1 when absent or missing). Factorizing first means
    the hash lookup runs over the few distinct ids, not over millions of rows."""
    codes, uniques = pd.factorize(values)
    lookup = np.append(index.get_indexer(uniques), -1)
    return lookup[codes]


def _codes(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """1 + the position of each value in `names`, len(names) + 1 for any other value, 0 for a
    missing one."""
    codes, uniques = pd.factorize(values)
    at = pd.Index(names).get_indexer(uniques)
    lookup = np.append(np.where(at >= 0, at + 1, len(names) + 1), 0)
    return lookup[codes].astype(np.int8)


def _dates(frame: pd.DataFrame, col: str) -> np.ndarray:
    return frame[col].to_numpy(dtype="datetime64[ns]")


def _floats(frame: pd.DataFrame, col: str) -> np.ndarray:
    return frame[col].to_numpy(dtype="float64", na_value=np.nan)


def _rows_of(ds: Dataset, name: str) -> _Arrays:
    """The arrays of table `name` (see _BUILDERS); `r` is each row's roster position (-1 = none)."""
    def build() -> _Arrays:
        frame = _source(ds, name)
        ids = pd.Index(_whole_roster(ds)["rep_id"])
        return {"r": _positions(ids, frame["rep_id"]).astype(np.int32)} | _BUILDERS[name](ds, frame)

    return ds.memo(("metrics.rows", name), build)


def _source(ds: Dataset, name: str) -> pd.DataFrame:
    """The frame behind table `name`'s arrays: quotas and incentives spread over months; a
    canonical column a hand-made frame lacks is read as missing values."""
    if name == "quotas":
        return _total_quota_by_month(quota_by_month(ds))
    if name == "incentives":
        return _spread_by_month(ds.table("incentives"), "payout")
    frame = sales_table(ds) if name == "sales" else ds.table(name)
    absent = [c for c in empty_table(name).columns if c not in frame.columns]
    return frame.assign(**dict.fromkeys(absent, np.nan)) if absent else frame


def _sales_arrays(ds: Dataset, s: pd.DataFrame) -> _Arrays:
    """Revenue (NaN → 0), the account code of each line and, per account code, the first day it
    bought (revenue > 0, any rep): an account is new in a period when it never bought before."""
    acc, uniques = pd.factorize(s["account_id"])
    day, revenue = _dates(s, "date"), _floats(s, "revenue")
    bought = (revenue > 0) & (acc >= 0) & ~np.isnat(day)
    first = (pd.Series(day[bought]).groupby(acc[bought]).min()
             .reindex(range(len(uniques))).to_numpy(dtype="datetime64[ns]"))
    return {"date": day, "revenue": np.nan_to_num(revenue), "acc": acc.astype(np.int32), "first_bought": first}


def _opportunity_arrays(ds: Dataset, o: pd.DataFrame) -> _Arrays:
    """Status (_codes of _STATUS), close day, cycle in days and value: the amount, else the
    product's list price (products table)."""
    status = _opportunity_status(ds)
    # A lost deal's amount of 0 is the CRM zeroing it on loss (Salesforce, Maven), not its size
    # while it was open: for the pipeline open at a period's start it is unknown (then list price).
    zeroed = (status == "lost") & (o["amount"] == 0).to_numpy(dtype=bool, na_value=False)
    return {"status": _codes(pd.Series(status), _STATUS), "close": _dates(o, "close_date"),
            "created": _dates(o, "created_date"),
            "cycle": (o["close_date"] - o["created_date"]).dt.days.to_numpy(dtype="float64", na_value=np.nan),
            "value": opportunity_value(ds, o).to_numpy(dtype="float64", na_value=np.nan),
            "value_open": opportunity_value(ds, o.assign(amount=o["amount"].mask(zeroed)))
            .to_numpy(dtype="float64", na_value=np.nan)}


def opportunity_value(ds: Dataset, opps: pd.DataFrame) -> pd.Series:
    """Each deal's value: its amount, else its product's list price (products table), else NaN."""
    value = opps["amount"].astype("float64")
    if ds.has("products"):
        price = ds.table("products").drop_duplicates("product").set_index("product")["list_price"]
        value = value.fillna(opps["product"].map(price).astype("float64"))
    return value


def _activity_arrays(ds: Dataset, a: pd.DataFrame) -> _Arrays:
    """Type and contact role as _codes of FACE_TO_FACE and _ROLES, the plan flag as 0 unknown,
    1 no, 2 yes, and the account's position in the accounts table (for reach; -1 = not there)."""
    planned = np.where(a["planned"].isna(), 0, np.where(a["planned"].fillna(False), 2, 1)).astype(np.int8)
    out = {"date": _dates(a, "date"), "kind": _codes(a["activity_type"], FACE_TO_FACE),
           "planned": planned, "role": _codes(a["contact_role"], _ROLES)}
    if ds.has("accounts"):
        out["acc"] = _positions(pd.Index(_accounts(ds)["account_id"]), a["account_id"]).astype(np.int32)
    return out


def _follow_up_arrays(ds: Dataset, f: pd.DataFrame) -> _Arrays:
    return {"due": _dates(f, "due_date"), "done": _dates(f, "completed_date")}


def _training_arrays(ds: Dataset, t: pd.DataFrame) -> _Arrays:
    return {"date": _dates(t, "date"), "score": _floats(t, "score")}


def _spread_arrays(value: str) -> Callable[[Dataset, pd.DataFrame], _Arrays]:
    def build(ds: Dataset, spread: pd.DataFrame) -> _Arrays:
        return {"month": _month_number(spread["month"].to_numpy()), "value": _floats(spread, value)}
    return build


_STATUS = ("open", "won", "lost")
_OPEN, _WON, _LOST = 1, 2, 3
_MEETING, _PRESENTATION, _WORKSHOP = (1 + FACE_TO_FACE.index(k) for k in ("meeting", "presentation", "workshop"))
_ROLES = ("user", "buyer", "admin")
_BUILDERS = {"sales": _sales_arrays, "opportunities": _opportunity_arrays, "activities": _activity_arrays,
             "follow_ups": _follow_up_arrays, "training": _training_arrays,
             "quotas": _spread_arrays("quota"), "incentives": _spread_arrays("payout")}


def _accounts(ds: Dataset) -> pd.DataFrame:
    return ds.memo(("metrics.accounts",), lambda: ds.table("accounts").drop_duplicates("account_id"))


def _account_territories(ds: Dataset) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The territories that hold accounts, how many accounts each holds, and the territory
    position of each account (-1 = none)."""
    def build() -> tuple[pd.Index, np.ndarray, np.ndarray]:
        accounts = _accounts(ds)
        territories = pd.Index(accounts["territory_id"].dropna().unique())
        per_territory = np.bincount(_positions(territories, accounts["territory_id"].dropna()),
                                    minlength=len(territories))
        return territories, per_territory, _positions(territories, accounts["territory_id"])

    return ds.memo(("metrics.account_territories",), build)


# ---------------------------------------------------------------------------------------------
# One period, every rep: per-rep sums and counts, plus the few rows that medians and distinct
# counts need, computed once per Dataset and period. Any grouping of the roster (the reps of a
# scope, territories, regions, the team) sums these per-rep parts, so a scope change or a roll-up
# never goes back to the millions of raw rows, and ratios roll up from summed parts.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Grouping:
    """The reps in scope, where they sit on the whole roster, and the group each belongs to."""

    reps: pd.DataFrame        # ROSTER_COLUMNS of the reps in scope
    pos: np.ndarray           # position of each on the whole roster
    group: np.ndarray         # group code of each
    n: int                    # number of groups
    n_all: int                # reps on the whole roster

    @cached_property
    def of_rep(self) -> np.ndarray:
        """Group of each whole-roster position, -1 out of scope; one extra -1 at the end, so a
        row whose rep is not on the roster (r = -1) maps to -1 too."""
        out = np.full(self.n_all + 1, -1, dtype=np.int64)
        out[self.pos] = self.group
        return out

    def sum(self, per_rep: np.ndarray) -> np.ndarray:
        """Σ per group of a per-rep (whole roster) count or sum."""
        return np.bincount(self.group, weights=per_rep[self.pos], minlength=self.n).astype("float64")

    def to_groups(self, per_rep: np.ndarray) -> np.ndarray:
        """Σ per group of a per-rep (whole roster) value, NaN where no rep of the group has one."""
        v = per_rep[self.pos]
        known = ~np.isnan(v)
        total = np.bincount(self.group, weights=np.where(known, v, 0.0), minlength=self.n)
        return np.where(np.bincount(self.group, weights=known, minlength=self.n) > 0, total, np.nan)

    def median(self, rows: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Median per group of (rep position, value) rows."""
        r, values = rows
        g = self.of_rep[r]
        inside = g >= 0
        return pd.Series(values[inside]).groupby(g[inside]).median().reindex(range(self.n)).to_numpy()

    @property
    def reps_per_group(self) -> np.ndarray:
        return np.bincount(self.group, minlength=self.n).astype("float64")


def _grouping(ds: Dataset, scope: Scope, key: str | None = None) -> tuple[_Grouping, pd.Index]:
    """The reps in scope grouped by roster column `key` (sorted keys), all together (key "team",
    labelled with the scope), or each rep its own group (key None)."""
    whole = _whole_roster(ds)
    inside = _in_scope(whole, scope)
    reps = whole[inside].reset_index(drop=True)
    if key is None:
        codes, keys = np.arange(len(reps)), pd.Index(reps["rep_id"])
    elif key == "team":
        codes, keys = np.zeros(len(reps)), pd.Index([scope.label] if len(reps) else [])
    else:
        codes, keys = pd.factorize(reps[key].fillna(UNASSIGNED), sort=True)   # reps with no manager
    return _Grouping(reps, np.flatnonzero(inside), codes.astype(np.int64), len(keys), len(whole)), pd.Index(keys)


def _between(dates: pd.Series, start: date, end: date) -> pd.Series:
    return (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))


def _day(d: date | pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(d), "ns")


def _within(days: np.ndarray, start: date, end: date) -> np.ndarray:
    """days inside [start, end] (NaT is not)."""
    return (days >= _day(start)) & (days <= _day(end))


def _per_rep(r: np.ndarray, where: np.ndarray, n_all: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Count (or Σ weights) of the rows `where` per whole-roster rep."""
    return np.bincount(r[where], weights=None if weights is None else weights[where],
                       minlength=n_all).astype("float64")


def _count(g: np.ndarray, n: int, where: np.ndarray | None = None) -> np.ndarray:
    w = None if where is None else np.asarray(where, dtype="float64")
    return np.bincount(g, weights=w, minlength=n).astype("float64")


def _sum(g: np.ndarray, n: int, values: pd.Series | np.ndarray) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, dtype="float64"))
    return np.bincount(g, weights=v, minlength=n)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _pair_keys(g: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    return g.astype(np.int64) * k + codes


def _period_parts(ds: Dataset, period: Period) -> dict:
    """Every per-rep part of `period` (whole roster), computed once per Dataset and period.
    A table that is absent contributes no parts; its KPIs are NaN."""
    def build() -> dict:
        n_all = len(_whole_roster(ds))
        parts: dict = {}
        for fn in (_sales_parts, _quota_parts, _opportunity_parts, _activity_parts, _follow_up_parts,
                   _training_parts, _incentive_parts):
            parts |= fn(ds, period, n_all)
        return parts

    return ds.memo(("metrics.period", period.start, period.end), build)


def _sales_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    """Revenue in the period, a year earlier and over the trailing 12 months; the (rep, account)
    revenue of the period and of the one before (accounts count once per group, so they are kept
    per account); which accounts are new in the period."""
    if not has_sales(ds):
        return {}
    a = _rows_of(ds, "sales")
    r, d, rev = a["r"], a["date"], a["revenue"]
    prev, yoy = period.previous(), period.year_earlier()
    t12_start = (period.end_ts - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
    lo = min(period.start, prev.start, yoy.start, t12_start)
    on = r >= 0
    in_p, in_prev = on & _within(d, period.start, period.end), on & _within(d, prev.start, prev.end)
    return {
        "revenue": _per_rep(r, in_p, n_all, rev),
        "revenue_prior_year": _per_rep(r, on & _within(d, yoy.start, yoy.end), n_all, rev),
        "revenue_12m": _per_rep(r, on & _within(d, t12_start, period.end), n_all, rev),
        "account_rows": _per_rep(r, on & _within(d, lo, period.end) & (a["acc"] >= 0), n_all),
        "accounts_now": _rep_accounts(a, in_p), "accounts_before": _rep_accounts(a, in_prev),
        "new_account": ~(a["first_bought"] < _day(period.start)),
    }


def _rep_accounts(a: _Arrays, where: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rep, account, Σ revenue of each (rep, account) pair among the rows `where`."""
    k = max(len(a["first_bought"]), 1)
    m = where & (a["acc"] >= 0)
    keys, inverse = np.unique(_pair_keys(a["r"][m], a["acc"][m], k), return_inverse=True)
    return keys // k, keys % k, np.bincount(inverse, weights=a["revenue"][m], minlength=len(keys))


def _period_value(ds: Dataset, name: str, period: Period, n_all: int) -> np.ndarray:
    """Σ of a month-spread value (quotas, incentives) over the period, partial months pro rata
    by days, per rep; NaN for reps with no row in the period."""
    a = _rows_of(ds, name)
    weights = _month_weights(period.start, period.end)
    at = a["month"] - weights.index[0]
    inside = (at >= 0) & (at < len(weights)) & (a["r"] >= 0)
    w = weights.to_numpy()[at[inside]]
    r = a["r"][inside]
    total = np.bincount(r, weights=a["value"][inside] * w, minlength=n_all)
    return np.where(np.bincount(r, minlength=n_all) > 0, total, np.nan)


def _quota_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    return {"rep_quota": _rep_period_quota(ds, period, n_all)} if ds.has("quotas") else {}


def _rep_period_quota(ds: Dataset, period: Period, n_all: int) -> np.ndarray:
    """Quota of each whole-roster rep for the period (NaN: no quota row, or not yet employed)."""
    return np.where(not_employed(ds, period), np.nan, _period_value(ds, "quotas", period, n_all))


def period_quota(ds: Dataset, period: Period) -> pd.Series:
    """Quota per rep_id for the period, as the quota KPI counts it (spread over months, partial
    months by days, a rep-month's total else Σ its product quotas, employment applied); reps
    without a quota in the period are left out. Empty without a quotas table."""
    if not ds.has("quotas"):
        return pd.Series(dtype="float64", name="quota")
    whole = _whole_roster(ds)
    quota = pd.Series(_rep_period_quota(ds, period, len(whole)), index=whole["rep_id"].to_numpy(), name="quota")
    return quota.dropna()


def _incentive_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    return {"rep_payout": _period_value(ds, "incentives", period, n_all)} if ds.has("incentives") else {}


def _opportunity_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    """Deals won and lost in the period; the deals open now and those open at the period's start
    (all, those with a value, and their value); the cycle of each deal won (for the median)."""
    if not ds.has("opportunities"):
        return {}
    a = _rows_of(ds, "opportunities")
    r, status = a["r"], a["status"]
    closed = (r >= 0) & _within(a["close"], period.start, period.end)
    won = closed & (status == _WON)
    timed = won & ~np.isnan(a["cycle"])
    start = _day(period.start)
    # open at the start: created before it and not closed before it (a deal still open counts)
    open_at_start = (r >= 0) & (a["created"] < start) & ((status == _OPEN) | (a["close"] >= start))
    return {"won": _per_rep(r, won, n_all), "lost": _per_rep(r, closed & (status == _LOST), n_all),
            **_pipeline_parts("open", r, (r >= 0) & (status == _OPEN), a["value"], n_all),
            **_pipeline_parts("start", r, open_at_start, a["value_open"], n_all),
            "cycle": (r[timed], a["cycle"][timed]), "pipeline_at_start": pipeline_at_start(ds, period)}


def _pipeline_parts(prefix: str, r: np.ndarray, is_open: np.ndarray, value: np.ndarray, n_all: int) -> dict:
    valued = is_open & ~np.isnan(value)
    return {f"{prefix}_deals": _per_rep(r, is_open, n_all), f"{prefix}_valued": _per_rep(r, valued, n_all),
            f"{prefix}_value": _per_rep(r, valued, n_all, value)}


def pipeline_at_start(ds: Dataset, period: Period) -> bool:
    """Whether the period is over in the data (the data reaches its last day): then its coverage
    is the pipeline open at its start (start_pipeline) over its quota — what the reps had to work
    with — not today's pipeline over what it missed."""
    end = data_end(ds)
    return end is not None and period.end_ts <= end


def _activity_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    """Activities of the period per rep and type, plan flag and contact role; the distinct
    (rep, account) pairs touched (for reach)."""
    if not ds.has("activities"):
        return {}
    a = _rows_of(ds, "activities")
    m = (a["r"] >= 0) & _within(a["date"], period.start, period.end)
    r = a["r"][m].astype(np.int64)

    def by_code(codes: np.ndarray, k: int) -> np.ndarray:
        return np.bincount(r * k + codes[m], minlength=n_all * k).reshape(n_all, k).astype("float64")

    kind = by_code(a["kind"], len(FACE_TO_FACE) + 2)
    planned = by_code(a["planned"], 3)
    role = by_code(a["role"], len(_ROLES) + 2)
    out = {"meetings": kind[:, 1:len(FACE_TO_FACE) + 1].sum(axis=1), "presentations": kind[:, _PRESENTATION],
           "workshops": kind[:, _WORKSHOP], "meeting_type": kind[:, _MEETING],
           "planned": planned[:, 2], "planned_known": planned[:, 1] + planned[:, 2],
           "role_known": role[:, 1:].sum(axis=1)}
    out |= {f"role_{name}": role[:, i + 1] for i, name in enumerate(_ROLES)}
    if "acc" in a:
        k = max(len(_accounts(ds)), 1)
        touched = m & (a["acc"] >= 0)
        pairs = np.unique(_pair_keys(a["r"][touched], a["acc"][touched], k))
        out["touched"] = (pairs // k, pairs % k)
    return out


def _follow_up_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    """Follow-ups due in the period up to the as-of day (min(period end, last day in the data)),
    those done on time, the days late of the others (for the median), and those overdue and
    open as of that day."""
    if not ds.has("follow_ups"):
        return {}
    a = _rows_of(ds, "follow_ups")
    end = data_end(ds)
    as_of = _day(period.end_ts if end is None else min(period.end_ts, end))
    r, due, done = a["r"], a["due"], a["done"]
    on = r >= 0
    in_p = on & (due >= _day(period.start)) & (due <= as_of)
    on_time = done <= due                         # NaT compares False: open counts as late
    late = in_p & ~on_time
    late_by = (np.where(np.isnat(done[late]), as_of, done[late]) - due[late]) // np.timedelta64(1, "D")
    overdue = on & (due < as_of) & (np.isnat(done) | (done > as_of))
    return {"follow_ups_due": _per_rep(r, in_p, n_all), "follow_ups_on_time": _per_rep(r, in_p & on_time, n_all),
            "overdue_open_follow_ups": _per_rep(r, overdue, n_all),
            "late": (r[late], late_by.astype("float64"))}


def _training_parts(ds: Dataset, period: Period, n_all: int) -> dict:
    if not ds.has("training"):
        return {}
    a = _rows_of(ds, "training")
    m = (a["r"] >= 0) & _within(a["date"], period.start, period.end) & ~np.isnan(a["score"])
    return {"score_sum": _per_rep(a["r"], m, n_all, a["score"]), "scores": _per_rep(a["r"], m, n_all)}


# ---------------------------------------------------------------------------------------------
# KPIs of a grouping, from the period's parts
# ---------------------------------------------------------------------------------------------

def _sales_kpis(ds: Dataset, parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "revenue" not in parts:
        return {k: _nan(n) for k in ("revenue", "revenue_prior_year", "growth", "market_share",
                                     "active_accounts", "new_accounts", "retention_rate", "churn_rate")}
    out = {"revenue": grouping.sum(parts["revenue"]),
           "revenue_prior_year": grouping.sum(parts["revenue_prior_year"])}
    out["growth"] = _ratio(out["revenue"], out["revenue_prior_year"]) - 1
    out["market_share"] = _ratio(grouping.sum(parts["revenue_12m"]), _group_potential(ds, grouping))
    return out | _account_kpis(parts, grouping)


def _group_potential(ds: Dataset, grouping: _Grouping) -> np.ndarray:
    """Σ annual potential of the distinct territories of each group (NaN when unknown)."""
    pot = territory_potential(ds)
    pairs = pd.DataFrame({"g": grouping.group, "t": grouping.reps["territory_id"].to_numpy()}).drop_duplicates()
    p = pairs["t"].map(pot).to_numpy(dtype="float64")
    known = ~np.isnan(p)
    total = np.bincount(pairs["g"].to_numpy()[known], weights=p[known], minlength=grouping.n)
    return np.where(np.bincount(pairs["g"].to_numpy()[known], minlength=grouping.n) > 0, total, np.nan)


def _account_kpis(parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    """Active, new and retained accounts, counted once per (group, account): an account is active
    for a group when the group's revenue from it in the period is > 0."""
    n = grouping.n
    names = ("active_accounts", "new_accounts", "retention_rate", "churn_rate")
    if grouping.sum(parts["account_rows"]).sum() == 0:
        return {k: _nan(n) for k in names}
    k = max(len(parts["new_account"]), 1)
    cur = _active_pairs(parts["accounts_now"], grouping, k)
    new = cur[parts["new_account"][cur % k]]
    prior = _active_pairs(parts["accounts_before"], grouping, k)
    retained = prior[np.isin(prior, cur)]
    retention = _ratio(_count(retained // k, n), _count(prior // k, n))
    return {"active_accounts": _count(cur // k, n), "new_accounts": _count(new // k, n),
            "retention_rate": retention, "churn_rate": 1 - retention}


def _active_pairs(rep_accounts: tuple[np.ndarray, np.ndarray, np.ndarray], grouping: _Grouping,
                  k: int) -> np.ndarray:
    """(group, account) keys whose Σ revenue is > 0."""
    rep, acc, revenue = rep_accounts
    g = grouping.of_rep[rep]
    inside = g >= 0
    keys, inverse = np.unique(_pair_keys(g[inside], acc[inside], k), return_inverse=True)
    return keys[np.bincount(inverse, weights=revenue[inside], minlength=len(keys)) > 0]


def _quota_kpis(parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    """Quota, attainment, gap and remaining quota. A group's attainment is Σ revenue / Σ quota
    over its reps that have a quota (revenue of reps without one would inflate it)."""
    rep_quota = parts.get("rep_quota", _nan(grouping.n_all))
    rep_revenue = parts.get("revenue", _nan(grouping.n_all))
    with_quota = rep_quota > 0
    quota_q = np.where(with_quota, rep_quota, np.nan)
    rep_rev = np.where(with_quota, rep_revenue, np.nan)
    quota, revenue_q = grouping.to_groups(quota_q), grouping.to_groups(rep_rev)
    remaining = grouping.to_groups(np.clip(quota_q - rep_rev, 0, None))
    return {"quota": grouping.to_groups(rep_quota), "attainment": _ratio(revenue_q, quota),
            "gap": quota - revenue_q, "remaining_quota": remaining}


def _opportunity_kpis(parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "won" not in parts:
        return {k: _nan(n) for k in ("won", "lost", "win_rate", "sales_cycle_days", "open_pipeline",
                                     "start_pipeline")}
    won, lost = grouping.sum(parts["won"]), grouping.sum(parts["lost"])
    return {"won": won, "lost": lost, "win_rate": _ratio(won, won + lost),
            "sales_cycle_days": grouping.median(parts["cycle"]), "open_pipeline": _open_pipeline(parts, grouping),
            "start_pipeline": _open_pipeline(parts, grouping, "start")}


def _open_pipeline(parts: dict, grouping: _Grouping, prefix: str = "open") -> np.ndarray:
    """Σ value of the open deals (now, or with prefix "start" at the period's start): the amount,
    else the product's list price (products table). A group whose open deals all lack a value is
    NaN (unknown, not 0); no open deals is 0."""
    valued = grouping.sum(parts[f"{prefix}_valued"])
    if valued.sum() == 0:
        return _nan(grouping.n)
    unknown = (grouping.sum(parts[f"{prefix}_deals"]) > 0) & (valued == 0)
    return np.where(unknown, np.nan, grouping.sum(parts[f"{prefix}_value"]))


def _pipeline_coverage(parts: dict, grouping: _Grouping, kpis: dict[str, np.ndarray]) -> np.ndarray:
    """Open pipeline ÷ what it has to cover. A finished period: the pipeline open at its start
    (start_pipeline) of the reps with a quota ÷ their quota. A period under way: the pipeline open now ÷ the quota
    still to win (Σ shortfall of the reps below quota)."""
    if not parts.get("pipeline_at_start"):
        return _ratio(kpis["open_pipeline"], kpis["remaining_quota"])
    rep_quota = parts.get("rep_quota", _nan(grouping.n_all))
    with_quota = rep_quota > 0
    pipeline = grouping.to_groups(np.where(with_quota, parts["start_value"], np.nan))
    return _ratio(pipeline, grouping.to_groups(np.where(with_quota, rep_quota, np.nan)))


def _activity_kpis(ds: Dataset, period: Period, parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    """Activity counts and rates. Rates per week/quarter are per rep: a group's Σ is divided by
    its number of reps, so they compare with the per-rep targets."""
    n = grouping.n
    names = ("meetings", "meetings_per_week", "presentations", "presentations_per_quarter",
             "workshops", "workshops_per_quarter", "reach", "planned", "planned_known",
             "call_plan_adherence", "share_user", "share_buyer", "share_admin", "_meeting_type")
    if "meetings" not in parts:
        return {k: _nan(n) for k in names}
    out = {k: grouping.sum(parts[k]) for k in ("meetings", "presentations", "workshops", "planned",
                                                "planned_known")}
    out["_meeting_type"] = grouping.sum(parts["meeting_type"])
    rep_days = period.days * grouping.reps_per_group
    out["meetings_per_week"] = _ratio(out["meetings"] * 7, rep_days)
    out["presentations_per_quarter"] = _ratio(out["presentations"] * 91, rep_days)
    out["workshops_per_quarter"] = _ratio(out["workshops"] * 91, rep_days)
    out["call_plan_adherence"] = _ratio(out["planned"], out["planned_known"])
    known_role = grouping.sum(parts["role_known"])
    for r in _ROLES:
        out[f"share_{r}"] = _ratio(grouping.sum(parts[f"role_{r}"]), known_role)
    out["reach"] = _reach(ds, parts, grouping)
    return out


def _reach(ds: Dataset, parts: dict, grouping: _Grouping) -> np.ndarray:
    """Distinct accounts of the group's own territories with ≥ 1 activity / accounts there."""
    n = grouping.n
    if "touched" not in parts:
        return _nan(n)
    territories, per_territory, territory_of = _account_territories(ds)
    own = pd.DataFrame({"g": grouping.group,
                        "t": territories.get_indexer(grouping.reps["territory_id"])}).drop_duplicates()
    own = own[own["t"] >= 0]
    denominator = _sum(own["g"].to_numpy(), n, per_territory[own["t"].to_numpy()])
    rep, acc = parts["touched"]
    g = grouping.of_rep[rep]
    terr = territory_of[acc]
    k_t, k_a = max(len(territories), 1), max(len(territory_of), 1)
    mine = (g >= 0) & (terr >= 0) & np.isin(_pair_keys(g, terr, k_t),
                                            _pair_keys(own["g"].to_numpy(), own["t"].to_numpy(), k_t))
    reached = np.unique(_pair_keys(g[mine], acc[mine], k_a))
    return _ratio(_count(reached // k_a, n), denominator)


def _follow_up_kpis(parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "follow_ups_due" not in parts:
        return {k: _nan(n) for k in ("follow_ups_due", "follow_ups_on_time", "on_time_follow_up_rate",
                                     "days_late", "overdue_open_follow_ups")}
    due, on_time = grouping.sum(parts["follow_ups_due"]), grouping.sum(parts["follow_ups_on_time"])
    return {"follow_ups_due": due, "follow_ups_on_time": on_time, "on_time_follow_up_rate": _ratio(on_time, due),
            "days_late": grouping.median(parts["late"]),
            "overdue_open_follow_ups": grouping.sum(parts["overdue_open_follow_ups"])}


def _training_kpis(parts: dict, grouping: _Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if "score_sum" not in parts:
        return {"knowledge_quotient": _nan(n), "_score_sum": _nan(n)}
    score_sum = grouping.sum(parts["score_sum"])
    return {"knowledge_quotient": _ratio(score_sum, grouping.sum(parts["scores"])), "_score_sum": score_sum}


def _incentive_kpis(parts: dict, grouping: _Grouping, revenue: np.ndarray) -> dict[str, np.ndarray]:
    """Payout in the period (incentive periods spread like quotas). A rep without a payout row
    while others in scope were paid for the period got 0; nobody paid = not known."""
    n = grouping.n
    per_rep = parts.get("rep_payout")
    if per_rep is None or np.isnan(per_rep[grouping.pos]).all():
        return {"payout": _nan(n), "cost_of_sales": _nan(n)}
    payout = grouping.to_groups(np.nan_to_num(per_rep))
    return {"payout": payout, "cost_of_sales": _ratio(payout, np.where(revenue > 0, revenue, np.nan))}


def _points(parts: dict[str, np.ndarray], settings: Settings) -> np.ndarray:
    """The editable points scheme; a missing table adds nothing, all missing = NaN."""
    p = settings.points
    terms = np.vstack([parts["_meeting_type"] * p.meeting, parts["presentations"] * p.presentation,
                       parts["workshops"] * p.workshop, parts["follow_ups_on_time"] * p.follow_up_on_time,
                       parts["_score_sum"] * p.training_per_score_point])
    return np.where(np.isnan(terms).all(axis=0), np.nan, np.nansum(terms, axis=0))


def _compute(ds: Dataset, period: Period, settings: Settings, grouping: _Grouping) -> pd.DataFrame:
    """Every KPI column for each group of `grouping`, in KPI_COLUMNS order."""
    parts = _period_parts(ds, period)
    kpis = _sales_kpis(ds, parts, grouping)
    kpis |= _quota_kpis(parts, grouping)
    kpis |= _opportunity_kpis(parts, grouping)
    kpis["pipeline_coverage"] = _pipeline_coverage(parts, grouping, kpis)
    kpis |= _activity_kpis(ds, period, parts, grouping)
    kpis |= _follow_up_kpis(parts, grouping)
    kpis |= _training_kpis(parts, grouping)
    kpis |= _incentive_kpis(parts, grouping, kpis["revenue"])
    kpis["points"] = _points(kpis, settings)
    return pd.DataFrame({k: kpis[k] for k in KPI_COLUMNS})


def _ramping(reps: pd.DataFrame, period: Period, settings: Settings) -> pd.Series:
    """Hired less than ramp_months months before the period end."""
    cutoff = period.end_ts - pd.DateOffset(months=settings.thresholds.ramp_months)
    return (reps["hire_date"] > cutoff).fillna(False).astype(bool)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def rep_kpis(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """One row per rep in scope (all of the roster, even without data), REP_KPI_COLUMNS."""
    grouping, _ = _grouping(ds, scope)
    reps = grouping.reps
    kpis = _compute(ds, period, settings, grouping)
    # Not yet employed and nothing sold: the revenue is n/a, not a 0 (sales, if any, still show)
    absent = not_employed(ds, period)[grouping.pos] & (kpis["revenue"].to_numpy() == 0)
    kpis.loc[absent, "revenue"] = np.nan
    out = pd.concat([reps, kpis], axis=1).assign(ramping=_ramping(reps, period, settings).to_numpy())
    return out[REP_KPI_COLUMNS]


def rollup(ds: Dataset, period: Period, settings: Settings, level: str,
           scope: Scope = Scope()) -> pd.DataFrame:
    """KPIs per territory, region, first-line manager or the whole team: key column(s), reps, ramping_reps, then
    KPI_COLUMNS recomputed from the group's parts (sums of parts, medians of the group's rows).
    remaining_quota of a group is its shortfall: Σ max(0, gap) over reps below quota."""
    if level not in _LEVEL_KEYS:
        raise ValueError(f"level must be one of {sorted(_LEVEL_KEYS)}, not {level!r}")
    key = _LEVEL_KEYS[level]
    grouping, keys = _grouping(ds, scope, key)
    reps, codes = grouping.reps, grouping.group
    head = pd.DataFrame({key: pd.Series(keys, dtype="str")})
    if level == "territory":
        head["region"] = reps.groupby(codes)["region"].first().reindex(range(len(keys))).to_numpy()
    head["reps"] = np.bincount(codes, minlength=len(keys))
    head["ramping_reps"] = np.bincount(codes, weights=_ramping(reps, period, settings),
                                       minlength=len(keys)).astype(np.int64)
    return pd.concat([head, _compute(ds, period, settings, grouping)], axis=1)


def team_kpis(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.Series:
    """The team row of `rollup(..., "team")` (every KPI of the reps in scope together)."""
    table = rollup(ds, period, settings, "team", scope)
    if table.empty:
        return pd.Series({"team": scope.label, "reps": 0, "ramping_reps": 0} | {k: np.nan for k in KPI_COLUMNS})
    return table.iloc[0]


def attainment_distribution(kpis: pd.DataFrame) -> dict:
    """How attainment is spread over the reps with a quota: share per band (left-closed:
    100 % exactly is in "100–120%"), counts, median, quartiles, spread (IQR), share at goal, n."""
    a = kpis["attainment"].dropna()
    counts = pd.cut(a, _BAND_EDGES, right=False, labels=list(BANDS)).value_counts().reindex(list(BANDS))
    n = int(len(a))
    q1, q3 = (a.quantile(0.25), a.quantile(0.75)) if n else (np.nan, np.nan)
    return {
        "n": n,
        "counts": {b: int(c) for b, c in counts.items()},
        "bands": {b: (c / n if n else np.nan) for b, c in counts.items()},
        "median": float(a.median()) if n else np.nan,
        "q1": float(q1), "q3": float(q3), "spread": float(q3 - q1),
        "share_at_goal": float((a >= 1.0).mean()) if n else np.nan,
    }


def peer_percentiles(kpis: pd.DataFrame) -> pd.DataFrame:
    """rep_id and, per KPI of KPIS, `<kpi>_pct_team` and `<kpi>_pct_role`: the rep's percentile
    (0–100, ties averaged) among all reps / reps of the same role. For lower-is-better KPIs the
    order is reversed, so a higher percentile always means better. NaN stays NaN."""
    cols = [k for k in KPIS if k in kpis.columns]
    signed = pd.DataFrame({k: kpis[k].astype("float64") * (1 if KPIS[k].higher_is_better else -1)
                           for k in cols}, index=kpis.index)
    team = signed.rank(pct=True).mul(100).add_suffix("_pct_team")
    role = signed.groupby(kpis["role"].to_numpy()).rank(pct=True).mul(100).add_suffix("_pct_role")
    out = pd.concat([kpis[["rep_id"]], team, role], axis=1)
    return out[["rep_id"] + [f"{k}_pct_{s}" for k in cols for s in ("team", "role")]]


def product_mix(ds: Dataset, period: Period, scope: Scope = Scope()) -> pd.DataFrame:
    """product, revenue, share (of the period's revenue), quota (Σ product quotas), attainment."""
    cols = ["product", "revenue", "share", "quota", "attainment"]
    if not has_sales(ds):
        return pd.DataFrame(columns=cols)
    grouping, _ = _grouping(ds, scope)
    a = _rows_of(ds, "sales")
    inside = (grouping.of_rep[a["r"]] >= 0) & _within(a["date"], period.start, period.end)
    revenue = sales_table(ds)[inside].groupby("product")["revenue"].sum()
    qm = quota_by_month(ds)
    qm = qm[qm["product"].notna() & qm["rep_id"].isin(grouping.reps["rep_id"])]
    weights = _month_weights(period.start, period.end)
    w = pd.Series(_month_number(qm["month"].to_numpy()), index=qm.index).map(weights)
    quota = (qm["quota"] * w).groupby(qm["product"]).sum(min_count=1)
    out = pd.concat([revenue.rename("revenue"), quota.rename("quota")], axis=1)
    out.index.name = "product"
    out = out.reset_index()
    total = out["revenue"].sum()
    out["share"] = out["revenue"] / total if total > 0 else np.nan
    out["attainment"] = _ratio(out["revenue"].fillna(0).to_numpy(), out["quota"].to_numpy())
    return out.sort_values("revenue", ascending=False, na_position="last")[cols].reset_index(drop=True)


def biggest_movers(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope(),
                   n: int = 5) -> pd.DataFrame:
    """rep_id, rep_name, region, attainment, attainment_previous, change: the n reps whose
    attainment changed most (either way) since period.previous(). Both periods' parts are
    memoized on the Dataset, so the previous period is computed once, not per scope."""
    now = rep_kpis(ds, period, settings, scope)
    before = rep_kpis(ds, period.previous(), settings, scope)
    out = now[["rep_id", "rep_name", "region", "attainment"]].assign(
        attainment_previous=before["attainment"].to_numpy())
    out["change"] = out["attainment"] - out["attainment_previous"]
    order = out["change"].abs().sort_values(ascending=False).dropna().index
    return out.loc[order].head(n).reset_index(drop=True)


def pay_for_performance(kpis: pd.DataFrame) -> float:
    """Spearman rank correlation of payout and attainment across reps (NaN with < 3 reps)."""
    both = kpis[["payout", "attainment"]].dropna()
    if len(both) < 3:
        return float("nan")
    return float(both["payout"].rank().corr(both["attainment"].rank()))


# ---------------------------------------------------------------------------------------------
# Monthly series: every month at once, on rep × month arrays
# ---------------------------------------------------------------------------------------------

def _month_axis(start: date, end: date) -> tuple[int, int]:
    first = int(_month_number([pd.Timestamp(start)])[0])
    return first, int(_month_number([pd.Timestamp(end)])[0]) - first + 1


def _rep_month_cells(grouping: _Grouping, r: np.ndarray, months: np.ndarray | None,
                     days: np.ndarray | None, first: int, n_months: int,
                     where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows of reps in scope inside the month axis (of `where`, if given), and the flat
    rep × month cell of each. Rows carry month numbers (`months`) or days (`days`)."""
    if months is None:
        lo, hi = _month_start(np.array([first, first + n_months])).to_numpy()
        inside = (days >= lo) & (days < hi)
    else:
        inside = (months >= first) & (months < first + n_months)
    inside &= grouping.of_rep[r] >= 0
    if where is not None:
        inside &= where
    rows = np.flatnonzero(inside)
    month = months[rows] if months is not None else _month_number(days[rows])
    return rows, grouping.of_rep[r[rows]] * n_months + (month - first)


def _rep_month(cells: np.ndarray, n_reps: int, n_months: int,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Σ weights (or a count) per rep × month cell as an (n_reps, n_months) array."""
    w = None if weights is None else np.nan_to_num(np.asarray(weights, dtype="float64"))
    return np.bincount(cells, weights=w, minlength=n_reps * n_months).reshape(n_reps, n_months).astype("float64")


def _by_grouping(reps: pd.DataFrame, by: str | None) -> tuple[np.ndarray, pd.Index]:
    if by is None:
        return np.zeros(len(reps), dtype=np.int64), pd.Index(["all"])
    codes, keys = pd.factorize(reps[by], sort=True)
    return codes.astype(np.int64), pd.Index(keys)


def _to_long(arrays: dict[str, np.ndarray], first: int, keys: pd.Index, by: str | None) -> pd.DataFrame:
    """(groups, months) arrays → long frame month, [by], one column per array."""
    n_groups, n_months = next(iter(arrays.values())).shape
    out = pd.DataFrame({"month": np.tile(_month_start(first + np.arange(n_months)), n_groups)})
    if by is not None:
        out[by] = pd.Series(np.repeat(keys.to_numpy(), n_months), dtype="str")
    for name, arr in arrays.items():
        out[name] = arr.reshape(-1)
    return out


def _group_sum(arr: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups, arr.shape[1]))
    np.add.at(out, codes, np.nan_to_num(arr))
    return out


def monthly(ds: Dataset, start: date, end: date, settings: Settings, scope: Scope = Scope(),
            by: str | None = None) -> pd.DataFrame:
    """Every month touched by [start, end]: month, [by], revenue, quota, attainment, with by in
    None (team), "region", "rep_id" or "product" (quota = product quotas). Attainment of a group
    of reps counts only the revenue of reps that had a quota that month."""
    if by not in (None, "region", "rep_id", "product"):
        raise ValueError(f"by must be None, 'region', 'rep_id' or 'product', not {by!r}")
    grouping, _ = _grouping(ds, scope)
    reps = grouping.reps
    first, n_months = _month_axis(start, end)
    if by == "product":
        return _monthly_by_product(ds, grouping, first, n_months)
    n_reps = len(reps)
    revenue = np.full((n_reps, n_months), np.nan)
    if has_sales(ds):
        a = _rows_of(ds, "sales")
        rows, cells = _rep_month_cells(grouping, a["r"], None, a["date"], first, n_months)
        revenue = _rep_month(cells, n_reps, n_months, a["revenue"][rows])
    quota = np.full((n_reps, n_months), np.nan)
    if ds.has("quotas"):
        a = _rows_of(ds, "quotas")
        rows, cells = _rep_month_cells(grouping, a["r"], a["month"], None, first, n_months)
        count = _rep_month(cells, n_reps, n_months)
        total = _rep_month(cells, n_reps, n_months, a["value"][rows])
        quota = np.where(count > 0, total, np.nan)
    codes, keys = _by_grouping(reps, by)
    with_quota = quota > 0
    g_rev = _group_sum(revenue, codes, len(keys))
    g_quota = _group_sum(np.where(with_quota, quota, 0), codes, len(keys))
    g_rev_q = _group_sum(np.where(with_quota, revenue, 0), codes, len(keys))
    has_quota = _group_sum(with_quota.astype(float), codes, len(keys)) > 0
    if not has_sales(ds):
        g_rev = g_rev_q = np.full_like(g_rev, np.nan)
    known = _sales_months_known(ds, first, n_months)
    g_rev, g_rev_q = np.where(known, g_rev, np.nan), np.where(known, g_rev_q, np.nan)
    return _to_long({"revenue": g_rev, "quota": np.where(has_quota, g_quota, np.nan),
                     "attainment": np.where(has_quota, _ratio(g_rev_q, g_quota), np.nan)},
                    first, keys, by)


def _sales_months_known(ds: Dataset, first: int, n_months: int) -> np.ndarray:
    """Which months of the axis the sales data covers (from the month of its first sale to the
    month of its last, whole team): outside it revenue is unknown (a gap), not $0."""
    if not has_sales(ds):
        return np.zeros(n_months, dtype=bool)
    days = _rows_of(ds, "sales")["date"]
    days = days[~np.isnat(days)]
    if not len(days):
        return np.zeros(n_months, dtype=bool)
    lo, hi = _month_number(np.array([days.min(), days.max()]))
    axis = first + np.arange(n_months)
    return (axis >= lo) & (axis <= hi)


def _monthly_by_product(ds: Dataset, grouping: _Grouping, first: int, n_months: int) -> pd.DataFrame:
    lo, hi = _month_start(np.array([first, first + n_months]))
    frames = []
    if has_sales(ds):
        a = _rows_of(ds, "sales")
        rows, _ = _rep_month_cells(grouping, a["r"], None, a["date"], first, n_months)
        lines = sales_table(ds).take(rows)
        frames.append(lines.assign(month=_month_start(_month_number(a["date"][rows])))
                      .groupby(["product", "month"])["revenue"].sum())
    qm = quota_by_month(ds)
    qm = qm[qm["product"].notna() & qm["rep_id"].isin(grouping.reps["rep_id"]) & (qm["month"] >= lo)
            & (qm["month"] < hi)]
    frames.append(qm.groupby(["product", "month"])["quota"].sum())
    out = pd.concat(frames, axis=1).reindex(columns=["revenue", "quota"]).reset_index()
    if has_sales(ds):
        known = _sales_months_known(ds, first, n_months)[_month_number(out["month"].to_numpy()) - first]
        out["revenue"] = out["revenue"].fillna(0.0).where(known)
    out["attainment"] = _ratio(out["revenue"].to_numpy(dtype="float64"), out["quota"].to_numpy(dtype="float64"))
    return out[["month", "product", "revenue", "quota", "attainment"]].sort_values(["product", "month"],
                                                                                  ignore_index=True)


def monthly_activity(ds: Dataset, start: date, end: date, scope: Scope = Scope(),
                     by: str | None = "rep_id") -> pd.DataFrame:
    """Per month (every month touched by [start, end]) and rep (or by="region", or None = team):
    month, [by], meetings, meetings_per_week (per rep), planned, planned_known,
    call_plan_adherence, follow_ups_due, follow_ups_on_time, on_time_follow_up_rate.
    NaN where the table is missing."""
    if by not in (None, "region", "rep_id"):
        raise ValueError(f"by must be None, 'region' or 'rep_id', not {by!r}")
    grouping, _ = _grouping(ds, scope)
    reps = grouping.reps
    first, n_months = _month_axis(start, end)
    n_reps = len(reps)
    codes, keys = _by_grouping(reps, by)
    nan = np.full((len(keys), n_months), np.nan)
    parts = dict.fromkeys(("meetings", "planned", "planned_known", "follow_ups_due", "follow_ups_on_time"), nan)
    if ds.has("activities"):
        a = _rows_of(ds, "activities")
        rows, cells = _rep_month_cells(grouping, a["r"], None, a["date"], first, n_months)
        kind, planned = a["kind"][rows], a["planned"][rows]
        for name, w in (("meetings", (kind >= 1) & (kind <= len(FACE_TO_FACE))),
                        ("planned", planned == 2), ("planned_known", planned > 0)):
            parts[name] = _group_sum(_rep_month(cells, n_reps, n_months, w), codes, len(keys))
    if ds.has("follow_ups"):
        a = _rows_of(ds, "follow_ups")
        end_day = data_end(ds)
        due_known = None if end_day is None else a["due"] <= _day(end_day)
        rows, cells = _rep_month_cells(grouping, a["r"], None, a["due"], first, n_months, due_known)
        for name, w in (("follow_ups_due", None), ("follow_ups_on_time", a["done"][rows] <= a["due"][rows])):
            parts[name] = _group_sum(_rep_month(cells, n_reps, n_months, w), codes, len(keys))
    month_days = pd.DatetimeIndex(_month_start(first + np.arange(n_months))).days_in_month.to_numpy()
    rep_weeks = np.outer(np.bincount(codes, minlength=len(keys)), month_days / 7)
    parts["meetings_per_week"] = _ratio(parts["meetings"], rep_weeks)
    parts["call_plan_adherence"] = _ratio(parts["planned"], parts["planned_known"])
    parts["on_time_follow_up_rate"] = _ratio(parts["follow_ups_on_time"], parts["follow_ups_due"])
    order = ["meetings", "meetings_per_week", "planned", "planned_known", "call_plan_adherence",
             "follow_ups_due", "follow_ups_on_time", "on_time_follow_up_rate"]
    return _to_long({k: parts[k] for k in order}, first, keys, by)


def stage_funnel(ds: Dataset, period: Period, scope: Scope = Scope(), by_rep: bool = False) -> pd.DataFrame:
    """stage, status, [rep_id], opportunities, amount: the deals open now per CRM stage in process
    order (core.kpis.stages.stage_order; stage ids shown as their CRM labels) followed by those won and
    lost with close_date in the period. An open deal's amount is its value as in open_pipeline
    (the amount, else the product's list price), so the stages add up to that KPI."""
    cols = ["stage", "status"] + (["rep_id"] if by_rep else []) + ["opportunities", "amount"]
    if not ds.has("opportunities"):
        return pd.DataFrame(columns=cols)
    opps = ds.table("opportunities")
    opps = opps.assign(status=_opportunity_status(ds), value=opportunity_value(ds, opps))
    opps = opps[opps["rep_id"].isin(roster(ds, scope)["rep_id"])]
    is_open = opps["status"] == "open"
    closed = _between(opps["close_date"], period.start, period.end) & opps["status"].isin(["won", "lost"])
    kept = opps[is_open | closed]
    kept = kept.assign(stage=stage_labels(kept["stage"]).where(kept["status"] == "open", kept["status"].str.capitalize()),
                       amount=kept["value"].where(kept["status"] == "open", kept["amount"]))
    keys = ["stage", "status"] + (["rep_id"] if by_rep else [])
    out = kept.groupby(keys, sort=False).agg(opportunities=("opportunity_id", "size"),
                                             amount=("amount", lambda a: a.sum(min_count=1))).reset_index()
    open_ = kept[kept["status"] == "open"]
    end = data_end(ds)
    age = (pd.Timestamp(end) - open_["created_date"]).dt.days if end is not None else open_["created_date"].dt.day * np.nan
    order = {stage: i for i, stage in enumerate(stage_order(open_["stage"], age))}
    rank = np.where(out["status"] == "open", out["stage"].map(order).astype("float64"),
                    out["status"].map({"won": 1e9, "lost": 1e9 + 1}).astype("float64"))
    return (out.assign(_rank=rank).sort_values(["_rank"] + (["rep_id"] if by_rep else []), kind="stable")
            .drop(columns=["_rank"]).reset_index(drop=True)[cols])
