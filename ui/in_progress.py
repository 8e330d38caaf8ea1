"""The first screen's first block: the period in progress, its top causes in money, then who."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from core.dataset import Scope
from core.diagnostic import findings as diagnostics
from core.fmt import fmt_chance
from core.kpis import metrics
from core.kpis.in_progress import current_periods, outlook, top_causes
from ui.charts import fmt_money, fmt_pct
from ui.state import Ctx, cached_call, dataset_call, view_memo
from ui.text import md


def in_progress_block(ctx: Ctx) -> bool:
    """Projected finish, chance of goal and the run-rate needed; the top causes; the reps least
    likely to reach goal. False when no period is in progress (nothing drawn)."""
    now = current_periods(ctx.ds)
    if now is None:
        return False
    period, done, as_of = now
    if period == done:                      # the data ends with its quarter: nothing is in progress
        return False
    f, who = dataset_call(outlook, ctx.ds, period, ctx.settings, ctx.scope)   # the team's: prewarmed
    if not f.remaining_working_days:        # the data reaches the period's end: nothing in progress
        return False
    if not (f.quota and f.quota > 0):       # no goal to head for: say how to set one, not four n/a
        st.caption(f"Where {period.label} is heading needs quotas.")
        st.page_link("pages/quotas.py", label="No quota file? Set quotas in the app", icon=":material/target:")
        st.divider()
        return False
    def _causes() -> pd.DataFrame:
        team = dataset_call(diagnostics.diagnose, ctx.ds, done, ctx.settings, Scope())   # shared with the pages
        return top_causes(team, cached_call(metrics.roster, ctx.ds, ctx.scope)["rep_id"])

    causes = view_memo(replace(ctx, period=done), "in_progress.causes", _causes)   # the same whatever period is shown
    st.subheader(f"Period in progress: {period.label} (data to {as_of})")
    cols = st.columns(4)
    att = f.projected / f.quota if f.quota and f.quota > 0 else float("nan")
    cols[0].metric("Projected finish", fmt_pct(att), help=f"{fmt_money(f.projected)} of {fmt_money(f.quota)} "
                   f"(80% range {fmt_money(f.low)}–{fmt_money(f.high)}); {f.method}")
    cols[1].metric("Chance of reaching goal", fmt_chance(f.p_goal))
    cols[2].metric("Needed per working day", fmt_money(f.needed_per_day))
    cols[3].metric("Working days left", f"{f.remaining_working_days}")
    left, right = st.columns(2)
    # One compact list each (a line of st.text apiece took the whole first screen); names escaped.
    with left:
        st.caption(f"What costs the most (causes in money, {done.label})")
        st.markdown("\n".join(f"- {label}: **{md(fmt_money(money))}**"   # md: "$" would start math
                              for label, money in zip(causes["label"], causes["money"], strict=True)))
    with right:
        st.caption("Who is least likely to reach goal this quarter")
        st.markdown("\n".join(f"- {md(name)}: heading for {md(fmt_money(projected))} of {md(fmt_money(quota))}, "
                              f"{fmt_chance(p)} chance of goal"
                              for name, projected, quota, p in zip(who["rep_name"], who["projected"], who["quota"],
                                                                   who["p_goal"], strict=True)))
    st.divider()
    return True
