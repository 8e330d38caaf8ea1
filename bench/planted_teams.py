"""A second planted-team generator, written apart from core/sample/team.py, to judge the diagnostic on
teams it was never tuned on (issue 13, item 8).

It shares only the table shapes (core.schema) with the bundled sample. Its own story: 4-6 products
with a product quota for every product, a pay plan whose components are named "Commission",
"Bonus" and "SPIF" (never after products), seasonality and market growth that vary per team,
noisy execution, hires spread over the years, 12 to 300 reps. Eight causes are planted with
effect sizes drawn per rep; behavioural causes start at a random month of the last year; some
reps carry two causes (the primary one is the one costing more revenue). Every cause lowers
revenue AND leaves its footprint in the tables a diagnostic reads.

`crm_files(team)` writes the same team the way a CRM report exports it (report labels such as
"Activity Owner" and "Attendee Type", rep names instead of ids, US dates, "Q3 2025" periods), as
CSV files for core.ingest.pipeline.

    python -m bench.planted_teams --reps 48 --seed 101 --out /tmp/team.xlsx
"""
from __future__ import annotations

import argparse
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.schema import TABLES, pandas_dtype

CAUSES = ("territory_imbalance", "training_gap", "incentive_misalignment", "follow_up_discipline",
          "activity_shortfall", "plan_adherence", "customer_retention", "ramping")
BEHAVIOURAL = ("training_gap", "follow_up_discipline", "activity_shortfall", "plan_adherence")
PRODUCT_NAMES = ("AeroValve", "CoreLink Catheter", "SpineGuard", "VisionLens", "PulseMonitor",
                 "BoneGraft Pro", "SealTight Closure")
COMPETENCIES = ("Product expertise", "Needs discovery", "Handling objections", "Territory planning",
                "Closing")
ROLES = ("Sales Rep", "Senior Sales Rep")
FIRST = ("Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Parker", "Reese", "Drew", "Hayden",
         "Rowan", "Emerson", "Sawyer", "Finley", "Dakota", "Skyler", "Logan", "Cameron", "Blake", "Jamie")
LAST = ("Alvarez", "Brennan", "Castillo", "Dunham", "Ellison", "Fairbanks", "Gallagher", "Holloway",
        "Iverson", "Jennings", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Pellegrino",
        "Quintero", "Rasmussen", "Sandoval", "Thornton")
FACE_TYPES = ("meeting", "presentation", "workshop", "demo", "case_support")
FACE_P = (0.55, 0.12, 0.05, 0.13, 0.15)
USER_TITLES = ("Physician", "Surgeon", "Nurse", "Cath Lab Technician")
BUYER_TITLES = ("Purchasing", "Value Analysis", "Materials Manager")
ADMIN_TITLES = ("CEO", "CFO", "Administrator", "VP")
QUARTER_ENDS = ("2025-06-30", "2025-09-30", "2025-12-31", "2026-03-31", "2026-06-30", "2026-09-30")


@dataclass
class PlantedTeam:
    tables: dict[str, pd.DataFrame]
    primary: dict[str, str]                  # rep_id -> planted primary cause ("none" = healthy)
    causes: dict[str, tuple[str, ...]]       # rep_id -> every planted cause, primary first
    period: str                              # the quarter to diagnose, e.g. "2025-Q4"
    names: dict[str, str] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)   # commission per $ of revenue, per product


# ---------------------------------------------------------------------------------------------
# Plan of the team: who gets which cause, how strong, from when

@dataclass
class _Rep:
    primary: np.ndarray      # str per rep
    second: np.ndarray       # str per rep ("" = none)
    strength: dict[str, np.ndarray]   # cause -> revenue multiplier at full strength per rep (1 = none)
    start: dict[str, np.ndarray]      # cause -> month index the cause starts (behavioural/retention)
    hire_month: np.ndarray   # month index of hire (may be < 0: before the data)
    exec: np.ndarray         # healthy execution level


def _assign(n: int, per_cause: int, two_cause_share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    planted = [c for c in CAUSES for _ in range(per_cause)]
    if len(planted) > n:
        raise ValueError(f"{len(planted)} planted reps do not fit in a team of {n}.")
    primary = np.array(planted + ["none"] * (n - len(planted)), dtype=object)
    primary = primary[rng.permutation(n)]
    second = np.full(n, "", dtype=object)
    candidates = np.flatnonzero((primary != "none") & (primary != "ramping"))
    k = round(two_cause_share * len(candidates))
    for i in rng.choice(candidates, size=k, replace=False):
        options = [c for c in CAUSES if c not in (primary[i], "ramping", "territory_imbalance")]
        second[i] = rng.choice(options)
    return primary, second


def _plan(n: int, months: int, per_cause: int, two_cause_share: float, rng: np.random.Generator) -> _Rep:
    primary, second = _assign(n, per_cause, two_cause_share, rng)
    strength = {c: np.ones(n) for c in CAUSES}
    start = {c: np.zeros(n, dtype=int) for c in CAUSES}
    # Primary effects cost 12-35 % of revenue; a second cause costs 4-9 %.
    for c in CAUSES:
        main, extra = primary == c, second == c
        strength[c][main] = rng.uniform(0.65, 0.88, main.sum())
        strength[c][extra] = rng.uniform(0.91, 0.96, extra.sum())
        # Behavioural causes and churn start somewhere in the last 15 to 5 months.
        start[c] = rng.integers(months - 15, months - 4, n)
    hire = months - 1 - rng.integers(12, 120, n)
    recent = rng.random(n) < 0.15                       # hired inside the data, well before the period
    hire[recent] = months - 1 - rng.integers(11, 20, recent.sum())
    ramp = primary == "ramping"
    hire[ramp] = months - 1 - rng.integers(2, 8, ramp.sum())
    return _Rep(primary, second, strength, start, hire, rng.normal(1.0, 0.06, n).clip(0.85, 1.15))


def _active(plan: _Rep, cause: str, n_months: int) -> np.ndarray:
    """(reps, months) 0 → 1 strength of a cause: ramps in over 2 months from its start."""
    has = (plan.primary == cause) | (plan.second == cause)
    m = np.arange(n_months)[None, :]
    level = np.clip((m - plan.start[cause][:, None] + 1) / 2.0, 0, 1)
    if cause in ("territory_imbalance", "incentive_misalignment"):
        level = np.ones_like(level, dtype=float)          # structural: the whole history
    return level * has[:, None]


# ---------------------------------------------------------------------------------------------
# Tables

def generate(n_reps: int = 48, seed: int = 101, per_cause: int = 3, two_cause_share: float = 0.25,
             healthy: bool = False, quarter_end: str | None = None) -> PlantedTeam:
    """A team of `n_reps` with `per_cause` reps planted per cause (0 / healthy=True: none)."""
    rng = np.random.default_rng(seed)
    q_end = pd.Timestamp(quarter_end or QUARTER_ENDS[seed % len(QUARTER_ENDS)])
    data_end = q_end + pd.Timedelta(days=int(rng.integers(0, 50)))
    first_month = (q_end - pd.DateOffset(months=24)).replace(day=1) + pd.DateOffset(months=1)
    month_starts = pd.date_range(first_month, data_end, freq="MS")
    nm = len(month_starts)
    m_q_end = int(np.flatnonzero(month_starts <= q_end.replace(day=1))[-1])   # last month of the period
    plan = _plan(n_reps, m_q_end + 1, 0 if healthy else per_cause, two_cause_share, rng)
    ids = np.array([f"P{i + 1:04d}" for i in range(n_reps)])
    names = _unique_names(n_reps, rng)

    # Products, pay plan and market
    n_prod = int(rng.integers(4, 7))
    products = np.array(rng.choice(PRODUCT_NAMES, n_prod, replace=False))
    prod_share = rng.dirichlet(np.full(n_prod, 4.0))
    rates = np.sort(rng.uniform(0.02, 0.06, n_prod))
    rates[-1] = rates[-2] * rng.uniform(1.6, 2.4)          # one product pays clearly most
    rates = rates[rng.permutation(n_prod)]
    season_amp = rng.uniform(0.0, 0.15)
    season = 1 + season_amp * np.cos(2 * np.pi * (month_starts.month.to_numpy() - 11) / 12)
    growth_year = rng.uniform(0.0, 0.08)
    growth = (1 + growth_year) ** (np.arange(nm) / 12)

    # Territories and accounts
    n_regions = int(np.clip(n_reps // 10, 2, 6))
    region_names = np.array(["North", "South", "East", "West", "Central", "Mountain"])[:n_regions]
    region = rng.permutation(np.arange(n_reps) % n_regions)
    n_acc = rng.integers(15, 45, n_reps)
    acc_rep = np.repeat(np.arange(n_reps), n_acc)
    acc_pot = rng.lognormal(np.log(60_000), 0.9, len(acc_rep))
    terr_target = 1_800_000 * rng.normal(1.0, 0.07, n_reps)
    imbalance = _active(plan, "territory_imbalance", 1)[:, 0] > 0
    cut = np.ones(n_reps)                                   # the planted cut of an imbalanced territory
    cut[imbalance] = rng.uniform(0.55, 0.8, imbalance.sum())
    terr_target *= cut
    scale = terr_target / np.bincount(acc_rep, acc_pot, n_reps)
    acc_pot *= scale[acc_rep]
    terr_pot = np.bincount(acc_rep, acc_pot, n_reps)
    affinity = rng.dirichlet(prod_share * 12, len(acc_rep))                 # (accounts, products)

    # Execution per rep × month × product
    exec_rm = np.repeat(plan.exec[:, None], nm, axis=1) * rng.normal(1, 0.05, (n_reps, nm))
    for c in BEHAVIOURAL:
        exec_rm *= 1 - (1 - plan.strength[c][:, None]) * _active(plan, c, nm)
    employed = np.arange(nm)[None, :] >= plan.hire_month[:, None]
    ramp = np.clip((np.arange(nm)[None, :] - plan.hire_month[:, None] + 0.5) / 9, 0, 1)
    exec_rm *= ramp * employed
    mix = np.ones((n_reps, nm, n_prod))
    inc = _active(plan, "incentive_misalignment", nm)
    best = int(np.argmax(rates))
    inc_reps = np.flatnonzero(inc[:, 0] > 0)
    for r in inc_reps:
        # The rep chases the best-paid product and lets one or two others go; the rest of the
        # products take up whatever keeps the total at the planted loss.
        s = 1 - plan.strength["incentive_misalignment"][r]          # share of revenue lost
        mult = np.ones(n_prod)
        mult[best] = rng.uniform(1.3, 1.6) if s > 0.08 else rng.uniform(1.1, 1.25)
        others = [p for p in range(n_prod) if p != best]
        neglect = rng.choice(others, size=min(len(others), int(rng.integers(1, 3))), replace=False)
        keep = [p for p in others if p not in neglect]
        mult[neglect] = rng.uniform(0.08, 0.3, len(neglect))
        rest = (1 - s) - prod_share[best] * mult[best] - (prod_share[neglect] * mult[neglect]).sum()
        if keep:
            mult[keep] = np.clip(rest / prod_share[keep].sum(), 0.4, 1.0)
        # The neglected products take up what the clip leaves off the planted loss: without this a
        # second cause planted at 4-9 % cost 21 % of revenue on average (up to 45 %), more than most
        # primary causes, and the planted primary was not the cause costing more revenue.
        left = (1 - s) - prod_share[best] * mult[best] - (prod_share[keep] * mult[keep]).sum()
        mult[neglect] = np.clip(left / prod_share[neglect].sum(), 0.02, 1.0)
        mix[r] = mult[None, :]

    # Sales: account × product × month, a purchase with probability p, amount = expected / p
    acc_month_base = (acc_pot[:, None] * affinity / 12)                       # (accounts, products)
    churned = _churned_accounts(plan, acc_rep, acc_pot, nm, rng)             # (accounts, months) bool
    expected = (acc_month_base[:, None, :] * (season * growth)[None, :, None]
                * exec_rm[acc_rep][:, :, None] * mix[acc_rep] * ~churned[:, :, None])
    p_buy = np.clip(acc_month_base / 6_000, 0.12, 0.9)[:, None, :] * np.ones((1, nm, 1))
    lapse = rng.random((len(acc_rep), nm)) < 0.04                              # healthy month off
    buy = (rng.random(expected.shape) < p_buy) & ~lapse[:, :, None] & (expected > 0)
    a_i, m_i, p_i = np.nonzero(buy)
    amount = expected[a_i, m_i, p_i] / p_buy[a_i, m_i, p_i] * rng.lognormal(-0.045, 0.3, len(a_i))
    day = rng.integers(0, month_starts.days_in_month.to_numpy()[m_i])
    sale_date = month_starts.to_numpy()[m_i] + day.astype("timedelta64[D]")
    ok = sale_date <= np.datetime64(data_end)
    acc_ids = np.array([f"A{i + 1:05d}" for i in range(len(acc_rep))])
    sales = pd.DataFrame({"date": sale_date[ok], "rep_id": ids[acc_rep[a_i[ok]]], "account_id": acc_ids[a_i[ok]],
                          "product": products[p_i[ok]], "revenue": np.round(amount[ok], 2)})

    # Quotas: one per product per rep per quarter, from the territory's potential (for an imbalanced
    # territory, its potential before the cut: the quota was not lowered with it), expected growth,
    # from the hire quarter on. Drawn against the team's average potential instead, the territory's
    # own spread and the quota's could cancel the cut: a planted rep's quota came out at 1.01× its
    # potential's fair share, a "cause" costing nothing.
    quota_base_pot = np.where(imbalance, terr_pot / cut * rng.normal(1.0, 0.04, n_reps), terr_pot)
    plan_growth = growth * rng.normal(1.0, 0.02)
    rep_prod_share = np.stack([np.bincount(acc_rep, acc_pot * affinity[:, p], n_reps) for p in range(n_prod)], 1)
    rep_prod_share /= rep_prod_share.sum(1, keepdims=True)
    month_quota = (quota_base_pot[:, None] / 12 * (season * plan_growth)[None, :] * 0.97
                   * rng.normal(1.0, 0.04, (n_reps, 1)))                            # (reps, months)
    month_quota = month_quota * employed
    q_label = month_starts.to_period("Q").astype(str).str.replace("Q", "-Q", regex=False).to_numpy()
    quotas = []
    for p in range(n_prod):
        frame = pd.DataFrame(month_quota * rep_prod_share[:, p:p + 1], index=ids, columns=q_label)
        long = frame.T.groupby(level=0).sum().T.stack().rename("quota").reset_index()
        long.columns = ["rep_id", "period", "quota"]
        quotas.append(long.assign(product=products[p]))
    quotas = pd.concat(quotas, ignore_index=True)
    quotas = quotas[quotas["quota"] > 0].assign(quota=lambda d: d["quota"].round(0))

    reps = pd.DataFrame({
        "rep_id": ids, "rep_name": names, "region": region_names[region],
        "territory_id": [f"T-{region_names[g][:2].upper()}{i + 1:03d}" for i, g in enumerate(region)],
        "role": rng.choice(ROLES, n_reps, p=(0.7, 0.3)),
        "hire_date": (month_starts[0] + pd.to_timedelta(plan.hire_month * 30.44 + rng.integers(0, 25, n_reps),
                                                       unit="D")).normalize(),
        "manager": [f"Manager {region_names[g]}" for g in region]})
    territories = pd.DataFrame({"territory_id": reps["territory_id"], "territory_name": reps["territory_id"],
                                "region": reps["region"], "market_potential": np.nan})
    accounts = pd.DataFrame({"account_id": acc_ids, "account_name": [f"Account {a}" for a in acc_ids],
                             "territory_id": reps["territory_id"].to_numpy()[acc_rep],
                             "account_type": rng.choice(["Hospital", "ASC", "Clinic"], len(acc_rep)),
                             "potential": np.round(acc_pot, 0)})
    ctx = _Ctx(rng, plan, ids, month_starts, data_end, employed, acc_rep, acc_pot, acc_ids, month_quota)
    tables = {
        "reps": reps, "territories": territories, "accounts": accounts, "sales": sales, "quotas": quotas,
        "activities": _activities(ctx),
        "follow_ups": _follow_ups(ctx),
        "opportunities": _opportunities(ctx, exec_rm),
        "training": _training(ctx),
        "assessments": _assessments(ctx, reps["role"].to_numpy()),
        "expected_levels": pd.DataFrame({"role": np.repeat(ROLES, len(COMPETENCIES)),
                                         "competency": np.tile(COMPETENCIES, len(ROLES)),
                                         "expected_rating": np.repeat([3.0, 3.5], len(COMPETENCIES))}),
        "incentives": _incentives(ctx, sales, quotas, products, rates, q_label),
    }
    tables = {k: _canonical(k, v) for k, v in tables.items()}
    causes = {str(i): tuple(str(c) for c in (p, s) if c and c != "none") or ("none",)
              for i, p, s in zip(ids, plan.primary, plan.second, strict=True)}
    period = f"{q_end.year}-Q{q_end.quarter}"
    return PlantedTeam(tables, {str(i): str(c) for i, c in zip(ids, plan.primary, strict=True)}, causes, period,
                       {str(i): str(n) for i, n in zip(ids, names, strict=True)},
                       {str(p): float(r) for p, r in zip(products, rates, strict=True)})


def _unique_names(n: int, rng: np.random.Generator) -> np.ndarray:
    combos = np.array([f"{f} {s}" for f in FIRST for s in LAST])
    picked = rng.choice(combos, size=min(n, len(combos)), replace=False)
    if n > len(combos):
        picked = np.concatenate([picked, [f"{c} {i}" for i, c in enumerate(rng.choice(combos, n - len(combos)))]])
    return picked


def _churned_accounts(plan: _Rep, acc_rep: np.ndarray, acc_pot: np.ndarray, nm: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Accounts lost for good: a retention rep loses a share of its accounts from its cause's start
    (share sized to its revenue effect); every team loses an odd account too."""
    lost_from = np.full(len(acc_rep), nm + 1)
    small = acc_pot < np.median(acc_pot)                  # small accounts come and go
    odd = small & (rng.random(len(acc_rep)) < 0.05)
    lost_from[odd] = rng.integers(0, nm, odd.sum())
    c = "customer_retention"
    for r in np.flatnonzero((plan.primary == c) | (plan.second == c)):
        mine = np.flatnonzero(acc_rep == r)
        loss = 1 - plan.strength[c][r]
        order = rng.permutation(mine)
        cum = np.cumsum(acc_pot[order]) / acc_pot[mine].sum()
        gone = order[: max(2, int(np.searchsorted(cum, loss * 1.1)) + 1)]
        lost_from[gone] = plan.start[c][r] + rng.integers(0, 3, len(gone))
    return np.arange(nm)[None, :] >= lost_from[:, None]


@dataclass
class _Ctx:
    rng: np.random.Generator
    plan: _Rep
    ids: np.ndarray
    months: pd.DatetimeIndex
    data_end: pd.Timestamp
    employed: np.ndarray
    acc_rep: np.ndarray
    acc_pot: np.ndarray
    acc_ids: np.ndarray
    month_quota: np.ndarray

    def level(self, cause: str) -> np.ndarray:
        return _active(self.plan, cause, len(self.months))

    def severity(self, cause: str) -> np.ndarray:
        """(reps, months) how far the footprint goes: 1 for a primary cause, ~0.6 for a second."""
        primary = (self.plan.primary == cause)[:, None]
        return self.level(cause) * np.where(primary, 1.0, 0.6)

    def events(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Poisson events for a (reps, months) rate per month: rep index and date of each."""
        count = self.rng.poisson(np.clip(rate, 0, None) * self.employed)
        r, m = np.nonzero(count)
        r, m = np.repeat(r, count[r, m]), np.repeat(m, count[r, m])
        days = self.rng.integers(0, self.months.days_in_month.to_numpy()[m])
        when = self.months.to_numpy()[m] + days.astype("timedelta64[D]")
        keep = when <= np.datetime64(self.data_end)
        return r[keep], when[keep], m[keep]


def _pick_accounts(ctx: _Ctx, r: np.ndarray, narrow: np.ndarray) -> np.ndarray:
    """An account of each rep's territory, by potential (only its biggest third when `narrow`)."""
    order = np.lexsort((-ctx.acc_pot, ctx.acc_rep))
    first = np.searchsorted(ctx.acc_rep[order], np.arange(len(ctx.ids)))
    count = np.bincount(ctx.acc_rep, minlength=len(ctx.ids))
    span = np.where(narrow, np.maximum(1, count[r] // 3), count[r])
    pick = (ctx.rng.random(len(r)) ** 1.6 * span).astype(int)
    return order[first[r] + np.minimum(pick, count[r] - 1)]


def _activities(ctx: _Ctx) -> pd.DataFrame:
    rng, nm = ctx.rng, len(ctx.months)
    n = len(ctx.ids)
    weekly = rng.normal(5.6, 0.7, n).clip(4.2, 8)[:, None] * np.ones((1, nm))
    act = ctx.severity("activity_shortfall")
    weekly *= 1 - act * rng.uniform(0.45, 0.7, (n, 1))
    r, when, m = ctx.events(weekly * 4.35)
    kind = rng.choice(FACE_TYPES, len(r), p=FACE_P)
    r2, when2, m2 = ctx.events(np.full((n, nm), 3.0 * 4.35))
    kind2 = rng.choice(["phone", "email"], len(r2))
    r, when, m = np.concatenate([r, r2]), np.concatenate([when, when2]), np.concatenate([m, m2])
    kind = np.concatenate([kind, kind2])
    plan_sev = ctx.severity("plan_adherence")[r, m]
    healthy_plan = rng.uniform(0.84, 0.96, n)[r]
    p_planned = healthy_plan - plan_sev * rng.uniform(0.3, 0.5, n)[r]
    planned = rng.random(len(r)) < p_planned
    ba = rng.uniform(0.22, 0.34, n)[r] * (1 - 0.75 * plan_sev)
    u = rng.random(len(r))
    role = np.where(u < ba * 0.6, "buyer", np.where(u < ba, "admin", "user"))
    title = np.select([role == "user", role == "buyer"],
                      [rng.choice(USER_TITLES, len(r)), rng.choice(BUYER_TITLES, len(r))],
                      rng.choice(ADMIN_TITLES, len(r)))
    narrow = ctx.severity("activity_shortfall")[r, m] > 0.5
    acc = _pick_accounts(ctx, r, narrow)
    return pd.DataFrame({"date": when, "rep_id": ctx.ids[r], "activity_type": kind,
                         "account_id": ctx.acc_ids[acc], "planned": planned, "contact_role": role,
                         "title": title}).sort_values("date", kind="stable")


def _follow_ups(ctx: _Ctx) -> pd.DataFrame:
    rng, n = ctx.rng, len(ctx.ids)
    r, when, m = ctx.events(np.full((n, len(ctx.months)), rng.uniform(6, 10)))
    due = when + rng.integers(3, 15, len(r)).astype("timedelta64[D]")
    sev = ctx.severity("follow_up_discipline")[r, m]
    p_on_time = rng.uniform(0.93, 0.99, n)[r] - sev * rng.uniform(0.3, 0.5, n)[r]
    on_time = rng.random(len(r)) < p_on_time
    late_days = np.ceil(rng.exponential(3 + 12 * sev)).astype(int) + 1
    done = np.where(on_time, due - rng.integers(0, 4, len(r)).astype("timedelta64[D]"),
                    due + late_days.astype("timedelta64[D]"))
    never = ~on_time & (rng.random(len(r)) < 0.1 + 0.25 * sev)
    completed = pd.Series(done).where(~never & (done <= np.datetime64(ctx.data_end)))
    return pd.DataFrame({"rep_id": ctx.ids[r], "due_date": due, "completed_date": completed.to_numpy(),
                         "account_id": ctx.acc_ids[_pick_accounts(ctx, r, np.zeros(len(r), bool))]})


def _opportunities(ctx: _Ctx, exec_rm: np.ndarray) -> pd.DataFrame:
    rng, n = ctx.rng, len(ctx.ids)
    # Deal flow follows the quota of the territory and, a little, the rep's execution.
    rate = np.full((n, len(ctx.months)), 5.0) * (0.75 + 0.25 * np.clip(exec_rm, 0, 1.2))
    r, when, m = ctx.events(rate)
    mq = np.where(ctx.month_quota > 0, ctx.month_quota, ctx.month_quota.max(axis=1, keepdims=True))
    amount = mq[r, m] * 0.55 * rng.lognormal(-0.2, 0.6, len(r))
    cycle = rng.gamma(4.0, 25.0, len(r)).astype(int) + 14
    close = when + cycle.astype("timedelta64[D]")
    win_p = np.clip(0.36 * np.clip(exec_rm[r, m], 0.3, 1.3), 0.05, 0.7)
    won = rng.random(len(r)) < win_p
    closed = close <= np.datetime64(ctx.data_end)
    stage = np.where(~closed, rng.choice(["Qualification", "Proposal", "Negotiation"], len(r)),
                     np.where(won, "Closed Won", "Closed Lost"))
    return pd.DataFrame({"opportunity_id": [f"OP{i + 1:07d}" for i in range(len(r))], "rep_id": ctx.ids[r],
                         "created_date": when, "stage": stage,
                         "status": np.where(~closed, "open", np.where(won, "won", "lost")),
                         "close_date": close, "amount": np.round(amount, 0)})


def _training(ctx: _Ctx) -> pd.DataFrame:
    rng, n = ctx.rng, len(ctx.ids)
    r, when, m = ctx.events(np.full((n, len(ctx.months)), 1.2))
    sev = ctx.severity("training_gap")[r, m]
    mu = rng.normal(86, 3, n)[r] - sev * rng.uniform(14, 24, n)[r]
    score = np.clip(rng.normal(mu, 7), 0, 100).round(0)
    topic = rng.choice(["Product update", "Clinical evidence", "Competition", "Compliance"], len(r))
    return pd.DataFrame({"rep_id": ctx.ids[r], "date": when, "topic": topic, "score": score})


def _assessments(ctx: _Ctx, roles: np.ndarray) -> pd.DataFrame:
    rng, n = ctx.rng, len(ctx.ids)
    quarters = np.arange(2, len(ctx.months), 3)
    rows = []
    expected = np.where(roles == "Senior Sales Rep", 3.5, 3.0)
    weak = np.array([rng.choice(len(COMPETENCIES), 2, replace=False) for _ in range(n)])
    base = expected[:, None] + rng.normal(0.3, 0.35, (n, len(COMPETENCIES)))
    sev_all = ctx.severity("training_gap")
    drop = rng.uniform(1.0, 1.8, n)
    for m in quarters:
        live = ctx.employed[:, m]
        rating = base + rng.normal(0, 0.2, base.shape)
        hit = np.zeros_like(rating)
        np.put_along_axis(hit, weak, 1.0, axis=1)
        rating -= hit * (sev_all[:, m] * drop)[:, None]
        rating = np.clip(np.round(rating * 2) / 2, 1, 5)
        date = ctx.months[m] + pd.Timedelta(days=20)
        for assessor, shift in (("manager", 0.0), ("self", 0.3)):
            if assessor == "self" and m != quarters[-1]:
                continue
            val = rating + shift + (sev_all[:, m] * 1.0)[:, None] * (assessor == "self")
            rr, cc = np.nonzero(live[:, None] * np.ones_like(val, dtype=bool))
            rows.append(pd.DataFrame({"rep_id": ctx.ids[rr], "date": date, "competency": np.array(COMPETENCIES)[cc],
                                      "rating": np.clip(val[rr, cc], 1, 5), "assessor": assessor}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["date"] <= ctx.data_end]


def _incentives(ctx: _Ctx, sales: pd.DataFrame, quotas: pd.DataFrame, products: np.ndarray,
                rates: np.ndarray, q_label: np.ndarray) -> pd.DataFrame:
    """Per rep and quarter: Commission (a rate per product, never named after it), Bonus (a quarter
    at quota), and a SPIF in some quarters on one product."""
    rng = ctx.rng
    s = sales.assign(period=sales["date"].dt.to_period("Q").astype(str).str.replace("Q", "-Q", regex=False))
    rate = pd.Series(rates, index=products)
    s["commission"] = s["revenue"] * s["product"].map(rate)
    comm = s.groupby(["rep_id", "period"])["commission"].sum()
    rev = s.groupby(["rep_id", "period"])["revenue"].sum()
    quota = quotas.groupby(["rep_id", "period"])["quota"].sum()
    att = (rev / quota).reindex(comm.index)
    bonus = (quota.reindex(comm.index) * 0.02 * (att >= 1.0)).fillna(0.0)
    spif_q = set(rng.choice(np.unique(q_label), 3, replace=False))
    spif_p = rng.choice(products)
    spif = (s[(s["product"] == spif_p) & s["period"].isin(spif_q)].groupby(["rep_id", "period"])["revenue"].sum()
            * 0.01).reindex(comm.index).fillna(0.0)
    style = rng.choice(3)
    label = [("Commission", "Bonus", "SPIF"), ("commission", "bonus", "spif"),
             ("Base Commission", "Quarterly Bonus", "Product SPIF")][style]
    out = []
    for name, values in zip(label, (comm, bonus, spif), strict=True):
        v = values[values > 0].round(2)
        out.append(pd.DataFrame({"rep_id": v.index.get_level_values(0), "period": v.index.get_level_values(1),
                                 "payout": v.to_numpy(), "component": name}))
    return pd.concat(out, ignore_index=True)


def _canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for column in TABLES[name].columns:
        values = frame[column.name] if column.name in frame else pd.Series(np.nan, index=frame.index)
        dtype = pandas_dtype(column)
        out[column.name] = (values.astype(object).where(values.notna(), None).astype(dtype)
                            if dtype == "str" else values.astype(dtype))
    return pd.DataFrame(out).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# The CRM-shaped export of a team

def crm_frames(team: PlantedTeam) -> dict[str, pd.DataFrame]:
    """The team as a CRM's reports show it: report labels, names for owners, US dates, contact
    titles instead of roles, "Q3 2025" periods and Yes/No flags."""
    t = team.tables
    name = t["reps"].set_index("rep_id")["rep_name"]

    def us(d: pd.Series) -> pd.Series:
        return pd.to_datetime(d).dt.strftime("%m/%d/%Y")

    def q(p: pd.Series) -> pd.Series:
        return p.str.replace(r"(\d{4})-Q(\d)", r"Q\2 \1", regex=True)

    acc_name = t["accounts"].set_index("account_id")["account_name"]
    act = t["activities"]
    titles = _titles(act["contact_role"], np.random.default_rng(len(act)))
    return {
        "Sales Team Roster": pd.DataFrame({"User ID": t["reps"]["rep_id"], "Full Name": t["reps"]["rep_name"],
                                           "Region": t["reps"]["region"], "Territory": t["reps"]["territory_id"],
                                           "Title": t["reps"]["role"], "Hire Date": us(t["reps"]["hire_date"]),
                                           "Manager": t["reps"]["manager"]}),
        "Account List": pd.DataFrame({"Account ID": t["accounts"]["account_id"],
                                      "Account Name": t["accounts"]["account_name"],
                                      "Territory": t["accounts"]["territory_id"],
                                      "Account Type": t["accounts"]["account_type"],
                                      "Potential": t["accounts"]["potential"]}),
        "Invoice Lines": pd.DataFrame({"Invoice Date": us(t["sales"]["date"]),
                                       "Sales Rep": t["sales"]["rep_id"].map(name),
                                       "Customer Name": t["sales"]["account_id"].map(acc_name),
                                       "Product Name": t["sales"]["product"],
                                       "Net Sales": t["sales"]["revenue"]}),
        "Quota Plan": pd.DataFrame({"Rep ID": t["quotas"]["rep_id"], "Quarter": q(t["quotas"]["period"]),
                                    "Quota Amount": t["quotas"]["quota"], "Product": t["quotas"]["product"]}),
        "Activity Report": pd.DataFrame({"Activity Owner": act["rep_id"].map(name), "Date": us(act["date"]),
                                         "Activity Type": act["activity_type"].str.replace("_", " ").str.title(),
                                         "Account Name": act["account_id"].map(acc_name),
                                         "In Call Plan": np.where(act["planned"].astype(bool), "Yes", "No"),
                                         "Attendee Type": titles}),
        "Open Tasks": pd.DataFrame({"Assigned To": t["follow_ups"]["rep_id"].map(name),
                                    "Due Date": us(t["follow_ups"]["due_date"]),
                                    "Completed Date": us(t["follow_ups"]["completed_date"]).fillna(""),
                                    "Account Name": t["follow_ups"]["account_id"].map(acc_name)}),
        "Opportunities": pd.DataFrame({"Opportunity ID": t["opportunities"]["opportunity_id"],
                                       "Opportunity Owner": t["opportunities"]["rep_id"].map(name),
                                       "Created Date": us(t["opportunities"]["created_date"]),
                                       "Stage": t["opportunities"]["stage"],
                                       "Close Date": us(t["opportunities"]["close_date"]),
                                       "Amount": t["opportunities"]["amount"]}),
        "Quiz Results": pd.DataFrame({"Rep ID": t["training"]["rep_id"], "Test Date": us(t["training"]["date"]),
                                      "Course": t["training"]["topic"], "Score %": t["training"]["score"]}),
        "Competency Ratings": pd.DataFrame({"Rep ID": t["assessments"]["rep_id"],
                                            "Review Date": us(t["assessments"]["date"]),
                                            "Skill": t["assessments"]["competency"],
                                            "Rating": t["assessments"]["rating"],
                                            "Rated By": t["assessments"]["assessor"].str.title()}),
        "Expected Levels": pd.DataFrame({"Job Title": t["expected_levels"]["role"],
                                         "Competency": t["expected_levels"]["competency"],
                                         "Expected Level": t["expected_levels"]["expected_rating"]}),
        "Commissions": pd.DataFrame({"Rep ID": t["incentives"]["rep_id"], "Pay Period": q(t["incentives"]["period"]),
                                     "Commission Paid": t["incentives"]["payout"],
                                     "Plan Component": t["incentives"]["component"]}),
    }


def _titles(role: pd.Series, rng: np.random.Generator) -> np.ndarray:
    n = len(role)
    return np.select([role == "user", role == "buyer"],
                     [rng.choice(USER_TITLES, n), rng.choice(BUYER_TITLES, n)], rng.choice(ADMIN_TITLES, n))


def crm_files(team: PlantedTeam) -> list[tuple[str, bytes]]:
    """The CRM-shaped frames as CSV files (name, bytes) for core.ingest.pipeline.ingest."""
    out = []
    for sheet, frame in crm_frames(team).items():
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        out.append((f"{sheet}.csv", buf.getvalue().encode()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=48)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--per-cause", type=int, default=3)
    ap.add_argument("--out", required=True, help="workbook (.xlsx) to write")
    args = ap.parse_args(argv)
    team = generate(args.reps, args.seed, args.per_cause)
    with pd.ExcelWriter(args.out) as xl:
        for name, frame in team.tables.items():
            frame.to_excel(xl, sheet_name=name, index=False)
    print(f"{args.out}: {args.reps} reps, period {team.period}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
