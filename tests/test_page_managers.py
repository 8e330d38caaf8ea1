"""Roll-ups per first-line manager (core.people.managers) and the Managers page."""
from __future__ import annotations

import pytest

from core.dataset import Dataset
from core.diagnostic.findings import diagnose
from core.kpis import metrics
from core.people.managers import manager_table
from core.periods import quarter
from core.sample.team import generate
from core.settings import Settings
from tests.test_page_team_competencies import CTX_KEY, run_page

PAGE = "pages/managers.py"


@pytest.fixture(scope="module")
def tables():
    return generate(n_reps=10, seed=5).tables


def test_manager_rollup_adds_up_to_the_team(tables):
    reps = tables["reps"].copy()
    reps.loc[reps.index[0], "manager"] = None                 # a rep without a manager is not lost
    ds = Dataset(tables={**tables, "reps": reps})
    q3 = quarter(2026, 3)
    table = manager_table(ds, q3, Settings())
    team = metrics.team_kpis(ds, q3, Settings())
    assert table["reps"].sum() == len(reps) and "Unassigned" in set(table["manager"])
    assert table["revenue"].sum() == pytest.approx(team["revenue"])
    assert table["quota"].sum() == pytest.approx(team["quota"])
    kpis = metrics.rep_kpis(ds, q3, Settings())
    assert table["reps_at_goal"].sum() == int((kpis["attainment"] >= 1).sum())
    money = diagnose(ds, q3, Settings()).reps
    assert table["pipeline"].sum() == pytest.approx(money["pipeline"].sum())
    one = table.set_index("manager").iloc[1]
    assert one["attainment"] == pytest.approx(one["revenue"] / one["quota"])    # from sums


def test_page_lists_managers_and_their_reps(tables):
    at = run_page(PAGE, tables)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    shown = at.dataframe[0].value
    assert sorted(shown["manager"]) == sorted(tables["reps"]["manager"].dropna().unique())
    manager = shown["manager"].iloc[0]
    at.selectbox(key="managers_pick").set_value(manager).run()
    reps = at.dataframe[1].value
    assert set(reps["rep_id"]) == set(tables["reps"].loc[tables["reps"]["manager"] == manager, "rep_id"])
    assert ctx.period.label in at.caption[0].value
