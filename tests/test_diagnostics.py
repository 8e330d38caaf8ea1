"""The diagnosis: money per cause adds up to each rep's gap, findings say why and what to do."""
import pickle

import numpy as np
import pandas as pd
import pytest

from core.dataset import Scope
from core.diagnostic.findings import CAUSES, FINDING_COLUMNS, REP_COLUMNS, Diagnosis, diagnose, headline
from core.settings import Settings
from tests.test_signals import Q3, WEEKS, small_team


@pytest.fixture(scope="module")
def diagnosis() -> Diagnosis:
    return diagnose(small_team(), Q3, Settings())


def test_columns_and_order(diagnosis):
    assert list(diagnosis.findings.columns) == FINDING_COLUMNS
    assert list(diagnosis.reps.columns) == REP_COLUMNS
    assert list(diagnosis.reps.columns[-9:]) == list(CAUSES)
    assert diagnosis.findings["rank"].tolist() == list(range(1, len(diagnosis.findings) + 1))
    assert diagnosis.findings["impact"].is_monotonic_decreasing


def test_impacts_add_up_to_each_gap(diagnosis):
    reps = diagnosis.reps.set_index("rep_id")
    below = reps[reps["gap"] > 0]
    money = below[list(CAUSES)]
    assert (money >= 0).all().all()
    assert np.allclose(money.sum(axis=1) + below["unexplained"], below["gap"])


def test_reps_at_goal_get_none_and_no_money(diagnosis):
    reps = diagnosis.reps.set_index("rep_id")
    at_goal = reps.loc[["R1", "R2", "R3"]]
    assert (at_goal["primary_cause"] == "none").all()
    assert (at_goal[list(CAUSES)] == 0).all().all() and (at_goal["unexplained"] == 0).all()
    assert not diagnosis.findings["who"].isin(["R1", "R2", "R3"]).any()   # R2's bunching is no finding


def test_ramping_rep_is_not_blamed(diagnosis):
    r6 = diagnosis.reps.set_index("rep_id").loc["R6"]
    assert r6["primary_cause"] == "ramping" and r6["causes"] == "ramping"
    assert r6["ramping"] == pytest.approx(150.0)                          # its whole gap
    assert (r6[[c for c in CAUSES if c != "ramping"]] == 0).all()


def test_money_follows_the_rules_for_a_five_rep_team(diagnosis):
    """Five reps (R6 is ramping) are too few for a model: a rep's shortfall against the reps with no
    flagged cause (fewer than 3 here, so against goal) is split over its causes by their shortfalls."""
    reps = diagnosis.reps.set_index("rep_id")
    assert reps.loc["R4", "primary_cause"] == "activity_shortfall"
    assert reps.loc["R4", "activity_shortfall"] == pytest.approx(90.0)     # 300 × (1 − 0.7), its gap
    follow_up, plan = 1 - 8 / 20, 1 - 21 / 66                            # shortfalls against reps at goal
    assert reps.loc["R5", "follow_up_discipline"] == pytest.approx(60 * follow_up / (follow_up + plan))
    assert reps.loc["R5", "plan_adherence"] == pytest.approx(60 * plan / (follow_up + plan))
    assert reps.loc["R5", "primary_cause"] == "plan_adherence"
    assert reps.loc["R5", "causes"] == "plan_adherence, follow_up_discipline"
    rep_findings = diagnosis.findings[diagnosis.findings["scope"] == "rep"]
    assert (rep_findings["confidence"] == "rules (5 reps: too few for a model)").all()
    assert diagnosis.method.startswith("rules (5 reps: too few for a model)")


def test_findings_carry_evidence_range_and_actions(diagnosis):
    f = diagnosis.findings.set_index(["who", "cause"])
    r4 = f.loc[("R4", "activity_shortfall")]
    from scipy import stats
    p = stats.poisson.cdf(13, 4.0 * WEEKS)                                # 13 meetings where 4 a week is the floor
    assert r4["evidence"] == (f"Meetings per week {13 / WEEKS:.1f} vs 5.0 target; reps at goal "
                              f"{66 / WEEKS:.1f} (Poisson, p={p:.2g})")
    assert r4["actions"].startswith(f"raise meetings from {13 / WEEKS:.1f} to 5 a week")
    assert r4["severity"] == "high"                                      # 90 of a 300 quota
    assert r4["impact_low"] <= r4["impact"] <= r4["impact_high"] <= 90 + 1e-9
    r5 = f.loc[("R5", "follow_up_discipline")]
    assert r5["evidence"].startswith("On-time follow-up (last 6 months) 40% vs 100% target; reps at goal 100%")
    assert "Days late (median) 5 days vs 0 days target" in r5["evidence"]
    assert "(binomial, p=" in r5["evidence"] and "(rule)" in r5["evidence"]   # tested or said to be a rule
    assert r5["actions"].startswith("weekly follow-up review")


def test_waterfall_steps_add_up_from_quota_to_revenue(diagnosis):
    w = diagnosis.waterfall.set_index("step")
    assert w.loc["Quota", "amount"] == 1800.0 and w.loc["Revenue", "amount"] == 1590.0
    relative = diagnosis.waterfall.loc[diagnosis.waterfall["measure"] == "relative", "amount"]
    assert w.loc["Quota", "amount"] + relative.sum() == pytest.approx(1590.0)
    assert w.loc["Activity shortfall", "amount"] == pytest.approx(-90.0)
    assert w.loc["Ramping", "amount"] == pytest.approx(-150.0)
    assert w.loc["Ahead of goal (other reps)", "amount"] == pytest.approx(90.0)   # R1–R3 at 110 %
    causes = relative.iloc[:-2]                                                    # before unexplained, ahead
    assert causes.tolist() == sorted(causes.tolist())                             # most money first


def test_missing_tables_are_not_assessed_and_never_flagged():
    d = diagnose(small_team(follow_ups=False, incentives=False), Q3, Settings())
    assert d.not_assessed == {
        "territory_imbalance": ["accounts", "territories"], "training_gap": ["assessments", "training"],
        "incentive_misalignment": ["incentives"], "follow_up_discipline": ["follow_ups"],
        "pipeline": ["opportunities"], "customer_retention": ["sales"]}
    assert not d.findings["cause"].isin(list(d.not_assessed)).any()
    assert (d.reps[list(d.not_assessed)].fillna(0) == 0).all().all()


def test_scope_limits_reps_findings_and_waterfall():
    d = diagnose(small_team(), Q3, Settings(), Scope(region="West"))
    assert d.reps["rep_id"].tolist() == ["R4", "R5", "R6"]
    assert set(d.findings["who"]) <= {"R4", "R5", "R6", "West", "team"}
    assert d.waterfall.set_index("step").loc["Quota", "amount"] == 900.0


def test_no_quotas_says_so():
    ds = small_team().without("quotas")
    d = diagnose(ds, Q3, Settings())
    assert d.method.startswith("no quotas: upload quotas")
    assert "no money is estimated without a gap" in d.method
    assert "rules of thumb" not in d.method and "model" not in d.method.split(";")[1]
    assert (d.reps["primary_cause"] == "n/a").all()
    assert d.findings.empty


def test_the_diagnosis_pickles_for_the_cache(diagnosis):
    again = pickle.loads(pickle.dumps(diagnosis))
    pd.testing.assert_frame_equal(again.findings, diagnosis.findings)
    assert again.period == Q3


def test_sales_and_quotas_only_diagnose_without_error():
    """With nothing but reps, sales and quotas, every rep below goal is unexplained, causes not assessed."""
    ds = small_team(follow_ups=False, incentives=False).without("activities")
    d = diagnose(ds, Q3, Settings())
    below = d.reps[d.reps["gap"] > 0]
    assert set(below["primary_cause"]) <= {"unexplained", "ramping"}
    assert len(below) == 3
    assert (below["unexplained"] + below["ramping"].fillna(0)).tolist() == pytest.approx(below["gap"].tolist())
    assert "activity_shortfall" in d.not_assessed


def test_incentive_actions_when_some_signals_are_missing():
    """Actions for an incentive finding still read well when pay data or timing are unknown."""
    from core.diagnostic.causes.incentive_misalignment import actions as _act_incentive
    from core.diagnostic.signals import gather
    inp = gather(small_team(), Q3, Settings())
    v = pd.DataFrame({"mix_gap": [0.24]}, index=["R4"])
    assert _act_incentive(v, v, inp, Settings().targets) == [
        ("align pay with the goal; 24% of revenue sits on other products than the product goals ask: "
         "pay the goal products at least as well as the others")]


def test_headline_sums_only_the_reps_below_goal():
    """R1 misses 100 (60 training, 40 unexplained), R2 misses 50 (all pipeline), R3 is over goal
    by 30 and R4 has no quota: shortfall 150, explained 110, unexplained 40, 2 of 3 below."""
    money = {c: [0.0, 0.0, 0.0, 0.0] for c in CAUSES}
    money["training_gap"] = [60.0, 0.0, 0.0, 0.0]
    money["pipeline"] = [0.0, 50.0, 0.0, 0.0]
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4"], "gap": [100.0, 50.0, -30.0, np.nan],
                         "attainment": [0.9, 0.95, 1.03, np.nan], "unexplained": [40.0, 0.0, 0.0, np.nan],
                         **money})
    d = Diagnosis(findings=pd.DataFrame(columns=FINDING_COLUMNS), reps=reps, waterfall=pd.DataFrame(),
                  not_assessed={}, method="", period=Q3, scope=Scope())
    h = headline(d)
    assert (h.shortfall, h.explained, h.unexplained, h.below, h.rated) == (150.0, 110.0, 40.0, 2, 3)
    none = headline(Diagnosis(findings=d.findings, reps=reps.assign(gap=np.nan, attainment=np.nan),
                              waterfall=d.waterfall, not_assessed={}, method="", period=Q3, scope=Scope()))
    assert np.isnan(none.shortfall) and none.below == 0 and none.rated == 0


def test_incentive_actions_name_the_lead_of_the_best_paid_products():
    from core.diagnostic.causes.incentive_misalignment import actions as _act_incentive
    from core.diagnostic.signals import gather
    inp = gather(small_team(), Q3, Settings())
    v = pd.DataFrame({"mix_gap": [0.24, 0.24], "best_paid_lead": [1.5, 0.1]}, index=["R4", "R5"])
    first, second = _act_incentive(v, v, inp, Settings().targets)
    assert first.endswith("the best-paid products sell 150% further over their goals than the others")
    assert "best-paid" not in second          # a lead under the bar is not a finding's words


def test_a_scope_after_the_team_equals_a_scope_diagnosed_alone():
    """The whole team's rep diagnosis and findings are computed once per period and filtered for a
    scope: a region read after the team (from the Dataset's memo) equals that region diagnosed on
    a fresh copy of the data, where nothing was computed before."""
    ds = small_team()
    team = diagnose(ds, Q3, Settings())
    west = diagnose(ds, Q3, Settings(), Scope(region="West"))
    alone = diagnose(small_team(), Q3, Settings(), Scope(region="West"))
    assert set(team.reps["rep_id"]) > set(west.reps["rep_id"])
    for got, want in ((west.findings, alone.findings), (west.reps, alone.reps), (west.waterfall, alone.waterfall)):
        pd.testing.assert_frame_equal(got, want)
    assert (west.method, west.not_assessed) == (alone.method, alone.not_assessed)


def test_the_team_diagnosis_is_not_recomputed_for_another_scope(monkeypatch):
    """A scope's diagnosis reuses the period's whole-team signals and money model."""
    from core.diagnostic import findings, signals

    ds = small_team()
    diagnose(ds, Q3, Settings())
    calls = []
    monkeypatch.setattr(signals, "context", lambda *a: calls.append(a))
    diagnose(ds, Q3, Settings(), Scope(region="East"))
    findings.signals(ds, Q3, Settings(), Scope(rep_id="R4"))
    assert calls == []


def test_every_reps_diagnosis_alone_is_the_diagnosis_reps_and_is_computed_once(monkeypatch):
    """rep_diagnosis (what the Overview lists) is the whole team's Diagnosis.reps without the
    findings' texts; a diagnosis asked for afterwards reuses it rather than building it again."""
    from core.diagnostic import findings

    ds = small_team()
    reps = findings.rep_diagnosis(ds, Q3, Settings())
    inputs = findings.money_model(ds, Q3, Settings()).inputs
    built = []                                    # other tests' background work may call it too
    real = findings._rep_table
    monkeypatch.setattr(findings, "_rep_table", lambda *a: built.append(a[0]) or real(*a))
    pd.testing.assert_frame_equal(diagnose(ds, Q3, Settings()).reps, reps)
    pd.testing.assert_frame_equal(diagnose(small_team(), Q3, Settings()).reps, reps)
    assert not any(a is inputs for a in built) and built                # only the fresh copy built one


def test_the_diagnosis_does_not_depend_on_the_order_of_the_lines(bundled_sample):
    """Windows are found by binary search over dates (a slice for lines in date order, positions
    otherwise): the sample with its dated tables shuffled gets the same diagnosis, texts included."""
    from core.periods import quarter

    rng = np.random.default_rng(11)
    shuffled = bundled_sample.replace(tables={
        **bundled_sample.tables,
        **{name: bundled_sample.table(name).sample(frac=1.0, random_state=rng).reset_index(drop=True)
           for name in ("sales", "activities", "follow_ups", "training", "opportunities")}})
    for period in (quarter(2026, 2), quarter(2025, 4)):
        ordered, mixed = (diagnose(ds, period, Settings()) for ds in (bundled_sample, shuffled))
        for got, want in ((mixed.findings, ordered.findings), (mixed.reps, ordered.reps)):
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-6)
