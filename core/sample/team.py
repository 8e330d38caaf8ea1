"""A seeded generator of a realistic US medtech sales team, with planted causes of missed goals.

Revenue is produced by a mechanism, not labelled: each account buys each product it has potential
for in a month with a probability that grows with its size, for (potential × capture × seasonality ×
market growth × the rep's execution). A planted cause lowers that execution AND leaves its
footprint in the tables the diagnostic reads (activities, follow-ups, pipeline, ratings …), so a
diagnostic can be judged on whether it finds the cause from the evidence alone. The scenario's
constants are in core/sample/story.py. Everything is vectorised numpy; the only Python loops run
over quarters, regions or the recursive split of a region into territories.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from core.periods import latest_complete
from core.sample import story
from core.sample.xlsx import write_xlsx
from core.schema import CONTACT_ROLES, TABLES, pandas_dtype

DAY = np.timedelta64(1, "D")
STRUCTURAL = ("territory_imbalance", "incentive_misalignment", "customer_retention", "ramping")
# A behavioural cause grows over the 9 months before the last two quarters, then stays at full strength.
SEVERITY_RAMP = (450, 180)         # days before the end of the latest complete quarter


@dataclass
class SampleData:
    tables: dict[str, pd.DataFrame]
    planted: dict[str, str]


@dataclass(frozen=True)
class _Calendar:
    start: np.datetime64          # first day with data (a month start)
    end: np.datetime64            # last day with data
    months: np.ndarray            # month starts, datetime64[D]
    quarter_end: np.datetime64    # end of the latest complete quarter
    launch: np.datetime64         # launch of the focus product (a quarter start)

    @property
    def month_days(self) -> np.ndarray:
        days: np.ndarray = ((self.months.astype("datetime64[M]") + 1).astype("datetime64[D]") - self.months) // DAY
        return days

    def severity(self, when: np.ndarray) -> np.ndarray:
        """0 → 1 strength of a behavioural cause at dates `when`."""
        begin = self.quarter_end - SEVERITY_RAMP[0] * DAY
        span = SEVERITY_RAMP[0] - SEVERITY_RAMP[1]
        return np.clip(((when - begin) // DAY) / span, 0.0, 1.0)


@dataclass(frozen=True)
class _Team:
    cause: np.ndarray             # str per rep ("none" = healthy)
    region: np.ndarray            # region index per rep
    hire: np.ndarray              # datetime64[D]
    execution: np.ndarray         # healthy execution level (≈ 1)
    cause_revenue: np.ndarray     # revenue multiplier of a behavioural cause at full strength
    potential_index: np.ndarray   # intended territory potential index

    def has(self, cause: str) -> np.ndarray:
        has: np.ndarray = self.cause == cause
        return has


@dataclass(frozen=True)
class _Accounts:
    rep: np.ndarray               # owning rep (= territory) per account
    potential: np.ndarray
    affinity: np.ndarray          # (accounts, products) share of potential per product
    phase: np.ndarray             # (accounts, products) in [0, 1): where in its order rhythm it starts
    pick_cum: np.ndarray          # cumulative visit weights, accounts sorted by territory
    focus_cum: np.ndarray         # same, concentrated on the biggest accounts
    first: np.ndarray             # first account index per rep
    count: np.ndarray             # accounts per rep


def generate(n_reps: int = 40, years: float = 2.9, seed: int = 7, end: date = date(2026, 11, 20),
             causes: Mapping[str, int] | None = None, *, density: float = 1.0) -> SampleData:
    """The sample team: canonical tables (core.schema) and the cause planted for each rep.

    `causes` says how many reps get each cause (None = the default story scaled to the team,
    {} = a healthy team). Same arguments → same tables.

    `density` scales the data volume per rep (for benchmarks at the scale of a large company):
    activities, follow-ups and opportunities per rep and week are multiplied by it (deal amounts
    divided by it, so pipeline coverage stays), and each order is split into about `density`
    sales lines (at least one) that share its revenue. 1.0 is the story as told.
    """
    if n_reps < 1 or years <= 0:
        raise ValueError("n_reps must be at least 1 and years positive.")
    if density <= 0:
        raise ValueError("density must be positive.")
    rng = np.random.default_rng(seed)
    cal = _calendar(years, end)
    team = _team(n_reps, _cause_list(causes, n_reps), cal, rng)
    ids = _ids("R", n_reps)
    reps, territories, accounts_table, accounts = _people_and_places(team, ids, rng)
    base_quota = _base_quota(cal, accounts, cal.months)
    sales = _sales(team, accounts, cal, rng, density)
    quotas = _quotas(team, cal, accounts, rng)
    tables = {
        "reps": reps, "territories": territories, "accounts": accounts_table,
        "sales": _sales_table(sales, ids, accounts_table["account_id"].to_numpy()),
        "quotas": _quota_table(quotas, ids),
        "activities": _activities(team, accounts, cal, rng, ids, accounts_table["account_id"].to_numpy(),
                                  density),
        "follow_ups": _follow_ups(team, accounts, cal, rng, ids, accounts_table["account_id"].to_numpy(),
                                  density),
        "opportunities": _opportunities(team, accounts, cal, base_quota, rng, ids,
                                        accounts_table["account_id"].to_numpy(), density),
        "training": _training(team, cal, rng, ids),
        "assessments": _assessments(team, reps["role"].to_numpy(), cal, rng, ids),
        "expected_levels": _expected_levels(),
        "incentives": _incentives(sales, quotas, cal, ids),
        "products": pd.DataFrame({"product": story.PRODUCTS, "list_price": story.UNIT_PRICE,
                                  "series": story.PRODUCT_SEGMENT}),
    }
    tables = {name: _canonical(name, tables[name]) for name in TABLES if name in tables}
    return SampleData(tables=tables, planted=dict(zip(ids, team.cause, strict=True)))


# ---------------------------------------------------------------- calendar, team, geography

def _calendar(years: float, end: date) -> _Calendar:
    last: np.datetime64 = np.datetime64(pd.Timestamp(end).date(), "D")
    first = (last - int(round(years * 365.25)) * DAY).astype("datetime64[M]")
    start = first.astype("datetime64[D]")
    start = start if start >= last - int(round(years * 365.25)) * DAY else (first + 1).astype("datetime64[D]")
    months = np.arange(start.astype("datetime64[M]"), last.astype("datetime64[M]") + 1).astype("datetime64[D]")
    quarter_end = np.datetime64(latest_complete("quarter", pd.Timestamp(end).date()).end, "D")
    launch_month = months[min(len(months) - 1, int(len(months) * story.LAUNCH_AT))].astype("datetime64[M]")
    launch_month -= (launch_month.astype(int) % 3)           # back to the quarter's first month
    return _Calendar(start, last, months, quarter_end, max(launch_month.astype("datetime64[D]"), start))


def _cause_list(causes: Mapping[str, int] | None, n_reps: int) -> list[str]:
    if causes is None:
        causes = {k: int(round(v * n_reps / story.DEFAULT_TEAM)) for k, v in story.DEFAULT_CAUSES.items()}
    unknown = set(causes) - set(story.CAUSES)
    if unknown:
        raise ValueError(f"Unknown causes {sorted(unknown)}; use {', '.join(story.CAUSES)}.")
    planted = [c for c in story.CAUSES for _ in range(int(causes.get(c, 0)))]
    if len(planted) > n_reps:
        raise ValueError(f"{len(planted)} planted causes do not fit in a team of {n_reps} reps.")
    return planted + [story.HEALTHY] * (n_reps - len(planted))


def _team(n: int, planted: list[str], cal: _Calendar, rng: np.random.Generator) -> _Team:
    cause = np.empty(n, dtype=object)
    cause[rng.permutation(n)] = planted
    cause = cause.astype(str)
    tenure_days = rng.integers(90, 3000, n)
    hire = cal.start - tenure_days * DAY
    ramping = cause == "ramping"
    hire[ramping] = np.maximum(
        cal.quarter_end - rng.integers(*story.RAMP_HIRED_DAYS_BEFORE, ramping.sum()) * DAY, cal.start)
    behavioural = ~np.isin(cause, STRUCTURAL + (story.HEALTHY,))
    index = rng.uniform(*story.HEALTHY_POTENTIAL_INDEX, n)
    imbalanced = cause == "territory_imbalance"
    index[imbalanced] = rng.uniform(*story.IMBALANCED_POTENTIAL_INDEX, imbalanced.sum())
    return _Team(
        cause=cause, region=np.arange(n) * len(story.REGIONS) // n, hire=hire,
        execution=rng.normal(1.0, 0.03, n),
        cause_revenue=np.where(behavioural, rng.uniform(*story.CAUSE_REVENUE, n), 1.0),
        potential_index=index)


def _ids(prefix: str, n: int, width: int = 3) -> np.ndarray:
    width = max(width, len(str(n)))
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    first, last = np.array(story.FIRST_NAMES), np.array(story.LAST_NAMES)
    combos = len(first) * len(last)
    pick = rng.choice(combos, n, replace=n > combos)
    return np.char.add(np.char.add(first[pick // len(last)], " "), last[pick % len(last)])


@lru_cache(maxsize=1)
def _zip_frame() -> pd.DataFrame:
    """Standard, active US ZIPs with a place, from the offline `zipcodes` package.

    The number of ZIPs a city has stands in for its size: hospitals are drawn towards big cities.
    """
    import zipcodes

    rows = [r for r in zipcodes.list_all() if r["zip_code_type"] == "STANDARD" and r["active"]]
    frame = pd.DataFrame({"zip": [r["zip_code"] for r in rows], "city": [r["city"] for r in rows],
                          "state": [r["state"] for r in rows],
                          "latitude": pd.to_numeric([r["lat"] for r in rows], errors="coerce"),
                          "longitude": pd.to_numeric([r["long"] for r in rows], errors="coerce")})
    frame = frame.dropna().sort_values("zip", kind="stable").reset_index(drop=True)
    city_zips = frame.groupby(["state", "city"])["zip"].transform("size").to_numpy(float)
    return frame.assign(city_zips=city_zips, city_weight=city_zips ** 1.5, town_weight=city_zips ** 0.5)


def _split(lat: np.ndarray, lon: np.ndarray, idx: np.ndarray, k: int, first: int, out: np.ndarray) -> None:
    """Cut the points `idx` into `k` compact, contiguous parts of equal size (recursive bisection)."""
    if k == 1:
        out[idx] = first
        return
    x = lon[idx] * np.cos(np.radians(lat[idx].mean()))
    y = lat[idx]
    axis = x if np.ptp(x) >= np.ptp(y) else y
    order = idx[np.argsort(axis, kind="stable")]
    k1 = k // 2
    cut = int(round(len(idx) * k1 / k))
    _split(lat, lon, order[:cut], k1, first, out)
    _split(lat, lon, order[cut:], k - k1, first + k1, out)


def _territory_zips(team: _Team) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Real ZIPs of each territory (sorted by territory), with the first row and count per territory."""
    zips = _zip_frame()
    parts = []
    for r, states in enumerate(story.REGIONS.values()):
        reps = np.flatnonzero(team.region == r)
        if not len(reps):
            continue
        region = zips[zips["state"].isin(states)].reset_index(drop=True)
        if len(region) < len(reps):
            raise ValueError(f"A team of {len(team.cause)} reps is too large for the sample's geography.")
        label = np.empty(len(region), dtype=np.int64)
        lat, lon = region["latitude"].to_numpy(), region["longitude"].to_numpy()
        _split(lat, lon, np.arange(len(region)), len(reps), 0, label)
        parts.append(region.assign(territory=reps[label]))
    table = pd.concat(parts).sort_values(["territory", "zip"], kind="stable").reset_index(drop=True)
    counts = np.bincount(table["territory"], minlength=len(team.cause))
    return table, np.concatenate([[0], np.cumsum(counts)[:-1]]), counts


def _people_and_places(team: _Team, ids: np.ndarray, rng: np.random.Generator
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, _Accounts]:
    n = len(ids)
    regions = np.array(list(story.REGIONS))
    sizes = np.bincount(team.region)
    managers_per_region = np.ceil(sizes / story.REPS_PER_MANAGER).astype(int)
    names = _names(rng, n + managers_per_region.sum())     # reps first, then their managers
    role = np.array(story.ROLES)[rng.choice(len(story.ROLES), n, p=story.ROLE_SHARES)]
    role[team.has("ramping")] = story.ROLES[0]
    local = np.arange(n) - np.searchsorted(team.region, team.region)
    first_manager = n + np.concatenate([[0], np.cumsum(managers_per_region)[:-1]])
    manager = names[first_manager[team.region]
                    + local * managers_per_region[team.region] // sizes[team.region]]
    territory_ids = _ids("T", n)
    reps = pd.DataFrame({"rep_id": ids, "rep_name": names[:n], "region": regions[team.region],
                         "territory_id": territory_ids, "role": role, "hire_date": team.hire,
                         "manager": manager})

    zips, zip_first, zip_count = _territory_zips(team)
    per_territory = np.maximum(4, np.round(story.ACCOUNTS_PER_TERRITORY * team.potential_index / 100
                                           * rng.uniform(0.9, 1.1, n))).astype(int)
    rep = np.repeat(np.arange(n), per_territory)
    n_acc = len(rep)
    kind = rng.choice(len(story.ACCOUNT_TYPES), n_acc, p=story.ACCOUNT_TYPE_SHARES)
    raw = np.array(story.ACCOUNT_TYPE_POTENTIAL)[kind] * rng.lognormal(-0.125, 0.5, n_acc)
    nominal = np.dot(story.ACCOUNT_TYPE_SHARES, story.ACCOUNT_TYPE_POTENTIAL) * story.ACCOUNTS_PER_TERRITORY
    target = nominal * team.potential_index / 100
    potential = np.round(raw * (target / np.bincount(rep, raw, n))[rep], -2)
    segment = _segments(kind, rng)
    affinity = np.array([story.SEGMENT_AFFINITY[s] for s in story.SEGMENTS])[segment]
    big = np.isin(kind, [story.ACCOUNT_TYPES.index(t) for t in ("Hospital", "IDN", "ASC")])
    where = np.where(big, _pick_zip(zips, zip_first, zip_count, rep, "city_weight", rng),
                     _pick_zip(zips, zip_first, zip_count, rep, "town_weight", rng))
    place = zips.iloc[where].reset_index(drop=True)
    account_ids = _ids("A", n_acc, 4)
    accounts_table = pd.DataFrame({
        "account_id": account_ids, "account_name": _account_names(kind, segment, place["city"].to_numpy(), rng),
        "territory_id": territory_ids[rep], "account_type": np.array(story.ACCOUNT_TYPES)[kind],
        "segment": np.array(story.SEGMENTS)[segment], "potential": potential,
        "zip": place["zip"], "latitude": place["latitude"], "longitude": place["longitude"],
        "city": place["city"], "state": place["state"]})

    biggest = zips.loc[zips.groupby("territory")["city_zips"].idxmax()].set_index("territory")
    territories = pd.DataFrame({
        "territory_id": territory_ids,
        "territory_name": (biggest["city"] + ", " + biggest["state"]).reindex(np.arange(n)).to_numpy(),
        "region": regions[team.region], "market_potential": np.bincount(rep, potential, n)})

    first = np.concatenate([[0], np.cumsum(per_territory)[:-1]])
    focus = team.has("activity_shortfall")[rep]
    accounts = _Accounts(
        rep=rep, potential=potential, affinity=affinity,
        phase=rng.random(affinity.shape),
        pick_cum=np.cumsum(potential ** 0.6), focus_cum=np.cumsum(np.where(focus, potential ** 3, potential ** 0.6)),
        first=first, count=per_territory)
    return reps, territories, accounts_table, accounts


def _pick_zip(zips: pd.DataFrame, first: np.ndarray, count: np.ndarray, territory: np.ndarray,
              weight: str, rng: np.random.Generator) -> np.ndarray:
    """A ZIP row of each territory, drawn with the given weight (hospitals go to bigger cities)."""
    cum = np.cumsum(zips[weight].to_numpy())
    lo = np.where(first[territory] > 0, cum[np.maximum(first[territory] - 1, 0)], 0.0)
    last = first[territory] + count[territory] - 1
    target = lo + rng.random(len(territory)) * (cum[last] - lo)
    rows: np.ndarray = np.clip(np.searchsorted(cum, target, side="right"), first[territory], last)
    return rows


def _segments(kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hospitals and IDNs are multi-specialty; ASCs, clinics and practices specialise."""
    by_type = np.array([[1, 0, 0, 0, 0], [0, 0.3, 0.5, 0.2, 0], [0, 0.35, 0.3, 0.2, 0.15],
                        [1, 0, 0, 0, 0], [0, 0.35, 0.3, 0.2, 0.15]])
    return _draw(by_type[kind], rng.random(len(kind)))


def _draw(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One category per row from a (rows, categories) probability matrix."""
    cum = np.cumsum(probabilities, axis=1)
    category: np.ndarray = np.minimum((u[:, None] * cum[:, -1:] > cum).sum(axis=1), probabilities.shape[1] - 1)
    return category


def _account_names(kind: np.ndarray, segment: np.ndarray, city: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """"{city} General Hospital", "{city} Cardiology Associates" …; repeated names get a number."""
    patterns = [(t, p) for t in story.ACCOUNT_TYPES for p in story.NAME_PATTERNS[t]]
    before = np.array([p.split("{city}")[0] for _, p in patterns])
    after = [p.split("{city}")[1] for _, p in patterns]
    middle = np.array([a.split("{specialty}")[0] for a in after])
    end = np.array([a.split("{specialty}")[1] if "{specialty}" in a else "" for a in after])
    uses_specialty = np.array(["{specialty}" in a for a in after])
    type_of = np.array([story.ACCOUNT_TYPES.index(t) for t, _ in patterns])
    first = np.searchsorted(type_of, kind)
    pick = first + (rng.random(len(kind)) * np.bincount(type_of)[kind]).astype(int)
    specialty = np.where(uses_specialty[pick], np.array(story.SEGMENT_WORD)[segment], "")
    names = pd.Series(before[pick]) + city + middle[pick] + specialty + end[pick]
    repeat = names.groupby(names).cumcount()
    numbered: np.ndarray = np.where(repeat > 0, names + " " + (repeat + 1).astype(str), names)
    return numbered


# ---------------------------------------------------------------- revenue and quotas

def _launch(cal: _Calendar, months: np.ndarray) -> np.ndarray:
    """(products, months) share of the potential on sale: the focus product ramps in after launch."""
    out = np.ones((len(story.PRODUCTS), len(months)))
    months_since = (months.astype("datetime64[M]") - cal.launch.astype("datetime64[M]")).astype(int)
    out[story.PRODUCTS.index(story.FOCUS_PRODUCT)] = np.clip((months_since + 1) / story.LAUNCH_RAMP_MONTHS, 0, 1)
    return out


def _market(cal: _Calendar, months: np.ndarray) -> np.ndarray:
    """Seasonality × market growth per month."""
    season = np.array(story.SEASONALITY)[months.astype("datetime64[M]").astype(int) % 12]
    age = ((months - cal.start) // DAY) / 365.25
    market: np.ndarray = season * (1 + story.MARKET_GROWTH) ** age
    return market


def _base_quota(cal: _Calendar, accounts: _Accounts, months: np.ndarray) -> np.ndarray:
    """(products + 1, months) quota of an average territory: all products first, then per product.

    Set to the revenue a healthy rep makes in a territory of index 100, divided by
    HEALTHY_OVER_QUOTA; the same for every rep whatever their territory's potential.
    """
    nominal = np.dot(story.ACCOUNT_TYPE_SHARES, story.ACCOUNT_TYPE_POTENTIAL) * story.ACCOUNTS_PER_TERRITORY
    mix = (accounts.potential @ accounts.affinity) / accounts.potential.sum()        # per product
    per_product = nominal / 12 * story.CAPTURE * mix[:, None] * _launch(cal, months) * _market(cal, months)
    per_product /= story.HEALTHY_OVER_QUOTA
    return np.vstack([per_product.sum(axis=0), per_product])


def _employment(team: _Team, cal: _Calendar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reps, months) share of each month worked, and its first/last day of data (1-based)."""
    days = cal.month_days
    month_end = cal.months + (days - 1) * DAY
    hire = team.hire[:, None]
    first = np.where(hire > cal.months, (hire - cal.months) // DAY + 1, 1)
    # numpy's stubs type datetime64 minus an array of datetime64 as datetime64 (it is timedelta64)
    to_end = (cal.end - cal.months) // DAY  # type: ignore[operator]
    last = np.where(month_end > cal.end, to_end + 1, days)[None, :].repeat(len(hire), 0)
    worked = np.clip(last - first + 1, 0, None) / days
    return worked, first, last


def _ramp(team: _Team, cal: _Calendar) -> np.ndarray:
    tenure = ((cal.months + 14 * DAY)[None, :] - team.hire[:, None]) // DAY / 30.44
    ramp: np.ndarray = np.clip(story.RAMP_FLOOR + (1 - story.RAMP_FLOOR) * tenure / story.RAMP_MONTHS,
                               story.RAMP_FLOOR, 1)
    return ramp


def _behaviour(team: _Team, cal: _Calendar) -> np.ndarray:
    """(reps, months) revenue multiplier of each rep's behavioural cause."""
    s = cal.severity(cal.months + 14 * DAY)
    multiplier: np.ndarray = 1 - (1 - team.cause_revenue)[:, None] * s[None, :]
    return multiplier


def _quarter_index(months: np.ndarray) -> np.ndarray:
    """Quarters since 1970-Q1 of datetime64 values."""
    return months.astype("datetime64[M]").astype(int) // 3


def _retained(team: _Team, accounts: _Accounts, cal: _Calendar, rng: np.random.Generator) -> np.ndarray:
    """(accounts, quarters) True while the account still buys from us (lost accounts may come back)."""
    quarters = np.unique(_quarter_index(cal.months))
    quarter_mid = (quarters * 3 + 1).astype("datetime64[M]").astype("datetime64[D]") + 14 * DAY
    lose = np.where(team.has("customer_retention")[accounts.rep][:, None],
                    story.CHURN_HEALTHY + story.CHURN_PLANTED * cal.severity(quarter_mid)[None, :],
                    story.CHURN_HEALTHY)
    state = np.ones((len(accounts.rep), len(quarters)), dtype=bool)
    for q in range(1, len(quarters)):
        u = rng.random(len(accounts.rep))
        state[:, q] = np.where(state[:, q - 1], u >= lose[:, q], u < story.WIN_BACK)
    return state


def _order_interval(annual_potential: np.ndarray) -> np.ndarray:
    """Months between orders of one product: big buyers order monthly, the others once a quarter."""
    return np.where(annual_potential >= story.MONTHLY_BUYER, 1, 3)


@dataclass(frozen=True)
class _Sales:
    rep: np.ndarray
    account: np.ndarray
    product: np.ndarray
    month: np.ndarray
    date: np.ndarray
    revenue: np.ndarray


def _sales(team: _Team, accounts: _Accounts, cal: _Calendar, rng: np.random.Generator,
           density: float = 1.0) -> _Sales:
    """One line per account × product × month in which the account ordered.

    Big accounts order every month, smaller ones once a quarter (a steady rhythm with
    the odd missed order), each order worth the months it covers. With `density` ≠ 1 an order
    becomes about `density` lines (at least one) sharing its revenue, on days of the same month.
    """
    acc, prod = np.nonzero(accounts.affinity > 0)
    n_m = len(cal.months)
    month = np.tile(np.arange(n_m), len(acc))
    acc, prod = np.repeat(acc, n_m), np.repeat(prod, n_m)
    rep = accounts.rep[acc]
    worked, first_day, last_day = _employment(team, cal)
    quarter = _quarter_index(cal.months)
    retained = _retained(team, accounts, cal, rng)[acc, quarter[month] - quarter[0]]
    incentive = team.has("incentive_misalignment")
    product_mix = np.where(incentive[:, None], np.array(story.INCENTIVE_PRODUCT_MIX)[None, :], 1.0)
    position = cal.months.astype("datetime64[M]").astype(int) % 3
    bunching = np.where(incentive[:, None], np.array(story.QUARTER_MONTH_WEIGHTS)[position][None, :], 1.0)
    expected = (accounts.potential[acc] / 12 * accounts.affinity[acc, prod] * _launch(cal, cal.months)[prod, month]
                * story.CAPTURE * _market(cal, cal.months)[month] * team.execution[rep]
                * _behaviour(team, cal)[rep, month] * product_mix[rep, prod] * _ramp(team, cal)[rep, month]
                * worked[rep, month] * bunching[rep, month] * retained)
    interval = _order_interval(accounts.potential[acc] * accounts.affinity[acc, prod])
    calendar_month = cal.months.astype("datetime64[M]").astype(int)[month]      # quarters are aligned
    offset = (accounts.phase[acc, prod] * interval).astype(int)
    ordered = ((calendar_month + offset) % interval == 0) & (rng.random(len(acc)) > story.MISSED_ORDER)
    bought = ordered & (expected > 0)
    acc, prod, month, rep = acc[bought], prod[bought], month[bought], rep[bought]
    noise = rng.lognormal(-story.LINE_NOISE ** 2 / 2, story.LINE_NOISE, len(acc))
    revenue = np.round(expected[bought] * interval[bought] / (1 - story.MISSED_ORDER) * noise, 2)
    revenue = np.where(rng.random(len(acc)) < story.RETURN_SHARE, -np.round(revenue * 0.3, 2), revenue)
    if density != 1.0:
        acc, prod, month, rep, revenue = _split_orders(rng, density, acc, prod, month, rep, revenue)
    lo, hi = first_day[rep, month], last_day[rep, month]
    late = incentive[rep] & (position[month] == 2)          # bunched deals land in the last 3 weeks
    lo = np.where(late, np.maximum(lo, np.minimum(12, hi)), lo)
    day = lo + (rng.random(len(acc)) * (hi - lo + 1)).astype(int)
    return _Sales(rep, acc, prod, month, cal.months[month] + (day - 1) * DAY, revenue)


def _split_orders(rng: np.random.Generator, density: float, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each order as floor(density) or ceil(density) lines (at least one); the last column (revenue) is shared."""
    n = len(columns[0])
    whole, part = divmod(density, 1.0)
    lines = np.maximum(1, int(whole) + (rng.random(n) < part)).astype(np.int64)
    split = [np.repeat(c, lines) for c in columns]
    split[-1] = np.round(split[-1] / np.repeat(lines, lines), 2)
    return tuple(split)


def _sales_table(s: _Sales, ids: np.ndarray, account_ids: np.ndarray) -> pd.DataFrame:
    products = np.array(story.PRODUCTS)
    units = np.sign(s.revenue) * np.maximum(1, np.round(np.abs(s.revenue) / np.array(story.UNIT_PRICE)[s.product]))
    frame = pd.DataFrame({"date": s.date, "rep_id": ids[s.rep], "account_id": account_ids[s.account],
                          "product": products[s.product], "revenue": s.revenue, "units": units})
    return frame.sort_values(["date", "rep_id", "account_id", "product"], kind="stable")


@dataclass(frozen=True)
class _Quotas:
    rep: np.ndarray
    quarter: np.ndarray           # quarter index (year * 4 + q - 1)
    product: np.ndarray           # -1 = all products
    quota: np.ndarray


def _quotas(team: _Team, cal: _Calendar, accounts: _Accounts, rng: np.random.Generator) -> _Quotas:
    """Quarterly quotas per rep (all products), plus a NeuroPulse quota once it has sold a quarter.

    A quota covers its whole quarter (also months after the last day of data), prorated at hire.
    """
    n = len(team.cause)
    quarters = np.unique(_quarter_index(cal.months))
    months = ((quarters * 3)[:, None] + np.arange(3)[None, :]).ravel().astype("datetime64[M]")
    days = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")) // DAY
    months = months.astype("datetime64[D]")
    base = _base_quota(cal, accounts, months)
    worked = np.clip(((months + days * DAY)[None, :] - np.maximum(team.hire[:, None], months[None, :]))
                     // DAY / days[None, :], 0, 1)
    fairness = rng.normal(1.0, 0.03, n)
    per_quarter = (base[:, None, :] * worked[None, :, :]).reshape(len(base), n, len(quarters), 3).sum(axis=3)
    per_quarter *= fairness[None, :, None]
    focus = story.PRODUCTS.index(story.FOCUS_PRODUCT)
    launch_q = _quarter_index(np.array([cal.launch]))[0]
    rows = [(np.arange(n)[:, None].repeat(len(quarters), 1), quarters[None, :].repeat(n, 0),
             np.full((n, len(quarters)), -1), np.round(per_quarter[0], -3))]
    rows.append((np.arange(n)[:, None].repeat(len(quarters), 1), quarters[None, :].repeat(n, 0),
                 np.full((n, len(quarters)), focus), np.round(per_quarter[1 + focus], -3)))
    rep, q, product, quota = (np.concatenate([r[i].ravel() for r in rows]) for i in range(4))
    keep = (quota > 0) & ((product < 0) | (q > launch_q))
    return _Quotas(rep[keep], q[keep], product[keep], quota[keep])


def _quarter_label(quarter: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add((1970 + quarter // 4).astype(str), "-Q"), (quarter % 4 + 1).astype(str))


def _quota_table(q: _Quotas, ids: np.ndarray) -> pd.DataFrame:
    product = np.where(q.product < 0, None, np.array(story.PRODUCTS, dtype=object)[q.product])
    frame = pd.DataFrame({"rep_id": ids[q.rep], "period": _quarter_label(q.quarter), "quota": q.quota,
                          "product": product, "_q": q.quarter, "_p": q.product})
    return frame.sort_values(["rep_id", "_q", "_p"], kind="stable").drop(columns=["_q", "_p"])


def _incentives(s: _Sales, q: _Quotas, cal: _Calendar, ids: np.ndarray) -> pd.DataFrame:
    """Commission per product on each closed quarter's revenue, plus a bonus at or above quota."""
    quarter = _quarter_index(cal.months)[s.month]
    last_paid = _quarter_index(np.array([cal.quarter_end]))[0]
    sales = pd.DataFrame({"rep": s.rep, "quarter": quarter, "product": s.product, "revenue": s.revenue})
    sales = sales[sales["quarter"] <= last_paid]
    by_product = sales.groupby(["rep", "quarter", "product"], as_index=False)["revenue"].sum()
    by_product["payout"] = np.round(np.clip(by_product["revenue"], 0, None)
                                    * np.array(story.COMMISSION)[by_product["product"]], 2)
    by_product["component"] = np.array(story.PRODUCTS)[by_product["product"]]
    total = by_product.groupby(["rep", "quarter"], as_index=False)["revenue"].sum()
    quota = pd.DataFrame({"rep": q.rep, "quarter": q.quarter, "quota": q.quota})[q.product < 0]
    bonus = total.merge(quota, on=["rep", "quarter"])
    bonus = bonus[bonus["revenue"] >= bonus["quota"]].assign(
        payout=lambda b: np.round(b["quota"] * story.BONUS_SHARE_OF_QUOTA, 2), component="bonus", product=99)
    out = pd.concat([by_product, bonus])[["rep", "quarter", "product", "payout", "component"]]
    out = out[out["payout"] > 0].sort_values(["rep", "quarter", "product"], kind="stable")
    return pd.DataFrame({"rep_id": ids[out["rep"].to_numpy()], "period": _quarter_label(out["quarter"].to_numpy()),
                         "payout": out["payout"].to_numpy(), "component": out["component"].to_numpy()})


# ---------------------------------------------------------------- behaviour: the footprints

def _weeks(team: _Team, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Monday of every week with data, and (reps, weeks) True where the rep was employed."""
    monday = cal.start - ((cal.start.astype("datetime64[D]").astype(int) - 4) % 7) * DAY
    weeks = np.arange(monday, cal.end + DAY, 7 * DAY)
    return weeks, (weeks[None, :] + 4 * DAY) >= team.hire[:, None]


def _events(rate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Poisson counts on a grid of rates, expanded to one row per event: the grid index per axis."""
    counts = rng.poisson(rate).ravel()
    flat = np.repeat(np.arange(counts.size), counts)
    return np.unravel_index(flat, rate.shape)


def _in_data(team: _Team, cal: _Calendar, rep: np.ndarray, when: np.ndarray) -> np.ndarray:
    inside: np.ndarray = (when >= np.maximum(team.hire[rep], cal.start)) & (when <= cal.end)
    return inside


def _pick_account(accounts: _Accounts, rep: np.ndarray, u: np.ndarray, focused: np.ndarray) -> np.ndarray:
    """An account of the rep's territory, weighted to bigger accounts (very much so when `focused`)."""
    out = np.empty(len(rep), dtype=np.int64)
    first, last = accounts.first[rep], accounts.first[rep] + accounts.count[rep] - 1
    for cum, mask in ((accounts.pick_cum, ~focused), (accounts.focus_cum, focused)):
        lo = np.where(first[mask] > 0, cum[np.maximum(first[mask] - 1, 0)], 0.0)
        target = lo + u[mask] * (cum[last[mask]] - lo)
        out[mask] = np.clip(np.searchsorted(cum, target, side="right"), first[mask], last[mask])
    return out


def _pick_product(accounts: _Accounts, account: np.ndarray, when: np.ndarray, cal: _Calendar,
                  rng: np.random.Generator) -> np.ndarray:
    """A product the account buys; before launch the focus product becomes the account's main one."""
    product = _draw(accounts.affinity[account], rng.random(len(account)))
    focus = story.PRODUCTS.index(story.FOCUS_PRODUCT)
    main = np.argmax(np.where(np.arange(len(story.PRODUCTS)) == focus, -1, accounts.affinity[account]), axis=1)
    return np.where((product == focus) & (when < cal.launch), main, product)


def _neighbours(team: _Team) -> np.ndarray:
    """The next territory of the same region (territories are numbered along the map)."""
    r = np.arange(len(team.cause))
    up, down = np.minimum(r + 1, r[-1]), np.maximum(r - 1, 0)
    return np.where((up != r) & (team.region[up] == team.region), up,
                    np.where(team.region[down] == team.region, down, r))


def _activities(team: _Team, accounts: _Accounts, cal: _Calendar, rng: np.random.Generator,
                ids: np.ndarray, account_ids: np.ndarray, density: float = 1.0) -> pd.DataFrame:
    types = np.array(list(story.ACTIVITY_RATES))
    face_to_face = np.isin(types, ("meeting", "presentation", "workshop", "demo", "case_support"))
    weeks, employed = _weeks(team, cal)
    s = cal.severity(weeks + 3 * DAY)[None, :]
    short = team.has("activity_shortfall")[:, None]
    f2f_level = np.where(short, 1 - (1 - story.SHORTFALL_ACTIVITY) * s, 1.0)
    off = rng.random(employed.shape) < 0.04                        # vacation, congress, sick weeks
    level = employed * ~off * rng.uniform(0.95, 1.12, len(team.cause))[:, None]
    rate = (level[:, :, None] * np.where(face_to_face[None, None, :], f2f_level[:, :, None], 1.0)
            * np.array(list(story.ACTIVITY_RATES.values()))[None, None, :] * density)
    rep, week, kind = _events(rate, rng)
    when = weeks[week] + rng.integers(0, 5, len(rep)) * DAY
    keep = _in_data(team, cal, rep, when)
    rep, kind, when = rep[keep], kind[keep], when[keep]
    s = cal.severity(when)
    focused = team.has("activity_shortfall")[rep] & (rng.random(len(rep)) < s)
    account = _pick_account(accounts, rep, rng.random(len(rep)), focused)
    elsewhere = rng.random(len(rep)) < story.OVERLAP_SHARE
    account = np.where(elsewhere, _pick_account(accounts, _neighbours(team)[rep], rng.random(len(rep)),
                                                np.zeros(len(rep), bool)), account)
    poor_plan = team.has("plan_adherence")[rep] * s
    healthy_plan = rng.uniform(*story.HEALTHY_PLANNED, len(ids))[rep]
    planned = pd.array(rng.random(len(rep)) < healthy_plan - (healthy_plan - story.POOR_PLANNED) * poor_plan,
                       dtype="boolean")
    planned[rng.random(len(rep)) < story.PLANNED_UNKNOWN] = pd.NA
    mix = (np.array(story.CONTACT_MIX)[None, :] * (1 - poor_plan[:, None])
           + np.array(story.POOR_CONTACT_MIX)[None, :] * poor_plan[:, None])
    role = np.array(CONTACT_ROLES)
    product = _pick_product(accounts, account, when, cal, rng)
    frame = pd.DataFrame({
        "date": when, "rep_id": ids[rep], "activity_type": types[kind], "account_id": account_ids[account],
        "planned": planned, "contact_role": role[_draw(mix, rng.random(len(rep)))],
        "segment": np.array(story.PRODUCT_SEGMENT)[product], "product": np.array(story.PRODUCTS)[product]})
    # Two identical calls on one day are one call in a real CRM: keep the data free of exact duplicates.
    return frame.drop_duplicates().sort_values(["date", "rep_id"], kind="stable")


def _follow_ups(team: _Team, accounts: _Accounts, cal: _Calendar, rng: np.random.Generator,
                ids: np.ndarray, account_ids: np.ndarray, density: float = 1.0) -> pd.DataFrame:
    weeks, employed = _weeks(team, cal)
    rep, week = _events(employed * story.FOLLOW_UPS_PER_WEEK * density, rng)
    created = weeks[week] + rng.integers(0, 5, len(rep)) * DAY
    keep = _in_data(team, cal, rep, created)
    rep, created = rep[keep], created[keep]
    lead = rng.integers(3, 15, len(rep))
    due = created + lead * DAY
    s = team.has("follow_up_discipline")[rep] * cal.severity(due)
    healthy = rng.uniform(*story.HEALTHY_ON_TIME, len(ids))[rep]
    on_time = rng.random(len(rep)) < healthy - (healthy - rng.uniform(*story.LATE_ON_TIME, len(ids))[rep]) * s
    never = ~on_time & (rng.random(len(rep)) < 0.05 + 0.25 * s)
    early = np.minimum(rng.integers(0, 4, len(rep)), lead)
    late = 1 + rng.poisson(1.5 + 10 * s)
    done = np.where(on_time, due - early * DAY, due + late * DAY)
    done = np.where(never | (done > cal.end), np.datetime64("NaT"), done)
    frame = pd.DataFrame({"rep_id": ids[rep], "due_date": due, "completed_date": done,
                          "account_id": account_ids[_pick_account(accounts, rep, rng.random(len(rep)),
                                                                  np.zeros(len(rep), bool))]})
    return frame.drop_duplicates().sort_values(["due_date", "rep_id"], kind="stable")


def _opportunities(team: _Team, accounts: _Accounts, cal: _Calendar, base: np.ndarray,
                   rng: np.random.Generator, ids: np.ndarray, account_ids: np.ndarray,
                   density: float = 1.0) -> pd.DataFrame:
    worked, first_day, last_day = _employment(team, cal)
    s_month = cal.severity(cal.months + 14 * DAY)
    weak = team.has("pipeline")[:, None]
    rate = (worked * story.OPPORTUNITIES_PER_MONTH * density
            * np.where(weak, 1 - (1 - story.PIPELINE_CREATION) * s_month, 1))
    rep, month = _events(rate, rng)
    lo, hi = first_day[rep, month], last_day[rep, month]
    created = cal.months[month] + (lo - 1 + (rng.random(len(rep)) * (hi - lo + 1)).astype(int)) * DAY
    cycle = 30 + rng.gamma(2.0, 45.0, len(rep))
    mean_amount = (story.PIPELINE_COVERAGE * 3 * base[0][month]
                   / (story.OPPORTUNITIES_PER_MONTH * density * (30 + 90) / 30.44))
    amount = np.round(mean_amount * rng.lognormal(-0.1, 0.45, len(rep)), -2)
    win = rng.uniform(-0.04, 0.04, len(ids))[rep] + story.WIN_RATE
    close_guess = created + cycle.astype(int) * DAY
    win -= team.has("pipeline")[rep] * (story.WIN_RATE - story.PIPELINE_WIN_RATE) * cal.severity(close_guess)
    won = rng.random(len(rep)) < win
    close = created + np.where(won, cycle, cycle * 0.75).astype(int) * DAY
    pushed = (close <= cal.end) & (close > cal.end - 60 * DAY) & (rng.random(len(rep)) < 0.25)
    closed = (close <= cal.end) & ~pushed       # a pushed deal is still open past its close date
    progress = np.clip(((cal.end - created) // DAY) / np.maximum((close - created) // DAY, 1), 0, 0.99)
    open_stage = np.array(["Qualification", "Needs Analysis", "Proposal", "Negotiation"])[(progress * 4).astype(int)]
    open_stage = np.where(close <= cal.end, "Negotiation", open_stage)
    status = np.where(closed, np.where(won, "won", "lost"), "open")
    close = np.where(closed, close, np.minimum(close, cal.end + 270 * DAY))   # expected within 9 months
    stage = np.where(closed, np.where(won, "Closed Won", "Closed Lost"), open_stage)
    account = _pick_account(accounts, rep, rng.random(len(rep)), np.zeros(len(rep), bool))
    product = _pick_product(accounts, account, created, cal, rng)
    frame = pd.DataFrame({"rep_id": ids[rep], "created_date": created, "stage": stage, "status": status,
                          "close_date": close, "amount": amount, "account_id": account_ids[account],
                          "product": np.array(story.PRODUCTS)[product]})
    frame = frame.sort_values(["created_date", "rep_id"], kind="stable")
    frame.insert(0, "opportunity_id", np.char.add("OPP-", np.char.zfill(np.arange(1, len(frame) + 1).astype(str), 6)))
    return frame


def _training(team: _Team, cal: _Calendar, rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    worked, first_day, last_day = _employment(team, cal)
    rate = np.repeat((worked > 0)[:, :, None], story.QUIZZES_PER_MONTH, axis=2).astype(float)
    rep, month, slot = np.nonzero(rate)
    lo, hi = first_day[rep, month], last_day[rep, month]
    when = cal.months[month] + (lo - 1 + (rng.random(len(rep)) * (hi - lo + 1)).astype(int)) * DAY
    healthy = rng.uniform(*story.KNOWLEDGE_HEALTHY, len(ids))[rep]
    p = healthy - team.has("training_gap")[rep] * (healthy - story.KNOWLEDGE_GAP) * cal.severity(when)
    score = np.round(100 * rng.binomial(story.QUIZ_QUESTIONS, p) / story.QUIZ_QUESTIONS, 1)
    topic = np.array(story.TRAINING_TOPICS)[(month * story.QUIZZES_PER_MONTH + slot) % len(story.TRAINING_TOPICS)]
    frame = pd.DataFrame({"rep_id": ids[rep], "date": when, "topic": topic, "score": score})
    return frame.sort_values(["date", "rep_id"], kind="stable")


def _expected_matrix(roles: np.ndarray) -> np.ndarray:
    return np.array([[story.EXPECTED[r].get(c, 3.0) for c in story.COMPETENCIES] for r in roles])


def _assessments(team: _Team, roles: np.ndarray, cal: _Calendar, rng: np.random.Generator,
                 ids: np.ndarray) -> pd.DataFrame:
    """Quarterly manager and self ratings; a training gap pulls 2-3 competencies 1-1.5 below expected."""
    n, n_c = len(ids), len(story.COMPETENCIES)
    quarters = np.unique(_quarter_index(cal.months))
    when = (quarters * 3 + 2).astype("datetime64[M]").astype("datetime64[D]") + 14 * DAY
    when = when[(when >= cal.start) & (when <= cal.end)]
    expected = _expected_matrix(roles)
    gap = np.zeros((n, n_c), dtype=bool)
    gap_reps = np.flatnonzero(team.has("training_gap"))
    weak = np.array([story.COMPETENCIES.index(c) for c in
                     ("Product knowledge", "Clinical knowledge", "Objection handling", "Discovery")])
    chosen = np.argsort(rng.random((len(gap_reps), len(weak))), axis=1) < rng.integers(2, 4, (len(gap_reps), 1))
    gap[gap_reps[:, None], weak[None, :]] = chosen
    offset = rng.normal(0.25, 0.25, (n, n_c))
    rep, t, comp = np.nonzero(np.ones((n, len(when), n_c), dtype=bool)
                              & ((when[None, :] >= team.hire[:, None] + 60 * DAY)[:, :, None]))
    date_ = when[t]
    tenure_years = ((date_ - team.hire[rep]) // DAY) / 365.25
    healthy = expected[rep, comp] + offset[rep, comp] + np.minimum(0.1 * tenure_years, 0.4)
    falling = expected[rep, comp] - 0.3 - 1.05 * cal.severity(date_)
    is_gap = gap[rep, comp]
    manager = np.where(is_gap, falling + rng.normal(0, 0.1, len(rep)), healthy + rng.normal(0, 0.2, len(rep)))
    self_ = np.where(is_gap, expected[rep, comp] + 0.4, manager + rng.normal(0.3, 0.25, len(rep)))

    def rating(x: np.ndarray) -> np.ndarray:
        return np.clip(np.round(x * 2) / 2, 1, 5)

    frame = pd.DataFrame({
        "rep_id": np.tile(ids[rep], 2), "date": np.tile(date_, 2),
        "competency": np.tile(np.array(story.COMPETENCIES)[comp], 2),
        "rating": np.concatenate([rating(manager), rating(self_)]),
        "assessor": np.repeat(["manager", "self"], len(rep))})
    return frame.sort_values(["date", "rep_id", "assessor"], kind="stable")


def _expected_levels() -> pd.DataFrame:
    roles = np.array(story.ROLES)
    expected = _expected_matrix(roles)
    return pd.DataFrame({"role": np.repeat(roles, len(story.COMPETENCIES)),
                         "competency": np.tile(story.COMPETENCIES, len(roles)),
                         "expected_rating": expected.ravel()})


def _canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Exactly the canonical columns of `name`, in order, with their canonical dtypes."""
    spec = TABLES[name]
    out = {}
    for column in spec.columns:
        values = frame[column.name] if column.name in frame else pd.Series(np.nan, index=frame.index)
        dtype = pandas_dtype(column)
        out[column.name] = (values.astype(object).where(values.notna(), None).astype(dtype)
                            if dtype == "str" else values.astype(dtype))
    return pd.DataFrame(out).reset_index(drop=True)


# ---------------------------------------------------------------- writing

def write_workbook(tables: dict[str, pd.DataFrame], path: str | Path) -> None:
    """One sheet per table, named like the table; dates as Excel dates, ZIPs and ids as text."""
    write_xlsx(tables, path)


def write_csvs(tables: dict[str, pd.DataFrame], directory: str | Path) -> None:
    """One `<table>.csv` per table, dates as ISO days."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")


def main(argv: list[str] | None = None) -> int:
    """`python -m core sample --out sample_data/goalgap_sample.xlsx
    [--reps N --years Y --seed S --density D --csv DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m core sample",
                                     description="Write the GoalGap sample data (a seeded medtech team).")
    parser.add_argument("--out", default="sample_data/goalgap_sample.xlsx", help="workbook to write")
    parser.add_argument("--reps", type=int, default=40, help="number of reps (default 40)")
    parser.add_argument("--years", type=float, default=2.9, help="years of history (default 2.9)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--csv", metavar="DIR", help="also write one CSV per table into DIR")
    parser.add_argument("--density", type=float, default=1.0,
                        help="data volume per rep: activities, follow-ups, deals and sales lines × this "
                             "(default 1; the benchmark uses 2.7)")
    args = parser.parse_args(argv)
    try:
        data = generate(n_reps=args.reps, years=args.years, seed=args.seed, density=args.density)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_workbook(data.tables, args.out)
    if args.csv:
        write_csvs(data.tables, args.csv)
    rows = ", ".join(f"{name} {len(t):,}" for name, t in data.tables.items())
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): {rows}")
    return 0
