"""Follow-up discipline: does the rep keep commitments to customers?

Read from follow-ups: on-time rate over the last HABIT_MONTHS (binomial test against the minimum),
median days late, and overdue open follow-ups (Poisson test against the reps at goal). A quarter
holds a handful of follow-ups per rep, too few for a test to tell a habit from bad luck: the on-time
rate is read over core.diagnostic.cause.habit_window.
"""
from __future__ import annotations

import pandas as pd

from core.diagnostic.cause import (
    Cause,
    Context,
    Inputs,
    Measure,
    Reading,
    benchmark,
    column,
    habit_months,
    habit_window,
)
from core.fmt import fmt_num, is_missing
from core.kpis import metrics
from core.settings import Targets

KEY = "follow_up_discipline"
OVERDUE_MIN = 4                      # overdue open follow-ups: more than this many ...
OVERDUE_TIMES = 2.0                  # ... and twice the reps at goal


def on_time_counts(ctx: Context) -> pd.DataFrame:
    """Per rep: follow-ups due and done on time over the habit window (core.kpis.metrics counts)."""
    window = habit_window(ctx.period)
    m = metrics.monthly_activity(ctx.ds, window.start, window.end)
    m = m[(m["month"] >= window.start_ts.replace(day=1)) & (m["month"] <= window.end_ts)]
    g = m.groupby("rep_id")[["follow_ups_due", "follow_ups_on_time"]].sum(min_count=1)
    return g.reindex(ctx.rep_ids)


def read(ctx: Context) -> list[Reading]:
    from scipy import stats

    if not ctx.ds.has("follow_ups"):
        return []
    k = ctx.kpis.set_index("rep_id")
    t, th = ctx.settings.targets, ctx.settings.thresholds
    overdue = k["overdue_open_follow_ups"]
    usual = benchmark(overdue, ctx.good, 0)
    counts = on_time_counts(ctx)
    due, on_time = counts["follow_ups_due"], counts["follow_ups_on_time"]
    return [
        Reading("on_time_follow_up_rate", on_time / due.where(due > 0), t.on_time_follow_up_rate,
                th.on_time_follow_up_min, stats.binom.cdf(on_time, due, th.on_time_follow_up_min),
                over=habit_months(ctx.period)),
        Reading("days_late", k["days_late"], t.days_late, th.days_late_max),
        # Poisson: this many overdue when the reps at goal have `usual` (at least half a one).
        Reading("overdue_open_follow_ups", overdue, t.overdue_open_follow_ups, max(OVERDUE_MIN, OVERDUE_TIMES * usual),
                stats.poisson.sf(overdue - 1, max(usual, 0.5))),
    ]


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    return [f"weekly follow-up review; clear the {fmt_num(n, 0)} overdue" if not is_missing(n) and n > 0
            else "weekly follow-up review; close commitments by their due date"
            for n in column(v, "overdue_open_follow_ups")]


CAUSE = Cause(
    KEY, "Follow-up discipline", "Does the rep keep commitments to customers?", ("follow_ups",),
    measures=(
        Measure("on_time_follow_up_rate", "On-time follow-up", "pct", True, True, test="binomial"),
        Measure("days_late", "Days late (median)", "days", False),
        Measure("overdue_open_follow_ups", "Overdue open follow-ups", "count", False, test="Poisson"),
    ),
    read=read, actions=actions, monthly=("on_time_follow_up_rate", "on_time_follow_up_rate"))
