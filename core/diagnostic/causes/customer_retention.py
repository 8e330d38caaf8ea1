"""Customer retention: are existing customers being lost?

Read from sales with accounts: the share of the rep's run-rate from regular buyers that bought
nothing in the period (lost revenue) and account churn, both against the team.
"""
from __future__ import annotations

import pandas as pd

from core.dataset import Dataset
from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading
from core.fmt import fmt_pct
from core.kpis import metrics
from core.periods import Period
from core.settings import Targets

KEY = "customer_retention"
REGULAR_BUYER = 0.5                  # share of months with a purchase that makes an account a regular buyer
LOST_LOOKBACK_YEARS = 2              # accounts that bought this far back and not in the period are lost


def read(ctx: Context) -> list[Reading]:
    ds = ctx.ds
    if not (ds.has("sales") and metrics.sales_table(ds)["account_id"].notna().any()):
        return []
    excess = ctx.settings.thresholds.churn_excess
    lost = lost_revenue_share(ds, ctx.period).reindex(ctx.rep_ids)
    churn = ctx.kpis.set_index("rep_id")["churn_rate"]
    team_churn = churn.median()
    return [
        Reading("lost_revenue_share", lost, lost.median(), lost.median() + excess),
        Reading("churn_rate", churn, team_churn, team_churn + excess),
    ]


def lost_revenue_share(ds: Dataset, period: Period) -> pd.Series:
    """Per rep: of the monthly run-rate of the accounts it sold to in the LOST_LOOKBACK_YEARS before
    the period, the share from accounts that bought nothing in the period (lost accounts). An
    account's run-rate is its revenue over the months from its first to its last purchase (at
    least 3), so an account lost long ago weighs what it bought while it was a customer."""
    s = metrics.sales_table(ds)
    s = s[s["account_id"].notna()]
    first = period.start_ts - pd.DateOffset(years=LOST_LOOKBACK_YEARS)
    window = s[(s["date"] >= first) & (s["date"] < period.start_ts)]
    g = window.groupby(["rep_id", "account_id"])
    span = ((g["date"].max() - g["date"].min()).dt.days / 30.44 + 1).clip(lower=3)
    months = window["date"].dt.to_period("M")
    active = months.groupby([window["rep_id"], window["account_id"]]).nunique()
    rate = g["revenue"].sum() / span
    # Only regular buyers (a purchase in at least half the months of their span) can be "lost" by
    # a quiet period; an account buying now and then is quiet in many periods without leaving.
    rate = rate[(rate > 0) & (active / span.round().clip(lower=1) >= REGULAR_BUYER)]
    now = s[period.contains(s["date"]) & (s["revenue"] > 0)]
    lost = ~rate.index.get_level_values("account_id").isin(now["account_id"].unique())
    total = rate.groupby(level="rep_id").sum()
    gone = rate[lost].groupby(level="rep_id").sum().reindex(total.index).fillna(0.0)
    return gone / total


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    team = inp.table.loc[inp.table["signal"] == "churn_rate", "target"]
    team_churn = team.iloc[0] if len(team) else float("nan")
    return [f"account reviews and win-back calls to lapsed customers: churn {fmt_pct(c)} vs team "
            f"{fmt_pct(team_churn)}" for c in v["churn_rate"]]


CAUSE = Cause(
    KEY, "Customer retention", "Are existing customers being lost?", ("sales",),
    measures=(
        Measure("lost_revenue_share", "Revenue of accounts that stopped buying", "pct", False, True, 1.0,
                test="peer z-test"),
        Measure("churn_rate", "Account churn", "pct", False, test="peer z-test"),
    ),
    read=read, actions=actions)
