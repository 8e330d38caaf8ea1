"""Competency trends and gaps, baseline, knowledge quotient and coaching focus on hand-made tables."""
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset
from core.people.competency import (
    METHOD_FEW,
    METHOD_MIXED,
    METHOD_OLS,
    _pair_sums,
    _variance_components,
    baseline,
    coaching_focus,
    competency_table,
    knowledge_quotient,
    rating_history,
    rep_summary,
)
from core.periods import quarter
from core.schema import TABLES, empty_table, pandas_dtype
from core.settings import Settings

AS_OF = date(2025, 12, 31)


def frame(name: str, **cols) -> pd.DataFrame:
    """A canonical table `name` holding `cols` (other columns empty), with canonical dtypes."""
    n = len(next(iter(cols.values())))
    out = empty_table(name).reindex(range(n))
    for col, values in cols.items():
        out[col] = pd.Series(values).astype(pandas_dtype(TABLES[name].column(col)))
    return out


def reps(ids, roles=None, hired=None):
    return frame("reps", rep_id=ids, rep_name=[f"Name {i}" for i in ids], region=["East"] * len(ids),
                 territory_id=[f"T{i}" for i in ids], role=roles or [None] * len(ids),
                 hire_date=pd.to_datetime(hired or [None] * len(ids)))


def ratings(rep, competency, values, start="2025-01-01", step_days=90, assessor="manager"):
    """One assessment every `step_days` days from `start`."""
    dates = pd.Timestamp(start) + pd.to_timedelta(np.arange(len(values)) * step_days, unit="D")
    return frame("assessments", rep_id=[rep] * len(values), date=dates,
                 competency=[competency] * len(values), rating=[float(v) for v in values],
                 assessor=[assessor] * len(values))


def test_trend_of_known_series_is_points_per_90_days():
    """+0.4 every 90 days → trend 0.4; the latest rating and count come from the manager rows."""
    ds = Dataset({"reps": reps(["R1"]), "assessments": ratings("R1", "Discovery", [2.0, 2.4, 2.8, 3.2])})
    row = competency_table(ds, Settings(), AS_OF).iloc[0]
    assert row["trend_per_90d"] == pytest.approx(0.4)
    assert row["latest_rating"] == 3.2 and row["assessments"] == 4 and row["method"] == METHOD_OLS
    assert row["trend_low"] == pytest.approx(0.4) and row["trend_high"] == pytest.approx(0.4)


def test_noisy_trend_interval_brackets_slope():
    ds = Dataset({"assessments": ratings("R1", "Pitch", [3.0, 3.5, 3.2, 3.9, 3.6])})
    row = competency_table(ds, Settings(), AS_OF).iloc[0]
    assert row["trend_low"] < row["trend_per_90d"] < row["trend_high"]
    assert row["rep_name"] == "R1" and row["role"] == "Sales Rep"   # no roster: id and default role


def test_ratings_after_as_of_are_ignored_and_single_rating_has_no_trend():
    ds = Dataset({"assessments": ratings("R1", "Pitch", [2.0, 4.0], start="2025-11-01")})
    row = competency_table(ds, Settings(), date(2025, 12, 1)).iloc[0]
    assert row["latest_rating"] == 2.0 and row["assessments"] == 1
    assert np.isnan(row["trend_per_90d"]) and row["method"] == METHOD_FEW


def test_the_dates_between_two_assessments_share_one_table(monkeypatch: pytest.MonkeyPatch):
    """Every date from one assessment to the day before the next has the same ratings, so the same
    table, computed once; a date before any rating has an empty table."""
    from core.people import competency

    ds = Dataset({"assessments": ratings("R1", "Pitch", [2.0, 2.5, 3.5])})      # 2025-01-01, 04-01, 06-30
    calls: list[object] = []              # this Dataset's only: other tests' background work may call it too
    real = competency._competency_table
    monkeypatch.setattr(competency, "_competency_table",
                        lambda d, rated: (d is ds and calls.append(rated)) or real(d, rated))
    april, may, june = (competency_table(ds, Settings(), date(2025, m, d)) for m, d in ((4, 1), (5, 31), (6, 29)))
    pd.testing.assert_frame_equal(april, may)
    pd.testing.assert_frame_equal(april, june)
    assert calls == [pd.Timestamp("2025-04-01")]
    july = competency_table(ds, Settings(), date(2025, 7, 31)).iloc[0]
    assert july["latest_rating"] == 3.5 and july["assessments"] == 3 and len(calls) == 2
    assert competency_table(ds, Settings(), date(2024, 12, 31)).empty


def test_every_table_computes_each_rating_date_once_and_later_periods_reuse_it(monkeypatch: pytest.MonkeyPatch):
    """every_table computes the table of each rating date (newest first), including a rating
    taken at a time of day; any date afterwards finds its table computed and equal to one
    computed afresh."""
    from core.people import competency

    late = ratings("R2", "Pitch", [3.0]).assign(date=pd.Timestamp("2025-05-10 15:30"))
    data = {"assessments": pd.concat([ratings("R1", "Pitch", [2.0, 2.5, 3.5]), late], ignore_index=True)}
    ds = Dataset(data)
    seen: list[tuple[Dataset, object]] = []       # other tests' background work may call it too
    real = competency._competency_table
    monkeypatch.setattr(competency, "_competency_table",
                        lambda d, rated: seen.append((d, rated)) or real(d, rated))

    def calls() -> list[object]:
        return [rated for d, rated in seen if d is ds]

    assert competency.every_table(ds) == 4
    assert calls() == [pd.Timestamp(t) for t in ("2025-06-30", "2025-05-10 15:30", "2025-04-01", "2025-01-01")]
    for day in (date(2025, 1, 1), date(2025, 5, 11), date(2025, 6, 29), AS_OF):
        fresh = competency_table(Dataset(data), Settings(), day)
        pd.testing.assert_frame_equal(competency_table(ds, Settings(), day), fresh)
    assert len(calls()) == 4                         # none computed again
    assert competency.every_table(Dataset({"sales": empty_table("sales")})) == 0


def test_gap_uses_expected_level_of_role():
    levels = frame("expected_levels", role=["Senior Sales Rep", "Sales Rep"],
                   competency=["Negotiation", "Negotiation"], expected_rating=[4.0, 3.5])
    ds = Dataset({"reps": reps(["R1", "R2"], roles=["Senior Sales Rep", "Sales Rep"]),
                  "expected_levels": levels,
                  "assessments": pd.concat([ratings("R1", "Negotiation", [3.0]),
                                            ratings("R2", "Negotiation", [3.0]),
                                            ratings("R2", "Pitch", [2.5])], ignore_index=True)})
    t = competency_table(ds, Settings(), AS_OF).set_index(["rep_id", "competency"])
    assert t.loc[("R1", "Negotiation"), "expected"] == 4.0 and t.loc[("R1", "Negotiation"), "gap"] == -1.0
    assert t.loc[("R2", "Negotiation"), "gap"] == -0.5
    assert t.loc[("R2", "Pitch"), "expected"] == 3.0          # competency missing from the model


def test_default_expected_is_three_without_expected_levels():
    ds = Dataset({"reps": reps(["R1"], roles=["Clinical Specialist"]),
                  "assessments": ratings("R1", "Discovery", [4.5])})
    row = competency_table(ds, Settings(), AS_OF).iloc[0]
    assert row["expected"] == 3.0 and row["gap"] == 1.5


def test_self_minus_manager_uses_latest_of_each():
    a = pd.concat([ratings("R1", "Pitch", [2.0, 2.5]),
                   ratings("R1", "Pitch", [4.5, 4.0], assessor="Self"),
                   ratings("R1", "Discovery", [3.0])], ignore_index=True)
    a.loc[a.index[-1], "assessor"] = None                      # blank assessor = manager
    t = competency_table(Dataset({"assessments": a}), Settings(), AS_OF).set_index("competency")
    assert t.loc["Pitch", "self_minus_manager"] == pytest.approx(1.5)
    assert t.loc["Pitch", "assessments"] == 2                  # self ratings are not counted
    assert np.isnan(t.loc["Discovery", "self_minus_manager"])


def test_no_assessments_gives_empty_table_with_columns():
    t = competency_table(Dataset({}), Settings(), AS_OF)
    assert t.empty and "trend_per_90d" in t.columns


def _panel(n_reps: int, n_quarters: int, comps: list[str], noise: float, seed: int = 1):
    """Ratings every 91 days; rep i's true slope per 90 days is 0.05 * (i % 5) − 0.1."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"R{i:04d}" for i in range(n_reps)])
    slope = 0.05 * (np.arange(n_reps) % 5) - 0.1
    rep = np.repeat(np.arange(n_reps), n_quarters * len(comps))
    comp = np.tile(np.repeat(comps, n_quarters), n_reps)
    q = np.tile(np.arange(n_quarters), n_reps * len(comps))
    days = q * 91
    rating = 3.0 + slope[rep] * days / 90 + rng.normal(0, noise, len(rep))
    a = pd.DataFrame({"rep_id": pd.Series(ids[rep], dtype="str"),
                      "date": pd.Timestamp("2023-01-02") + pd.to_timedelta(days, unit="D"),
                      "competency": pd.Series(comp, dtype="str"), "rating": rating,
                      "assessor": pd.Series(["manager"] * len(rep), dtype="str")})
    return a, dict(zip(ids, slope, strict=False))


def test_mixed_model_and_per_rep_fit_agree_on_clean_panel(monkeypatch):
    a, truth = _panel(20, 8, ["Discovery"], noise=0.05)
    mixed = competency_table(Dataset({"assessments": a}), Settings(), AS_OF)
    monkeypatch.setattr("core.people.competency.MIXED_MIN_REPS", 10_000)
    ols = competency_table(Dataset({"assessments": a}), Settings(), AS_OF)
    assert set(mixed["method"]) == {METHOD_MIXED} and set(ols["method"]) == {METHOD_OLS}
    diff = (mixed["trend_per_90d"] - ols["trend_per_90d"]).abs()
    assert diff.max() < 0.02
    assert (mixed["trend_per_90d"] - mixed["rep_id"].map(truth)).abs().max() < 0.03
    assert ((mixed["trend_low"] < mixed["trend_per_90d"]) & (mixed["trend_per_90d"] < mixed["trend_high"])).all()


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_reml_matches_statsmodels_mixedlm():
    """Our closed-form REML gives statsmodels' variance components on the same centred data."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    a, _ = _panel(30, 8, ["Pitch"], noise=0.2, seed=1)
    level = dict(zip(a["rep_id"].unique(), np.random.default_rng(1).normal(0, 0.5, 30), strict=False))
    a = a.assign(rating=a["rating"] + a["rep_id"].map(level),
                 t=(a["date"] - pd.Timestamp(AS_OF)).dt.days / 90)
    a = a.assign(t=a["t"] - a["t"].mean())
    codes, reps = pd.factorize(a["rep_id"])
    cov_re, scale = _variance_components(_pair_sums(codes, a["t"].to_numpy(), a["rating"].to_numpy(), len(reps)))
    exog = np.column_stack([np.ones(len(a)), a["t"].to_numpy()])
    ref = MixedLM(a["rating"].to_numpy(), exog, groups=a["rep_id"].to_numpy(), exog_re=exog).fit(
        reml=True, method="lbfgs")
    assert ref.converged
    assert scale == pytest.approx(ref.scale, rel=1e-3)
    np.testing.assert_allclose(cov_re, np.asarray(ref.cov_re), rtol=1e-3, atol=1e-5)


def test_mixed_model_shrinks_short_noisy_series_towards_team():
    """A rep with 2 wild ratings gets a slope between its own fit and the team's."""
    a, _ = _panel(10, 6, ["Pitch"], noise=0.05)
    wild = ratings("RX", "Pitch", [1.0, 4.0], start="2024-01-01")
    t = competency_table(Dataset({"assessments": pd.concat([a, wild], ignore_index=True)}), Settings(),
                         AS_OF).set_index("rep_id")
    assert t.loc["RX", "method"] == METHOD_MIXED
    assert -0.1 < t.loc["RX", "trend_per_90d"] < 3.0


@pytest.mark.slow   # a timing check: out of the default run, run by .ci/run's slow step
def test_scale_1000_reps_7_competencies_12_quarters_is_fast():
    comps = ["Product knowledge", "Clinical knowledge", "Discovery", "Objection handling", "Pitch",
             "Planning & CRM discipline", "Negotiation"]
    a, _ = _panel(1000, 12, comps, noise=0.3)
    start = time.perf_counter()
    t = competency_table(Dataset({"assessments": a}), Settings(), AS_OF)
    elapsed = time.perf_counter() - start
    assert len(t) == 7000 and set(t["method"]) == {METHOD_MIXED}
    assert elapsed < 8, f"took {elapsed:.1f} s"


def test_rep_summary_counts_shortfall_and_clear_trends():
    t = pd.DataFrame({"rep_id": ["R1", "R1", "R2", "R3", "R3"], "rep_name": ["A", "A", "B", "C", "C"],
                      "gap": [-1.0, 0.5, -0.2, -0.4, -0.4],
                      "trend_per_90d": [-0.3, 0.2, np.nan, 0, 0], "trend_low": [-0.5, 0.1, np.nan, 0, 0],
                      "trend_high": [-0.1, 0.3, np.nan, 0, 0]})
    s = rep_summary(t, Settings()).set_index("rep_id")      # clearly short: more than 0.5 below
    assert s.loc["R1", ["shortfall", "below_expected", "clearly_below", "slipping", "improving"]].tolist() \
        == [1.0, 1, 1, 1, 1]
    # 0.8 points short in all, but no single competency clearly short
    assert s.loc["R3", ["shortfall", "below_expected", "clearly_below"]].tolist() == [pytest.approx(0.8), 2, 0]
    assert s.loc["R2", "shortfall"] == pytest.approx(0.2) and s.loc["R2", "slipping"] == 0
    assert s.loc["R1", "steepest_fall"] == -0.3


def test_rating_history_of_one_rep_up_to_as_of():
    a = pd.concat([ratings("R1", "Pitch", [2.0, 3.0, 4.0], start="2025-06-01"),
                   ratings("R1", "Pitch", [4.0], assessor=None), ratings("R2", "Pitch", [1.0])],
                  ignore_index=True)
    h = rating_history(Dataset({"assessments": a}), "R1", date(2025, 9, 30))
    assert h["rating"].tolist() == [4.0, 2.0, 3.0] and h["assessor"].tolist() == ["manager"] * 3


def test_baseline_first_ratings_vs_expected():
    a = pd.concat([ratings("R1", "Pitch", [2.0, 3.0]), ratings("R1", "Pitch", [4.0], assessor="self")],
                  ignore_index=True)
    levels = frame("expected_levels", role=["Sales Rep"], competency=["Pitch"], expected_rating=[3.5])
    b = baseline(Dataset({"assessments": a, "expected_levels": levels})).iloc[0]
    assert b["first_manager_rating"] == 2.0 and b["first_self_rating"] == 4.0
    assert b["manager_gap"] == -1.5 and b["self_gap"] == 0.5
    assert b["first_manager_date"] == pd.Timestamp("2025-01-01")


def test_knowledge_quotient_by_topic_quarter_and_overall():
    tr = frame("training", rep_id=["R1"] * 4 + ["R2"],
               date=pd.to_datetime(["2025-01-10", "2025-02-10", "2025-04-10", "2025-07-10", "2025-07-10"]),
               topic=["Product", "Product", "Product", "Clinical", "Product"],
               score=[60.0, 70.0, 80.0, 90.0, 50.0])
    kq = knowledge_quotient(Dataset({"training": tr}))
    r1 = kq[kq["rep_id"] == "R1"].set_index(["topic", "quarter"])
    assert r1.loc[("Product", "2025-Q1"), "score"] == 65.0 and r1.loc[("Product", "2025-Q1"), "records"] == 2
    assert r1["kq"].iloc[0] == 75.0
    assert r1["kq_trend_per_90d"].iloc[0] > 0
    assert np.isnan(kq.loc[kq["rep_id"] == "R2", "kq_trend_per_90d"].iloc[0])   # one record
    q3 = knowledge_quotient(Dataset({"training": tr}), quarter(2025, 3))
    assert set(q3["quarter"]) == {"2025-Q3"}
    assert q3.set_index("rep_id").loc["R1", "kq"] == 90.0
    assert q3.set_index("rep_id").loc["R1", "kq_trend_per_90d"] > 0         # history up to Q3 end


def _focus_table(rows):
    cols = ["rep_id", "role", "competency", "latest_rating", "expected", "trend_per_90d"]
    t = pd.DataFrame(rows, columns=cols)
    return t.assign(gap=t["latest_rating"] - t["expected"])


def test_focus_prefers_falling_over_stable_with_same_gap():
    t = _focus_table([("R1", "Sales Rep", "Pitch", 2.5, 3.0, 0.0),
                      ("R1", "Sales Rep", "Objection handling", 2.5, 3.0, -0.4),
                      ("R1", "Sales Rep", "Discovery", 3.5, 3.0, 0.1)])
    f = coaching_focus(t, Dataset({"reps": reps(["R1"], hired=["2020-01-01"])}), Settings(), AS_OF)
    assert f["competency"].tolist() == ["Objection handling", "Pitch"] and f["rank"].tolist() == [1, 2]
    assert f["reason"].iloc[0] == ("Objection handling: 2.5 vs 3.0 expected for a Sales Rep, "
                                   "falling 0.4 a quarter")


def test_new_rep_gets_foundations_and_senior_goes_deeper():
    rows = [("N", "Sales Rep", "Negotiation", 2.0, 3.0, 0.0),
            ("N", "Sales Rep", "Product knowledge", 2.7, 3.0, 0.0),
            ("N", "Sales Rep", "Discovery", 2.8, 3.0, 0.0),
            ("S", "Senior Sales Rep", "Negotiation", 2.5, 4.0, -0.2),
            ("S", "Senior Sales Rep", "Pitch", 3.8, 4.0, 0.0),
            ("S2", "Senior Sales Rep", "Negotiation", 3.0, 4.0, 0.0),
            ("S2", "Senior Sales Rep", "Pitch", 3.2, 4.0, 0.0),
            ("OK", "Sales Rep", "Pitch", 3.5, 3.0, 0.2)]
    ds = Dataset({"reps": reps(["N", "S", "S2", "OK"], roles=["Sales Rep", "Senior Sales Rep",
                                                             "Senior Sales Rep", "Sales Rep"],
                               hired=["2025-06-01", "2015-01-01", "2015-01-01", "2020-01-01"])})
    f = coaching_focus(_focus_table(rows), ds, Settings(), AS_OF)
    by = f.groupby("rep_id")["competency"].apply(list)
    assert by["N"] == ["Product knowledge", "Discovery"]       # foundations before a bigger gap
    assert f.loc[f["rep_id"] == "N", "reason"].str.endswith("a foundation for a new rep").all()
    assert by["S"] == ["Negotiation"]                          # only one clearly short
    assert by["S2"] == ["Negotiation", "Pitch"]                # both clearly short
    assert "OK" not in by.index
    assert "expected for a Senior Sales Rep, falling 0.2 a quarter" in f.loc[f["rep_id"] == "S", "reason"].iloc[0]


def test_focus_for_a_rep_with_nothing_to_work_on_is_empty():
    """A rep at or above every expected level gets no focus rows (and no error)."""
    t = _focus_table([("OK", "Sales Rep", "Pitch", 3.5, 3.0, 0.2)])
    f = coaching_focus(t, Dataset({"reps": reps(["OK"], hired=["2020-01-01"])}), Settings(), AS_OF)
    assert f.empty and "reason" in f.columns
