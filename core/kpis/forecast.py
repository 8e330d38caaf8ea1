"""Will we make it? Revenue projected to the end of a period, with an 80 % interval and P(goal).

One model serves the team (or the scope): exponential smoothing on monthly revenue, chosen by how
much history there is — Holt-Winters with 12-month seasonality from 24 full months, Holt's linear
trend from 6, a run-rate per working day below that. The remaining part of the period is forecast
month by month; a month the period only partly covers counts in proportion to its working days
(Mon–Fri). The interval and P(goal) come from simulated paths of the same model, so they agree;
the paths' monthly shocks are as large as the model's out-of-sample one-month errors over the
last months of the history when those exceed its in-sample residuals (see `_smoothing`).

Fitting a model per rep costs 10–80 s for 1,000 reps, so `rep_forecasts` scales the team model by
each rep's share of recent revenue and widens the interval by the rep's own week-to-week noise;
`rep_forecast` fits the full model for the one rep being viewed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.inputs import roster, sales_table
from core.kpis.monthly import monthly
from core.kpis.parts import period_quota
from core.periods import Period, period_of, quarter
from core.settings import Settings

SEASON = 12
MIN_SEASONAL_MONTHS = 24
MIN_TREND_MONTHS = 6
RUN_RATE_DAYS = 91          # the trailing window for run-rates, rep shares and weekly noise
N_DRAWS = 2000
SEED = 20250101             # fixed, so the same data always gives the same interval
Z80 = 1.2815515655446004    # the 90th percentile of the standard normal: an 80 % two-sided band
LOW_Q, HIGH_Q = 10, 90
HOLDOUT_MIN, HOLDOUT_MAX = 3, 12   # months held out to measure out-of-sample errors
# statsmodels' default (brute-force start + its default optimiser) reaches the same optimum ~10×
# slower here (0.5 s against 0.05 s for 36 months).
_FIT = {"method": "L-BFGS-B", "use_brute": False}

REP_COLUMNS = ["rep_id", "projected", "low", "high", "quota", "p_goal", "needed_per_day", "method"]
MONTHLY_COLUMNS = ["month", "revenue", "quota", "attainment", "forecast", "forecast_low", "forecast_high"]
BACKTEST_COLUMNS = ["quarter", "forecast", "low", "high", "actual", "abs_pct_error", "within_interval",
                    "method"]


@dataclass(frozen=True)
class Forecast:
    """Projected revenue at the end of a period for one team, scope or rep."""

    projected: float
    low: float                   # 80 % interval
    high: float
    quota: float
    p_goal: float
    actual_to_date: float
    remaining_working_days: int
    needed_per_day: float        # revenue per remaining working day to reach quota; 0 once reached
    method: str


@dataclass(frozen=True)
class _MonthModel:
    """Forecast of whole future months: point values and simulated paths (months × draws)."""

    months: pd.PeriodIndex
    point: np.ndarray
    draws: np.ndarray
    method: str


# ---------------------------------------------------------------------------- public API


def period_to_forecast(ds: Dataset, period: Period) -> Period:
    """The period "will we make it?" is about: `period` while it is in progress (and a custom
    range as chosen); once the data has gone past its end, the period of the same kind that holds
    the last day of data."""
    span = ds.date_span()
    if span is None or period.end >= span[1] or period.kind == "custom":
        return period
    return period_of(period.kind, span[1], period.fiscal_start)


def team_forecast(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope(),
                  as_of: date | None = None) -> Forecast:
    """Revenue of `scope` at the end of `period`: actual to `as_of` plus the forecast of the rest."""
    rep_ids = _rep_ids(ds, scope)
    sales = _sales_of(ds, rep_ids)
    quota = period_quota(ds, period).reindex(rep_ids)
    return _forecast(sales, period, _as_of(ds, period, as_of), float(quota.sum(min_count=1)))


def rep_forecast(ds: Dataset, rep_id: str, period: Period, settings: Settings,
                 as_of: date | None = None) -> Forecast:
    """The full model fitted on one rep's own history (for the rep being viewed)."""
    quota = period_quota(ds, period).reindex([rep_id])
    return _forecast(_sales_of(ds, [rep_id]), period, _as_of(ds, period, as_of),
                     float(quota.sum(min_count=1)))


def rep_forecasts(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope(),
                  as_of: date | None = None) -> pd.DataFrame:
    """One row per rep in scope: the scope's model scaled by the rep's share of recent revenue.

    A rep's remaining revenue is the team's forecast of the remaining days times the rep's share of
    the team's revenue over the last 91 days (the rep's run-rate, bent by the team's trend and
    seasonality). Its variance adds the team's uncertainty (scaled by the share) to the rep's own
    week-to-week noise over the remaining weeks; the interval and P(goal) use a normal
    approximation of that.
    """
    day = _as_of(ds, period, as_of)
    rep_ids = _rep_ids(ds, scope)
    quota = period_quota(ds, period).reindex(rep_ids)
    if day is None:
        nan = np.full(len(rep_ids), np.nan)
        return pd.DataFrame({"rep_id": pd.Series(rep_ids, dtype="str"), "projected": nan, "low": nan,
                             "high": nan, "quota": quota.to_numpy(dtype=float), "p_goal": nan,
                             "needed_per_day": nan, "method": "n/a (no sales)"})[REP_COLUMNS]
    as_of_ts = pd.Timestamp(day)
    sales = _sales_of(ds, rep_ids)
    sales = sales[sales["date"] <= as_of_ts]
    team, team_sd = _project(sales, period, as_of_ts.date(), np.nan)
    remaining_days = team.remaining_working_days
    team_remaining = team.projected - team.actual_to_date

    window_start = as_of_ts - pd.Timedelta(days=RUN_RATE_DAYS - 1)
    recent = sales[sales["date"] >= window_start]
    recent_rev = recent.groupby("rep_id")["revenue"].sum().reindex(rep_ids, fill_value=0.0)
    team_recent = float(recent["revenue"].sum())
    share = recent_rev / team_recent if team_recent > 0 else pd.Series(np.nan, index=rep_ids)

    in_period = sales[period.contains(sales["date"])]
    actual = in_period.groupby("rep_id")["revenue"].sum().reindex(rep_ids, fill_value=0.0)
    weekly_sd = _weekly_sd(recent, as_of_ts, rep_ids)

    projected = actual + share * team_remaining
    sd = np.sqrt((share * team_sd) ** 2 + weekly_sd ** 2 * remaining_days / 5.0)
    out = pd.DataFrame({
        "rep_id": pd.Series(rep_ids, dtype="str"),
        "projected": projected.to_numpy(),
        "low": (projected - Z80 * sd).to_numpy(),
        "high": (projected + Z80 * sd).to_numpy(),
        "quota": quota.to_numpy(dtype=float),
        "p_goal": _p_normal(projected.to_numpy(), sd.to_numpy(), quota.to_numpy(dtype=float)),
        "needed_per_day": _needed(quota.to_numpy(dtype=float), actual.to_numpy(), remaining_days),
        "method": f"{team.method} × rep share of the last {RUN_RATE_DAYS} days",
    })
    return out[REP_COLUMNS]


def history_start(ds: Dataset, end: date, months: int) -> date:
    """The first day of a history of `months` months up to `end`, never before the month of the
    data's first day (months before the data would only draw an empty stretch of axis)."""
    start = (pd.Timestamp(end).to_period("M") - (months - 1)).to_timestamp()
    span = ds.date_span()
    if span is not None:
        start = max(start, pd.Timestamp(span[0]).to_period("M").to_timestamp())
    first: date = start.date()
    return first


def monthly_forecast(ds: Dataset, start: date, end: date, settings: Settings, scope: Scope = Scope(),
                     horizon: int = 6) -> pd.DataFrame:
    """Month by month: actual revenue, quota, attainment (as core.kpis.monthly) and the
    forecast with its 80 % band.

    Rows run from the month of `start` to the month of `end`, extended to `horizon` months after
    the last complete month of data. `revenue` is NaN after the last sales date (the current month
    holds its revenue to date); the forecast columns are filled from the first incomplete month on
    and give whole-month values, comparable with quota.
    """
    as_of = _last_sale(ds)
    last = pd.Period(end, "M")
    if as_of is not None:
        last = max(last, _last_complete_month(pd.Timestamp(as_of)) + horizon)
    actual = monthly(ds, start, last.end_time.date(), settings, scope)
    months = pd.PeriodIndex(actual["month"], freq="M")
    future = months > (pd.Period(as_of, "M") if as_of is not None else months[0] - 1)
    out = pd.DataFrame({"month": actual["month"].to_numpy(),
                        "revenue": actual["revenue"].where(~future).to_numpy(dtype=float),
                        "quota": actual["quota"].to_numpy(dtype=float),
                        "attainment": actual["attainment"].where(~future).to_numpy(dtype=float)})
    if as_of is None:
        return out.assign(forecast=np.nan, forecast_low=np.nan, forecast_high=np.nan)[MONTHLY_COLUMNS]
    model = _fit_months(_sales_of(ds, _rep_ids(ds, scope)), as_of, months[-1])
    return _with_forecast(out, months, model)


def monthly_forecast_by_region(ds: Dataset, start: date, end: date, settings: Settings,
                               scope: Scope = Scope(), horizon: int = 6) -> pd.DataFrame:
    """region + MONTHLY_COLUMNS: `monthly_forecast` of each region in scope, its own model each
    (a handful of fits, for the Trends page's small multiples)."""
    regions = sorted(roster(ds, scope)["region"].dropna().unique())
    frames = [monthly_forecast(ds, start, end, settings, replace(scope, region=r), horizon).assign(region=r)
              for r in regions]
    if not frames:
        return pd.DataFrame(columns=["region", *MONTHLY_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"region": "str"})[["region", *MONTHLY_COLUMNS]]


def monthly_growth(ds: Dataset, start: date, end: date, settings: Settings,
                   scope: Scope = Scope()) -> pd.DataFrame:
    """month, revenue, revenue_year_earlier, growth (revenue / same month a year earlier − 1) for
    every month touched by [start, end]; revenue is NaN after the month of the last sale. Growth is
    NaN for a month not yet complete (a month to date against a whole month would read as a fall)
    and where the year-earlier month had no revenue."""
    before = (pd.Period(start, "M") - 12).start_time.date()
    m = monthly(ds, before, end, settings, scope)
    earlier = m["revenue"].shift(12)
    last = _last_sale(ds)
    started = m["month"] <= pd.Timestamp(last).to_period("M").start_time if last else False
    complete = m["month"] <= _last_complete_month(pd.Timestamp(last)).start_time if last else False
    revenue = m["revenue"].where(started)
    out = pd.DataFrame({"month": m["month"], "revenue": revenue, "revenue_year_earlier": earlier,
                        "growth": (revenue / earlier.where(earlier > 0) - 1).where(complete)})
    return out.iloc[12:].reset_index(drop=True)


def backtest(ds: Dataset, settings: Settings, quarters: int = 4) -> pd.DataFrame:
    """Forecast each of the last `quarters` complete quarters from the data before it (team)."""
    last = _last_sale(ds)
    if last is None:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in BACKTEST_COLUMNS})
    sales = sales_table(ds)
    q_end = _quarter_of(last)
    q_end = q_end if q_end.end <= last else _quarter_of(q_end.start - timedelta(days=1))
    targets = [_shift_quarter(q_end, -k) for k in reversed(range(quarters))]
    rows = [_backtest_row(sales, q) for q in targets]
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def mape(backtest_df: pd.DataFrame) -> float:
    """Mean absolute percentage error of a back-test, as a fraction (0.05 = 5 %)."""
    return float(backtest_df["abs_pct_error"].mean()) if len(backtest_df) else float("nan")


# ---------------------------------------------------------------------------- the projection


def _forecast(sales: pd.DataFrame, period: Period, as_of: date | None, quota: float) -> Forecast:
    return _project(sales, period, as_of, quota)[0]


def _project(sales: pd.DataFrame, period: Period, as_of: date | None,
             quota: float) -> tuple[Forecast, float]:
    """Actual to `as_of` plus the model's forecast of the working days left in `period`; also the
    standard deviation of the simulated period totals."""
    if as_of is None:
        return Forecast(np.nan, np.nan, np.nan, quota, np.nan, np.nan,
                        _busdays(period.start, period.end), np.nan, "n/a (no sales)"), np.nan
    as_of_ts = pd.Timestamp(as_of)
    known = sales["date"] <= as_of_ts
    actual = float(sales.loc[known & period.contains(sales["date"]), "revenue"].sum())
    remaining_from = max(as_of + timedelta(days=1), period.start)
    remaining_days = _busdays(remaining_from, period.end)
    if as_of >= period.end:
        hit = np.nan if np.isnan(quota) else float(actual >= quota)
        return Forecast(actual, actual, actual, quota, hit, actual, 0,
                        _needed(np.array([quota]), np.array([actual]), 0)[0],
                        "actual (period complete)"), 0.0
    model = _fit_months(sales[known], as_of, pd.Period(period.end, "M"))   # a copy only for a running period
    weights = _month_weights(model.months, remaining_from, period.end)
    draws = actual + weights @ model.draws
    projected = actual + float(weights @ model.point)
    low, high = (np.percentile(draws, [LOW_Q, HIGH_Q]) if np.isfinite(draws).all()
                 else (np.nan, np.nan))
    p_goal = np.nan if np.isnan(quota) or not np.isfinite(draws).all() else float(np.mean(draws >= quota))
    fc = Forecast(projected, float(low), float(high), quota, p_goal, actual, remaining_days,
                  float(_needed(np.array([quota]), np.array([actual]), remaining_days)[0]), model.method)
    return fc, float(np.std(draws, ddof=1))


def _fit_months(sales: pd.DataFrame, as_of: date, through: pd.Period) -> _MonthModel:
    """Forecast every month after the last complete one up to `through`, by the history's length."""
    as_of_ts = pd.Timestamp(as_of)
    last_complete = _last_complete_month(as_of_ts)
    history = _monthly_history(sales, last_complete)
    months = pd.period_range(last_complete + 1, max(through, last_complete + 1), freq="M")
    if len(history) >= MIN_TREND_MONTHS:
        return _smoothing(history, months)
    return _run_rate(sales, as_of_ts, months)


def _monthly_history(sales: pd.DataFrame, last_complete: pd.Period) -> pd.Series:
    """Revenue per complete month from the first month with a sale; months without sales are 0.
    Grouped on the kept rows' month and revenue arrays, not on a copy of the lines (at 3,000 reps
    the copy and its Period column were ~250 MB); the same rows in the same order, so the same sums."""
    dates = sales["date"].to_numpy(dtype="datetime64[ns]")
    kept = dates < np.datetime64(last_complete.to_timestamp(how="end").normalize() + pd.Timedelta(days=1))
    if not kept.any():
        return pd.Series(dtype="float64")
    revenue = pd.Series(sales["revenue"].to_numpy(dtype="float64", na_value=np.nan)[kept])
    by_month = revenue.groupby(dates[kept].astype("datetime64[M]")).sum()
    by_month.index = pd.DatetimeIndex(by_month.index).to_period("M")
    return by_month.reindex(pd.period_range(by_month.index.min(), last_complete, freq="M"), fill_value=0.0)


def _smoothing(history: pd.Series, months: pd.PeriodIndex) -> _MonthModel:
    """Holt-Winters (≥ 24 months) or Holt's linear trend (6–23 months), with simulated paths.

    The paths are simulated with the larger of the model's in-sample innovation spread and its
    out-of-sample one-month-ahead error (`_holdout_errors`): the in-sample residuals of a model
    whose parameters were tuned on those very months understate how far the next month can fall,
    and the simulated band alone covered the back-tested quarters far less often than 80 %.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # 2.8 s import: only when needed

    y = history.to_numpy(dtype=float)
    steps = int((months[-1] - history.index[-1]).n)
    seasonal = len(y) >= MIN_SEASONAL_MONTHS
    candidates = [("add", "additive")]
    if seasonal and (y > 0).all():
        candidates.append(("mul", "multiplicative"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if seasonal:
            fits = [(ExponentialSmoothing(y, **_spec(s)).fit(**_FIT), s, name) for s, name in candidates]
            fit, kind, name = min(fits, key=lambda f: f[0].aicc if np.isfinite(f[0].aicc) else np.inf)
            method = f"Holt-Winters ({name} seasonality, {len(y)} months)"
        else:
            fit, kind = ExponentialSmoothing(y, **_spec(None)).fit(**_FIT), None
            method = f"Holt linear trend ({len(y)} months)"
        sd = max(_in_sample_sd(fit, y, kind), _rms(_holdout_errors(ExponentialSmoothing, y, kind)))
        errors = np.random.default_rng(SEED).standard_normal((steps, N_DRAWS)) * sd
        point = np.asarray(fit.forecast(steps), dtype=float)
        draws = np.asarray(fit.simulate(steps, repetitions=N_DRAWS, random_errors=errors),
                           dtype=float).reshape(steps, N_DRAWS)
    return _MonthModel(months, point[-len(months):], draws[-len(months):], method)


def _spec(seasonal: str | None) -> dict[str, Any]:
    """ExponentialSmoothing arguments: additive trend, and `seasonal` 12-month seasonality if any."""
    return {"trend": "add"} if seasonal is None else {
        "trend": "add", "seasonal": seasonal, "seasonal_periods": SEASON}


def _in_sample_sd(fit: Any, y: np.ndarray, seasonal: str | None) -> float:
    """The innovation standard deviation statsmodels' `simulate` uses by default: the residual sum of
    squares over the degrees of freedom left after the smoothing constants and initial states."""
    n_params = 4 + (SEASON + 1) * (seasonal is not None)
    return float(np.sqrt(np.sum((y - fit.fittedvalues) ** 2) / max(len(y) - n_params, 1)))


def _holdout_errors(es: Any, y: np.ndarray, seasonal: str | None) -> np.ndarray:
    """Out-of-sample one-month-ahead errors of the model over the last months of the history.

    The parameters (smoothing constants and initial states) are estimated on all but the last k
    months — a third of the history, at most 12, leaving the model its minimum history — and the
    states then roll forward through the held-out months one at a time, so each error is that of a
    forecast made from the months before it only (a rolling origin without re-estimation, which
    costs one fit instead of k). No errors (an empty array) when fewer than 3 months can be held out.
    Everything here is history available at the forecast date, never the period being forecast.
    """
    min_fit = MIN_SEASONAL_MONTHS if seasonal else MIN_TREND_MONTHS
    k = min(HOLDOUT_MAX, len(y) // 3, len(y) - min_fit)
    if k < HOLDOUT_MIN:
        return np.array([])
    p = es(y[:-k], **_spec(seasonal)).fit(**_FIT).params
    known = {"initial_level": p["initial_level"], "initial_trend": p["initial_trend"]}
    smooth = {"smoothing_level": p["smoothing_level"], "smoothing_trend": p["smoothing_trend"]}
    if seasonal:
        known["initial_seasonal"] = p["initial_seasons"]
        smooth["smoothing_seasonal"] = p["smoothing_seasonal"]
    rolled = es(y, **_spec(seasonal), initialization_method="known", **known).fit(optimized=False, **smooth)
    return np.asarray((y - rolled.fittedvalues)[-k:], dtype=float)


def _rms(errors: np.ndarray) -> float:
    """Root mean square (0 for no errors, so it never widens a band on its own)."""
    return float(np.sqrt(np.mean(errors ** 2))) if len(errors) else 0.0


def _run_rate(sales: pd.DataFrame, as_of: pd.Timestamp, months: pd.PeriodIndex) -> _MonthModel:
    """Revenue per working day over the last 91 days (or all history if shorter), projected flat.

    Monthly draws add week-to-week noise to an uncertain rate (standard error from the weekly
    totals), the rate error shared by all months of one draw.
    """
    window_start = max(as_of - pd.Timedelta(days=RUN_RATE_DAYS - 1), sales["date"].min()
                       if len(sales) else as_of)
    recent = sales[sales["date"] >= window_start]
    window_days = max(_busdays(window_start.date(), as_of.date()), 1)
    rate = float(recent["revenue"].sum()) / window_days
    weekly = _week_totals(recent, as_of, "revenue")
    sd_week = float(weekly.std(ddof=1)) if len(weekly) >= 2 else np.nan
    month_days = _busdays_array(months.start_time, months.end_time).astype(float)
    rng = np.random.default_rng(SEED)
    rate_err = rng.standard_normal(N_DRAWS) * sd_week / 5.0 / np.sqrt(max(len(weekly), 1))
    noise = rng.standard_normal((len(months), N_DRAWS)) * sd_week * np.sqrt(month_days / 5.0)[:, None]
    draws = month_days[:, None] * (rate + rate_err[None, :]) + noise
    return _MonthModel(months, month_days * rate, draws, f"run-rate (last {window_days} working days)")


# ---------------------------------------------------------------------------- monthly table


def _with_forecast(out: pd.DataFrame, months: pd.PeriodIndex, model: _MonthModel) -> pd.DataFrame:
    """Fill the forecast columns of the months the model covers (whole-month values)."""
    out = out.assign(forecast=np.nan, forecast_low=np.nan, forecast_high=np.nan)
    pos = months.get_indexer(model.months)
    keep = pos >= 0
    low, high = (np.percentile(model.draws, [LOW_Q, HIGH_Q], axis=1) if np.isfinite(model.draws).all()
                 else (np.full(len(model.months), np.nan),) * 2)
    out.loc[pos[keep], "forecast"] = model.point[keep]
    out.loc[pos[keep], "forecast_low"] = low[keep]
    out.loc[pos[keep], "forecast_high"] = high[keep]
    return out[MONTHLY_COLUMNS]


# ---------------------------------------------------------------------------- back-test


def _backtest_row(sales: pd.DataFrame, q: Period) -> list[Any]:
    cut = q.start - timedelta(days=1)
    fc = _forecast(sales[sales["date"] <= pd.Timestamp(cut)], q, cut, np.nan)
    actual = float(sales.loc[q.contains(sales["date"]), "revenue"].sum())
    err = abs(fc.projected - actual) / abs(actual) if actual else np.nan
    return [q.label, fc.projected, fc.low, fc.high, actual, err, bool(fc.low <= actual <= fc.high),
            fc.method]


def _quarter_of(d: date) -> Period:
    return quarter(d.year, (d.month - 1) // 3 + 1)


def _shift_quarter(q: Period, by: int) -> Period:
    idx = q.start.year * 4 + (q.start.month - 1) // 3 + by
    return quarter(idx // 4, idx % 4 + 1)


# ---------------------------------------------------------------------------- data helpers


def _last_sale(ds: Dataset) -> date | None:
    dates = sales_table(ds)["date"]
    return None if dates.dropna().empty else pd.Timestamp(dates.max()).date()


def _as_of(ds: Dataset, period: Period, as_of: date | None) -> date | None:
    """The given day, or the last sales date in the data, never after the period's end."""
    day = pd.Timestamp(as_of).date() if as_of is not None else _last_sale(ds)
    return None if day is None else min(day, period.end)


def _last_complete_month(as_of: pd.Timestamp) -> pd.Period:
    """The latest month that ends on or before `as_of`."""
    m = as_of.to_period("M")
    return m if as_of.normalize() == m.end_time.normalize() else m - 1


def _rep_ids(ds: Dataset, scope: Scope) -> list[str]:
    """The reps in scope (the roster, or every rep the data names when there is none)."""
    return [str(r) for r in roster(ds, scope)["rep_id"]]


def _sales_of(ds: Dataset, rep_ids: list[str]) -> pd.DataFrame:
    """Sales lines (won opportunities without a sales table) of the given reps: the columns the
    forecast reads (a copy of every column of millions of lines cost 150 MB at 1,000 reps)."""
    sales = sales_table(ds)
    return sales.loc[sales["rep_id"].isin(rep_ids), ["date", "rep_id", "revenue"]]


def _week_totals(sales: pd.DataFrame, as_of: pd.Timestamp, col: str, by: str | None = None) -> pd.Series:
    """Totals per 7-day block counting back from `as_of` (blocks without sales are 0)."""
    if sales.empty:
        return pd.Series(dtype="float64")
    block = (as_of - sales["date"]).dt.days // 7
    n_blocks = int(block.max()) + 1
    if by is None:
        return sales.groupby(block)[col].sum().reindex(range(n_blocks), fill_value=0.0)
    return sales.groupby([sales[by], block])[col].sum()


def _weekly_sd(recent: pd.DataFrame, as_of: pd.Timestamp, rep_ids: list[str]) -> pd.Series:
    """Each rep's standard deviation of weekly revenue over the trailing window (0-revenue weeks
    included)."""
    n_blocks = max(RUN_RATE_DAYS // 7, 2)
    recent = recent[(as_of - recent["date"]).dt.days < n_blocks * 7]
    totals = _week_totals(recent, as_of, "revenue", by="rep_id")
    grid = (totals.unstack(fill_value=0.0).reindex(index=rep_ids, columns=range(n_blocks), fill_value=0.0)
            if len(totals) else pd.DataFrame(0.0, index=rep_ids, columns=range(n_blocks)))
    return grid.std(axis=1, ddof=1)


# ---------------------------------------------------------------------------- arithmetic


def _busdays(start: date, end: date) -> int:
    """Working days (Mon–Fri) from `start` to `end`, both included; 0 when end < start."""
    if end < start:
        return 0
    return int(np.busday_count(np.datetime64(start, "D"), np.datetime64(end + timedelta(days=1), "D")))


def _busdays_array(starts: pd.DatetimeIndex, ends: pd.DatetimeIndex) -> np.ndarray:
    s = starts.normalize().to_numpy().astype("datetime64[D]")
    e = ends.normalize().to_numpy().astype("datetime64[D]") + np.timedelta64(1, "D")
    return np.where(e > s, np.busday_count(s, np.maximum(e, s)), 0)


def _month_weights(months: pd.PeriodIndex, start: date, end: date) -> np.ndarray:
    """Share of each month's working days that fall inside [start, end]."""
    m_start, m_end = months.start_time, months.end_time.normalize()
    s = pd.DatetimeIndex(np.maximum(m_start, pd.Timestamp(start)))
    e = pd.DatetimeIndex(np.minimum(m_end, pd.Timestamp(end)))
    return np.asarray(_busdays_array(s, e) / _busdays_array(m_start, m_end), dtype=float)


def _needed(quota: np.ndarray, actual: np.ndarray, remaining_days: int) -> np.ndarray:
    """Run-rate per remaining working day to reach quota: 0 once reached, NaN without quota or
    without days left."""
    gap = quota - actual
    per_day = gap / remaining_days if remaining_days > 0 else np.full_like(gap, np.nan, dtype=float)
    return np.where(np.isnan(quota), np.nan, np.where(gap <= 0, 0.0, per_day))


def _p_normal(mean: np.ndarray, sd: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """P(outcome ≥ quota) for a normal outcome; a certain outcome (sd 0) gives 0 or 1."""
    from scipy.special import ndtr

    with np.errstate(divide="ignore", invalid="ignore"):
        p = ndtr((mean - quota) / sd)
    p = np.where(sd == 0, (mean >= quota).astype(float), p)
    return np.where(np.isnan(quota) | np.isnan(mean), np.nan, p)
