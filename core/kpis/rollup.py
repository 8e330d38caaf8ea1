"""The KPI tables callers use: one row per rep, per territory, region, manager or the whole team.

"Per rep" is the grouping where every rep is its own group; a territory, region or team is
another grouping of the same per-rep parts, so a roll-up is always computed from sums.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.formulas import compute, family_kpis, point_counts, quota_kpis, ramping
from core.kpis.grouping import group_reps
from core.kpis.inputs import ROSTER_COLUMNS, not_employed
from core.kpis.parts import attainment_parts
from core.kpis.points import point_components, total_points
from core.kpis.registry import KPIS, kpi_columns
from core.periods import Period
from core.settings import Settings

KPI_COLUMNS = list(KPIS)            # the built-in KPIs; kpi_columns() adds registered ones
REP_KPI_COLUMNS = ROSTER_COLUMNS + ["ramping"] + KPI_COLUMNS
_LEVEL_KEYS = {"territory": "territory_id", "region": "region", "manager": "manager", "team": "team"}


def rep_kpis(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """One row per rep in scope (all of the roster, even without data): ROSTER_COLUMNS, ramping,
    then every declared KPI (REP_KPI_COLUMNS plus any registered KPI).

    Computed once per Dataset, period, settings and scope (the summary, the diagnostic and the
    pages ask for the same table); each caller gets its own copy."""
    key = ("kpis.rep_kpis", period, settings.digest(), scope, tuple(kpi_columns()))
    return ds.memo(key, lambda: _rep_kpis(ds, period, settings, scope)).copy()


def _rep_kpis(ds: Dataset, period: Period, settings: Settings, scope: Scope) -> pd.DataFrame:
    grouping, _ = group_reps(ds, scope)
    reps = grouping.reps
    kpis = compute(ds, period, settings, grouping)
    # Not yet employed and nothing sold: the revenue is n/a, not a 0 (sales, if any, still show)
    absent = not_employed(ds, period)[grouping.pos] & (kpis["revenue"].to_numpy() == 0)
    kpis.loc[absent, "revenue"] = np.nan
    out = pd.concat([reps, kpis], axis=1).assign(ramping=ramping(reps, period, settings).to_numpy())
    return out[[*ROSTER_COLUMNS, "ramping", *kpi_columns()]]


def rep_attainment(ds: Dataset, period: Period, scope: Scope = Scope()) -> np.ndarray:
    """Attainment of each rep in scope, in rep_kpis' order, from the revenue and quota parts
    alone: what a reader of a period's attainment only (the movers' period before) computes."""
    return _quota_kpis_of(ds, period, scope, None)[1]["attainment"]


def quota_rollup(ds: Dataset, period: Period, level: str, scope: Scope = Scope()) -> pd.DataFrame:
    """The key column of `level` (as rollup), quota and attainment per group, from the revenue and
    quota parts alone: rollup's numbers for a reader that needs no other KPI (territory balance)."""
    key = _LEVEL_KEYS[level]
    keys, kpis = _quota_kpis_of(ds, period, scope, key)
    return pd.DataFrame({key: pd.Series(keys, dtype="str"), "quota": kpis["quota"], "attainment": kpis["attainment"]})


def _quota_kpis_of(ds: Dataset, period: Period, scope: Scope,
                   key: str | None) -> tuple[pd.Index, dict[str, np.ndarray]]:
    """The groups of `key` (each rep its own: None) and their quota KPIs from attainment_parts."""
    grouping, keys = group_reps(ds, scope, key)
    return keys, quota_kpis(attainment_parts(ds, period), grouping)


def rollup(ds: Dataset, period: Period, settings: Settings, level: str,
           scope: Scope = Scope()) -> pd.DataFrame:
    """KPIs per territory, region, first-line manager or the whole team: key column(s), reps, ramping_reps, then
    KPI_COLUMNS recomputed from the group's parts (sums of parts, medians of the group's rows).
    remaining_quota of a group is its shortfall: Σ max(0, gap) over reps below quota."""
    if level not in _LEVEL_KEYS:
        raise ValueError(f"level must be one of {sorted(_LEVEL_KEYS)}, not {level!r}")
    key = _LEVEL_KEYS[level]
    grouping, keys = group_reps(ds, scope, key)
    reps, codes = grouping.reps, grouping.group
    head: dict[str, Any] = {key: pd.Series(keys, dtype="str")}
    if level == "territory":
        # Each territory's region: its first rep's (regions are filled, never missing, on the roster)
        _, first = np.unique(codes, return_index=True)
        head["region"] = reps["region"].to_numpy()[first]
    head["reps"] = np.bincount(codes, minlength=len(keys))
    head["ramping_reps"] = np.bincount(codes, weights=ramping(reps, period, settings),
                                       minlength=len(keys)).astype(np.int64)
    # One frame from the columns: a column added to a frame copies its text column labels (Arrow)
    return pd.concat([pd.DataFrame(head), compute(ds, period, settings, grouping)], axis=1)


def team_kpis(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.Series:
    """The team row of `rollup(..., "team")` (every KPI of the reps in scope together)."""
    table = rollup(ds, period, settings, "team", scope)
    if table.empty:
        return pd.Series({"team": scope.label, "reps": 0, "ramping_reps": 0} | {k: np.nan for k in kpi_columns()})
    return table.iloc[0]



def rep_points(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """rep_id, the points of each component (core.kpis.points.COMPONENTS) and points, per rep in
    scope: the same numbers as the points KPI, by component."""
    grouping, _ = group_reps(ds, scope)
    components = point_components(point_counts(family_kpis(ds, period, grouping)), settings.points)
    out = pd.DataFrame({"rep_id": grouping.reps["rep_id"].to_numpy()} | components)
    return out.assign(points=total_points(components))
