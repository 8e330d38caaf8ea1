"""The money model: drivers → attainment → money per cause, adding up to each rep's gap, and no
money for a cause the data do not support."""
import numpy as np
import pandas as pd
import pytest

from core.diagnostic import impact
from core.diagnostic.causes import blamed
from core.diagnostic.impact import Effect, Model


def _model(elasticity: float, low: float, high: float, unsupported: tuple[str, ...] = ()) -> Model:
    e = Effect(elasticity, low, high, "test")
    none = Effect(0.0, 0.0, 0.0, "none", supported=False)
    return Model("model", "test", 0, 0, 0, {c: none if c in unsupported else e for c in blamed()})


def _reps() -> pd.DataFrame:
    return pd.DataFrame({"quota": [100.0, 100.0, 100.0, 100.0, 100.0],
                         "gap": [30.0, 10.0, -5.0, 40.0, 20.0],
                         "ramping": [False, False, False, True, False]},
                        index=pd.Index(["A", "B", "C", "D", "E"], name="rep_id"))


def _drivers(values: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(values).reindex(index=list("ABCDE"), columns=list(blamed()))


def test_money_is_effect_times_dose_times_quota():
    """Follow-ups flagged for A (shortfall 0.4) and E (0.2): dose 4/3 and 2/3 of the mean.
    Effect 0.15 → A 0.15 × 4/3 × 100 = 20, E 0.15 × 2/3 × 100 = 10; ranges from 0.075 … 0.3."""
    d = _drivers({"follow_up_discipline": {"A": 0.4, "E": 0.2}})
    out = impact.allocate(_reps(), d, d.notna(), _model(0.15, 0.075, 0.3))
    money = out["money"]["follow_up_discipline"]
    assert money["A"] == pytest.approx(20.0) and money["E"] == pytest.approx(10.0)
    assert out["unexplained"]["A"] == pytest.approx(10.0) and out["unexplained"]["E"] == pytest.approx(10.0)
    assert out["low"].loc["A", "follow_up_discipline"] == pytest.approx(10.0)
    assert out["high"].loc["A", "follow_up_discipline"] == pytest.approx(30.0)   # 40, clipped to the gap


def test_causes_are_scaled_down_to_the_gap_and_the_rest_is_unexplained():
    """B: 0.5 × 1 × 100 = 50 > gap 10 → 10, nothing unexplained."""
    d = _drivers({"pipeline": {"B": 0.6}})
    out = impact.allocate(_reps(), d, d.notna(), _model(0.5, 0.25, 1.0))
    assert out["money"].loc["B", "pipeline"] == pytest.approx(10.0)
    assert out["unexplained"]["B"] == pytest.approx(0.0)


def test_only_flagged_causes_of_reps_below_goal_get_money():
    d = _drivers({c: {r: 0.3 for r in "ABCDE"} for c in blamed()})
    flagged = d.notna() & (d.index == "A")[:, None]
    flagged.loc["C"] = True           # at goal
    flagged.loc["D"] = True           # ramping
    out = impact.allocate(_reps(), d, flagged, _model(0.01, 0.005, 0.02))
    money = out["money"]
    assert (money.loc[["B", "C", "D", "E"]] == 0).all().all()
    assert (money.loc["A"] > 0).all()
    totals = money.sum(axis=1) + out["unexplained"]
    below = _reps().query("gap > 0 and not ramping").index
    assert np.allclose(totals[below], _reps().loc[below, "gap"])
    assert (money >= 0).all().all()


def test_a_cause_without_support_gets_no_money():
    """Pipeline flagged for A, but the model found no effect: A's gap stays unexplained."""
    d = _drivers({"pipeline": {"A": 0.5}, "follow_up_discipline": {"E": 0.3}})
    out = impact.allocate(_reps(), d, d.notna(), _model(0.1, 0.05, 0.2, unsupported=("pipeline",)))
    assert (out["money"]["pipeline"] == 0).all() and (out["high"]["pipeline"] == 0).all()
    assert out["unexplained"]["A"] == pytest.approx(30.0)
    assert out["money"].loc["E", "follow_up_discipline"] == pytest.approx(10.0)


def _panel(n_reps: int, n_months: int, effect: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = np.where(np.arange(n_reps) % 4 == 0, rng.uniform(0.3, 0.6, n_reps), rng.uniform(0, 0.05, n_reps))
    rep = np.repeat([f"R{i:02d}" for i in range(n_reps)], n_months)
    month = np.tile(pd.date_range("2026-01-01", periods=n_months, freq="MS"), n_reps)
    level = 1.05 - effect * np.repeat(d, n_months)
    frame = pd.DataFrame({"rep_id": rep, "month": month,
                          "attainment": level + rng.normal(0, 0.05, n_reps * n_months)})
    for c in blamed():
        frame[c] = 0.0
    frame["follow_up_discipline"] = np.repeat(d, n_months)
    frame["activity_shortfall"] = np.repeat(rng.uniform(0, 0.1, n_reps), n_months)   # unrelated
    return frame


def test_model_recovers_the_effect_with_an_interval_and_states_its_sample_in_reps():
    """Attainment = 1.05 − 0.6 × shortfall + noise: the coefficient comes back near 0.6."""
    model = impact.fit(_panel(24, 9, 0.6))
    assert model.method == "model"
    e = model.effects["follow_up_discipline"]
    assert e.supported and e.elasticity == pytest.approx(0.6, abs=0.08)
    assert e.low < 0.6 < e.high
    assert model.confidence.startswith("model: OLS across 24 reps")
    assert "rep-months" not in model.confidence


def test_causes_the_model_finds_no_effect_for_are_not_supported():
    """Pipeline has no variation, activity is unrelated to attainment: neither carries money."""
    model = impact.fit(_panel(24, 9, 0.6))
    for cause in ("pipeline", "activity_shortfall"):
        e = model.effects[cause]
        assert not e.supported and e.elasticity == 0.0 and e.high == 0.0
        assert impact.NO_EFFECT in e.source
    # the reps it was looked for on: activity has a (small) value for every rep, pipeline for none
    assert model.effects["activity_shortfall"].source.endswith("(24 of 24 reps flagged)")
    assert "flagged" not in model.effects["pipeline"].source


def test_a_wrong_signed_effect_is_not_supported():
    """Reps with the shortfall do better: the model finds no (negative) effect."""
    model = impact.fit(_panel(24, 9, -0.6))
    assert not model.effects["follow_up_discipline"].supported


def test_fitted_on_the_dose_the_effect_is_what_an_average_flagged_rep_loses():
    """Six of 30 reps flagged for follow-ups with shortfalls 0.1 … 0.5 (mean 0.3), each losing
    0.15 × shortfall / 0.3 of its attainment: fitted on the dose, the effect comes back near 0.15
    (what the average flagged rep loses) and the rep with shortfall 0.5 is charged 0.15 × 5/3 of
    its quota."""
    rng = np.random.default_rng(3)
    ids = pd.Index([f"R{i:02d}" for i in range(30)], name="rep_id")
    short = pd.Series([0.1, 0.3, 0.5, 0.2, 0.4, 0.3], index=ids[:6])
    drivers = pd.DataFrame({"follow_up_discipline": short}, index=ids).fillna(0.0).reindex(columns=list(blamed()))
    dose = impact.dose(drivers)
    months = pd.date_range("2026-01-01", periods=6, freq="MS")
    frame = pd.DataFrame({"rep_id": np.repeat(ids, 6), "month": np.tile(months, 30)})
    level = 1.0 - 0.15 * dose["follow_up_discipline"].reindex(frame["rep_id"]).to_numpy()
    frame["attainment"] = level + np.repeat(rng.normal(0, 0.03, 30), 6)
    model = impact.fit(frame.join(dose, on="rep_id"))
    e = model.effects["follow_up_discipline"]
    assert e.supported and e.elasticity == pytest.approx(0.15, abs=0.03)
    reps = pd.DataFrame({"quota": 100.0, "gap": 50.0, "ramping": False}, index=ids)
    out = impact.allocate(reps, drivers, drivers > 0, model)
    assert out["money"].loc["R02", "follow_up_discipline"] == pytest.approx(e.elasticity * 5 / 3 * 100)
    assert (out["money"].loc[ids[6:]] == 0).all().all()


@pytest.mark.parametrize("n_reps,n_months,words", [(5, 9, "5 reps: too few for a model"),
                                                   (20, 2, "2 months: too few for a model")])
def test_too_little_data_uses_the_rules_and_says_so(n_reps, n_months, words):
    model = impact.fit(_panel(n_reps, n_months, 0.6))
    assert model.method == "rules"
    assert model.confidence == f"rules ({words})"


def test_rules_split_the_shortfall_against_unflagged_reps():
    """Reference: mean attainment of unflagged, non-ramping reps: E, F, G, H at 1.1, 0.9, 0.95,
    1.0 → 0.9875. A (attainment 0.7, quota 100) is 28.75 short of it, split
    0.4 : 0.1 over its two causes; the 1.25 left stays unexplained."""
    reps = pd.DataFrame({"quota": 100.0, "gap": [30.0, -10.0, 10.0, 5.0, 0.0],
                         "ramping": False}, index=pd.Index(list("AEFGH"), name="rep_id"))
    d = pd.DataFrame({"follow_up_discipline": {"A": 0.4}, "pipeline": {"A": 0.1}},
                     index=reps.index).reindex(columns=list(blamed()))
    flagged = d.notna()
    assert impact.reference_attainment(reps, flagged) == pytest.approx(0.9875)
    out = impact.allocate(reps, d, flagged, impact._rules("few reps", 5, 5, 3))
    assert out["money"].loc["A", "follow_up_discipline"] == pytest.approx(23.0)
    assert out["money"].loc["A", "pipeline"] == pytest.approx(5.75)
    assert out["unexplained"]["A"] == pytest.approx(1.25)
    assert out["low"].loc["A", "follow_up_discipline"] == pytest.approx(11.5)
    assert out["high"].loc["A", "follow_up_discipline"] == pytest.approx(30.0)   # 34.5, clipped to the gap


def test_drivers_take_the_largest_flagged_shortfall():
    table = pd.DataFrame({
        "rep_id": ["A", "A", "A", "B"],
        "cause": ["pipeline", "pipeline", "pipeline", "pipeline"],
        "signal": ["pipeline_to_quota", "win_rate", "sales_cycle_days", "pipeline_to_quota"],
        "driver": [True, True, False, True],
        "shortfall": [0.7, 0.5, np.nan, 0.3],
        "flagged": [False, True, True, False],
    })
    d, f = impact.drivers(table, pd.Index(["A", "B", "C"]))
    assert d.loc["A", "pipeline"] == 0.5          # 0.7 is not flagged
    assert d.loc["B", "pipeline"] == 0.0          # not flagged: no driver
    assert np.isnan(d.loc["C", "pipeline"])
    assert f.loc["A", "pipeline"] and not f.loc["B", "pipeline"] and not f.loc["C", "pipeline"]
    dose = impact.dose(d)
    assert dose.loc[["A", "B"], "pipeline"].tolist() == [1.0, 0.0]     # A alone flagged: the mean dose
    assert np.isnan(dose.loc["C", "pipeline"])


def test_drivers_of_an_empty_signal_table_are_blank_not_an_error():
    """A dataset with no signal rows (e.g. sales only) gives NaN drivers and no flags."""
    table = pd.DataFrame({"rep_id": pd.Series(dtype="str"), "cause": pd.Series(dtype="str"),
                          "signal": pd.Series(dtype="str"), "driver": pd.Series(dtype=bool),
                          "shortfall": pd.Series(dtype=float), "flagged": pd.Series(dtype=bool)})
    d, f = impact.drivers(table, pd.Index(["A"]))
    assert d.loc["A"].isna().all() and not f.loc["A"].any()
