"""The rep-level signal table of the diagnostic (diagnostics.md, "Causes").

Every cause (core.diagnostic.causes) reads a few measures per rep (`Reading`s). Each has a value, a
target (from settings or the team's own level), a benchmark (the median of the reps at goal —
non-ramping reps with attainment ≥ 100 % — or the target when fewer than three reps are at goal), a
threshold beyond which it counts as a problem, and, where the measure has a test, a one-sided test
against the threshold (the cause's own, or a robust z-test against the team). A signal is flagged
when it is beyond its threshold and, if it has a test, the test survives the Benjamini–Hochberg
correction over all the tests of all reps (so a large team does not flag reps by chance). A cause is
flagged for a rep when one of its driver signals is flagged; the other signals add evidence.

`shortfall` says how far a driver signal sits on the wrong side of its benchmark, on a common
scale (relative to the benchmark, or per `scale` units); the money model in core.diagnostic.impact
turns shortfalls into attainment.

The table (SIGNAL_COLUMNS) is the one documented form the signals take between modules: one row per
rep × signal with rep_id, rep_name, cause, signal, label, unit, value, target, benchmark, threshold,
test ("rule" when none), p_value, flagged, driver and shortfall.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope, members
from core.diagnostic.cause import PEER_TEST, Cause, Context, Inputs, Reading, at_goal, benchmark
from core.diagnostic.causes import CAUSES, blamed, measures
from core.kpis import metrics
from core.people.competency import competency_table
from core.periods import Period
from core.settings import Settings
from core.territory.balance import territory_balance

__all__ = ["CAUSES", "PEER_Z_MIN_REPS", "SIGNAL_COLUMNS", "Cause", "Inputs", "at_goal", "benchmark", "blamed",
           "gather", "signals"]

PEER_Z_MIN_REPS = 8                  # reps with a value needed before a peer test is run

SIGNAL_COLUMNS = ["rep_id", "rep_name", "cause", "signal", "label", "unit", "value", "target",
                  "benchmark", "threshold", "test", "p_value", "flagged", "driver", "shortfall"]


# ---------------------------------------------------------------------------------------------
# Small helpers

def _bh_cutoff(p: pd.Series, level: float) -> float:
    """Benjamini–Hochberg: the largest p-value still called significant (−1 when none is)."""
    ps = np.sort(p.dropna().to_numpy())
    if not len(ps):
        return -1.0
    ok = ps <= level * np.arange(1, len(ps) + 1) / len(ps)
    return float(ps[ok].max()) if ok.any() else -1.0


def _peer_test(values: pd.Series, higher_is_better: bool, log: bool = False) -> pd.Series:
    """One-sided robust z-test of each rep against its peers: how far the value sits on the wrong
    side of the team's median, in units of 1.4826 × the median absolute deviation (ratios on a log
    scale). NaN (a rule, no test) with fewer than PEER_Z_MIN_REPS values or no spread."""
    from scipy import stats

    x = values.to_numpy(dtype="float64", na_value=np.nan)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log(np.where(x > 0, x, np.nan))
    v = x[~np.isnan(x)]
    if len(v) < PEER_Z_MIN_REPS:
        return pd.Series(np.nan, index=values.index)
    centre = np.median(v)
    # Robust spread, floored at half the standard deviation: with most reps at one value (no lost
    # accounts, say) the MAD is near 0 and would make any difference "significant".
    spread = max(1.4826 * np.median(np.abs(v - centre)), 0.5 * np.std(v, ddof=1))
    if not spread > 0:
        return pd.Series(np.nan, index=values.index)
    z = (x - centre) / spread
    return pd.Series(stats.norm.sf(-z if higher_is_better else z), index=values.index)


# ---------------------------------------------------------------------------------------------
# Assembly

def _as_array(v: object, index: pd.Index) -> np.ndarray:
    """A reading's value, target, threshold or p-value (one number, an array or a Series) per rep
    of `index`, as an array (a Series of one repeated number costs ~0.1 ms, some 50 a period)."""
    if isinstance(v, pd.Series):                 # most readings are indexed by the reps already
        return np.asarray((v if v.index is index else v.reindex(index)).to_numpy(dtype="float64", na_value=np.nan))
    values = np.asarray(v, dtype="float64")
    return np.full(len(index), values) if values.ndim == 0 else values


def _median(values: np.ndarray) -> float:
    """The median of the known values (NaN: none), as Series.median gives it."""
    known = values[~np.isnan(values)]
    return float(np.median(known)) if len(known) else float("nan")


def _reading_columns(cause: Cause, r: Reading, index: pd.Index, good: pd.Series) -> dict[str, Any]:
    """One reading as the columns of its rows of the long table (before flags and shortfalls): an
    array per rep, or one value for every rep."""
    m = next(m for m in cause.measures if m.key == r.key)
    value = pd.Series(_as_array(r.value, index), index=index)
    target = _as_array(r.target, index)
    p = (_peer_test(value, m.higher_is_better, log=m.log or m.unit == "ratio").to_numpy() if m.test == PEER_TEST
         else _as_array(np.nan if r.p_value is None else r.p_value, index))
    gate = (np.ones(len(index), dtype=bool) if r.gate is None
            else r.gate.reindex(index).astype("boolean").fillna(False).to_numpy(bool))
    return {
        "rep_id": index, "cause": cause.key, "signal": m.key, "unit": m.unit,
        "label": m.label if r.over is None else f"{m.label} ({r.over})",
        "value": value.to_numpy(), "target": target,
        "benchmark": benchmark(value, good, _median(target)),
        "threshold": _as_array(r.threshold, index), "p_value": p, "driver": m.driver,
        "test": np.where(~np.isnan(p), m.test or "rule", "rule"), "_gate": gate,
        "_informational": not cause.blamed}


def _stacked(readings: list[dict[str, Any]], index: pd.Index) -> pd.DataFrame:
    """The readings' rows one under the other, as one frame (text columns as text)."""
    n = len(index)

    def column(name: str) -> Any:
        first = readings[0][name]
        if isinstance(first, pd.Index):
            return first.take(np.tile(np.arange(n), len(readings)))
        if isinstance(first, np.ndarray) and first.dtype.kind == "U":      # np.where of text
            return pd.array(np.concatenate([r[name] for r in readings]).astype(object), dtype="str")
        if isinstance(first, np.ndarray):
            return np.concatenate([r[name] for r in readings])
        values = np.repeat(np.array([r[name] for r in readings], dtype=object), n)
        return pd.array(values, dtype="str") if isinstance(first, str) else values.astype(type(first))

    return pd.DataFrame({name: column(name) for name in readings[0]})


def _empty_table() -> pd.DataFrame:
    text = {"rep_id", "rep_name", "cause", "signal", "label", "unit", "test"}
    return pd.DataFrame({c: pd.Series(dtype="str" if c in text else bool if c in ("flagged", "driver")
                                      else "float64") for c in SIGNAL_COLUMNS})


def _long(ctx: Context) -> pd.DataFrame:
    """One row per rep × signal of every registered cause, with benchmark, flag and shortfall."""
    settings = ctx.settings
    index = ctx.rep_ids
    good = pd.Series(ctx.good.to_numpy(), index=index)
    columns = []
    for cause in CAUSES.values():
        readings = {r.key: r for r in cause.read(ctx)} if cause.read else {}
        columns += [_reading_columns(cause, readings[m.key], index, good) for m in cause.measures
                    if m.key in readings]
    if not columns:
        return _empty_table()
    out = _stacked(columns, index)
    spec = measures()
    n = len(index)

    def per_row(values: list[Any], dtype: str) -> np.ndarray:
        """One value per reading, repeated over its n rows (the readings are stacked one after another)."""
        return np.repeat(np.asarray(values, dtype=dtype), n)

    hib = per_row([spec[c["signal"]].higher_is_better for c in columns], "bool")
    # Each row's (cause, rep) as one integer: the sums over a rep's signals of a cause by bincount.
    causes = {key: i for i, key in enumerate(CAUSES)}
    group = per_row([causes[c["cause"]] for c in columns], "int64") * n + np.tile(np.arange(n), len(columns))

    def others(flags: pd.Series) -> np.ndarray:
        """How many other rows of each row's (rep, cause) are `flags`."""
        f = flags.to_numpy(dtype="int64")
        count: np.ndarray = np.bincount(group, weights=f, minlength=len(causes) * n).astype("int64")
        return np.asarray(count[group] - f)

    beyond = np.where(hib, out["value"] < out["threshold"], out["value"] > out["threshold"])
    # Benjamini–Hochberg over every test run (all reps, all tested signals), not only the values
    # past their threshold; a signal without a test is a rule and says so in "test".
    cutoff = _bh_cutoff(out["p_value"], settings.thresholds.false_discovery_rate)
    tested = out["p_value"].notna()
    significant = ~tested | (out["p_value"] <= cutoff)
    # A rule (no test) also needs the value worse than the reps at goal: a fixed threshold the
    # reps at goal themselves miss says nothing about a rep.
    worse = np.where(hib, out["value"] < out["benchmark"], out["value"] > out["benchmark"])
    out["flagged"] = (pd.Series(beyond, index=out.index) & significant & out["value"].notna() & out["_gate"]
                      & (tested | worse))
    out.loc[out["_informational"], "flagged"] = False   # e.g. ramping: read from the KPIs, never blamed
    # A driver past its threshold whose own test does not survive the correction still counts when
    # another tested or driver signal of its cause is flagged for the rep: two readings agree.
    sibling = others(out["flagged"] & (tested | out["driver"])) > 0
    corroborated = out["driver"] & pd.Series(beyond, index=out.index) & out["_gate"] & sibling
    out["flagged"] = out["flagged"] | corroborated
    # A rule alone names no cause: a driver flagged by a rule (no test) needs another signal of
    # its cause flagged for the rep.
    out.loc[out["driver"] & ~tested & (others(out["flagged"]) == 0), "flagged"] = False
    scale = pd.Series(per_row([spec[c["signal"]].scale for c in columns], "float64"), index=out.index)
    ref = out["benchmark"]
    gap = np.where(hib, ref - out["value"], out["value"] - ref)
    denom = scale.fillna(ref.abs().where(ref.abs() > 0))
    out["shortfall"] = np.where(out["driver"], np.clip(gap / denom, 0, None), np.nan)
    out["rep_name"] = out["rep_id"].map(ctx.kpis.set_index("rep_id")["rep_name"])
    return out[SIGNAL_COLUMNS]


def context(ds: Dataset, period: Period, settings: Settings) -> Context:
    """The KPIs, territory balance and competencies every cause reads, for every rep."""
    kpis = metrics.rep_kpis(ds, period, settings)
    has_territories = ds.has("accounts") or ds.has("territories")
    balance = territory_balance(ds, period, settings) if has_territories else pd.DataFrame()
    comp = (competency_table(ds, settings, period.end) if ds.has("assessments")
            else pd.DataFrame())
    return Context(ds, period, settings, kpis, at_goal(kpis), balance, comp)


def gather(ds: Dataset, period: Period, settings: Settings) -> Inputs:
    """Compute the KPIs, territory balance, competencies and the signal table for every rep: once
    per Dataset, period, settings and registered causes and KPIs (held on the Dataset's memo; every
    scope, the rep's evidence and the money model read the same whole-team table). Read-only."""
    return ds.memo(("diagnostic.gather", *memo_key(period, settings)), lambda: _gather(ds, period, settings))


def memo_key(period: Period, settings: Settings) -> tuple[Any, ...]:
    """What a whole-team result of the diagnostic depends on besides the tables."""
    return period, settings.digest(), tuple(CAUSES), tuple(metrics.KPIS)


def _gather(ds: Dataset, period: Period, settings: Settings) -> Inputs:
    ctx = context(ds, period, settings)
    return Inputs(kpis=ctx.kpis, balance=ctx.balance, competency=ctx.competency, table=_long(ctx))


def signals(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """The rep-level signal table (SIGNAL_COLUMNS) for the reps in scope; benchmarks and tests are
    always taken over the whole team."""
    table = gather(ds, period, settings).table
    keep = scope.rep_ids(metrics.roster(ds))
    return table[members(table["rep_id"], keep)].reset_index(drop=True)
