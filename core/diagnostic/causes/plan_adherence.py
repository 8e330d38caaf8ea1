"""Plan adherence: does the rep work a plan, or react?

Read from activities: call plan adherence (binomial test against the minimum) and the share of
contacts with buyers and admins.
"""
from __future__ import annotations

import pandas as pd

from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading, column
from core.fmt import fmt_pct
from core.settings import Targets

KEY = "plan_adherence"


def read(ctx: Context) -> list[Reading]:
    from scipy import stats

    if not ctx.ds.has("activities"):
        return []
    k = ctx.kpis.set_index("rep_id")
    t, th = ctx.settings.targets, ctx.settings.thresholds
    return [
        Reading("call_plan_adherence", k["call_plan_adherence"], t.call_plan_adherence, th.plan_adherence_min,
                stats.binom.cdf(k["planned"], k["planned_known"], th.plan_adherence_min)),
        Reading("buyer_admin_share", k["share_buyer"] + k["share_admin"], th.buyer_admin_share_min,
                th.buyer_admin_share_min),
    ]


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    return [f"plan the week before it starts: planned {fmt_pct(a)} vs {fmt_pct(t.call_plan_adherence)}; "
            f"add buyer and admin contacts ({fmt_pct(s)} of contacts)"
            for a, s in zip(v["call_plan_adherence"], column(v, "buyer_admin_share"), strict=False)]


CAUSE = Cause(
    KEY, "Plan adherence", "Does the rep work a plan, or react?", ("activities",),
    measures=(
        Measure("call_plan_adherence", "Call plan adherence", "pct", True, True, test="binomial"),
        Measure("buyer_admin_share", "Contacts with buyers and admins", "pct", True),
    ),
    read=read, actions=actions, monthly=("call_plan_adherence", "call_plan_adherence"))
