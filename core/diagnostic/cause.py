"""What a cause of the diagnostic is (diagnostics.md, "Causes"), and the records passed between its parts.

A cause is one module under core.diagnostic.causes exposing one `Cause`: its key, label and question,
the tables it needs, its measures (`Measure`: how each signal reads, which ones drive the money
model), the function that reads them for every rep (`Cause.read` → `Reading`s), the actions it
recommends for a rep, and optionally team findings of its own. The registry
(core.diagnostic.causes.CAUSES) collects them; signals, the money model, findings and the what-if
iterate it, so adding a cause touches no other module.

A `Reading` is the typed record of one measure over the team: its value per rep, its target, the
threshold beyond which it counts as a problem and, where the cause runs its own test, the p-value
per rep. core.diagnostic.signals turns the readings of all causes into the documented long signal
table (SIGNAL_COLUMNS: one row per rep × signal, with benchmark, flag and shortfall).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.periods import Period, custom
from core.settings import Settings, Targets

MIN_AT_GOAL = 3                      # reps at goal needed before their median is the benchmark
PEER_TEST = "peer z-test"            # Measure.test: a robust z-test against the team, run by signals
SEVERITY_HIGH = 0.10                 # money of a finding ≥ 10 % of its quota (the low end of its range)
SEVERITY_MEDIUM = 0.04
HABIT_MONTHS = 6                     # months a habit is read over (the money model's panel)


@dataclass(frozen=True)
class Measure:
    """How one signal reads: unit for display, direction, whether it drives the money model, the
    scale of its shortfall (None = relative to the benchmark) and the test behind a flag: a name
    the cause's own p-values are shown with, PEER_TEST (run against the team by core.diagnostic.signals),
    or None (a rule)."""

    key: str
    label: str
    unit: str                       # pct | count | score | ratio | per_week | days | index | rating | money
    higher_is_better: bool
    driver: bool = False
    scale: float | None = None
    test: str | None = None
    log: bool = False               # the peer test on a log scale (a ratio of two amounts shown as %)


Value: TypeAlias = float | pd.Series | np.ndarray


@dataclass(frozen=True)
class Reading:
    """One measure read for every rep: value per rep (a Series indexed by rep_id), target and
    threshold (one number, or one per rep), the one-sided p-value per rep of the cause's own test
    (None: no test of its own), `gate`: where False the value may not flag (None: everywhere) and
    `over`: the months the value covers when they are not the period's (shown with its label)."""

    key: str
    value: pd.Series
    target: Value
    threshold: Value
    p_value: Value | None = None
    gate: pd.Series | None = None
    over: str | None = None


@dataclass(frozen=True)
class Context:
    """What every cause reads from, computed once per period for the whole team."""

    ds: Dataset
    period: Period
    settings: Settings
    kpis: pd.DataFrame           # core.kpis.metrics.rep_kpis, every rep of the roster
    good: pd.Series              # per kpis row: the rep is at goal (at_goal)
    balance: pd.DataFrame        # core.territory.balance.territory_balance (empty without territories)
    competency: pd.DataFrame     # core.people.competency.competency_table as of the period end

    @cached_property
    def rep_ids(self) -> pd.Index:
        """The reps, one Index object for every cause: pandas builds an index's hash table once per
        object (for text held in Arrow, after copying it out), and a reading already indexed by
        it is used as it is (signals._as_series)."""
        return pd.Index(self.kpis["rep_id"])


@dataclass(frozen=True)
class Inputs:
    """Everything the diagnostic reads for one period, computed once for the whole team."""

    kpis: pd.DataFrame           # core.kpis.metrics.rep_kpis, every rep of the roster
    balance: pd.DataFrame        # core.territory.balance.territory_balance (empty without territories)
    competency: pd.DataFrame     # core.people.competency.competency_table as of the period end
    table: pd.DataFrame          # the long signal table (SIGNAL_COLUMNS), every rep


@dataclass(frozen=True)
class TeamView:
    """What a cause's team findings read: the reps in scope (their KPIs), the inputs, the money per
    cause over those reps (point, low, high) and the quota the severity is measured against."""

    kpis: pd.DataFrame
    inputs: Inputs
    money: dict[str, tuple[float, float, float]]
    base: float
    settings: Settings


# values: the rep's signal values (rep_id × signal); kpis: the rep's KPI row; both indexed like the rows
ActionBuilder = Callable[[pd.DataFrame, pd.DataFrame, Inputs, Targets], list[str]]
Reader = Callable[[Context], list[Reading]]
TeamRule = Callable[[TeamView], list[dict[str, Any]]]


@dataclass(frozen=True)
class Cause:
    """A canonical cause of diagnostics.md, with everything the diagnostic needs of it.

    `blamed` False (ramping) makes a cause informational: its measures never flag and the money
    model gives it no money (the findings carry a ramping rep's whole gap under it).
    `monthly`: (measure, settings.targets field) charted by month behind a rep's finding.
    """

    key: str
    label: str
    question: str
    needs: tuple[str, ...]
    measures: tuple[Measure, ...] = ()
    read: Reader | None = None
    actions: ActionBuilder | None = None
    team: TeamRule | None = None
    blamed: bool = True
    monthly: tuple[str, str] | None = None


# ---------------------------------------------------------------------------------------------
# Helpers shared by the causes

def at_goal(kpis: pd.DataFrame) -> pd.Series:
    """Reps at goal: a quota, attainment ≥ 100 %, not ramping."""
    return (kpis["attainment"] >= 1.0) & ~kpis["ramping"].astype(bool)


def benchmark(values: pd.Series, good: pd.Series, fallback: float) -> float:
    """Median of the reps at goal; `fallback` (the target) with fewer than MIN_AT_GOAL of them."""
    v = values.to_numpy(dtype="float64", na_value=np.nan)[good.to_numpy(dtype=bool)]
    v = v[~np.isnan(v)]
    return float(np.median(v)) if len(v) >= MIN_AT_GOAL else float(fallback)


def habit_window(period: Period) -> Period:
    """The HABIT_MONTHS up to the period end, or the period if longer: where a quarter holds only a
    handful of events per rep (follow-ups due, deals decided), too few for a test to tell a habit
    from bad luck, the measure is read over the months the money model reads."""
    start = (period.end_ts + pd.Timedelta(days=1) - pd.DateOffset(months=HABIT_MONTHS)).date()
    return custom(min(start, period.start), period.end)


def habit_months(period: Period) -> str | None:
    """What habit_window covers, in words, when it is more than the period ("last 6 months")."""
    return f"last {HABIT_MONTHS} months" if habit_window(period).start < period.start else None


def rep_series(ctx: Context, values: Any) -> pd.Series:
    """`values` (one per kpis row) as a float Series indexed by rep_id."""
    return pd.Series(np.asarray(values, dtype="float64"), index=ctx.rep_ids)


def severity(low: np.ndarray, base: np.ndarray) -> np.ndarray:
    """High / medium / low from the LOW end of the money range against `base` (a quota): a finding
    is only as severe as the money it surely explains."""
    share = np.nan_to_num(low / np.where(base > 0, base, np.nan))
    return np.select([share >= SEVERITY_HIGH, share >= SEVERITY_MEDIUM], ["high", "medium"], "low")


def team_finding(cause: str, who: str, money: tuple[float, float, float], base: float, evidence: str,
                 actions: str, confidence: str = "rules (team-level measure)") -> dict[str, Any]:
    """One team (or region) finding row; severity from the low end of its money against `base`."""
    point, low, high = money
    return {"cause": cause, "scope": "region" if who != "team" else "team", "who": who,
            "who_names": "Whole team" if who == "team" else who,
            "severity": str(severity(np.array([low]), np.array([base]))[0]), "evidence": evidence,
            "impact": point, "impact_low": low, "impact_high": high, "confidence": confidence,
            "actions": actions}


def column(values: pd.DataFrame, key: str) -> pd.Series:
    """A signal's column of `values`, or NaN when the signal was not read."""
    return values[key] if key in values else pd.Series(np.nan, index=values.index)
