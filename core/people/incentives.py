"""Pay against performance: who is paid like the reps at goal while below it, how pay is split
over products against the product goals, and what the plan appears to reward.

Payout, attainment and product revenue are core.kpis.metrics' numbers; incentive periods are spread
over months and weighted into the period exactly like quotas (spread_by_month and
month_weights), so the pay here adds up to the scorecard's payout.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.fmt import count_of, fmt_money, fmt_pct
from core.kpis.analysis import pay_for_performance, product_mix
from core.kpis.inputs import month_number, roster, spread_by_month
from core.kpis.quota import month_weights
from core.kpis.rollup import rep_kpis
from core.periods import Period
from core.settings import Settings

PAY_COLUMNS = ["rep_id", "rep_name", "region", "attainment", "payout", "cost_of_sales", "ramping",
               "at_goal", "paid_like_goal"]
MIX_COLUMNS = ["component", "payout", "pay_share", "revenue", "revenue_share", "quota", "attainment"]


def pay_vs_attainment(ds: Dataset, period: Period, settings: Settings,
                      scope: Scope = Scope()) -> tuple[pd.DataFrame, float]:
    """Per rep: attainment, payout, cost of sales, whether at goal, and whether paid like the reps
    at goal while below it (payout ≥ the median payout of the reps at goal, not ramping); and
    that median (NaN when no rep with pay is at goal)."""
    k = rep_kpis(ds, period, settings, scope)
    at_goal = k["attainment"] >= 1.0
    ramping = k["ramping"].astype(bool)
    goal_pay = float(k.loc[at_goal & ~ramping, "payout"].median())
    below = k["attainment"] < 1.0
    out = k.assign(at_goal=at_goal.where(k["attainment"].notna()),
                   paid_like_goal=(below & (k["payout"] >= goal_pay)).where(k["payout"].notna()))
    return out[PAY_COLUMNS].reset_index(drop=True), goal_pay


def pay_mix(ds: Dataset, period: Period, scope: Scope = Scope()) -> pd.DataFrame:
    """Per pay component (a product, bonus, SPIF …): the pay in the period and its share of all
    pay, beside the product's revenue, revenue share, product quota and attainment (NaN for a
    component that is not a product)."""
    inc = ds.table("incentives")
    reps = set(roster(ds, scope)["rep_id"])
    inc = inc[inc["rep_id"].isin(reps)].assign(component=inc["component"].astype("str").fillna("(not given)"))
    if inc.empty:
        return pd.DataFrame(columns=MIX_COLUMNS)
    spread = spread_by_month(inc, "payout")
    weight = pd.Series(month_number(spread["month"].to_numpy())).map(
        month_weights(period.start, period.end)).fillna(0.0).to_numpy()
    pay = (spread["payout"] * weight).groupby(spread["component"]).sum()
    pay = pay[pay > 0]
    mix = product_mix(ds, period, scope).set_index("product")
    out = pd.DataFrame({"component": pay.index, "payout": pay.to_numpy()})
    out["pay_share"] = out["payout"] / out["payout"].sum()
    for col, src in (("revenue", "revenue"), ("revenue_share", "share"), ("quota", "quota"),
                     ("attainment", "attainment")):
        out[col] = out["component"].map(mix[src]).astype("float64") if len(mix) else np.nan
    return out.sort_values("payout", ascending=False, kind="stable")[MIX_COLUMNS].reset_index(drop=True)


def what_it_rewards(pay: pd.DataFrame, goal_pay: float, mix: pd.DataFrame, settings: Settings) -> list[str]:
    """Plain sentences on what the plan appears to reward, each from the numbers above."""
    lines = []
    p4p = pay_for_performance(pay)
    if not np.isnan(p4p):
        verdict = "follows" if p4p >= settings.targets.pay_for_performance else "does not follow"
        lines.append(f"Pay {verdict} attainment: rank correlation {p4p:.2f} "
                     f"(target {settings.targets.pay_for_performance:.2f}).")
    paid = pay[pay["paid_like_goal"].fillna(False).astype(bool)]
    if len(paid):
        verb = "is" if len(paid) == 1 else "are"
        lines.append(f"{count_of(len(paid), 'rep')} below goal {verb} paid at least the median of the reps at goal "
                     f"({fmt_money(goal_pay)}).")
    products = mix.dropna(subset=["revenue_share"])
    if len(products):
        tilt = (products["pay_share"] - products["revenue_share"]).to_numpy()
        top = products.iloc[int(np.argmax(tilt))]
        if tilt.max() > 0.05:
            goal = "" if np.isnan(top["attainment"]) else f" (its goal met at {fmt_pct(top['attainment'])})"
            lines.append(f"{top['component']} earns {fmt_pct(top['pay_share'])} of pay for "
                         f"{fmt_pct(top['revenue_share'])} of revenue{goal}: the plan rewards it more than "
                         "its sales.")
    other = mix[mix["revenue_share"].isna()]
    if len(other) and other["pay_share"].sum() > 0.2:
        lines.append(f"{fmt_pct(other['pay_share'].sum())} of pay is not tied to a product "
                     f"({', '.join(other['component'].astype(str))}).")
    return lines
