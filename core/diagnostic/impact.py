"""The money model of the diagnostic (diagnostics.md, "Estimating impact").

Each cause has a driver per rep: its largest shortfall against the benchmark (core.diagnostic.signals),
and a dose: that shortfall relative to the mean shortfall of the reps flagged for the cause (0 for a
rep the cause is not flagged for). Where data allow (≥ MIN_REPS reps and ≥ MIN_MONTHS months),
each rep's mean monthly attainment over the last PANEL_MONTHS months is fitted on the doses by OLS
across reps (not ramping, with a quota): the doses are one value per rep, so the sample of a cause's
coefficient is the number of reps, not of rep-months. A cause's coefficient is the attainment an
average flagged rep loses. For a rep below goal and a flagged cause, the money the cause explains
is −coefficient × dose × quota, clipped at 0; the causes are scaled down together when they add up
to more than the gap, and what is left is "unexplained". The range comes from the 90 % interval
of the coefficient.

A cause the model finds no effect for (coefficient of the wrong sign or not significant at
SUPPORT_P one-sided) gets no money: its flags stay as evidence, its money stays unexplained.

Without a model (too few reps or months), the rules split each flagged rep's shortfall against the
reps with no flagged cause (their mean attainment) over its flagged causes in
proportion to their shortfalls, within the gap; the range is RULE_RANGE around it.
These are associations in the data, not proof of cause.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.dataset import Dataset, members
from core.diagnostic.causes import blamed
from core.kpis import metrics
from core.kpis.quota import attainment
from core.periods import Period
from core.settings import Settings

MIN_REPS = 12
MIN_MONTHS = 3
PANEL_MONTHS = 6
CI_LEVEL = 0.90
SUPPORT_P = 0.10                 # one-sided p-value a coefficient needs before it carries money
RULE_RANGE = (0.5, 1.5)          # the rules' range, as multiples of their estimate
NO_EFFECT = "no measurable effect on revenue in this data"
ATTAINMENT_CLIP = 3.0            # a month at 10× quota is a timing artefact, not performance


@dataclass(frozen=True)
class Effect:
    """Attainment lost per unit of a cause's shortfall, with its interval and where it came from."""

    elasticity: float
    low: float
    high: float
    source: str                   # the confidence text shown with findings
    supported: bool = True        # False: the model found no effect, the cause carries no money


@dataclass(frozen=True)
class Model:
    method: str                   # "model" | "rules"
    confidence: str               # e.g. "model: OLS on 480 rep-months, clustered by rep"
    n_obs: int
    n_reps: int
    n_months: int
    effects: dict[str, Effect] = field(default_factory=dict)


def drivers(table: pd.DataFrame, rep_ids: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per rep × blamed cause: whether one of its driver signals is flagged, and the driver: the
    largest shortfall of its flagged driver signals (0 for a rep the cause is not flagged for —
    healthy variation is no cause and would only blur the model; NaN where nothing is known)."""
    t = table.loc[table["driver"].astype(bool)]
    t = t.assign(shortfall=t["shortfall"].where(t["flagged"] | t["shortfall"].isna(), 0.0))
    by = t.groupby(["rep_id", "cause"])
    d = by["shortfall"].max().unstack().reindex(index=rep_ids, columns=list(blamed()))
    f = (by["flagged"].max().unstack().reindex(index=rep_ids, columns=list(blamed()))
         .astype("float64").fillna(0.0) > 0)
    return d.astype("float64"), f


def panel(ds: Dataset, period: Period, settings: Settings, rep_drivers: pd.DataFrame,
          exclude: pd.Index) -> pd.DataFrame:
    """rep_id, month, attainment and one driver column per cause (the rep's level in the period)
    over the last PANEL_MONTHS months up to the period end (not after the data end)."""
    end = period.end_ts
    last = metrics.data_end(ds)
    if last is not None:
        end = min(end, last)
    start = (end - pd.DateOffset(months=PANEL_MONTHS - 1)).replace(day=1)
    m = metrics.monthly(ds, start.date(), end.date(), settings, by="rep_id")
    m = m[m["quota"].gt(0).to_numpy() & m["attainment"].notna().to_numpy() & ~members(m["rep_id"], exclude)
          & members(m["rep_id"], rep_drivers.index)]
    out = m[["rep_id", "month"]].assign(attainment=m["attainment"].clip(upper=ATTAINMENT_CLIP))
    return out.join(rep_drivers, on="rep_id").reset_index(drop=True)


def _rules(reason: str, n_reps: int, n_obs: int, n_months: int) -> Model:
    lo, hi = RULE_RANGE
    effect = Effect(np.nan, lo, hi, f"rules ({reason})")
    return Model("rules", f"rules ({reason})", n_obs, n_reps, n_months, {c: effect for c in blamed()})


def fit(data: pd.DataFrame) -> Model:
    """OLS across reps of each rep's mean monthly attainment over the panel on its drivers (one row
    per rep: the drivers are one value per rep, so the reps are the sample); the rules when there
    are too few reps or months. A cause is supported when its coefficient is negative with a
    one-sided p-value below SUPPORT_P."""
    n_reps, n_months, n_obs = data["rep_id"].nunique(), data["month"].nunique(), len(data)
    if n_reps < MIN_REPS:
        return _rules(f"{n_reps} reps: too few for a model", n_reps, n_obs, n_months)
    if n_months < MIN_MONTHS:
        return _rules(f"{n_months} months: too few for a model", n_reps, n_obs, n_months)
    causes = [c for c in blamed() if c in data and data[c].notna().any()]
    reps = data.groupby("rep_id")[["attainment", *causes]].mean()
    x = reps[causes].fillna(0.0)
    causes = [c for c in causes if x[c].std() > 1e-9]
    x = x[causes]
    from statsmodels.regression.linear_model import OLS  # not statsmodels.api: 0.5 s less to import

    design = np.column_stack([np.ones(len(x)), x.to_numpy(dtype="float64")])
    res = OLS(reps["attainment"].to_numpy(dtype="float64"), design).fit()
    ci = np.asarray(res.conf_int(alpha=1 - CI_LEVEL))
    text = (f"model: OLS across {n_reps} reps of their attainment over the last {n_months} months "
            "(one row per rep: each cause measure is one value per rep)")
    none = Effect(0.0, 0.0, 0.0, f"model: {NO_EFFECT}", supported=False)
    effects = {c: none for c in blamed()}
    for i, cause in enumerate(causes, start=1):
        beta, p_two = float(res.params[i]), float(res.pvalues[i])
        if beta < 0 and p_two / 2 < SUPPORT_P:
            effects[cause] = Effect(-beta, max(0.0, -float(ci[i, 1])), -float(ci[i, 0]), text)
        else:   # say how many reps the model had for it: an effect on two reps is hard to tell from noise
            flagged = int((x[cause] > 0).sum())
            effects[cause] = Effect(0.0, 0.0, 0.0, f"model: {NO_EFFECT} ({flagged} of {n_reps} reps flagged)",
                                    supported=False)
    return Model("model", text, n_obs, n_reps, n_months, effects)


def reference_attainment(reps: pd.DataFrame, flagged: pd.DataFrame) -> float:
    """Mean attainment of the reps with a quota, not ramping and no flagged cause (goal, 1.0, when
    fewer than 3 such reps): what the rules measure a flagged rep's shortfall from — the level the
    model's intercept stands for, so that rules and model measure from the same place."""
    att = pd.Series(attainment(reps["quota"] - reps["gap"], reps["quota"]), index=reps.index)
    clean = ~flagged.reindex(index=reps.index, columns=list(blamed())).fillna(False).any(axis=1)
    ok = att[clean & ~reps["ramping"].astype(bool)].dropna()
    return float(ok.mean()) if len(ok) >= 3 else 1.0


def dose(rep_drivers: pd.DataFrame) -> pd.DataFrame:
    """Each flagged rep's shortfall relative to the mean shortfall of the reps flagged for the
    same cause (mean 1 over them), 0 for a rep the cause is not flagged for, NaN where nothing is
    known. What the model is fitted on and what spreads a cause's money over its reps, so that the
    coefficient is the attainment an average flagged rep loses and a rep's money is the model's
    own prediction for it."""
    d = rep_drivers.clip(lower=0)
    mean = d.where(d > 0).mean()
    return d / mean.where(mean > 0, 1.0)


def allocate(reps: pd.DataFrame, rep_drivers: pd.DataFrame, flagged: pd.DataFrame,
             model: Model) -> dict[str, pd.DataFrame]:
    """Money per rep × cause for reps below goal (not ramping): point, low, high and unexplained.

    `reps` is indexed by rep_id with quota, gap and ramping. Returns frames indexed like `reps`
    with one column per blamed cause ("money", "low", "high") and a Series "unexplained".
    """
    causes = list(blamed())
    below = (reps["gap"] > 0) & ~reps["ramping"].astype(bool)
    quota = reps["quota"].to_numpy(dtype="float64")[:, None]
    gap = reps["gap"].clip(lower=0).to_numpy(dtype="float64")
    d = rep_drivers.reindex(index=reps.index, columns=causes).fillna(0.0).to_numpy()
    on = flagged.reindex(index=reps.index, columns=causes).fillna(False).to_numpy() & below.to_numpy()[:, None]
    if model.method == "rules":
        money, low, high = _rule_money(reps, d, on, gap, reference_attainment(reps, flagged))
    else:
        e = np.array([[model.effects[c].elasticity, model.effects[c].low, model.effects[c].high] for c in causes])
        d = dose(rep_drivers).reindex(index=reps.index, columns=causes).fillna(0.0).to_numpy()
        raw = np.where(on, d * quota * e[:, 0], 0.0)
        total = raw.sum(axis=1)
        scale = np.where(total > gap, gap / np.where(total > 0, total, 1.0), 1.0)[:, None]
        money = raw * scale
        low = np.minimum(money, np.where(on, d * quota * e[:, 1], 0.0) * scale)
        high = np.minimum(gap[:, None], np.maximum(money, np.where(on, d * quota * e[:, 2], 0.0)))
    unexplained = pd.Series(np.where(below, np.clip(gap - money.sum(axis=1), 0, None), 0.0), index=reps.index)
    return {"money": _frame(money, reps.index), "low": _frame(low, reps.index),
            "high": _frame(high, reps.index), "unexplained": unexplained}


def _rule_money(reps: pd.DataFrame, d: np.ndarray, on: np.ndarray, gap: np.ndarray,
                reference: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rules: a rep's shortfall against the reference attainment (within its gap), split over
    its flagged causes in proportion to their shortfalls."""
    quota = reps["quota"].to_numpy(dtype="float64")
    att = attainment(quota - gap, quota)
    short = np.clip(np.nan_to_num((reference - att) * quota), 0, gap)
    weight = np.where(on, d, 0.0)
    total = weight.sum(axis=1, keepdims=True)
    money = np.where(total > 0, weight / np.where(total > 0, total, 1.0), 0.0) * short[:, None]
    lo, hi = RULE_RANGE
    return money, lo * money, np.minimum(gap[:, None], hi * money)


def _frame(values: np.ndarray, index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(values, index=index, columns=list(blamed()))

