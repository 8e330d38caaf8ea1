"""Every KPI of kpis.md declared once: key, label, unit, which way is good, its target, the
tables it needs and, for a KPI added later, the per-rep parts it sums and its formula. Scorecards,
roll-ups, pages and the Excel formats all read this registry.

Ratios are fractions (0.63 = 63 %). A KPI whose input table is missing is NaN, never 0.

How to add a KPI: declare it with `register(Kpi(...))` in one module, giving the per-rep parts it
needs (`parts`: name → function of (ds, period, n_reps) returning one number per rep of the whole
roster, or None when its table is missing) and its `formula` over the group's summed parts and the
KPIs already computed (`Totals`). The KPI then appears in rep_kpis, every roll-up, the comparison
and the Excel scorecard formats, computed per group from sums (so it rolls up like the others).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from core.dataset import Dataset
    from core.periods import Period

# The units a number can have. Each is shown one way in the app (core.fmt.fmt_unit) and formatted
# one way in Excel (core.report.workbook.UNIT_FORMATS); KPIs use the first eight.
UNITS = ("money", "pct", "count", "days", "per_week", "per_quarter", "score", "ratio",
         "index", "rating", "correlation", "month")


class Totals(Protocol):
    """What a registered KPI's formula sees for each group of reps (one value per group)."""

    def sum(self, part: str) -> np.ndarray:
        """Σ over the group's reps of a per-rep part (NaN for every group when it is missing)."""

    def kpi(self, key: str) -> np.ndarray:
        """A KPI already computed for the groups (the built-in ones, then earlier registered ones)."""


PartFn = Callable[["Dataset", "Period", int], "np.ndarray | None"]
Formula = Callable[[Totals], np.ndarray]


@dataclass(frozen=True)
class Kpi:
    """What a KPI column is: how to show it, which way is good, its target and its input tables.

    The built-in KPIs are computed family by family in core.kpis.formulas (formula None); a KPI
    added with `register` brings its own per-rep `parts` and `formula`.
    """

    name: str
    label: str
    unit: str
    higher_is_better: bool
    target: str | None = None          # attribute name on settings.targets
    needs: tuple[str, ...] = ()
    parts: tuple[tuple[str, PartFn], ...] = ()
    formula: Formula | None = None
    amber: float = 0.9                 # at least this share of the target shows amber, not red


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
    Kpi("pipeline_coverage", "Pipeline coverage", "ratio", True, "pipeline_coverage", _O + _S + _Q, amber=2 / 3),
    Kpi("meetings", "Meetings", "count", True, None, _A),
    Kpi("meetings_per_week", "Meetings per week", "per_week", True, "meetings_per_week", _A, amber=0.8),
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


def register(kpi: Kpi) -> None:
    """Declare one more KPI (see the module's "How to add a KPI"). Its key and part names must be
    new, its unit one of UNITS, and it must bring a formula."""
    if kpi.name in KPIS:
        raise ValueError(f"KPI {kpi.name!r} is already declared")
    if kpi.unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {kpi.unit!r}")
    if kpi.formula is None:
        raise ValueError(f"KPI {kpi.name!r} needs a formula")
    taken = {name for k in KPIS.values() for name, _ in k.parts}
    clash = taken.intersection(name for name, _ in kpi.parts)
    if clash:
        raise ValueError(f"parts {sorted(clash)} are already declared by another KPI")
    KPIS[kpi.name] = kpi


def kpi_columns() -> list[str]:
    """Every declared KPI key, in declaration order (the KPI columns of rep_kpis and rollup)."""
    return list(KPIS)


def extra_parts() -> list[tuple[str, PartFn]]:
    """The per-rep parts the registered KPIs bring, in declaration order."""
    return [part for k in KPIS.values() for part in k.parts]


def unit_of(column: str) -> str | None:
    """The unit of a KPI column (None for a column that is not a KPI)."""
    kpi = KPIS.get(column)
    return kpi.unit if kpi else None
