"""Every KPI of kpis.md per rep, rolled up per territory, region and team, and monthly series.

One engine computes every KPI for any grouping of the roster. Each row of each table is mapped to
its rep (an integer code into the roster) and each rep to a group; sums and counts are numpy
bincounts over the group codes. "Per rep" is the grouping where every rep is its own group;
territory, region and team are other groupings. So ratios always roll up from summed numerators
and denominators, medians come from the group's own rows, and an account served by two reps of a
group counts once for that group.

Ratios are fractions (0.63 = 63 %). A KPI whose input table is missing is NaN, never 0; a rep with
no rows in a table that exists gets a real 0 for counts and NaN for ratios without a denominator.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.periods import Period, PeriodError, parse_period
from core.schema import DEFAULT_ROLE, FACE_TO_FACE, OPPORTUNITY_STATUSES, UNASSIGNED
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
_LEVEL_KEYS = {"territory": "territory_id", "region": "region", "team": "team"}


# ---------------------------------------------------------------------------------------------
# Inputs: the roster, the sales source, statuses, quotas and incentives spread over months
# ---------------------------------------------------------------------------------------------

def roster(ds: Dataset, scope: Scope = Scope()) -> pd.DataFrame:
    """The reps in scope with ROSTER_COLUMNS; without a reps table, every rep id the data names."""
    if ds.has("reps"):
        reps = ds.table("reps").drop_duplicates("rep_id")
    else:
        named = [ds.table(t)["rep_id"] for t in _REP_TABLES if ds.has(t)]
        ids = pd.concat(named, ignore_index=True).dropna().unique() if named else []
        reps = pd.DataFrame({"rep_id": pd.Series(ids, dtype="str")})
    out = reps.reindex(columns=ROSTER_COLUMNS)
    out = out.assign(
        rep_id=out["rep_id"].astype("str"),
        rep_name=out["rep_name"].astype("str").fillna(out["rep_id"]),
        region=out["region"].astype("str").fillna(UNASSIGNED),
        territory_id=out["territory_id"].astype("str").fillna(UNASSIGNED),
        role=out["role"].astype("str").fillna(DEFAULT_ROLE),
        manager=out["manager"].astype("str"),
        hire_date=pd.to_datetime(out["hire_date"]).astype("datetime64[ns]"),
    )
    return out[out["rep_id"].isin(scope.rep_ids(out))].reset_index(drop=True)


def has_sales(ds: Dataset) -> bool:
    """Revenue is known: a sales table, or opportunities whose won deals become sales."""
    return ds.has("sales") or ds.has("opportunities")


def sales_table(ds: Dataset) -> pd.DataFrame:
    """The sales lines; without a sales table, won opportunities (amount on close_date)."""
    if ds.has("sales") or not ds.has("opportunities"):
        return ds.table("sales")
    opps = ds.table("opportunities")
    won = opps[(opportunity_status(opps) == "won") & opps["close_date"].notna()]
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
    over the months of their period."""
    q = _spread_by_month(ds.table("quotas"), "quota")
    return q[["rep_id", "month", "product", "quota"]]


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
    cols = [("sales", "date"), ("activities", "date"), ("follow_ups", "completed_date"),
            ("training", "date"), ("opportunities", "created_date"), ("assessments", "date")]
    ends = [ds.table(t)[c].max() for t, c in cols if ds.has(t)]
    if ds.has("opportunities"):
        opps = ds.table("opportunities")
        ends.append(opps.loc[opportunity_status(opps) != "open", "close_date"].max())
    ends = [e for e in ends if pd.notna(e)]
    return max(ends) if ends else None


def territory_potential(ds: Dataset) -> pd.Series:
    """Annual potential per territory_id: territories.market_potential, else Σ account potential."""
    acc = ds.table("accounts")
    from_accounts = acc.groupby("territory_id")["potential"].sum(min_count=1)
    terr = ds.table("territories").drop_duplicates("territory_id").set_index("territory_id")
    given = terr["market_potential"].astype("float64")
    return given.combine_first(from_accounts).astype("float64")


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
# The engine: rows → rep codes → group codes → bincounts
# ---------------------------------------------------------------------------------------------

def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in `index` (-1 when absent or missing). Factorizing first means
    the hash lookup runs over the few distinct ids, not over millions of rows."""
    codes, uniques = pd.factorize(values)
    lookup = np.append(index.get_indexer(uniques), -1)
    return lookup[codes]


@dataclass(frozen=True)
class _Grouping:
    """The roster in scope and the group each rep belongs to."""

    reps: pd.DataFrame        # ROSTER_COLUMNS
    group: np.ndarray         # group code of each roster row
    n: int                    # number of groups

    @property
    def ids(self) -> pd.Index:
        return pd.Index(self.reps["rep_id"])

    def rep_codes(self, rep_ids: pd.Series) -> np.ndarray:
        """Roster position of each row's rep (-1 when out of scope)."""
        return _positions(self.ids, rep_ids)

    def to_groups(self, per_rep: np.ndarray) -> np.ndarray:
        """Σ of a per-rep array per group, NaN where no rep of the group has a value."""
        known = ~np.isnan(per_rep)
        total = np.bincount(self.group, weights=np.where(known, per_rep, 0.0), minlength=self.n)
        return np.where(np.bincount(self.group, weights=known, minlength=self.n) > 0, total, np.nan)

    @property
    def reps_per_group(self) -> np.ndarray:
        return np.bincount(self.group, minlength=self.n).astype("float64")


@dataclass
class _Rows:
    """The rows of one table that belong to reps in scope, with their group codes."""

    frame: pd.DataFrame
    g: np.ndarray             # group code per row
    r: np.ndarray             # rep (roster) code per row


def _rows(table: pd.DataFrame, grouping: _Grouping, mask: pd.Series | None = None) -> _Rows:
    frame = table if mask is None else table[mask.to_numpy()]
    r = grouping.rep_codes(frame["rep_id"])
    inside = r >= 0
    frame, r = frame[inside], r[inside]
    return _Rows(frame, grouping.group[r], r)


def _between(dates: pd.Series, start: date, end: date) -> pd.Series:
    return (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))


def _count(g: np.ndarray, n: int, where: np.ndarray | pd.Series | None = None) -> np.ndarray:
    w = None if where is None else np.asarray(where, dtype="float64")
    return np.bincount(g, weights=w, minlength=n).astype("float64")


def _sum(g: np.ndarray, n: int, values: pd.Series | np.ndarray) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, dtype="float64"))
    return np.bincount(g, weights=v, minlength=n)


def _median(g: np.ndarray, n: int, values: pd.Series | np.ndarray) -> np.ndarray:
    return pd.Series(np.asarray(values, dtype="float64")).groupby(g).median().reindex(range(n)).to_numpy()


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _pair_keys(g: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    return g.astype(np.int64) * k + codes


def _active_pairs(g: np.ndarray, acc: np.ndarray, revenue: np.ndarray, k: int) -> np.ndarray:
    """(group, account) keys whose Σ revenue is > 0."""
    keys, inverse = np.unique(_pair_keys(g, acc, k), return_inverse=True)
    return keys[np.bincount(inverse, weights=revenue) > 0]


def _period_value_per_rep(spread: pd.DataFrame, value: str, period: Period,
                          grouping: _Grouping) -> np.ndarray:
    """Σ of a month-spread value over the period (partial months pro rata by days) per rep;
    NaN for reps with no row in the period."""
    weights = _month_weights(period.start, period.end)
    w = pd.Series(_month_number(spread["month"].to_numpy()), index=spread.index).map(weights)
    inside = w.notna().to_numpy()
    r = grouping.rep_codes(spread.loc[inside, "rep_id"])
    ok = r >= 0
    vals = (spread.loc[inside, value].to_numpy() * w[inside].to_numpy())[ok]
    n = len(grouping.reps)
    total = np.bincount(r[ok], weights=vals, minlength=n)
    return np.where(np.bincount(r[ok], minlength=n) > 0, total, np.nan)


def _window_sum(rows: _Rows, mask: pd.Series, values: np.ndarray, n: int) -> np.ndarray:
    m = mask.to_numpy()
    return np.bincount(rows.g[m], weights=values[m], minlength=n)


def _sales_kpis(ds: Dataset, period: Period, grouping: _Grouping) -> dict[str, np.ndarray]:
    n, n_reps = grouping.n, len(grouping.reps)
    if not has_sales(ds):
        return {"_rep_revenue": _nan(n_reps)} | {k: _nan(n) for k in (
            "revenue", "revenue_prior_year", "growth", "market_share", "active_accounts",
            "new_accounts", "retention_rate", "churn_rate")}
    sales = sales_table(ds)
    prev, yoy = period.previous(), period.year_earlier()
    t12_start = (period.end_ts - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
    lo = min(period.start, prev.start, yoy.start, t12_start)
    rows = _rows(sales, grouping, _between(sales["date"], lo, period.end))
    d = rows.frame["date"]
    rev = np.nan_to_num(rows.frame["revenue"].to_numpy(dtype="float64"))
    in_p = _between(d, period.start, period.end)
    out = {
        "_rep_revenue": np.bincount(rows.r[in_p.to_numpy()], weights=rev[in_p.to_numpy()],
                                    minlength=n_reps),
        "revenue": _window_sum(rows, in_p, rev, n),
        "revenue_prior_year": _window_sum(rows, _between(d, yoy.start, yoy.end), rev, n),
    }
    out["growth"] = _ratio(out["revenue"], out["revenue_prior_year"]) - 1
    rev12 = _window_sum(rows, _between(d, t12_start, period.end), rev, n)
    out["market_share"] = _ratio(rev12, _group_potential(ds, grouping))
    in_prev = _between(d, prev.start, prev.end).to_numpy()
    return out | _account_kpis(sales, rows, rev, in_p.to_numpy(), in_prev, period, n)


def _group_potential(ds: Dataset, grouping: _Grouping) -> np.ndarray:
    """Σ annual potential of the distinct territories of each group (NaN when unknown)."""
    pot = territory_potential(ds)
    pairs = pd.DataFrame({"g": grouping.group, "t": grouping.reps["territory_id"].to_numpy()}).drop_duplicates()
    p = pairs["t"].map(pot).to_numpy(dtype="float64")
    known = ~np.isnan(p)
    total = np.bincount(pairs["g"].to_numpy()[known], weights=p[known], minlength=grouping.n)
    return np.where(np.bincount(pairs["g"].to_numpy()[known], minlength=grouping.n) > 0, total, np.nan)


def _account_kpis(sales: pd.DataFrame, rows: _Rows, rev: np.ndarray, in_p: np.ndarray,
                  in_prev: np.ndarray, period: Period, n: int) -> dict[str, np.ndarray]:
    """Active, new and retained accounts, counted once per (group, account)."""
    names = ("active_accounts", "new_accounts", "retention_rate", "churn_rate")
    if rows.frame["account_id"].isna().all():
        return {k: _nan(n) for k in names}
    acc, uniques = pd.factorize(rows.frame["account_id"])
    k = max(len(uniques), 1)
    known = acc >= 0
    cur = _active_pairs(rows.g[in_p & known], acc[in_p & known], rev[in_p & known], k)
    before = sales.loc[(sales["date"] < period.start_ts) & (sales["revenue"] > 0), "account_id"]
    seen = pd.Index(uniques).get_indexer(before.dropna().unique())
    new = cur[~np.isin(cur % k, seen[seen >= 0])]
    prior = _active_pairs(rows.g[in_prev & known], acc[in_prev & known], rev[in_prev & known], k)
    retained = prior[np.isin(prior, cur)]
    retention = _ratio(_count(retained // k, n), _count(prior // k, n))
    return {"active_accounts": _count(cur // k, n), "new_accounts": _count(new // k, n),
            "retention_rate": retention, "churn_rate": 1 - retention}


def _quota_kpis(ds: Dataset, period: Period, grouping: _Grouping,
                rep_revenue: np.ndarray) -> dict[str, np.ndarray]:
    """Quota, attainment, gap and remaining quota. A group's attainment is Σ revenue / Σ quota
    over its reps that have a quota (revenue of reps without one would inflate it)."""
    n_reps = len(grouping.reps)
    rep_quota = (_period_value_per_rep(_total_quota_by_month(quota_by_month(ds)), "quota", period, grouping)
                 if ds.has("quotas") else _nan(n_reps))
    with_quota = rep_quota > 0
    rep_rev = np.where(with_quota, rep_revenue, np.nan)
    quota = grouping.to_groups(np.where(with_quota, rep_quota, np.nan))
    revenue_q = grouping.to_groups(rep_rev)
    remaining = grouping.to_groups(np.clip(np.where(with_quota, rep_quota, np.nan) - rep_rev, 0, None))
    return {"quota": grouping.to_groups(rep_quota), "attainment": _ratio(revenue_q, quota),
            "gap": quota - revenue_q, "remaining_quota": remaining}


def _opportunity_kpis(ds: Dataset, period: Period, grouping: _Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if not ds.has("opportunities"):
        return {k: _nan(n) for k in ("won", "lost", "win_rate", "sales_cycle_days", "open_pipeline")}
    opps = ds.table("opportunities")
    rows = _rows(opps, grouping)
    f = rows.frame
    status = opportunity_status(f).to_numpy()
    closed_in_p = _between(f["close_date"], period.start, period.end).to_numpy()
    won = closed_in_p & (status == "won")
    lost = closed_in_p & (status == "lost")
    cycle = (f["close_date"] - f["created_date"]).dt.days.to_numpy(dtype="float64")
    timed = won & ~np.isnan(cycle)
    pipeline = _open_pipeline(ds, f, status == "open", rows.g, n)
    n_won, n_lost = _count(rows.g, n, won), _count(rows.g, n, lost)
    return {"won": n_won, "lost": n_lost, "win_rate": _ratio(n_won, n_won + n_lost),
            "sales_cycle_days": _median(rows.g[timed], n, cycle[timed]), "open_pipeline": pipeline}


def _open_pipeline(ds: Dataset, opps: pd.DataFrame, is_open: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    """Σ value of the open deals: the amount, else the product's list price (products table).
    A group whose open deals all lack a value is NaN (unknown, not 0); no open deals is 0."""
    value = opps["amount"].astype("float64")
    if ds.has("products"):
        price = ds.table("products").drop_duplicates("product").set_index("product")["list_price"]
        value = value.fillna(opps["product"].map(price).astype("float64"))
    v = value.to_numpy(dtype="float64")
    valued = is_open & ~np.isnan(v)
    if not valued.any():
        return _nan(n)
    unknown = (_count(g, n, is_open) > 0) & (_count(g, n, valued) == 0)
    return np.where(unknown, np.nan, _sum(g[valued], n, v[valued]))


def _activity_kpis(ds: Dataset, period: Period, grouping: _Grouping) -> dict[str, np.ndarray]:
    """Activity counts and rates. Rates per week/quarter are per rep: a group's Σ is divided by
    its number of reps, so they compare with the per-rep targets."""
    n = grouping.n
    names = ("meetings", "meetings_per_week", "presentations", "presentations_per_quarter",
             "workshops", "workshops_per_quarter", "reach", "planned", "planned_known",
             "call_plan_adherence", "share_user", "share_buyer", "share_admin", "_meeting_type")
    if not ds.has("activities"):
        return {k: _nan(n) for k in names}
    acts = ds.table("activities")
    rows = _rows(acts, grouping, _between(acts["date"], period.start, period.end))
    kind = rows.frame["activity_type"]
    rep_days = period.days * grouping.reps_per_group
    out = {
        "meetings": _count(rows.g, n, kind.isin(FACE_TO_FACE)),
        "presentations": _count(rows.g, n, kind == "presentation"),
        "workshops": _count(rows.g, n, kind == "workshop"),
        "_meeting_type": _count(rows.g, n, kind == "meeting"),
    }
    out["meetings_per_week"] = _ratio(out["meetings"] * 7, rep_days)
    out["presentations_per_quarter"] = _ratio(out["presentations"] * 91, rep_days)
    out["workshops_per_quarter"] = _ratio(out["workshops"] * 91, rep_days)
    planned = rows.frame["planned"]
    out["planned"] = _count(rows.g, n, planned.fillna(False))
    out["planned_known"] = _count(rows.g, n, planned.notna())
    out["call_plan_adherence"] = _ratio(out["planned"], out["planned_known"])
    role = rows.frame["contact_role"]
    known_role = _count(rows.g, n, role.notna())
    for r in ("user", "buyer", "admin"):
        out[f"share_{r}"] = _ratio(_count(rows.g, n, role == r), known_role)
    out["reach"] = _reach(ds, rows, grouping)
    return out


def _reach(ds: Dataset, rows: _Rows, grouping: _Grouping) -> np.ndarray:
    """Distinct accounts of the group's own territories with ≥ 1 activity / accounts there."""
    n = grouping.n
    if not ds.has("accounts"):
        return _nan(n)
    accounts = ds.table("accounts").drop_duplicates("account_id")
    territories = pd.Index(accounts["territory_id"].dropna().unique())
    own = pd.DataFrame({"g": grouping.group,
                        "t": territories.get_indexer(grouping.reps["territory_id"])}).drop_duplicates()
    own = own[own["t"] >= 0]
    per_territory = np.bincount(_positions(territories, accounts["territory_id"].dropna()),
                                minlength=len(territories))
    denominator = _sum(own["g"].to_numpy(), n, per_territory[own["t"].to_numpy()])
    acc = _positions(pd.Index(accounts["account_id"]), rows.frame["account_id"])
    g, acc = rows.g[acc >= 0], acc[acc >= 0]
    terr = _positions(territories, accounts["territory_id"])[acc]
    k_t, k_a = max(len(territories), 1), len(accounts)
    mine = (terr >= 0) & np.isin(_pair_keys(g, terr, k_t), _pair_keys(own["g"].to_numpy(), own["t"].to_numpy(), k_t))
    reached = np.unique(_pair_keys(g[mine], acc[mine], k_a))
    return _ratio(_count(reached // k_a, n), denominator)


def _follow_up_kpis(ds: Dataset, period: Period, grouping: _Grouping) -> dict[str, np.ndarray]:
    """On-time rate and days late of follow-ups due in the period up to the as-of day
    (min(period end, last day in the data)); overdue open ones as of that day."""
    n = grouping.n
    if not ds.has("follow_ups"):
        return {k: _nan(n) for k in ("follow_ups_due", "follow_ups_on_time", "on_time_follow_up_rate",
                                     "days_late", "overdue_open_follow_ups")}
    fu = ds.table("follow_ups")
    end = data_end(ds)
    as_of = period.end_ts if end is None else min(period.end_ts, end)
    rows = _rows(fu, grouping)
    due, done = rows.frame["due_date"], rows.frame["completed_date"]
    in_p = _between(due, period.start, as_of).to_numpy()
    on_time = (done <= due).to_numpy()            # NaT compares False: open counts as late
    late_by = (done.fillna(as_of) - due).dt.days.to_numpy(dtype="float64")
    late = in_p & ~on_time
    overdue = ((due < as_of) & (done.isna() | (done > as_of))).to_numpy()
    n_due, n_on_time = _count(rows.g, n, in_p), _count(rows.g, n, in_p & on_time)
    return {"follow_ups_due": n_due, "follow_ups_on_time": n_on_time,
            "on_time_follow_up_rate": _ratio(n_on_time, n_due),
            "days_late": _median(rows.g[late], n, late_by[late]),
            "overdue_open_follow_ups": _count(rows.g, n, overdue)}


def _training_kpis(ds: Dataset, period: Period, grouping: _Grouping) -> dict[str, np.ndarray]:
    n = grouping.n
    if not ds.has("training"):
        return {"knowledge_quotient": _nan(n), "_score_sum": _nan(n)}
    tr = ds.table("training")
    rows = _rows(tr, grouping, _between(tr["date"], period.start, period.end) & tr["score"].notna())
    score_sum = _sum(rows.g, n, rows.frame["score"])
    return {"knowledge_quotient": _ratio(score_sum, _count(rows.g, n)), "_score_sum": score_sum}


def _incentive_kpis(ds: Dataset, period: Period, grouping: _Grouping,
                    revenue: np.ndarray) -> dict[str, np.ndarray]:
    """Payout in the period (incentive periods spread like quotas). A rep without a payout row
    while others were paid for the period got 0; nobody paid for the period = not known."""
    n = grouping.n
    spread = _spread_by_month(ds.table("incentives"), "payout") if ds.has("incentives") else None
    per_rep = (_period_value_per_rep(spread, "payout", period, grouping) if spread is not None
               else _nan(len(grouping.reps)))
    if np.isnan(per_rep).all():
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
    parts = _sales_kpis(ds, period, grouping)
    parts |= _quota_kpis(ds, period, grouping, parts["_rep_revenue"])
    parts |= _opportunity_kpis(ds, period, grouping)
    parts["pipeline_coverage"] = _ratio(parts["open_pipeline"], parts["remaining_quota"])
    parts |= _activity_kpis(ds, period, grouping)
    parts |= _follow_up_kpis(ds, period, grouping)
    parts |= _training_kpis(ds, period, grouping)
    parts |= _incentive_kpis(ds, period, grouping, parts["revenue"])
    parts["points"] = _points(parts, settings)
    return pd.DataFrame({k: parts[k] for k in KPI_COLUMNS})


def _ramping(reps: pd.DataFrame, period: Period, settings: Settings) -> pd.Series:
    """Hired less than ramp_months months before the period end."""
    cutoff = period.end_ts - pd.DateOffset(months=settings.thresholds.ramp_months)
    return (reps["hire_date"] > cutoff).fillna(False).astype(bool)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def rep_kpis(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """One row per rep in scope (all of the roster, even without data), REP_KPI_COLUMNS."""
    reps = roster(ds, scope)
    grouping = _Grouping(reps, np.arange(len(reps)), len(reps))
    kpis = _compute(ds, period, settings, grouping)
    out = pd.concat([reps, kpis], axis=1).assign(ramping=_ramping(reps, period, settings).to_numpy())
    return out[REP_KPI_COLUMNS]


def rollup(ds: Dataset, period: Period, settings: Settings, level: str,
           scope: Scope = Scope()) -> pd.DataFrame:
    """KPIs per territory, region or the whole team: key column(s), reps, ramping_reps, then
    KPI_COLUMNS recomputed from the group's rows (sums of parts, medians of the group's rows).
    remaining_quota of a group is its shortfall: Σ max(0, gap) over reps below quota."""
    if level not in _LEVEL_KEYS:
        raise ValueError(f"level must be one of {sorted(_LEVEL_KEYS)}, not {level!r}")
    reps = roster(ds, scope).assign(team=scope.label)
    key = _LEVEL_KEYS[level]
    codes, keys = pd.factorize(reps[key], sort=True)
    grouping = _Grouping(reps, codes.astype(np.int64), len(keys))
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
    reps = roster(ds, scope)
    grouping = _Grouping(reps, np.zeros(len(reps), dtype=np.int64), 1)
    if not has_sales(ds):
        return pd.DataFrame(columns=cols)
    sales = sales_table(ds)
    rows = _rows(sales, grouping, _between(sales["date"], period.start, period.end))
    revenue = rows.frame.groupby("product")["revenue"].sum()
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
    attainment changed most (either way) since period.previous()."""
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


def _rep_month_keys(rows: _Rows, dates: pd.Series, first: int, n_months: int) -> np.ndarray:
    """Flat rep × month cell of each row (the month conversion is the costly part: do it once)."""
    return rows.r * n_months + (_month_number(dates.to_numpy()) - first)


def _rep_month(keys: np.ndarray, n_reps: int, n_months: int,
               weights: np.ndarray | pd.Series | None = None) -> np.ndarray:
    """Σ weights (or a count) per rep × month cell as an (n_reps, n_months) array."""
    w = None if weights is None else np.nan_to_num(np.asarray(weights, dtype="float64"))
    return np.bincount(keys, weights=w, minlength=n_reps * n_months).reshape(n_reps, n_months).astype("float64")


def _range_rows(table: pd.DataFrame, col: str, grouping: _Grouping, first: int, n_months: int) -> _Rows:
    lo, hi = _month_start(np.array([first, first + n_months]))
    return _rows(table, grouping, (table[col] >= lo) & (table[col] < hi))


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
    reps = roster(ds, scope)
    first, n_months = _month_axis(start, end)
    if by == "product":
        return _monthly_by_product(ds, reps, first, n_months)
    grouping = _Grouping(reps, np.arange(len(reps)), len(reps))
    n_reps = len(reps)
    revenue = np.full((n_reps, n_months), np.nan)
    if has_sales(ds):
        s = sales_table(ds)
        rows = _range_rows(s, "date", grouping, first, n_months)
        keys = _rep_month_keys(rows, rows.frame["date"], first, n_months)
        revenue = _rep_month(keys, n_reps, n_months, rows.frame["revenue"])
    quota = np.full((n_reps, n_months), np.nan)
    if ds.has("quotas"):
        q = _total_quota_by_month(quota_by_month(ds))
        rows = _range_rows(q, "month", grouping, first, n_months)
        keys = _rep_month_keys(rows, rows.frame["month"], first, n_months)
        count = _rep_month(keys, n_reps, n_months)
        total = _rep_month(keys, n_reps, n_months, rows.frame["quota"])
        quota = np.where(count > 0, total, np.nan)
    codes, keys = _by_grouping(reps, by)
    with_quota = quota > 0
    g_rev = _group_sum(revenue, codes, len(keys))
    g_quota = _group_sum(np.where(with_quota, quota, 0), codes, len(keys))
    g_rev_q = _group_sum(np.where(with_quota, revenue, 0), codes, len(keys))
    has_quota = _group_sum(with_quota.astype(float), codes, len(keys)) > 0
    if not has_sales(ds):
        g_rev = g_rev_q = np.full_like(g_rev, np.nan)
    return _to_long({"revenue": g_rev, "quota": np.where(has_quota, g_quota, np.nan),
                     "attainment": np.where(has_quota, _ratio(g_rev_q, g_quota), np.nan)},
                    first, keys, by)


def _monthly_by_product(ds: Dataset, reps: pd.DataFrame, first: int, n_months: int) -> pd.DataFrame:
    grouping = _Grouping(reps, np.zeros(len(reps), dtype=np.int64), 1)
    lo, hi = _month_start(np.array([first, first + n_months]))
    frames = []
    if has_sales(ds):
        s = sales_table(ds)
        rows = _range_rows(s, "date", grouping, first, n_months).frame
        frames.append(rows.assign(month=_month_start(_month_number(rows["date"].to_numpy())))
                      .groupby(["product", "month"])["revenue"].sum())
    qm = quota_by_month(ds)
    qm = qm[qm["product"].notna() & qm["rep_id"].isin(reps["rep_id"]) & (qm["month"] >= lo) & (qm["month"] < hi)]
    frames.append(qm.groupby(["product", "month"])["quota"].sum())
    out = pd.concat(frames, axis=1).reindex(columns=["revenue", "quota"]).reset_index()
    if has_sales(ds):
        out["revenue"] = out["revenue"].fillna(0.0)
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
    reps = roster(ds, scope)
    first, n_months = _month_axis(start, end)
    grouping = _Grouping(reps, np.arange(len(reps)), len(reps))
    n_reps = len(reps)
    codes, keys = _by_grouping(reps, by)
    nan = np.full((len(keys), n_months), np.nan)
    parts = dict.fromkeys(("meetings", "planned", "planned_known", "follow_ups_due", "follow_ups_on_time"), nan)
    if ds.has("activities"):
        rows = _range_rows(ds.table("activities"), "date", grouping, first, n_months)
        f = rows.frame
        cells = _rep_month_keys(rows, f["date"], first, n_months)
        for name, w in (("meetings", f["activity_type"].isin(FACE_TO_FACE)),
                        ("planned", f["planned"].fillna(False)), ("planned_known", f["planned"].notna())):
            parts[name] = _group_sum(_rep_month(cells, n_reps, n_months, w), codes, len(keys))
    if ds.has("follow_ups"):
        fu = ds.table("follow_ups")
        end_day = data_end(ds)
        fu = fu[fu["due_date"] <= end_day] if end_day is not None else fu
        rows = _range_rows(fu, "due_date", grouping, first, n_months)
        f = rows.frame
        cells = _rep_month_keys(rows, f["due_date"], first, n_months)
        for name, w in (("follow_ups_due", None), ("follow_ups_on_time", f["completed_date"] <= f["due_date"])):
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
    """stage, status, [rep_id], opportunities, amount: the deals open now per CRM stage (largest
    stage first) followed by those won and lost with close_date in the period."""
    cols = ["stage", "status"] + (["rep_id"] if by_rep else []) + ["opportunities", "amount"]
    if not ds.has("opportunities"):
        return pd.DataFrame(columns=cols)
    opps = ds.table("opportunities")
    opps = opps[opps["rep_id"].isin(roster(ds, scope)["rep_id"])].assign(status=lambda f: opportunity_status(f))
    closed = _between(opps["close_date"], period.start, period.end) & opps["status"].isin(["won", "lost"])
    kept = opps[(opps["status"] == "open") | closed]
    kept = kept.assign(stage=kept["stage"].where(kept["status"] == "open", kept["status"].str.capitalize()))
    keys = ["stage", "status"] + (["rep_id"] if by_rep else [])
    out = kept.groupby(keys, sort=False).agg(opportunities=("opportunity_id", "size"),
                                             amount=("amount", lambda a: a.sum(min_count=1))).reset_index()
    size = out.groupby("stage")["opportunities"].transform("sum")
    rank = out["status"].map({"open": 0, "won": 1, "lost": 2})
    return (out.assign(_rank=rank, _size=-size).sort_values(["_rank", "_size", "stage"])
            .drop(columns=["_rank", "_size"]).reset_index(drop=True)[cols])
