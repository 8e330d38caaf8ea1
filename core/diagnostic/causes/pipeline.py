"""Pipeline: is there enough pipeline, and does it convert?

Read from opportunities: coverage, open pipeline against quota (peer test against the team), win
rate against the team's (binomial: conversion far from peers; over core.diagnostic.cause.habit_window,
as a quarter decides a handful of deals per rep) and the sales cycle.
"""
from __future__ import annotations

import numpy as np
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
from core.fmt import fmt_money, fmt_num, fmt_pct, is_missing
from core.kpis.parts import deals_decided
from core.settings import Targets

KEY = "pipeline"
PIPELINE_SHORT = 0.50                # open pipeline / quota below half the reps at goal
CYCLE_EXCESS = 2.0                   # sales cycle twice as long as the team's median


def read(ctx: Context) -> list[Reading]:
    from scipy import stats

    if not ctx.ds.has("opportunities"):
        return []
    k = ctx.kpis.set_index("rep_id")
    t, th = ctx.settings.targets, ctx.settings.thresholds
    ptq = k["open_pipeline"] / k["quota"].where(k["quota"] > 0)
    ptq_target = benchmark(ptq, ctx.good, ptq.median())
    deals = deals_decided(ctx.ds, habit_window(ctx.period)).reindex(ctx.rep_ids)
    won, decided = deals["won"], deals["won"] + deals["lost"]
    team_win = won.sum() / decided.sum() if decided.sum() > 0 else np.nan
    cycle = k["sales_cycle_days"].median()
    return [
        Reading("pipeline_coverage", k["pipeline_coverage"], t.pipeline_coverage, th.pipeline_coverage_min),
        Reading("pipeline_to_quota", ptq, ptq_target, PIPELINE_SHORT * ptq_target),
        Reading("win_rate", won / decided.where(decided > 0), team_win, team_win - th.win_rate_gap,
                stats.binom.cdf(won, decided, max(team_win - th.win_rate_gap, 0.0)), over=habit_months(ctx.period)),
        Reading("sales_cycle_days", k["sales_cycle_days"], cycle, CYCLE_EXCESS * cycle),
    ]


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    need = (t.pipeline_coverage * k["remaining_quota"] - k["open_pipeline"]).clip(lower=0)
    team = inp.table.loc[inp.table["signal"] == "win_rate", "target"]
    team_win = team.iloc[0] if len(team) else np.nan
    lost = [f"review lost deals (win rate {fmt_pct(w)} vs team {fmt_pct(team_win)})" for w in column(v, "win_rate")]
    return [f"build pipeline: add about {fmt_money(n)} of open opportunities for "
            f"{fmt_num(t.pipeline_coverage, 0)}× coverage; {w}" if not is_missing(n) and n >= 1
            else w for n, w in zip(need, lost, strict=False)]


CAUSE = Cause(
    KEY, "Pipeline", "Is there enough pipeline, and does it convert?", ("opportunities",),
    measures=(
        Measure("pipeline_coverage", "Pipeline coverage", "ratio", True),
        Measure("pipeline_to_quota", "Open pipeline / quota", "ratio", True, True, test="peer z-test"),
        # conversion far from peers (binomial)
        Measure("win_rate", "Win rate", "pct", True, True, test="binomial"),
        Measure("sales_cycle_days", "Sales cycle (median days)", "days", False, test="peer z-test"),
    ),
    read=read, actions=actions)
