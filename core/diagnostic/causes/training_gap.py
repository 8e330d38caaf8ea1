"""Training gap: does the rep lack the knowledge or skills?

Read from competency assessments (the weakest competency against its expected level, the trend of
the ones below it, self against manager ratings) and training scores (knowledge quotient, with a
one-sided t-test of the period's scores against the minimum).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading, column
from core.fmt import is_missing
from core.periods import Period
from core.settings import Targets

KEY = "training_gap"
FALLING_PER_90D = -0.10              # weakest competencies losing this much a quarter = falling


def read(ctx: Context) -> list[Reading]:
    th, t = ctx.settings.thresholds, ctx.settings.targets
    comp = ctx.competency
    out: list[Reading] = []
    if len(comp) and comp["latest_rating"].notna().any():
        rated = comp[comp["latest_rating"].notna()]
        g = rated.groupby("rep_id")
        below = rated[rated["gap"] < 0]
        out += [
            Reading("competency_gap", g["gap"].min().reindex(ctx.rep_ids), t.competency_gap, th.competency_gap_min),
            Reading("competency_trend", below.groupby("rep_id")["trend_per_90d"].mean().reindex(ctx.rep_ids),
                    t.competency_trend, FALLING_PER_90D),
            Reading("self_minus_manager", g["self_minus_manager"].mean().reindex(ctx.rep_ids), 0.0,
                    th.self_minus_manager_max),
        ]
    if ctx.ds.has("training"):
        out.append(Reading("knowledge_quotient",
                           pd.Series(ctx.kpis["knowledge_quotient"].to_numpy(), index=ctx.rep_ids),
                           t.knowledge_quotient, th.knowledge_min,
                           score_test(ctx.ds, ctx.period, ctx.rep_ids, th.knowledge_min)))
    return out


def score_test(ds: Dataset, period: Period, reps: pd.Index, mu: float) -> np.ndarray:
    """One-sided t-test p-value that a rep's mean training score in the period is below `mu`."""
    from scipy import stats

    tr = ds.table("training")
    tr = tr[period.contains(tr["date"]) & tr["score"].notna()]
    g = tr.groupby("rep_id")["score"].agg(["mean", "std", "count"]).reindex(reps)
    se = g["std"] / np.sqrt(g["count"])
    t = (g["mean"] - mu) / se.where(se > 0)
    return np.asarray(stats.t.cdf(t, (g["count"] - 1).where(g["count"] > 1)), dtype="float64")


def _trend_words(trend: float) -> str:
    if is_missing(trend) or abs(trend) < 0.05:
        return "flat"
    return f"{'falling' if trend < 0 else 'rising'} {abs(trend):.1f} a quarter"


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    comp = inp.competency
    worst = (comp[comp["latest_rating"].notna()].sort_values(["gap", "trend_per_90d"])
             .drop_duplicates("rep_id").set_index("rep_id")) if len(comp) else pd.DataFrame()
    out = []
    for rep, kq in zip(k.index, column(v, "knowledge_quotient"), strict=False):
        parts = []
        if rep in worst.index and worst.at[rep, "gap"] < 0:
            w = worst.loc[rep]
            parts.append(f"coach {w['competency']} ({w['latest_rating']:.1f} vs {w['expected']:.1f} expected, "
                         f"{_trend_words(w['trend_per_90d'])})")
        if not is_missing(kq) and kq < t.knowledge_quotient:
            parts.append(f"refresh product and clinical training (knowledge checks {kq:.0f} vs "
                         f"{t.knowledge_quotient:.0f})")
        out.append("; ".join(parts) or "review skills with the manager")
    return out


CAUSE = Cause(
    KEY, "Training gap", "Does the rep lack the knowledge or skills?", ("assessments", "training"),
    measures=(
        Measure("competency_gap", "Weakest competency vs expected", "rating", True, True, 3.0),
        Measure("competency_trend", "Trend of below-expected competencies (per 90 days)", "rating", True),
        Measure("knowledge_quotient", "Knowledge quotient", "score", True, True, test="t-test"),
        Measure("self_minus_manager", "Self rating minus manager rating", "rating", False),
    ),
    read=read, actions=actions)
