"""Reps and coaching: competency levels and trends, knowledge quotient and coaching focus.

Coaching is judged on each rep's own ratings against what the rep's role expects, and on where
those ratings are heading; never on a snapshot or a team average.

Trends are slopes in rating points per 90 days. With enough data for a competency (at least
`MIXED_MIN_REPS` reps with `MIXED_MIN_ASSESSMENTS` manager ratings) the slope of each rep comes
from a linear mixed model with a random intercept and slope per rep, which pulls noisy short
series towards the team's trend; otherwise each rep's slope is its own least-squares fit.
The mixed model is fitted per competency by REML computed from per-rep sums (the 2×2 algebra
written out, _RemlSums), then the fixed effects (GLS) and every rep's slope (BLUP, with its
prediction error) follow in closed form for all reps at once: 1,000 reps × 7 competencies take
about 0.1 s.
"""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.dataset import MEMO_PER_NAME, Dataset, Task
from core.periods import Period
from core.schema import DEFAULT_EXPECTED_RATING, DEFAULT_ROLE, UNASSIGNED
from core.settings import Settings

DAYS_PER_STEP = 90.0
DAY_NS = 86_400 * 10**9
INTERVAL_LEVEL = 0.80                  # trend_low / trend_high form an 80 % interval
MIXED_MIN_REPS = 5
MIXED_MIN_ASSESSMENTS = 3
NEW_REP_MONTHS = 12
STEADY = 0.05                          # |trend| below this many points a quarter reads "steady"
FOUNDATIONS = ("Product knowledge", "Clinical knowledge", "Discovery")
METHOD_MIXED = "mixed model (per-rep slope)"
METHOD_OLS = "per-rep fit"
METHOD_FEW = "too few assessments"

COMPETENCY_COLUMNS = ["rep_id", "rep_name", "role", "competency", "latest_rating", "expected", "gap",
                      "trend_per_90d", "trend_low", "trend_high", "assessments", "self_minus_manager",
                      "method"]
FOCUS_COLUMNS = ["rep_id", "rank", "competency", "reason", "gap", "trend_per_90d"]


# ---------------------------------------------------------------------------------------------
# shared helpers

def roster(ds: Dataset, rep_ids: pd.Series | None = None) -> pd.DataFrame:
    """rep_id, rep_name, region, role, hire_date for every rep of the roster and of `rep_ids`.

    Reps met only in an activity table get their id as name, region Unassigned and the default
    role, so that their rows are never lost.
    """
    reps = ds.table("reps")[["rep_id", "rep_name", "region", "role", "hire_date"]]
    if rep_ids is not None:
        extra = pd.Index(rep_ids.dropna().unique()).difference(pd.Index(reps["rep_id"]))
        if len(extra):
            reps = pd.concat([reps, pd.DataFrame({"rep_id": pd.Series(extra, dtype="str")})],
                             ignore_index=True)
    return reps.assign(rep_name=reps["rep_name"].fillna(reps["rep_id"]),
                       region=reps["region"].fillna(UNASSIGNED),
                       role=reps["role"].fillna(DEFAULT_ROLE))


def _assessor(assessments: pd.DataFrame) -> pd.Series:
    """manager / self / peer / customer; a blank assessor is the manager (data.md)."""
    return assessments["assessor"].astype("str").fillna("manager").str.strip().str.lower().replace("", "manager")


def _steps(dates: pd.Series, as_of: date) -> pd.Series:
    """Time in 90-day steps relative to `as_of` (so slopes are per 90 days)."""
    return (dates - pd.Timestamp(as_of)).dt.days / DAYS_PER_STEP


def _expected(ds: Dataset, pairs: pd.DataFrame) -> pd.Series:
    """Expected rating for each (role, competency) row of `pairs`; 3 where none is given."""
    levels = ds.table("expected_levels")
    levels = (levels.dropna(subset=["expected_rating"])
              .groupby(["role", "competency"], as_index=False)["expected_rating"].mean())
    merged = pairs[["role", "competency"]].merge(levels, on=["role", "competency"], how="left")
    return merged["expected_rating"].fillna(DEFAULT_EXPECTED_RATING).set_axis(pairs.index)


def _ols_by_group(frame: pd.DataFrame, keys: list[str], x: str, y: str) -> pd.DataFrame:
    """Least-squares slope of y on x per group, with its standard error, from group sums.

    Returns keys + n, slope, se, df (residual degrees of freedom). slope is NaN when x does not
    vary; se is NaN with fewer than 3 points.
    """
    g = (frame.assign(_xx=frame[x] ** 2, _xy=frame[x] * frame[y], _yy=frame[y] ** 2)
         .groupby(keys, as_index=False)
         .agg(n=(y, "size"), sx=(x, "sum"), sy=(y, "sum"), sxx=("_xx", "sum"), sxy=("_xy", "sum"),
              syy=("_yy", "sum")))
    slope, se, df = _ols_fit(*(g[c].to_numpy("float64") for c in ("n", "sx", "sy", "sxx", "sxy", "syy")))
    return g[keys + ["n"]].assign(slope=slope, se=se, df=df.astype(g["n"].dtype))


def _ols_fit(n: np.ndarray, sx: np.ndarray, sy: np.ndarray, sxx: np.ndarray, sxy: np.ndarray,
             syy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """slope, se and df (n − 2) of the least-squares line of each group from its sums (n > 0)."""
    stt = sxx - sx ** 2 / n
    sty = sxy - sx * sy / n
    syy = syy - sy ** 2 / n
    varies = stt > 1e-12 * (1 + sxx)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(varies, sty / stt, np.nan)
        df = n - 2
        ssr = np.clip(syy - slope * sty, 0, None)
        se = np.sqrt(ssr / np.where(df > 0, df, np.nan) / np.where(varies, stt, np.nan))
    return slope, se, df


def _t_quantile(df: pd.Series) -> pd.Series:
    from scipy import stats  # lazy: only needed when there are trends to bound

    return pd.Series(stats.t.ppf(0.5 + INTERVAL_LEVEL / 2, df.where(df > 0)), index=df.index)


# ---------------------------------------------------------------------------------------------
# competency table

def competency_table(ds: Dataset, settings: Settings, as_of: date) -> pd.DataFrame:
    """One row per rep × competency with a manager rating up to `as_of` (columns COMPETENCY_COLUMNS).

    latest_rating is the mean of the manager ratings on the latest assessment date; gap is
    latest − expected for the rep's role; trend_per_90d and its 80 % interval (trend_low,
    trend_high) come from the mixed model or a per-rep fit (see module docstring); method says
    which. self_minus_manager compares the latest self rating with the latest manager rating.

    Computed once per Dataset and set of ratings (the diagnostic and the summary both read it; the
    mixed models are the costly part): every date up to the next assessment has the same table,
    so stepping through the months between two quarterly reviews computes it once. Each caller
    gets its own copy.
    """
    return ds.memo(*table_task(ds, as_of)).copy()


def table_task(ds: Dataset, as_of: date) -> Task:
    """competency_table's memo key and computation (the command line computes it beside the rest):
    keyed by the last date rated up to `as_of`, which decides the table."""
    rated = _last_rated(ds, as_of)
    return ("people.competency_table", rated), lambda: _competency_table(ds, rated)


def _last_rated(ds: Dataset, as_of: date) -> pd.Timestamp | None:
    """The last date with a rating up to `as_of` (None: no rating by then)."""
    dates = _rating_dates(ds)
    at = int(np.searchsorted(dates, np.datetime64(pd.Timestamp(as_of), "ns"), side="right"))
    return pd.Timestamp(dates[at - 1]) if at else None


def _rating_dates(ds: Dataset) -> np.ndarray:
    """Every date with a rating, in order (datetime64), once per Dataset."""
    return ds.memo(("dataset.competency_dates",),
                   lambda: np.unique(_ratings(ds)["date"].dropna().to_numpy(dtype="datetime64[ns]")))


def every_table(ds: Dataset) -> int:
    """Compute the competency table of each rating date, newest first (at most as many as the
    Dataset keeps of one computation), and return how many dates there are. A period's table is
    its last rating date's, so a dozen quarterly reviews make a dozen tables for every period of
    three years: the app computes them once when data is loaded (ui.state.whole_team_work), and a
    period opened later finds its table ready."""
    if not ds.has("assessments"):
        return 0
    dates = _rating_dates(ds)
    for rated in dates[::-1][:MEMO_PER_NAME]:
        ds.memo(*table_task(ds, pd.Timestamp(rated)))
    return len(dates)


def _competency_table(ds: Dataset, rated: pd.Timestamp | None) -> pd.DataFrame:
    """The table of the ratings up to `rated`; time is measured from it (a slope does not depend
    on where time starts; the table then depends on the ratings alone). Computed on the ratings'
    arrays (_rated), every sum per (rep, competency) pair at once."""
    r = _rated(ds)
    upto = r.when <= (rated.value if rated is not None else np.iinfo(np.int64).min)
    manager = np.flatnonzero(upto & r.manager)
    if rated is None or not len(manager):
        return pd.DataFrame({c: pd.Series(dtype="float64" if c not in ("rep_id", "rep_name", "role",
                                                                         "competency", "method")
                                          else "str") for c in COMPETENCY_COLUMNS})
    n = len(r.pairs)
    assessments = np.bincount(r.pair[manager], minlength=n)
    shown = assessments > 0
    table = r.pairs[shown].reset_index(drop=True).assign(
        latest_rating=_latest_mean(r, manager, n)[shown],
        latest_self=_latest_mean(r, np.flatnonzero(upto & r.self_rated), n)[shown],
        assessments=assessments[shown])
    table = table.merge(roster(ds, table["rep_id"])[["rep_id", "rep_name", "role"]], on="rep_id",
                        how="left")
    table["expected"] = _expected(ds, table)
    table["gap"] = table["latest_rating"] - table["expected"]
    table["self_minus_manager"] = table["latest_self"] - table["latest_rating"]
    steps = (r.when - rated.value) // DAY_NS / DAYS_PER_STEP       # _steps on the arrays
    trends = _trends(r, manager, steps, np.flatnonzero(shown))
    return table.assign(**trends)[COMPETENCY_COLUMNS]


class _Rated(NamedTuple):
    """The dated ratings as arrays, once per Dataset (a date then only picks the rows up to it)."""
    pairs: pd.DataFrame          # rep_id, competency: each pair once, sorted
    competencies: pd.Index       # sorted
    competency: np.ndarray       # per pair: its position in competencies
    pair: np.ndarray             # per rating: its row in pairs
    when: np.ndarray             # per rating: nanoseconds since the epoch
    rating: np.ndarray
    manager: np.ndarray          # per rating: by the rep's manager
    self_rated: np.ndarray       # per rating: by the rep


def _rated(ds: Dataset) -> _Rated:
    def build() -> _Rated:
        a = _ratings(ds)
        a = a[a["date"].notna()]
        grouped = a.groupby(["rep_id", "competency"], sort=True, observed=True)
        pairs = grouped.size().index.to_frame(index=False)
        codes, competencies = pd.factorize(pairs["competency"], sort=True)
        return _Rated(pairs, pd.Index(competencies), codes, grouped.ngroup().to_numpy(),
                      a["date"].to_numpy("datetime64[ns]").view("int64"), a["rating"].to_numpy("float64"),
                      (a["assessor"] == "manager").to_numpy(bool), (a["assessor"] == "self").to_numpy(bool))

    return ds.memo(("dataset.competency_arrays",), build)


def _ratings(ds: Dataset) -> pd.DataFrame:
    """The assessments with a rep, a competency and a rating, each assessor named (_assessor):
    once per Dataset (a date then only picks the ratings up to it)."""
    def build() -> pd.DataFrame:
        a = ds.table("assessments")
        a = a[a["rating"].notna() & a["rep_id"].notna() & a["competency"].notna()]
        return a.assign(assessor=_assessor(a))

    return ds.memo(("dataset.competency_ratings",), build)


def _latest_mean(r: _Rated, rows: np.ndarray, n: int) -> np.ndarray:
    """Per pair: the mean rating of `rows` on the pair's latest date among them (NaN: none)."""
    pair, when = r.pair[rows], r.when[rows]
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, pair, when)
    on = when == last[pair]
    count = np.bincount(pair[on], minlength=n)
    total = np.bincount(pair[on], weights=r.rating[rows][on], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _pair_sums(pair: np.ndarray, t: np.ndarray, y: np.ndarray, n: int) -> pd.DataFrame:
    """Per pair (0 … n − 1): n, Σt, Σt², Σy, Σty, Σy² (everything a line or the random-slope
    model needs)."""
    def total(w: np.ndarray | None) -> np.ndarray:
        return np.bincount(pair, weights=w, minlength=n).astype("float64")

    return pd.DataFrame({"n": total(None), "st": total(t), "stt": total(t * t), "sy": total(y),
                         "sty": total(t * y), "syy": total(y * y)})


def _trends(r: _Rated, manager: np.ndarray, steps: np.ndarray, shown: np.ndarray) -> dict[str, np.ndarray]:
    """trend_per_90d, trend_low, trend_high and method of the pairs `shown` (those rated by their
    manager): each pair's own line, replaced by the mixed model where its competency has one."""
    n = len(r.pairs)
    pair, t, y = r.pair[manager], steps[manager], r.rating[manager]
    sums = _pair_sums(pair, t, y, n).iloc[shown]
    slope, se, df = _ols_fit(*(sums[c].to_numpy() for c in ("n", "st", "sy", "stt", "sty", "syy")))
    half = _t_quantile(pd.Series(df)).to_numpy() * se
    out = {"trend_per_90d": slope.copy(), "trend_low": slope - half, "trend_high": slope + half,
           "method": np.full(len(shown), METHOD_OLS, dtype=object)}
    competency = r.competency[shown]
    for c in _mixed_competencies(competency, sums["n"].to_numpy(), slope):
        at = np.flatnonzero(competency == c)                     # rows of out
        rows = np.flatnonzero(r.competency[pair] == c)
        centred = t[rows] - t[rows].mean()                      # centred time: a stabler fit
        g = _pair_sums(pair[rows], centred, y[rows], n).iloc[shown[at]]
        fit = _mixed_slopes(g.set_axis(r.pairs["rep_id"].to_numpy()[shown[at]]), str(r.competencies[c]))
        for col, values in fit.drop(columns=["rep_id", "competency"]).items():
            given = values.to_numpy()
            known = pd.notna(given)
            out[col][at[known]] = given[known]
    too_few = np.isnan(slope)
    for col in ("trend_per_90d", "trend_low", "trend_high"):
        out[col][too_few] = np.nan
    out["method"][too_few] = METHOD_FEW
    out["method"] = pd.array(out["method"], dtype="str")
    return out


def _mixed_competencies(competency: np.ndarray, n: np.ndarray, slope: np.ndarray) -> list[int]:
    """Competencies (codes) with at least MIXED_MIN_REPS reps holding MIXED_MIN_ASSESSMENTS
    ratings."""
    enough = (n >= MIXED_MIN_ASSESSMENTS) & ~np.isnan(slope)
    counts = np.bincount(competency[enough], minlength=int(competency.max(initial=-1)) + 1)
    return [int(c) for c in np.flatnonzero(counts >= MIXED_MIN_REPS)]


def _mixed_slopes(g: pd.DataFrame, competency: str) -> pd.DataFrame:
    """Per-rep slopes (fixed + random slope) of one competency from its per-rep sums (indexed by
    rep_id); empty if the model fails."""
    params = _variance_components(g)
    if params is None:
        return pd.DataFrame(columns=["rep_id", "competency"])
    cov_re, scale = params
    # Per rep: S = Z'Z and Z'y with Z = [1, t]; M^-1 = G (σ² I + S G)^-1 (safe when G is singular).
    s, zy = _design(g)
    minv = cov_re @ _inv2(scale * np.eye(2) + s @ cov_re)
    reduce = np.eye(2) - minv @ s                                    # I − M^-1 S
    info = (s @ reduce).sum(0) / scale                               # Σ X'V^-1 X
    score = np.einsum("gij,gj->i", np.transpose(reduce, (0, 2, 1)), zy) / scale  # Σ X'V^-1 y
    cov_beta = np.linalg.inv(info)
    beta = cov_beta @ score
    theta = np.einsum("gij,gj->gi", minv, zy) + reduce @ beta       # β + BLUP
    pev = scale * minv + reduce @ cov_beta @ np.transpose(reduce, (0, 2, 1))
    from scipy import stats

    half = stats.norm.ppf(0.5 + INTERVAL_LEVEL / 2) * np.sqrt(np.clip(pev[:, 1, 1], 0, None))
    slope = theta[:, 1]
    return pd.DataFrame({"rep_id": g.index, "competency": competency, "trend_per_90d": slope,
                         "trend_low": slope - half, "trend_high": slope + half,
                         "method": METHOD_MIXED})


def _design(g: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per rep S = Z'Z and Z'y with Z = [1, t]."""
    s = np.stack([np.stack([g["n"], g["st"]], -1), np.stack([g["st"], g["stt"]], -1)], 1).astype(float)
    return s, np.stack([g["sy"], g["sty"]], -1).astype(float)


def _det2(m: np.ndarray) -> np.ndarray:
    det: np.ndarray = m[..., 0, 0] * m[..., 1, 1] - m[..., 0, 1] * m[..., 1, 0]
    return det


def _inv2(m: np.ndarray) -> np.ndarray:
    """Inverse of a stack of 2×2 matrices in closed form (far faster than np.linalg.inv here)."""
    det = _det2(m)
    inverse = np.empty_like(m)
    inverse[..., 0, 0] = m[..., 1, 1] / det
    inverse[..., 0, 1] = -m[..., 0, 1] / det
    inverse[..., 1, 0] = -m[..., 1, 0] / det
    inverse[..., 1, 1] = m[..., 0, 0] / det
    return inverse


class _RemlSums(NamedTuple):
    """The per-rep sums of one competency arranged for the REML objective (built once a fit).

    With S = [[a, b], [b, c]] = Z'Z, z = Z'y per rep and Ψ = [[p, q], [q, r]], d = det Ψ:
    det(I + SΨ) = 1 + a p + 2 b q + c r + (ac − b²) d, and K = Ψ (I + SΨ)⁻¹ is symmetric with
    k00 = (p + c d) / det, k01 = (q − b d) / det, k11 = (r + a d) / det. Every team sum the
    likelihood needs (Σ S K S, Σ S K z, Σ z'K z) is linear in each rep's (k00, k01, k11), so one
    evaluation is a few vector operations and one matrix product with `linear`.
    """
    det_terms: np.ndarray      # n × 4: a, 2b, c, ac − b²
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    linear: np.ndarray         # 3n × 6: Σ S K S (00, 01, 11), Σ S K z (0, 1), Σ z'K z per k
    totals: np.ndarray         # Σ a, Σ b, Σ c, Σ z0, Σ z1, Σ y'y
    n_obs: int


def _reml_sums(g: pd.DataFrame) -> _RemlSums:
    a, b, c = (g[col].to_numpy(float) for col in ("n", "st", "stt"))
    z0, z1, yy = (g[col].to_numpy(float) for col in ("sy", "sty", "syy"))
    per_k = [  # rows: k00, k01, k11; columns: (SKS)00, (SKS)01, (SKS)11, (SKz)0, (SKz)1, z'Kz
        [a * a, a * b, b * b, a * z0, b * z0, z0 * z0],
        [2 * a * b, a * c + b * b, 2 * b * c, b * z0 + a * z1, c * z0 + b * z1, 2 * z0 * z1],
        [b * b, b * c, c * c, b * z1, c * z1, z1 * z1]]
    linear = np.stack([np.stack(row, -1) for row in per_k], 1).reshape(-1, 6)
    return _RemlSums(np.stack([a, 2 * b, c, a * c - b * b], -1), a, b, c, linear,
                     np.array([a.sum(), b.sum(), c.sum(), z0.sum(), z1.sum(), yy.sum()]), int(a.sum()))


def _reml_terms(chol: np.ndarray, r: _RemlSums) -> tuple[float, float, float]:
    """(residual sum of squares, Σ log det(I + SΨ), det Σ X'W⁻¹X) for Ψ = L L'."""
    l0, l1, l2 = chol
    p, q, rr = l0 * l0, l0 * l1, l1 * l1 + l2 * l2
    d = p * rr - q * q
    det = 1.0 + r.det_terms @ np.array([p, q, rr, d])
    k = np.stack([p + d * r.c, q - d * r.b, rr + d * r.a], -1) / det[:, None]
    t = r.totals - k.reshape(-1) @ r.linear
    det_a = t[0] * t[2] - t[1] * t[1]
    rss = t[5] - (t[2] * t[3] * t[3] - 2 * t[1] * t[3] * t[4] + t[0] * t[4] * t[4]) / det_a
    return float(rss), float(np.log(det).sum()), float(det_a)


def _reml_objective(chol: np.ndarray, r: _RemlSums) -> float:
    """−2 × profiled REML log-likelihood (up to a constant) for G = σ² L L', from group sums
    (σ² profiled out): evaluated some 200 times a fit, so it is written out (see _RemlSums)."""
    rss, logdet, det_a = _reml_terms(chol, r)
    if not (det_a > 0 and rss > 0):
        return np.inf
    return float((r.n_obs - 2) * np.log(rss) + logdet + np.log(det_a))


def _variance_components(g: pd.DataFrame) -> tuple[np.ndarray, float] | None:
    """(G, σ²) of the random intercept + slope model by REML on every rep, or None.

    The likelihood is evaluated from per-rep sums in closed form (σ² profiled out), so each
    evaluation costs one pass over the reps; statsmodels' MixedLM gives the same estimates
    (tests check it) but was measured at 0.2–1.2 s per competency on 40 reps and often stopped
    short of convergence on ratings in half points.
    """
    from scipy.optimize import minimize  # lazy: only when a mixed model is fitted

    sums = _reml_sums(g)
    fit = minimize(_reml_objective, x0=np.array([1.0, 0.0, 0.3]), args=(sums,),
                   method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 2000})
    if not (fit.success and np.isfinite(fit.fun)):
        return None
    lower = np.array([[fit.x[0], 0.0], [fit.x[1], fit.x[2]]])
    scale = _reml_terms(fit.x, sums)[0] / (sums.n_obs - 2)
    return scale * (lower @ lower.T), scale


def clearly_short(shortfall: pd.Series, settings: Settings) -> pd.Series:
    """Whether a shortfall (rating points below the expected level, ≥ 0) is clear: more than the
    competency_gap_min threshold (Settings) — the one rule the Team competencies page and the
    coaching focus share."""
    return shortfall > -settings.thresholds.competency_gap_min


def rep_summary(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per rep from a competency table: rep_id, rep_name, shortfall (Σ points below expected over
    competencies), below_expected (competencies below), clearly_below (competencies clearly below:
    `clearly_short`), slipping (competencies whose whole trend interval is below 0), improving (whole
    interval above 0), steepest_fall (most negative trend)."""
    short = (-table["gap"]).clip(lower=0)
    t = table.assign(_short=short, _below=table["gap"] < 0, _clear=clearly_short(short, settings),
                     _slip=table["trend_high"] < 0, _up=table["trend_low"] > 0)
    return (t.groupby(["rep_id", "rep_name"], as_index=False)
            .agg(shortfall=("_short", "sum"), below_expected=("_below", "sum"),
                 clearly_below=("_clear", "sum"), slipping=("_slip", "sum"), improving=("_up", "sum"),
                 steepest_fall=("trend_per_90d", "min")))


def rating_history(ds: Dataset, rep_id: str, as_of: date) -> pd.DataFrame:
    """One rep's ratings up to `as_of`: date, competency, assessor (manager/self/...), rating."""
    a = ds.table("assessments")
    a = a[(a["rep_id"] == rep_id) & (a["date"] <= pd.Timestamp(as_of)) & a["rating"].notna()]
    return (a.assign(assessor=_assessor(a))[["date", "competency", "assessor", "rating"]]
            .sort_values(["competency", "assessor", "date"]).reset_index(drop=True))


# ---------------------------------------------------------------------------------------------
# baseline

def baseline(ds: Dataset) -> pd.DataFrame:
    """First manager and first self assessment of each rep per competency, vs the role's level.

    Columns: rep_id, rep_name, role, competency, first_manager_date, first_manager_rating,
    first_self_date, first_self_rating, expected, manager_gap, self_gap.
    """
    a = ds.table("assessments")
    a = a[a["rating"].notna() & a["rep_id"].notna() & a["competency"].notna()]
    a = a.assign(assessor=_assessor(a))
    keys = ["rep_id", "competency"]
    firsts = []
    for who in ("manager", "self"):
        part = a[a["assessor"] == who]
        first = part.groupby(keys)["date"].transform("min")
        firsts.append(part[part["date"] == first].groupby(keys)
                      .agg(**{f"first_{who}_date": ("date", "first"),
                              f"first_{who}_rating": ("rating", "mean")}))
    out = firsts[0].join(firsts[1], how="outer").reset_index()
    out = out.merge(roster(ds, out["rep_id"])[["rep_id", "rep_name", "role"]], on="rep_id", how="left")
    out["expected"] = _expected(ds, out)
    out["manager_gap"] = out["first_manager_rating"] - out["expected"]
    out["self_gap"] = out["first_self_rating"] - out["expected"]
    return out[["rep_id", "rep_name", "role", "competency", "first_manager_date", "first_manager_rating",
                "first_self_date", "first_self_rating", "expected", "manager_gap", "self_gap"]
               ].sort_values(keys).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# knowledge quotient

def knowledge_quotient(ds: Dataset, period: Period | None = None) -> pd.DataFrame:
    """Per rep × topic × quarter the mean training score, with the rep's overall KQ and trend.

    Columns: rep_id, rep_name, topic, quarter ("2025-Q3"), score (mean), records, kq (the rep's
    mean score over every record in `period`, or over all records without one), kq_trend_per_90d
    (least-squares slope of the rep's scores over every record up to the period's end, in score
    points per 90 days; NaN when all records fall on one day).
    """
    tr = ds.table("training")
    tr = tr[tr["score"].notna() & tr["rep_id"].notna() & tr["date"].notna()]
    history = tr if period is None else tr[tr["date"] <= period.end_ts]
    inside = tr if period is None else tr[period.contains(tr["date"])]
    inside = inside.assign(topic=inside["topic"].astype("str").fillna("n/a"),
                           quarter=inside["date"].dt.year.astype(str) + "-Q"
                           + inside["date"].dt.quarter.astype(str))
    rows = (inside.groupby(["rep_id", "topic", "quarter"], as_index=False)
            .agg(score=("score", "mean"), records=("score", "size")))
    kq = inside.groupby("rep_id")["score"].mean().rename("kq")
    end = history["date"].max() if period is None else period.end_ts
    trend = (_ols_by_group(history.assign(t=_steps(history["date"], end)), ["rep_id"], "t", "score")
             .set_index("rep_id")["slope"].rename("kq_trend_per_90d"))
    rows = rows.join(kq, on="rep_id").join(trend, on="rep_id")
    rows = rows.merge(roster(ds, rows["rep_id"])[["rep_id", "rep_name"]], on="rep_id", how="left")
    return rows[["rep_id", "rep_name", "topic", "quarter", "score", "records", "kq",
                 "kq_trend_per_90d"]].sort_values(["rep_id", "topic", "quarter"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# coaching focus

def coaching_focus(table: pd.DataFrame, ds: Dataset, settings: Settings, as_of: date) -> pd.DataFrame:
    """Per rep the 1–2 competencies to work on next, ranked, with the reason in words.

    A competency needs work when its shortfall a quarter from now (−(gap + falling trend)) is
    positive; a trend counts as falling from STEADY points a quarter down. New reps (< NEW_REP_MONTHS
    tenure) get up to two, foundations (FOUNDATIONS) first; senior reps (role containing "senior") go
    deeper: one competency unless a second is also clearly short (by more than the competency_gap_min
    threshold); everyone else gets up to two. Reps with nothing below expected and nothing falling get no row.
    """
    t = table[table["latest_rating"].notna()].copy()
    falling = t["trend_per_90d"].where(t["trend_per_90d"] <= -STEADY, 0.0).fillna(0.0)
    t["need"] = -(t["gap"] + falling)
    t = t[t["need"] > 1e-9]
    reps = roster(ds, t["rep_id"]).set_index("rep_id")
    tenure_months = (pd.Timestamp(as_of) - reps["hire_date"]).dt.days / 30.4375
    t["new_rep"] = t["rep_id"].map(tenure_months < NEW_REP_MONTHS).fillna(False).astype(bool)
    t["senior"] = t["role"].fillna("").str.contains("senior", case=False) & ~t["new_rep"]
    t["foundation"] = t["new_rep"] & t["competency"].isin(FOUNDATIONS)
    t = t.sort_values(["rep_id", "foundation", "need", "competency"], ascending=[True, False, False, True])
    t["rank"] = t.groupby("rep_id").cumcount() + 1
    keep = (t["rank"] == 1) | ((t["rank"] == 2) & (~t["senior"] | clearly_short(t["need"], settings)))
    t = t[keep]
    t["reason"] = _reasons(t)
    return t[FOCUS_COLUMNS].astype({"rank": "int64"}).reset_index(drop=True)


def _reasons(t: pd.DataFrame) -> pd.Series:
    """ "Objection handling: 2.1 vs 3.5 expected for a Senior Sales Rep, falling 0.4 a quarter"."""
    if t.empty:
        return pd.Series(index=t.index, dtype="str")
    trend = t["trend_per_90d"]
    direction = np.select([trend.isna(), trend <= -STEADY, trend >= STEADY],
                          ["trend unknown (too few assessments)",
                           "falling " + trend.abs().map("{:.1f}".format) + " a quarter",
                           "rising " + trend.abs().map("{:.1f}".format) + " a quarter"],
                          "steady")
    role = t["role"].fillna(DEFAULT_ROLE)
    article = np.where(role.str[:1].str.lower().isin(list("aeiou")), "an", "a")
    text = (t["competency"].astype("str") + ": " + t["latest_rating"].map("{:.1f}".format) + " vs "
            + t["expected"].map("{:.1f}".format) + " expected for " + article + " " + role + ", "
            + pd.Series(direction, index=t.index))
    return text.where(~t["foundation"], text + "; a foundation for a new rep")
