"""The money model of the diagnostic (diagnostics.md, "Estimating impact").

Each cause has a driver per rep: its largest shortfall against the benchmark (core.signals).
Where data allow (≥ MIN_REPS reps and ≥ MIN_MONTHS months), monthly attainment is fitted on the
drivers over the rep × month panel of the last 12 months (OLS with month effects, standard errors
clustered by rep). The drivers are each rep's level in the period, repeated over its months (the
monthly attainment is what varies; month-to-month noise in a driver would only dilute it). A cause's coefficient says how much attainment goes with one unit of
shortfall. For a rep below goal and a flagged cause, the money the cause explains is
−coefficient × shortfall × quota, clipped at 0; the causes are scaled down together when they add
up to more than the gap, and what is left is "unexplained". The range comes from the 90 %
interval of the coefficient.

Without a model (too few reps or months), or for a cause whose coefficient does not point the
expected way, a rule is used: RULE_ELASTICITY of attainment per unit of shortfall.
These are associations in the data, not proof of cause.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import metrics
from core.dataset import Dataset
from core.periods import Period
from core.settings import Settings
from core.signals import BLAMED

MIN_REPS = 12
MIN_MONTHS = 6
PANEL_MONTHS = 12
CI_LEVEL = 0.90
RULE_ELASTICITY = 0.5            # attainment lost per unit of shortfall, when there is no model
RULE_RANGE = (0.5, 1.5)          # the rule's range, as multiples of its estimate
ATTAINMENT_CLIP = 3.0            # a month at 10× quota is a timing artefact, not performance


@dataclass(frozen=True)
class Effect:
    """Attainment lost per unit of a cause's shortfall, with its interval and where it came from."""

    elasticity: float
    low: float
    high: float
    source: str                   # the confidence text shown with findings


@dataclass(frozen=True)
class Model:
    method: str                   # "model" | "rules"
    confidence: str               # e.g. "model: OLS on 480 rep-months, clustered by rep"
    n_obs: int
    n_reps: int
    n_months: int
    effects: dict[str, Effect] = field(default_factory=dict)


def drivers(table: pd.DataFrame, rep_ids: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per rep × blamed cause: the driver (largest shortfall of its driver signals) and whether
    one of its driver signals is flagged."""
    by = table.loc[table["driver"].astype(bool)].groupby(["rep_id", "cause"])
    d = by["shortfall"].max().unstack().reindex(index=rep_ids, columns=list(BLAMED))
    f = (by["flagged"].max().unstack().reindex(index=rep_ids, columns=list(BLAMED))
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
    m = m[m["quota"].gt(0) & m["attainment"].notna() & ~m["rep_id"].isin(exclude)
          & m["rep_id"].isin(rep_drivers.index)]
    out = m[["rep_id", "month"]].assign(attainment=m["attainment"].clip(upper=ATTAINMENT_CLIP))
    return out.join(rep_drivers, on="rep_id").reset_index(drop=True)


def _rules(reason: str, n_reps: int, n_obs: int, n_months: int) -> Model:
    lo, hi = RULE_RANGE
    effect = Effect(RULE_ELASTICITY, lo * RULE_ELASTICITY, hi * RULE_ELASTICITY, f"rules ({reason})")
    return Model("rules", f"rules ({reason})", n_obs, n_reps, n_months, {c: effect for c in BLAMED})


def fit(data: pd.DataFrame) -> Model:
    """OLS of monthly attainment on the drivers with month effects, clustered by rep; the rules
    when there are too few reps or months."""
    n_reps, n_months, n_obs = data["rep_id"].nunique(), data["month"].nunique(), len(data)
    if n_reps < MIN_REPS:
        return _rules(f"{n_reps} reps: too few for a model", n_reps, n_obs, n_months)
    if n_months < MIN_MONTHS:
        return _rules(f"{n_months} months: too few for a model", n_reps, n_obs, n_months)
    causes = [c for c in BLAMED if c in data and data[c].notna().any()]
    x = data[causes].fillna(data[causes].median())
    causes = [c for c in causes if x[c].std() > 1e-9]
    x = x[causes]
    dummies = pd.get_dummies(data["month"], prefix="m", drop_first=True, dtype="float64")
    design = pd.concat([pd.Series(1.0, index=data.index, name="const"), x, dummies], axis=1)
    import statsmodels.api as sm

    groups = pd.factorize(data["rep_id"])[0]
    res = sm.OLS(data["attainment"].to_numpy(dtype="float64"), design.to_numpy(dtype="float64")).fit(
        cov_type="cluster", cov_kwds={"groups": groups})
    ci = np.asarray(res.conf_int(alpha=1 - CI_LEVEL))
    text = f"model: OLS on {n_obs} rep-months, clustered by rep ({n_reps} reps)"
    rule = _rules("the model found no effect of this cause", n_reps, n_obs, n_months).effects
    effects = dict(rule)
    for i, cause in enumerate(causes, start=1):
        beta = float(res.params[i])
        if beta < 0:
            effects[cause] = Effect(-beta, max(0.0, -float(ci[i, 1])), -float(ci[i, 0]), text)
    return Model("model", text, n_obs, n_reps, n_months, effects)


def allocate(reps: pd.DataFrame, rep_drivers: pd.DataFrame, flagged: pd.DataFrame,
             model: Model) -> dict[str, pd.DataFrame]:
    """Money per rep × cause for reps below goal (not ramping): point, low, high and unexplained.

    `reps` is indexed by rep_id with quota, gap and ramping. Returns frames indexed like `reps`
    with one column per blamed cause ("money", "low", "high") and a Series "unexplained".
    """
    causes = list(BLAMED)
    below = (reps["gap"] > 0) & ~reps["ramping"].astype(bool)
    quota = reps["quota"].to_numpy(dtype="float64")[:, None]
    gap = reps["gap"].clip(lower=0).to_numpy(dtype="float64")
    d = rep_drivers.reindex(index=reps.index, columns=causes).fillna(0.0).to_numpy()
    on = flagged.reindex(index=reps.index, columns=causes).fillna(False).to_numpy() & below.to_numpy()[:, None]
    e = np.array([[model.effects[c].elasticity, model.effects[c].low, model.effects[c].high] for c in causes])
    raw = np.where(on, d * quota * e[:, 0], 0.0)
    total = raw.sum(axis=1)
    scale = np.where(total > gap, gap / np.where(total > 0, total, 1.0), 1.0)[:, None]
    money = raw * scale
    low = np.minimum(money, np.where(on, d * quota * e[:, 1], 0.0) * scale)
    high = np.minimum(gap[:, None], np.maximum(money, np.where(on, d * quota * e[:, 2], 0.0)))
    unexplained = pd.Series(np.where(below, np.clip(gap - money.sum(axis=1), 0, None), 0.0), index=reps.index)
    return {"money": _frame(money, reps.index), "low": _frame(low, reps.index),
            "high": _frame(high, reps.index), "unexplained": unexplained}


def _frame(values: np.ndarray, index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(values, index=index, columns=list(BLAMED))

