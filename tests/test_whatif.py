"""The what-if: money per cause if the flagged reps reached target, from the diagnosis's own money."""
from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.dataset import Scope
from core.diagnostic.findings import FINDING_COLUMNS, REP_COLUMNS, Diagnosis, diagnose
from core.diagnostic.whatif import rep_what_if, shortfall, what_if
from core.fmt import fmt_money
from core.periods import parse_period
from core.sample.team import generate
from tests.test_page_team_competencies import CTX_KEY, run_page
from ui.notes import NOTEBOOK_KEY

PERIOD = parse_period("2026-Q3")


def _finding(rep: str, cause: str, impact: float, low: float, high: float) -> dict:
    return {"rank": 0, "cause": cause, "scope": "rep", "who": rep, "who_names": f"Name {rep}",
            "severity": "high", "evidence": "", "impact": impact, "impact_low": low,
            "impact_high": high, "confidence": "rules", "actions": ""}


def _diagnosis(findings: list[dict], gaps: dict[str, float]) -> Diagnosis:
    reps = pd.DataFrame({"rep_id": list(gaps), "rep_name": [f"Name {r}" for r in gaps],
                         "gap": list(gaps.values())}).reindex(columns=REP_COLUMNS)
    team = {"rank": 0, "cause": "territory_imbalance", "scope": "team", "who": "team",
            "who_names": "Whole team", "severity": "high", "evidence": "", "impact": 9e9,
            "impact_low": np.nan, "impact_high": np.nan, "confidence": "rules", "actions": ""}
    frame = pd.DataFrame(findings + [team], columns=FINDING_COLUMNS)
    return Diagnosis(findings=frame, reps=reps, waterfall=pd.DataFrame(), not_assessed={}, method="",
                     period=PERIOD, scope=Scope())


@pytest.fixture
def small() -> Diagnosis:
    # A: gap 100, activity 60 (40–80), pipeline 30 (10–90); B: gap 50, activity 20 (5–40);
    # C is ahead of goal (gap −30) and must not count in the shortfall.
    return _diagnosis([_finding("A", "activity_shortfall", 60, 40, 80),
                       _finding("A", "pipeline", 30, 10, 90),
                       _finding("B", "activity_shortfall", 20, 5, 40)],
                      {"A": 100.0, "B": 50.0, "C": -30.0})


def test_sums_the_reps_money_per_cause_most_money_first(small):
    out = what_if(small)
    assert list(out["cause"]) == ["activity_shortfall", "pipeline"]
    activity = out.iloc[0]
    assert activity["reps"] == 2 and activity["rep_ids"] == "A, B"
    assert (activity["gap_closed"], activity["low"], activity["high"]) == (80, 45, 120)
    assert out.iloc[1][["gap_closed", "low", "high"]].tolist() == [30, 10, 90]
    assert shortfall(small) == 150
    assert out["share_of_shortfall"].tolist() == pytest.approx([80 / 150, 30 / 150])


def test_team_findings_are_not_counted_twice(small):
    assert what_if(small)["gap_closed"].sum() == 110


def test_a_reps_causes_never_close_more_than_its_gap():
    # Money that (from a changed model) overshoots the gap is scaled down to the gap.
    d = _diagnosis([_finding("A", "activity_shortfall", 90, 60, 120), _finding("A", "pipeline", 60, 30, 80)],
                   {"A": 100.0})
    per_rep = rep_what_if(d)
    assert per_rep["gap_closed"].sum() == pytest.approx(100)
    assert per_rep["gap_closed"].tolist() == pytest.approx([60, 40])
    assert (per_rep["high"] <= 100).all()
    assert what_if(d)["gap_closed"].sum() <= shortfall(d)


def test_sliders_scale_the_money_per_cause_and_per_rep(small):
    half = what_if(small, cause_share={"activity_shortfall": 0.5})
    assert half.set_index("cause").at["activity_shortfall", "gap_closed"] == 40
    assert half.set_index("cause").at["pipeline", "gap_closed"] == 30
    without_b = what_if(small, rep_share={"B": 0.0}).set_index("cause")
    assert without_b.at["activity_shortfall", "gap_closed"] == 60
    assert without_b.at["activity_shortfall", "low"] == 40


def test_no_flagged_rep_gives_an_empty_table():
    out = what_if(_diagnosis([], {"A": 10.0}))
    assert out.empty and "gap_closed" in out.columns


@pytest.fixture(scope="module")
def sample_data(team12_summary):
    """12 generated reps summarised for 2026-Q3 (PERIOD), shared with test_export."""
    assert team12_summary.data.period == PERIOD
    return team12_summary.data


def test_what_if_sheet_adds_up_to_the_findings_and_stays_under_the_shortfall(sample_data, team12_summary):
    wb = openpyxl.load_workbook(io.BytesIO(team12_summary.workbook))
    values = list(wb["What if"].values)
    assert list(values[0][:5]) == ["Cause", "Reps", "Gap closed", "Low", "High"]
    sheet = pd.DataFrame(values[1:], columns=values[0])
    assert len(sheet) > 0
    findings = sample_data.sheets["Findings"]
    rep_money = findings[findings["Scope"] == "rep"].groupby("Cause")["Estimated impact"].sum()
    got = sheet.set_index("Cause")["Gap closed"]
    assert got.to_dict() == pytest.approx(rep_money.reindex(got.index).to_dict())
    short = sample_data.headline.set_index("key").at["shortfall", "value"]
    assert sheet["Gap closed"].sum() <= short + 1e-6
    assert (sheet["Low"] <= sheet["Gap closed"] + 1e-6).all() and (sheet["Gap closed"] <= sheet["High"] + 1e-6).all()
    assert wb["What if"]["C2"].number_format == '"$"#,##0'


def test_diagnostic_page_sliders_and_saved_scenario():
    """Setting one driver's slider to 0 takes that cause's money out of the total; a saved
    scenario lands in the session's notebook with its shares."""
    at = run_page("pages/diagnostic.py", generate(n_reps=12, years=2.2, seed=5).tables)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    table = what_if(diagnose(ctx.ds, ctx.period, ctx.settings, ctx.scope))
    shown = next(m for m in at.metric if m.label == "Gap that would close")
    assert shown.value == fmt_money(table["gap_closed"].sum())
    first = table["cause"].iloc[0]
    at.slider(key=f"whatif_cause_{first}").set_value(0).run()
    shown = next(m for m in at.metric if m.label == "Gap that would close")
    assert shown.value == fmt_money(table["gap_closed"].iloc[1:].sum())
    at.text_input(key="whatif_name").input("No " + first)
    next(b for b in at.button if b.label == "Save this scenario with the session").click().run()
    assert not at.exception
    saved = at.session_state[NOTEBOOK_KEY].scenarios
    assert [s.name for s in saved] == ["No " + first] and saved[0].causes[first] == 0.0
