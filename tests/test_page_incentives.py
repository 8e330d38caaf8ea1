"""Incentives page and its core (core.people.incentives): who is paid like the reps at goal while below
it, the pay mix adding up to the payout, and the page drawing those numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from core.dataset import Dataset
from core.people import incentives
from core.periods import quarter
from core.sample.team import generate
from core.settings import Settings
from tests.apptest import chart_specs
from tests.test_competency import frame
from tests.test_page_team_competencies import CTX_KEY, run_page

PAGE = "pages/incentives.py"
Q3 = quarter(2026, 3)


def _small() -> Dataset:
    reps = ["R1", "R2", "R3", "R4"]
    return Dataset(tables={
        "reps": frame("reps", rep_id=reps, rep_name=["Ann", "Bob", "Cy", "Di"], region=["East"] * 4,
                      territory_id=["T1", "T2", "T3", "T4"]),
        "sales": frame("sales", date=pd.to_datetime(["2026-08-01"] * 4), rep_id=reps, product=["Stent"] * 4,
                       revenue=[120.0, 110.0, 80.0, 70.0]),
        "quotas": frame("quotas", rep_id=reps, period=["2026-Q3"] * 4, quota=[100.0] * 4),
        "incentives": frame("incentives", rep_id=reps * 2, period=["2026-Q3"] * 8,
                            payout=[6.0, 12.0, 10.0, 3.0, 4.0, 8.0, 6.0, 2.0],
                            component=["Stent"] * 4 + ["bonus"] * 4),
    })


def test_below_goal_but_paid_like_the_reps_at_goal():
    pay, goal_pay = incentives.pay_vs_attainment(_small(), Q3, Settings())
    pay = pay.set_index("rep_id")
    assert goal_pay == pytest.approx(15.0)                       # median of 10 (R1) and 20 (R2)
    assert pay["payout"].tolist() == [10.0, 20.0, 16.0, 5.0]
    assert pay["paid_like_goal"].tolist() == [False, False, True, False]
    assert pay["at_goal"].tolist() == [True, True, False, False]


def test_pay_mix_adds_up_to_the_payout_and_sits_beside_revenue():
    mix = incentives.pay_mix(_small(), Q3).set_index("component")
    assert mix["payout"].to_dict() == pytest.approx({"Stent": 31.0, "bonus": 20.0})
    assert mix.at["Stent", "revenue_share"] == pytest.approx(1.0)
    assert pd.isna(mix.at["bonus", "revenue_share"])
    lines = incentives.what_it_rewards(*incentives.pay_vs_attainment(_small(), Q3, Settings()), mix.reset_index(),
                                       Settings())
    assert any("1 rep below goal is paid" in line for line in lines)
    assert any("39% of pay is not tied to a product" in line for line in lines)


@pytest.fixture(scope="module")
def tables():
    return generate(n_reps=10, seed=5).tables


def test_page_draws_pay_against_attainment(tables):
    at = run_page(PAGE, tables)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    pay, _ = incentives.pay_vs_attainment(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    scatter = next(c for c in chart_specs(at) if "Payout vs attainment" in c["layout"]["title"]["text"])
    assert len(scatter["data"][0]["text"]) == len(pay.dropna(subset=["attainment", "payout"]))
    assert at.dataframe[0].value["payout"].sum() == pytest.approx(pay["payout"].sum())
    mix = incentives.pay_mix(ctx.ds, ctx.period, ctx.scope)
    assert mix["payout"].sum() == pytest.approx(pay["payout"].sum())
    assert at.text, "the plan's reading is shown as plain text"


def test_page_without_incentives_says_what_to_upload(tables):
    at = run_page(PAGE, {k: v for k, v in tables.items() if k != "incentives"})
    assert not at.exception
    assert any("**incentives**" in i.value for i in at.info)
