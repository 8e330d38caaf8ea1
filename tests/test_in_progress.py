"""The first screen: the period in progress, its top causes in money, then who."""
from __future__ import annotations

import pytest

from core.dataset import Dataset, Scope
from core.diagnostic.findings import diagnose
from core.fmt import fmt_chance
from core.kpis import forecast
from core.kpis.in_progress import TOP_CAUSES, current_periods, outlook, top_causes
from core.sample.team import generate
from core.settings import Settings
from tests.apptest import open_page


@pytest.fixture(scope="module")
def ds():
    return Dataset(tables=generate(n_reps=10, seed=5).tables)


def test_periods_outlook_and_causes(ds):
    now, done, as_of = current_periods(ds)
    assert (now.label, done.label) == ("2026-Q4", "2026-Q3") and as_of == str(ds.date_span()[1])
    team, who = outlook(ds, now, Settings())
    assert team == forecast.team_forecast(ds, now, Settings())
    reps = forecast.rep_forecasts(ds, now, Settings())
    assert who["p_goal"].is_monotonic_increasing and who["p_goal"].iloc[0] == reps["p_goal"].min()
    diagnosis = diagnose(ds, done, Settings())
    east = diagnosis.reps[diagnosis.reps["region"] == diagnosis.reps["region"].iloc[0]]
    causes = top_causes(diagnosis, east["rep_id"])
    assert len(causes) <= TOP_CAUSES and causes["money"].is_monotonic_decreasing
    for cause, money in zip(causes["cause"], causes["money"], strict=False):
        assert money == pytest.approx(east[cause].sum())
    assert top_causes(diagnosis, []).empty


def test_overview_opens_on_the_period_in_progress():
    at = open_page("overview")
    assert not at.exception
    ctx = at.session_state["ctx"]
    now, _, _ = current_periods(ctx.ds)
    assert any(f"Period in progress: {now.label}" in s.value for s in at.subheader)
    p = forecast.team_forecast(ctx.ds, now, ctx.settings, Scope()).p_goal
    shown = {m.label: m.value for m in at.metric}
    assert shown["Chance of reaching goal"] == fmt_chance(p)
    assert any("chance of goal" in m.value for m in at.markdown)
