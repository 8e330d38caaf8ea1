"""The breakdown by account segment or account type (core.kpis.segments), one section shared by the
Customers page (per segment) and the Territories page (per territory and segment)."""
from __future__ import annotations

import streamlit as st

from core.kpis import segments
from ui.charts import percent_column, show_table
from ui.state import Ctx, cached_call, not_available

CHOICES = {label: key for key, label in segments.BREAKDOWNS.items()}
PERCENT_COLUMNS = ("market_share", "retention_rate", "churn_rate", "reach", "revenue_share", "growth")
MONEY_COLUMNS = ("revenue", "revenue_prior_year", "potential")


def segment_breakdown(ctx: Ctx, key: str, per: str = "team") -> None:
    """A Segment / Account type switch (widget `key`) and its table for the scope, or a box saying
    what is missing. `per` "territory": one row per territory and segment, the territory pinned too."""
    by = CHOICES[st.segmented_control("Break down by", list(CHOICES), default="Segment", key=key) or "Segment"]
    what = segments.BREAKDOWNS[by].lower()
    missing = segments.missing_inputs(ctx.ds, by)
    if missing:
        not_available("Breakdown by account segment and type", missing)
        return
    if not segments.is_given(ctx.ds, by):
        st.info(f"Breakdown by {what}: not available — the accounts give no {what}: add that column to the "
                "accounts file, or match it on the Data page.", icon="ℹ️")
        return
    whose = "each territory's reps" if per == "territory" else "the reps in scope"
    share = "of the territory's revenue" if per == "territory" else "of the revenue in scope"
    st.caption(f"Sales of {whose} by the {what} of their account; “{segments.NOT_GIVEN}” holds sales whose "
               f"account is unknown or has none. Revenue share = share {share}; market share = revenue over "
               "12 months / potential of the row's accounts.")
    config: dict[str, object] = {c: percent_column() for c in PERCENT_COLUMNS}
    config |= {c: st.column_config.NumberColumn(format="dollar", step=1) for c in MONEY_COLUMNS}
    config[by] = st.column_config.TextColumn(segments.BREAKDOWNS[by], pinned=True)   # the rest scrolls beside it
    if per == "territory":
        config["territory_id"] = st.column_config.TextColumn("Territory", width=75, pinned=True)
    show_table(cached_call(segments.segment_kpis, ctx.ds, ctx.period, by, ctx.scope, per), column_config=config)
