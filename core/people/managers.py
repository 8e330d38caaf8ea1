"""Roll-ups per first-line manager: each manager's team KPIs (from core.kpis.metrics' sums), how many of
the manager's reps are at goal, and the money each cause explains for them (core.diagnostic.findings)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.diagnostic import findings as diagnostics
from core.kpis import metrics
from core.periods import Period
from core.schema import UNASSIGNED
from core.settings import Settings

KPI_COLUMNS = ["revenue", "quota", "attainment", "gap", "remaining_quota", "growth", "win_rate",
               "meetings_per_week", "on_time_follow_up_rate", "payout"]


def manager_table(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """One row per first-line manager ("Unassigned" for reps without one): reps, reps_at_goal,
    the KPIs (remaining_quota is the shortfall of the manager's reps below goal), the money per
    cause and the largest cause."""
    roll = metrics.rollup(ds, period, settings, "manager", scope)
    kpis = metrics.rep_kpis(ds, period, settings, scope)
    manager = kpis["manager"].fillna(UNASSIGNED)
    at_goal = (kpis["attainment"] >= 1.0).groupby(manager).sum()
    reps = diagnostics.diagnose(ds, period, settings, scope).reps
    causes = [c for c in diagnostics.CAUSES if c in reps.columns]
    money = reps[causes].groupby(reps["rep_id"].map(dict(zip(kpis["rep_id"], manager, strict=True)))).sum(min_count=1)
    out = roll[["manager", "reps"] + KPI_COLUMNS].assign(
        reps_at_goal=roll["manager"].map(at_goal).fillna(0).astype("int64"))
    out = out.join(money, on="manager")
    top = out[causes].fillna(0.0)
    out["largest_cause"] = np.where(top.max(axis=1) > 0, top.idxmax(axis=1), "")
    return out.reset_index(drop=True)
