"""Territory imbalance: is the goal fair for the opportunity the rep was given?

Read from territory balance (core.territory.balance): the potential index of the rep's territory,
its quota per unit of potential against the team's, and activities on other territories. The
team finding: territory potential spread (CV) above its target.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading, TeamView, team_finding
from core.fmt import fmt_money, fmt_num, fmt_pct, is_missing
from core.settings import Targets
from core.territory.balance import balance_summary

KEY = "territory_imbalance"


def read(ctx: Context) -> list[Reading]:
    balance, settings = ctx.balance, ctx.settings
    if balance.empty or balance["potential"].isna().all():
        return []
    by_terr = balance.set_index("territory_id")
    terr = ctx.kpis["territory_id"].to_numpy()

    def of_terr(col: str) -> pd.Series:
        return pd.Series(by_terr[col].reindex(terr).to_numpy(), index=ctx.rep_ids)

    known = balance[balance["quota"].notna() & balance["potential"].gt(0)]
    team_ratio = known["quota"].sum() / known["potential"].sum() if len(known) else np.nan
    return [
        Reading("potential_index", of_terr("potential_index"), 100.0, settings.targets.potential_index_low),
        Reading("quota_per_potential", of_terr("quota_per_potential"), team_ratio,
                team_ratio * (1 + settings.thresholds.quota_per_potential_excess)),
        Reading("overlap", of_terr("overlap"), settings.targets.overlap, settings.targets.overlap),
    ]


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    bal = inp.balance
    mean_pot = bal["potential"].mean()
    donors = bal.sort_values("potential_index", ascending=False).drop_duplicates("region").set_index("region")
    donor = donors["territory_id"].reindex(k["region"]).to_numpy()
    donor_idx = donors["potential_index"].reindex(k["region"]).to_numpy()
    move = (100 - v["potential_index"]) * mean_pot / 100
    return [f"rebalance {terr} (potential index {fmt_num(idx, 0)}): move border accounts worth about "
            f"{fmt_money(mv)} a year of potential from {d} (index {fmt_num(di, 0)}), or set its quota "
            f"to match its potential"
            for terr, idx, mv, d, di in zip(k["territory_id"], v["potential_index"], move, donor, donor_idx,
                                            strict=False)]


def team(view: TeamView) -> list[dict[str, Any]]:
    """Territory potential spread above its target (CV of the potential across territories)."""
    if not len(view.inputs.balance):
        return []
    settings = view.settings
    summary = balance_summary(view.inputs.balance, settings)
    cv = summary["cv"]
    if is_missing(cv) or not cv > settings.targets.balance_cv:
        return []
    return [team_finding(
        KEY, "team", view.money[KEY], view.base,
        f"Territory potential CV {cv:.2f} vs {settings.targets.balance_cv:.2f} target; "
        f"{fmt_pct(summary['share_in_band'])} of territories within "
        f"{settings.targets.potential_index_low:.0f}–{settings.targets.potential_index_high:.0f}",
        "realign territories (see the Territories page for a proposal)")]


CAUSE = Cause(
    KEY, "Territory imbalance", "Is the goal fair for the opportunity the rep was given?", ("accounts", "territories"),
    measures=(
        Measure("potential_index", "Territory potential index", "index", True, True),
        Measure("quota_per_potential", "Quota as a share of annual potential", "pct", False, True,
                test="peer z-test", log=True),
        Measure("overlap", "Activities on other territories", "pct", False),
    ),
    read=read, actions=actions, team=team)
