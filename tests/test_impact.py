"""The money model: drivers → attainment → money per cause, adding up to each rep's gap."""
import numpy as np
import pandas as pd
import pytest

from core import impact
from core.impact import Effect, Model
from core.signals import BLAMED


def _model(elasticity: float, low: float, high: float) -> Model:
    e = Effect(elasticity, low, high, "test")
    return Model("model", "test", 0, 0, 0, {c: e for c in BLAMED})


def _reps() -> pd.DataFrame:
    return pd.DataFrame({"quota": [100.0, 100.0, 100.0, 100.0, 100.0],
                         "gap": [30.0, 10.0, -5.0, 40.0, 20.0],
                         "ramping": [False, False, False, True, False]},
                        index=pd.Index(["A", "B", "C", "D", "E"], name="rep_id"))


def _drivers(values: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(values).reindex(index=list("ABCDE"), columns=list(BLAMED))


def test_money_is_elasticity_times_shortfall_times_quota():
    """A: 0.5 × 0.4 × 100 = 20 from follow-ups, 0.5 × 0.2 × 100 = 10 from activity; gap 30."""
    d = _drivers({"follow_up_discipline": {"A": 0.4}, "activity_shortfall": {"A": 0.2}})
    f = d.notna()
    out = impact.allocate(_reps(), d, f, _model(0.5, 0.25, 1.0))
    assert out["money"].loc["A", "follow_up_discipline"] == pytest.approx(20.0)
    assert out["money"].loc["A", "activity_shortfall"] == pytest.approx(10.0)
    assert out["unexplained"]["A"] == pytest.approx(0.0)
    assert out["low"].loc["A", "follow_up_discipline"] == pytest.approx(10.0)
    assert out["high"].loc["A", "follow_up_discipline"] == pytest.approx(30.0)  # 40, clipped to the gap


def test_causes_are_scaled_down_to_the_gap_and_the_rest_is_unexplained():
    """B: raw 0.5 × 0.6 × 100 = 30 > gap 10 → 10; E: raw 5 < gap 20 → 15 unexplained."""
    d = _drivers({"pipeline": {"B": 0.6, "E": 0.1}})
    out = impact.allocate(_reps(), d, d.notna(), _model(0.5, 0.25, 1.0))
    assert out["money"].loc["B", "pipeline"] == pytest.approx(10.0)
    assert out["unexplained"]["B"] == pytest.approx(0.0)
    assert out["money"].loc["E", "pipeline"] == pytest.approx(5.0)
    assert out["unexplained"]["E"] == pytest.approx(15.0)


def test_only_flagged_causes_of_reps_below_goal_get_money():
    d = _drivers({c: {r: 0.3 for r in "ABCDE"} for c in BLAMED})
    flagged = d.notna() & (d.index == "A")[:, None]
    flagged.loc["C"] = True           # at goal
    flagged.loc["D"] = True           # ramping
    out = impact.allocate(_reps(), d, flagged, _model(0.1, 0.05, 0.2))
    money = out["money"]
    assert (money.loc[["B", "C", "D", "E"]] == 0).all().all()
    assert (money.loc["A"] > 0).all()
    totals = money.sum(axis=1) + out["unexplained"]
    below = _reps().query("gap > 0 and not ramping").index
    assert np.allclose(totals[below], _reps().loc[below, "gap"])
    assert (money >= 0).all().all()


def _panel(n_reps: int, n_months: int, effect: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = np.where(np.arange(n_reps) % 4 == 0, rng.uniform(0.3, 0.6, n_reps), rng.uniform(0, 0.05, n_reps))
    rep = np.repeat([f"R{i:02d}" for i in range(n_reps)], n_months)
    month = np.tile(pd.date_range("2026-01-01", periods=n_months, freq="MS"), n_reps)
    level = 1.05 - effect * np.repeat(d, n_months)
    frame = pd.DataFrame({"rep_id": rep, "month": month,
                          "attainment": level + rng.normal(0, 0.05, n_reps * n_months)})
    for c in BLAMED:
        frame[c] = 0.0
    frame["follow_up_discipline"] = np.repeat(d, n_months)
    frame["activity_shortfall"] = rng.uniform(0, 0.1, n_reps * n_months)   # unrelated to attainment
    return frame


def test_model_recovers_the_effect_with_an_interval():
    """Attainment = 1.05 − 0.6 × shortfall + noise: the coefficient comes back near 0.6."""
    model = impact.fit(_panel(24, 9, 0.6))
    assert model.method == "model"
    e = model.effects["follow_up_discipline"]
    assert e.elasticity == pytest.approx(0.6, abs=0.08)
    assert e.low < 0.6 < e.high
    assert model.confidence == "model: OLS on 216 rep-months, clustered by rep (24 reps)"
    assert model.effects["follow_up_discipline"].source.startswith("model: OLS on 216 rep-months")


def test_a_cause_without_variation_falls_back_to_rules():
    model = impact.fit(_panel(24, 9, 0.6))
    assert model.effects["pipeline"].source.startswith("rules")
    assert model.effects["pipeline"].elasticity == impact.RULE_ELASTICITY


@pytest.mark.parametrize("n_reps,n_months,words", [(5, 9, "5 reps: too few for a model"),
                                                   (20, 4, "4 months: too few for a model")])
def test_too_little_data_uses_the_rules_and_says_so(n_reps, n_months, words):
    model = impact.fit(_panel(n_reps, n_months, 0.6))
    assert model.method == "rules"
    assert model.confidence == f"rules ({words})"
    assert all(e.elasticity == impact.RULE_ELASTICITY for e in model.effects.values())


def test_drivers_take_the_largest_shortfall_and_flag_from_driver_signals():
    table = pd.DataFrame({
        "rep_id": ["A", "A", "A", "B"],
        "cause": ["pipeline", "pipeline", "pipeline", "pipeline"],
        "signal": ["pipeline_to_quota", "win_rate", "sales_cycle_days", "pipeline_to_quota"],
        "driver": [True, True, False, True],
        "shortfall": [0.2, 0.5, np.nan, 0.0],
        "flagged": [False, True, True, False],
    })
    d, f = impact.drivers(table, pd.Index(["A", "B", "C"]))
    assert d.loc["A", "pipeline"] == 0.5
    assert d.loc["B", "pipeline"] == 0.0
    assert np.isnan(d.loc["C", "pipeline"])
    assert f.loc["A", "pipeline"] and not f.loc["B", "pipeline"] and not f.loc["C", "pipeline"]


def test_drivers_of_an_empty_signal_table_are_blank_not_an_error():
    """A dataset with no signal rows (e.g. sales only) gives NaN drivers and no flags."""
    table = pd.DataFrame({"rep_id": pd.Series(dtype="str"), "cause": pd.Series(dtype="str"),
                          "signal": pd.Series(dtype="str"), "driver": pd.Series(dtype=bool),
                          "shortfall": pd.Series(dtype=float), "flagged": pd.Series(dtype=bool)})
    d, f = impact.drivers(table, pd.Index(["A"]))
    assert d.loc["A"].isna().all() and not f.loc["A"].any()
