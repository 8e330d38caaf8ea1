"""Scope by first-line manager: the rule (core.dataset.Scope.rep_ids), the KPIs and diagnosis that
follow it, and the sidebar's Manager choice honoured by a page and named in its caption."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.dataset import Dataset, Scope
from core.diagnostic import findings
from core.kpis import metrics
from core.periods import quarter
from core.sample.team import generate
from core.sample.xlsx import write_xlsx
from core.schema import UNASSIGNED
from core.settings import Settings
from ui.sidebar import MINE
from ui.state import CTX_KEY, UPLOAD_KEY

ROOT = Path(__file__).resolve().parents[1]

REPS = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4"], "rep_name": ["Ann", "Bob", "Cy", "Di"],
                     "region": ["East", "East", "West", "West"], "territory_id": ["T1", "T2", "T3", "T4"],
                     "manager": ["Kim", "Lee", "Kim", None]})


def test_manager_scope_keeps_that_managers_reps():
    assert Scope(manager="Kim").rep_ids(REPS) == ["R1", "R3"]
    assert Scope(region="West", manager="Kim").rep_ids(REPS) == ["R3"]
    assert Scope(manager="Lee", territory_id="T1").rep_ids(REPS) == []
    assert Scope(manager=UNASSIGNED).rep_ids(REPS) == ["R4"]              # reps with no manager
    assert Scope(manager="Kim").rep_ids(REPS.drop(columns="manager")) == []   # no manager column: nobody


def test_manager_scope_is_named_in_the_label():
    assert Scope(manager="Kim").label == "Team of Kim"
    assert Scope(region="West", manager="Kim").label == "West / Team of Kim"
    assert Scope().label == "Whole team"


@pytest.fixture(scope="module")
def team() -> dict[str, pd.DataFrame]:
    """A sample team whose first region has two managers (the sample gives one per region)."""
    tables = generate(n_reps=12, seed=5).tables
    reps = tables["reps"].copy()
    first = reps["region"] == reps["region"].iloc[0]
    reps.loc[first, "manager"] = np.where(np.arange(first.sum()) % 2 == 0, "Kim Ray", "Lee Fox")
    return {**tables, "reps": reps}


def test_kpis_and_diagnosis_follow_the_manager_scope(team):
    ds, period, settings = Dataset(team), quarter(2026, 3), Settings()
    scope = Scope(manager="Kim Ray")
    kims = sorted(team["reps"].loc[team["reps"]["manager"] == "Kim Ray", "rep_id"])
    assert sorted(metrics.rep_kpis(ds, period, settings, scope)["rep_id"]) == kims
    sales = team["sales"]
    in_q = sales[sales["rep_id"].isin(kims) & quarter(2026, 3).contains(sales["date"])]
    team_row = metrics.team_kpis(ds, period, settings, scope)
    assert team_row["revenue"] == pytest.approx(in_q["revenue"].sum())
    per_manager = metrics.rollup(ds, period, settings, "manager").set_index("manager").loc["Kim Ray"]
    assert team_row[metrics.KPI_COLUMNS].astype(float).tolist() == pytest.approx(
        per_manager[metrics.KPI_COLUMNS].astype(float).tolist(), nan_ok=True)
    assert set(findings.diagnose(ds, period, settings, scope).reps["rep_id"]) <= set(kims)


def test_sidebar_manager_choice_is_honoured_by_a_page(team, tmp_path):
    path = tmp_path / "team.xlsx"
    write_xlsx(team, path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state[UPLOAD_KEY] = [("team.xlsx", path.read_bytes())]
    at.session_state["source"] = MINE
    at.run()
    at.switch_page("pages/customers.py")
    at.run()
    region = team["reps"]["region"].iloc[0]
    at.sidebar.selectbox(key="scope_region").set_value(region).run()
    assert at.sidebar.selectbox(key="scope_manager").options == ["All", "Kim Ray", "Lee Fox"]
    at.sidebar.selectbox(key="scope_manager").set_value("Lee Fox").run()
    assert not at.exception, at.exception
    ctx = at.session_state[CTX_KEY]
    assert ctx.scope == Scope(region=region, manager="Lee Fox")
    lees = team["reps"].loc[team["reps"]["manager"] == "Lee Fox", "rep_id"]
    assert sorted(at.dataframe[0].value["rep_id"]) == sorted(lees)           # the page's per-rep table
    assert sorted(o.rsplit("(", 1)[-1].rstrip(")") for o in at.sidebar.selectbox(key="scope_rep").options[1:]) \
        == sorted(lees)
    assert any(f"{region} / Team of Lee Fox" in c.value for c in at.caption)  # the page caption says so


def test_territories_page_shows_the_managers_territories(team):
    from tests.test_page_team_competencies import run_page

    at = run_page("pages/territories.py", team, Scope(manager="Kim Ray"))
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "territory_id" in d.value.columns)
    reps = team["reps"]
    assert sorted(table["territory_id"]) == sorted(reps.loc[reps["manager"] == "Kim Ray", "territory_id"])
