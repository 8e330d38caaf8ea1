"""Activity shortfall: is the rep in front of customers enough?

Read from activities: meetings per week (Poisson test against the floor below the target) and
reach of the territory's accounts against the reps at goal (peer test).
"""
from __future__ import annotations

import pandas as pd

from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading, benchmark, column
from core.fmt import fmt_num, fmt_pct
from core.settings import Targets

KEY = "activity_shortfall"
REACH_SHORT = 0.80                   # reach below 80 % of the reps at goal


def read(ctx: Context) -> list[Reading]:
    from scipy import stats

    if not ctx.ds.has("activities"):
        return []
    k = ctx.kpis.set_index("rep_id")
    t, th = ctx.settings.targets, ctx.settings.thresholds
    weeks = ctx.period.days / 7
    floor = th.meetings_shortfall * t.meetings_per_week
    reach_target = benchmark(k["reach"], ctx.good, k["reach"].median())
    return [
        Reading("meetings_per_week", k["meetings_per_week"], t.meetings_per_week, floor,
                stats.poisson.cdf(k["meetings"], floor * weeks)),
        Reading("reach", k["reach"], reach_target, REACH_SHORT * reach_target),
    ]


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    return [f"raise meetings from {fmt_num(m, 1)} to {fmt_num(t.meetings_per_week, 0)} a week; "
            f"visit the accounts not reached (reach {fmt_pct(r)})"
            for m, r in zip(v["meetings_per_week"], column(v, "reach"), strict=False)]


CAUSE = Cause(
    KEY, "Activity shortfall", "Is the rep in front of customers enough?", ("activities",),
    measures=(
        Measure("meetings_per_week", "Meetings per week", "per_week", True, True, test="Poisson"),
        Measure("reach", "Reach of territory accounts", "pct", True, test="peer z-test"),
    ),
    read=read, actions=actions, monthly=("meetings_per_week", "meetings_per_week"))
