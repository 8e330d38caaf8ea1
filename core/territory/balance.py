"""Territory balance (kpis.md "Territory balance"): potential, quota fairness, workload, coverage,
overlap and geography per territory, plus the team-level balance summary and underserved pockets.

Every measure is NaN where the table it needs is missing, never 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.kpis import metrics
from core.periods import Period
from core.schema import UNASSIGNED
from core.settings import Settings
from core.territory.geo import geocode, haversine_km

COVERAGE_DAYS = 90
# Target visits per year for the workload measure: a territory's top-quartile-potential accounts
# monthly, every other account (including those with unknown potential) quarterly.
VISITS_PER_YEAR_TOP = 12
VISITS_PER_YEAR_OTHER = 4

BALANCE_COLUMNS = ["territory_id", "territory_name", "region", "rep_id", "rep_name", "potential",
                   "potential_index", "quota", "quota_per_potential", "accounts", "activities_needed",
                   "workload_index", "coverage", "overlap", "attainment", "lat", "lon", "spread_km"]


# ---------------------------------------------------------------------------------------------
# Building blocks


def located_accounts(ds: Dataset) -> pd.DataFrame:
    """The accounts table with coordinates filled from ZIP and a `top_quartile` flag.

    `top_quartile` marks accounts whose potential is at or above the 75th percentile of their own
    territory's account potentials (False where potential is unknown).
    """
    acc = geocode(ds.table("accounts"))
    acc["territory_id"] = acc["territory_id"].fillna(UNASSIGNED)
    acc["potential"] = pd.to_numeric(acc["potential"], errors="coerce").astype("float64")
    q75 = acc["territory_id"].map(acc.groupby("territory_id")["potential"].quantile(0.75)).astype("float64")
    acc["top_quartile"] = (acc["potential"] >= q75).fillna(False).astype(bool)
    return acc


def last_activity(ds: Dataset, until: pd.Timestamp | None = None) -> pd.Series:
    """Date of the latest activity per account_id (on or before `until` when given)."""
    act = ds.table("activities")
    act = act[act["account_id"].notna()]
    if until is not None:
        act = act[act["date"] <= until]
    return act.groupby("account_id")["date"].max()


def period_quota(ds: Dataset, period: Period) -> pd.Series:
    """Quota per rep allocated to `period`: core.kpis.metrics.period_quota (the quota KPI's one rule)."""
    return metrics.period_quota(ds, period)


def territory_frame(ds: Dataset) -> pd.DataFrame:
    """Every territory named in territories, reps or accounts, with name, region and potential."""
    terr = ds.table("territories").reindex(columns=["territory_id", "territory_name", "region", "market_potential"])
    reps = ds.table("reps")
    acc = ds.table("accounts")
    ids = pd.Index(pd.concat([terr["territory_id"], reps["territory_id"].fillna(UNASSIGNED),
                              acc["territory_id"].fillna(UNASSIGNED)]).dropna().unique(), name="territory_id")
    out = terr.drop_duplicates("territory_id").set_index("territory_id").reindex(ids)
    out = out.astype({"territory_name": "str", "region": "str", "market_potential": "float64"})
    rep_region = reps.assign(territory_id=reps["territory_id"].fillna(UNASSIGNED)) \
        .groupby("territory_id")["region"].first()
    out["region"] = out["region"].fillna(rep_region.reindex(ids)).fillna(UNASSIGNED)
    out["territory_name"] = out["territory_name"].fillna(pd.Series(ids, index=ids))
    return out


def _rep_columns(ds: Dataset, ids: pd.Index) -> pd.DataFrame:
    """rep_id / rep_name per territory ("; "-joined when a territory has more than one rep)."""
    reps = ds.table("reps").assign(territory_id=lambda r: r["territory_id"].fillna(UNASSIGNED))
    reps = reps.sort_values("rep_id")
    joined = reps.groupby("territory_id").agg(rep_id=("rep_id", "; ".join), rep_name=("rep_name", "; ".join))
    return joined.reindex(ids)


def _attainment(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    """Quota and attainment per territory: core.kpis' territory roll-up (the sums of its reps;
    revenue of reps without a quota does not count, as everywhere)."""
    return metrics.quota_rollup(ds, period, "territory").set_index("territory_id")


def _coverage(v: Visits, top: pd.DataFrame, period: Period) -> pd.Series:
    """Share of each territory's top-quartile accounts (`top`: their territory_id and `code`, see
    Visits) with an activity in the 90 days to period end."""
    since = period.end_ts - pd.Timedelta(days=COVERAGE_DAYS - 1)
    lo, hi = v.rows(since, period.end_ts)
    seen = np.zeros(len(v.accounts) + 1, dtype=bool)       # the last slot: no account
    seen[v.account[lo:hi]] = True
    seen[-1] = False
    return pd.Series(seen[top["code"].to_numpy()], index=top.index).groupby(top["territory_id"]).mean()


def _overlap(ds: Dataset, period: Period) -> pd.Series:
    """Per territory: its reps' period activities on accounts aligned elsewhere / their activities.

    Only activities on a known account count (an activity without an account cannot be placed).
    """
    v = visits(ds)
    own_at, aligned_at, territories = _alignment(ds)
    lo, hi = v.rows(period.start_ts, period.end_ts)
    own, aligned = own_at[v.rep[lo:hi]], aligned_at[v.account[lo:hi]]
    placed = (own >= 0) & (aligned >= 0)
    own, elsewhere = own[placed], own[placed] != aligned[placed]
    count = np.bincount(own, minlength=len(territories))
    share = np.bincount(own, weights=elsewhere, minlength=len(territories))[count > 0] / count[count > 0]
    return pd.Series(share, index=territories[count > 0], dtype="float64")


@dataclass(frozen=True)
class Visits:
    """The activities sorted by date, once per Dataset, as territory balance reads them: per row
    its rep and its account, as codes into `reps` and `accounts` (len(reps) or len(accounts) for
    none). A period then only slices the rows between two dates."""

    day: np.ndarray             # int64 nanoseconds, ascending (a missing date first)
    rep: np.ndarray
    account: np.ndarray
    reps: pd.Index
    accounts: pd.Index

    def rows(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int]:
        """The first and one past the last sorted row dated start .. end."""
        bounds = np.array([start, end], dtype="datetime64[ns]").view(np.int64)
        return int(np.searchsorted(self.day, bounds[0], "left")), int(np.searchsorted(self.day, bounds[1], "right"))


def visits(ds: Dataset) -> Visits:
    """The Visits of the Dataset's activities (computed once per Dataset)."""
    def build() -> Visits:
        act = ds.table("activities")
        day = act["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)    # NaT sorts first
        order = np.argsort(day, kind="stable")
        (rep, reps), (account, accounts) = pd.factorize(act["rep_id"]), pd.factorize(act["account_id"])
        rep = np.where(rep < 0, len(reps), rep).astype(np.int32)
        account = np.where(account < 0, len(accounts), account).astype(np.int32)
        return Visits(day[order], rep[order], account[order], pd.Index(np.asarray(reps, dtype=object)),
                      pd.Index(np.asarray(accounts, dtype=object)))

    return ds.memo(("dataset.territory_visits",), build)


def _alignment(ds: Dataset) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Per rep of visits(ds) the position of its territory, per account the position of the
    territory it is aligned to (-1: none, also in the last slot, for a visit without one) and the
    territories they are positions in: once per Dataset."""
    def build() -> tuple[np.ndarray, np.ndarray, pd.Index]:
        v = visits(ds)
        rep_territory = ds.table("reps").set_index("rep_id")["territory_id"].fillna(UNASSIGNED)
        own = pd.Series(v.reps, dtype=object).astype("str").map(rep_territory)
        aligned = pd.Series(v.accounts, dtype=object).astype("str").map(
            located_accounts(ds).set_index("account_id")["territory_id"])
        territories = pd.Index(pd.concat([own, aligned]).dropna().unique())
        return (np.append(territories.get_indexer(own), -1), np.append(territories.get_indexer(aligned), -1),
                territories)

    return ds.memo(("dataset.territory_alignment",), build)


def _geography(acc: pd.DataFrame) -> pd.DataFrame:
    """Centroid (mean lat/lon of located accounts) and mean km of those accounts to it."""
    placed = acc.dropna(subset=["latitude", "longitude"])
    cent = placed.groupby("territory_id")[["latitude", "longitude"]].mean()
    cent.columns = ["lat", "lon"]
    dist = haversine_km(placed["latitude"], placed["longitude"],
                        placed["territory_id"].map(cent["lat"]), placed["territory_id"].map(cent["lon"]))
    cent["spread_km"] = dist.groupby(placed["territory_id"]).mean()
    return cent


def _index(values: pd.Series) -> pd.Series:
    """values / mean × 100 (NaN where a value is unknown)."""
    return values / values.mean() * 100.0


# ---------------------------------------------------------------------------------------------
# Public API


def territory_balance(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    """One row per territory with the balance measures of kpis.md (columns: BALANCE_COLUMNS).

    - potential: the territory's market_potential, else the sum of its accounts' potential.
    - activities_needed: visits a year to cover its accounts at target frequency — top-quartile-
      potential accounts monthly (12), all others quarterly (4).
    - coverage: share of its top-quartile-potential accounts with ≥ 1 activity (any rep) in the
      90 days up to the period end.
    - overlap: its reps' activities in the period on accounts aligned to another territory, over
      their activities on known accounts.
    - lat/lon: centroid of its located accounts; spread_km: their mean distance to it.

    Computed once per Dataset, period and settings (the diagnostic and the summary both read it);
    each caller gets its own copy.
    """
    key = ("territory.balance", period, settings.digest())
    return ds.memo(key, lambda: _territory_balance(ds, period, settings)).copy()


def _territory_balance(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    out = _static_balance(ds).copy()
    ids = out.index
    att = _attainment(ds, period, settings).reindex(ids)
    out["quota"] = att["quota"]
    out["quota_per_potential"] = out["quota"] / out["potential"].where(out["potential"] > 0)
    has_acc, has_act = ds.has("accounts"), ds.has("activities")
    out["coverage"] = (_coverage(visits(ds), _top_accounts(ds), period).reindex(ids) if has_act and has_acc
                       else np.nan)
    out["overlap"] = (_overlap(ds, period).reindex(ids)
                      if has_act and has_acc and ds.has("reps") else np.nan)
    out["attainment"] = att["attainment"]
    return out.reset_index()[BALANCE_COLUMNS]


def _static_balance(ds: Dataset) -> pd.DataFrame:
    """The balance measures no period changes (names, reps, potential, workload, geography), one
    row per territory (indexed by territory_id): once per Dataset."""
    return ds.memo(("dataset.territory_static",), lambda: _static(ds))


def _static(ds: Dataset) -> pd.DataFrame:
    terr = territory_frame(ds)
    ids = terr.index
    out = pd.DataFrame(index=ids)
    out["territory_name"], out["region"] = terr["territory_name"], terr["region"]
    out[["rep_id", "rep_name"]] = _rep_columns(ds, ids)

    acc = located_accounts(ds)
    has_acc = ds.has("accounts")
    account_potential = acc.groupby("territory_id")["potential"].sum(min_count=1).reindex(ids)
    out["potential"] = terr["market_potential"].astype("float64").fillna(account_potential)
    out["potential_index"] = _index(out["potential"])

    counts = acc.groupby("territory_id").size().reindex(ids)
    needed = np.where(acc["top_quartile"], VISITS_PER_YEAR_TOP, VISITS_PER_YEAR_OTHER)
    needed = pd.Series(needed, index=acc.index, dtype="float64").groupby(acc["territory_id"]).sum().reindex(ids)
    out["accounts"] = counts.fillna(0).astype("float64") if has_acc else np.nan
    out["activities_needed"] = needed.fillna(0.0) if has_acc else np.nan
    out["workload_index"] = _index(out["activities_needed"])
    out[["lat", "lon", "spread_km"]] = _geography(acc).reindex(ids)
    return out


def _top_accounts(ds: Dataset) -> pd.DataFrame:
    """The top-quartile accounts: territory_id and `code`, the account's code in visits(ds)
    (once per Dataset)."""
    def build() -> pd.DataFrame:
        acc = located_accounts(ds)
        top = acc.loc[acc["top_quartile"], ["territory_id", "account_id"]]
        known = visits(ds).accounts
        code = known.get_indexer(top["account_id"])
        return top.assign(code=np.where(code < 0, len(known), code))[["territory_id", "code"]]

    return ds.memo(("dataset.territory_top_accounts",), build)


def gini(values: pd.Series | np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = all equal); NaN when there is nothing to compare."""
    v = np.sort(np.asarray(pd.Series(values).dropna(), dtype="float64"))
    n = len(v)
    if n == 0 or v.sum() <= 0:
        return np.nan
    ranks = np.arange(1, n + 1)
    return float((2 * ranks - n - 1) @ v / (n * v.sum()))


def _cv(values: pd.Series) -> float:
    """Population standard deviation / mean; NaN with fewer than two known values."""
    v = values.dropna()
    if len(v) < 2 or v.mean() == 0:
        return np.nan
    return float(v.std(ddof=0) / v.mean())


def balance_summary(balance: pd.DataFrame, settings: Settings) -> dict[str, float]:
    """Team-level balance: cv, gini, quota_fairness_cv, share_in_band (of the potential index), n."""
    t = settings.targets
    idx = balance["potential_index"].dropna()
    return {
        "cv": _cv(balance["potential"]),
        "gini": gini(balance["potential"]),
        "quota_fairness_cv": _cv(balance["quota_per_potential"]),
        "share_in_band": float(idx.between(t.potential_index_low, t.potential_index_high).mean())
        if len(idx) else np.nan,
        "n": int(balance["potential"].notna().sum()),
    }


POCKET_COLUMNS = ["account_id", "account_name", "territory_id", "account_type", "potential",
                  "last_activity", "latitude", "longitude"]


def underserved_pockets(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    """Top-quartile-potential accounts (within their territory) with no activity in the 90 days up
    to the period end, largest potential first; the activities table is needed to say so."""
    if not (ds.has("accounts") and ds.has("activities")):
        return pd.DataFrame(columns=POCKET_COLUMNS)
    acc = located_accounts(ds)
    # reindex, not map: mapping through an empty datetime Series (no activities, or none on these
    # accounts) makes pandas cast it to float and fail
    acc["last_activity"] = last_activity(ds, period.end_ts).reindex(acc["account_id"]).to_numpy(dtype="datetime64[ns]")
    since = period.end_ts - pd.Timedelta(days=COVERAGE_DAYS - 1)
    pockets = acc[acc["top_quartile"] & ~(acc["last_activity"] >= since)]
    return pockets.sort_values("potential", ascending=False)[POCKET_COLUMNS].reset_index(drop=True)


MAP_COLUMNS = ["account_id", "account_name", "account_type", "territory_id", "rep_name", "potential",
               "top_quartile", "last_activity", "status", "latitude", "longitude"]
COVERED, UNCOVERED_HIGH, UNCOVERED = "covered", "high potential, not covered", "not covered"


def account_map(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    """Every account for the map: owner, potential, last activity up to the period end and a
    coverage status (covered = an activity in the 90 days to the period end; "n/a" without the
    activities table). Accounts that cannot be placed keep NaN coordinates."""
    acc = located_accounts(ds)
    reps = ds.table("reps")
    owner = reps.assign(territory_id=reps["territory_id"].fillna(UNASSIGNED)) \
        .sort_values("rep_id").groupby("territory_id")["rep_name"].agg("; ".join)
    acc["rep_name"] = acc["territory_id"].map(owner)
    # reindex, not map: mapping through an empty datetime Series (no activities, or none on these
    # accounts) makes pandas cast it to float and fail
    acc["last_activity"] = last_activity(ds, period.end_ts).reindex(acc["account_id"]).to_numpy(dtype="datetime64[ns]")
    since = period.end_ts - pd.Timedelta(days=COVERAGE_DAYS - 1)
    covered = acc["last_activity"] >= since
    status = np.where(covered, COVERED, np.where(acc["top_quartile"], UNCOVERED_HIGH, UNCOVERED))
    acc["status"] = pd.Series(status, index=acc.index, dtype="str") if ds.has("activities") else "n/a"
    return acc[MAP_COLUMNS].reset_index(drop=True)
