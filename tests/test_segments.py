"""core.kpis.segments: the customer KPIs by account segment and account type, on a table small
enough to compute by hand (2025-Q3; the previous quarter is Q2, the year earlier 2024-Q3)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset, Scope
from core.kpis import metrics, segments
from core.periods import quarter
from core.sample.team import generate
from core.settings import Settings

Q3 = quarter(2025, 3)


def _tables() -> dict[str, pd.DataFrame]:
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "rep_name": ["Ann", "Bob"], "region": ["East", "East"],
                         "territory_id": ["T1", "T2"], "manager": ["Kim", "Lee"]})
    accounts = pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4"], "account_name": ["a1", "a2", "a3", "a4"],
        "territory_id": ["T1", "T1", "T2", "T2"],
        "account_type": ["Hospital", "ASC", "Clinic", " "],
        "segment": ["Cardiology", "Orthopedics", "Cardiology", None],
        "potential": [1000.0, 500.0, np.nan, 200.0]})
    rows = [  # date, rep, account, revenue
        ("2025-08-01", "r1", "A1", 100.0), ("2025-05-01", "r1", "A1", 50.0), ("2024-08-01", "r1", "A1", 80.0),
        ("2025-07-15", "r1", "A2", 40.0),
        ("2025-05-10", "r2", "A3", 30.0),
        ("2025-09-01", "r2", "A4", 20.0), ("2025-09-02", "r2", "X9", 10.0), ("2025-09-03", "r1", None, 5.0),
    ]
    sales = pd.DataFrame({"date": pd.to_datetime([r[0] for r in rows]), "rep_id": [r[1] for r in rows],
                          "account_id": [r[2] for r in rows], "product": "P", "revenue": [r[3] for r in rows],
                          "units": np.nan})
    activities = pd.DataFrame({
        "date": pd.to_datetime(["2025-08-05", "2025-08-06", "2025-07-01", "2025-06-01"]),
        "rep_id": ["r1", "r2", "r2", "r1"], "activity_type": "meeting", "account_id": ["A1", "A1", "A4", "A2"],
        "planned": pd.array([True] * 4, dtype="boolean")})
    return {"reps": reps, "accounts": accounts, "sales": sales, "activities": activities}


@pytest.fixture
def ds() -> Dataset:
    return Dataset(_tables())


def test_segments_by_hand(ds):
    t = segments.segment_kpis(ds, Q3, "segment").set_index("segment")
    assert list(t.index) == ["Cardiology", "Orthopedics", segments.NOT_GIVEN]      # by revenue, not given last
    assert t["revenue"].tolist() == [100.0, 40.0, 35.0]            # A4 + unknown X9 + no account
    assert t["revenue_share"].tolist() == pytest.approx([100 / 175, 40 / 175, 35 / 175])
    assert t.loc["Cardiology", "growth"] == pytest.approx(100 / 80 - 1)
    assert np.isnan(t.loc["Orthopedics", "growth"])                # nothing a year earlier: n/a, not -100 %
    assert t["accounts"].tolist() == [2, 1, 1]
    # 12 months to 2025-09-30 over the known potential of the row's accounts
    assert t["market_share"].tolist() == pytest.approx([180 / 1000, 40 / 500, 35 / 200])
    assert t["active_accounts"].tolist() == [1, 1, 2]
    assert t["new_accounts"].tolist() == [0, 1, 2]                 # A2 first bought in Q3; A4 and X9 too
    assert t.loc["Cardiology", "retention_rate"] == 0.5             # A1 and A3 active in Q2, A1 again
    assert t.loc["Cardiology", "churn_rate"] == 0.5
    assert np.isnan(t.loc["Orthopedics", "retention_rate"])       # nobody active before: n/a
    assert t["reach"].tolist() == [0.5, 0.0, 1.0]                  # A1 twice counts once; A2's visit is Q2


def test_account_type_breakdown_and_blank_type(ds):
    t = segments.segment_kpis(ds, Q3, "account_type").set_index("account_type")
    assert t.loc["Hospital", "revenue"] == 100 and t.loc["ASC", "revenue"] == 40
    assert t.loc["Clinic", "revenue"] == 0 and t.loc["Clinic", "active_accounts"] == 0
    assert t.loc[segments.NOT_GIVEN, "accounts"] == 1              # A4's blank type is not a type
    assert t["revenue"].sum() == metrics.team_kpis(ds, Q3, Settings())["revenue"]


def test_scope_keeps_its_reps_sales_and_its_territories_accounts(ds):
    t = segments.segment_kpis(ds, Q3, "segment", Scope(rep_id="r2")).set_index("segment")
    assert list(t.index) == ["Cardiology", segments.NOT_GIVEN]      # A3 is T2's; A1, A2 are not
    assert t.loc["Cardiology", "revenue"] == 0 and t.loc[segments.NOT_GIVEN, "revenue"] == 30
    assert t.loc["Cardiology", "retention_rate"] == 0               # A3 bought in Q2, not in Q3
    assert np.isnan(t.loc["Cardiology", "market_share"])           # A3's potential is unknown: n/a, not 0
    assert t.loc["Cardiology", "reach"] == 0 and t.loc[segments.NOT_GIVEN, "reach"] == 1


def test_missing_inputs_are_na_never_zero():
    tables = _tables()
    no_acts = Dataset({k: v for k, v in tables.items() if k != "activities"})
    assert np.isnan(segments.segment_kpis(no_acts, Q3)["reach"]).all()
    no_account_ids = Dataset({**tables, "sales": tables["sales"].assign(account_id=None)})
    t = segments.segment_kpis(no_account_ids, Q3)
    assert t[["active_accounts", "new_accounts", "retention_rate"]].isna().all().all()
    no_accounts = Dataset({k: v for k, v in tables.items() if k != "accounts"})
    assert segments.missing_inputs(no_accounts, "segment") == ["accounts"]
    assert not segments.is_given(no_accounts, "segment")
    assert not segments.is_given(Dataset({**tables, "accounts": tables["accounts"].assign(segment=None)}), "segment")
    assert segments.is_given(Dataset(tables), "account_type")


def test_unknown_breakdown_is_refused(ds):
    with pytest.raises(ValueError):
        segments.segment_kpis(ds, Q3, "city")
    with pytest.raises(ValueError):
        segments.segment_kpis(ds, Q3, "segment", per="region")


def test_per_territory_by_hand(ds):
    t = segments.segment_kpis(ds, Q3, "segment", per="territory").set_index(["territory_id", "segment"])
    ng = segments.NOT_GIVEN
    assert list(t.index) == [("T1", "Cardiology"), ("T1", "Orthopedics"), ("T1", ng),   # by revenue in T1
                             ("T2", "Cardiology"), ("T2", ng)]                          # not given last
    assert t["revenue"].tolist() == [100.0, 40.0, 5.0, 0.0, 30.0]     # r1 sells for T1, r2 for T2
    assert t["revenue_share"].tolist() == pytest.approx([100 / 145, 40 / 145, 5 / 145, 0.0, 1.0])  # of its territory
    assert t["accounts"].tolist() == [1, 1, 0, 1, 1]                   # accounts aligned to the territory
    assert t["active_accounts"].tolist() == [1, 1, 0, 0, 2]
    assert t["new_accounts"].tolist() == [0, 1, 0, 0, 2]
    assert t.loc[("T1", "Cardiology"), "retention_rate"] == 1.0       # A1 in Q2 and Q3
    assert t.loc[("T2", "Cardiology"), "retention_rate"] == 0.0       # A3 in Q2 only
    assert t.loc[("T2", "Cardiology"), "churn_rate"] == 1.0
    # reach counts the territory's own reps: r2's visit to A1 is not T1's
    assert t.loc[("T1", "Cardiology"), "reach"] == 1.0 and t.loc[("T2", ng), "reach"] == 1.0
    assert t.loc[("T1", "Orthopedics"), "reach"] == 0.0 and np.isnan(t.loc[("T1", ng), "reach"])


def test_per_territory_rows_add_up_to_the_territory_rollup():
    ds = Dataset(generate(n_reps=8, seed=3).tables)
    period = quarter(2026, 2)
    rolled = metrics.rollup(ds, period, Settings(), "territory").set_index("territory_id")
    for by in segments.BREAKDOWNS:
        t = segments.segment_kpis(ds, period, by, per="territory").groupby("territory_id").sum(numeric_only=True)
        for col in ("revenue", "revenue_prior_year", "active_accounts", "new_accounts"):
            assert t[col].to_numpy() == pytest.approx(rolled.loc[t.index, col].to_numpy()), col


def test_a_reps_new_accounts_follow_the_first_sale_by_anyone(ds):
    """kpis.md: new = first ever sale in the period, whoever sold it. A4 bought from r2 before
    r1 sells to it: new for neither rep's segment row in a later quarter."""
    tables = _tables()
    later = pd.DataFrame({"date": pd.to_datetime(["2025-10-05"]), "rep_id": ["r1"], "account_id": ["A4"],
                          "product": "P", "revenue": [9.0], "units": np.nan})
    moved = Dataset({**tables, "sales": pd.concat([tables["sales"], later], ignore_index=True)})
    q4 = quarter(2025, 4)
    seg = segments.segment_kpis(moved, q4, "segment", Scope(rep_id="r1")).set_index("segment")
    rep = metrics.rep_kpis(moved, q4, Settings(), Scope(rep_id="r1")).iloc[0]
    assert seg.loc[segments.NOT_GIVEN, "active_accounts"] == 1 == rep["active_accounts"]
    assert seg.loc[segments.NOT_GIVEN, "new_accounts"] == 0 == rep["new_accounts"]


def test_rows_add_up_to_the_team_on_the_sample():
    ds = Dataset(generate(n_reps=8, seed=3).tables)
    period = quarter(2026, 2)
    team = metrics.team_kpis(ds, period, Settings())
    for by in segments.BREAKDOWNS:
        t = segments.segment_kpis(ds, period, by)
        assert t["revenue"].sum() == pytest.approx(team["revenue"])
        assert t["active_accounts"].sum() == team["active_accounts"]   # an account has one segment
        assert t["new_accounts"].sum() == team["new_accounts"]
