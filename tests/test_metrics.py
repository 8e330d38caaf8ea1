"""KPI engine: every KPI against a small hand-computed team (three reps, 2025-Q1 = 90 days)."""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset, Scope
from core.kpis import metrics as m
from core.periods import custom, month, quarter
from core.schema import TABLES, pandas_dtype
from core.settings import Settings

Q1 = quarter(2025, 1)
S = Settings()


def _table(name, rows):
    """A canonical frame of table `name` from (partial) row dicts."""
    frame = pd.DataFrame(rows).reindex(columns=TABLES[name].column_names)
    return frame.astype({c.name: pandas_dtype(c) for c in TABLES[name].columns})


def _t(s):
    return pd.Timestamp(s)


REPS = _table("reps", [
    {"rep_id": "R1", "rep_name": "Ann", "region": "East", "territory_id": "T1", "role": "Sales Rep",
     "hire_date": _t("2020-05-01")},
    {"rep_id": "R2", "rep_name": "Bob", "region": "East", "territory_id": "T2", "role": "Senior Sales Rep",
     "hire_date": _t("2025-01-15")},
    {"rep_id": "R3", "rep_name": "Cy", "region": "West", "territory_id": "T3", "role": "Sales Rep"},
])
TERRITORIES = _table("territories", [
    {"territory_id": "T1", "market_potential": 1000.0}, {"territory_id": "T2"},
    {"territory_id": "T3", "market_potential": 600.0}])
ACCOUNTS = _table("accounts", [
    {"account_id": a, "account_name": a, "territory_id": t, "potential": p}
    for a, t, p in [("A1", "T1", 1.0), ("A2", "T1", 1.0), ("A6", "T1", 1.0), ("A7", "T1", 1.0),
                    ("A3", "T2", 400.0), ("A5", "T2", 100.0), ("A4", "T3", 5.0)]])
SALES = _table("sales", [
    {"date": _t(d), "rep_id": r, "account_id": a, "product": p, "revenue": v}
    for d, r, a, p, v in [
        ("2025-01-10", "R1", "A1", "P1", 100.0), ("2025-02-05", "R1", "A1", "P1", -20.0),  # a return
        ("2025-03-01", "R1", "A2", "P2", 50.0), ("2025-02-01", "R2", "A3", "P1", 200.0),
        ("2025-01-02", "R3", "A4", "P2", 60.0),
        ("2024-11-05", "R1", "A1", "P1", 80.0), ("2024-10-30", "R1", "A5", "P1", 30.0),
        ("2024-12-15", "R1", "A1", "P1", 40.0),
        ("2024-02-01", "R1", "A1", "P1", 100.0), ("2024-03-01", "R3", "A4", "P2", 30.0),
        ("2025-04-10", "R3", "A4", "P2", 10.0)]])
QUOTAS = _table("quotas", [
    {"rep_id": "R1", "period": "2025-Q1", "quota": 300.0},
    {"rep_id": "R1", "period": "2025-Q1", "quota": 150.0, "product": "P1"},  # breaks the total down
    {"rep_id": "R1", "period": "2024", "quota": 1200.0},
    {"rep_id": "R2", "period": "2025", "quota": 1200.0},
    {"rep_id": "R3", "period": "2025-01", "quota": 60.0}, {"rep_id": "R3", "period": "2025-02", "quota": 60.0},
    {"rep_id": "R3", "period": "2025-03", "quota": 60.0}])
OPPS = _table("opportunities", [
    {"opportunity_id": o, "rep_id": r, "created_date": _t(c), "close_date": _t(d), "stage": st,
     "status": status, "amount": a}
    for o, r, c, d, st, status, a in [
        ("O1", "R1", "2025-01-01", "2025-02-01", "Closed Won", None, 500.0),
        ("O2", "R1", "2024-12-01", "2025-03-02", "Closed Won", None, 100.0),
        ("O3", "R1", "2025-01-10", "2025-01-20", "Closed Lost", None, 0.0),
        ("O4", "R1", "2025-01-10", "2025-06-30", "Negotiation", None, 300.0),
        ("O5", "R2", "2024-11-01", "2024-12-20", "Closed Won", None, 700.0),
        ("O6", "R2", "2025-01-05", "2025-03-31", "Closed Lost", None, 0.0),
        ("O7", "R2", "2025-02-01", "2025-05-01", "Proposal", "open", 600.0),
        ("O8", "R1", "2025-03-05", "2025-03-15", "Won", "won", 80.0)]])
ACTIVITIES = _table("activities", [
    {"date": _t(d), "rep_id": r, "activity_type": k, "account_id": a, "planned": p, "contact_role": c}
    for d, r, k, a, p, c in [
        ("2025-01-06", "R1", "meeting", "A1", True, "user"),
        ("2025-01-20", "R1", "presentation", "A2", False, "buyer"),
        ("2025-02-11", "R1", "workshop", "A1", None, "admin"),
        ("2025-02-12", "R1", "phone", "A5", True, None),
        ("2025-03-03", "R1", "demo", "A4", None, "user"),
        ("2025-02-10", "R2", "meeting", "A3", True, "user"),
        ("2024-12-31", "R2", "meeting", "A3", True, "user")]])
FOLLOW_UPS = _table("follow_ups", [
    {"rep_id": r, "due_date": _t(d), "completed_date": (_t(c) if c else pd.NaT)}
    for r, d, c in [
        ("R1", "2025-01-10", "2025-01-09"), ("R1", "2025-02-01", "2025-02-04"),   # on time; 3 days late
        ("R1", "2025-03-20", None), ("R1", "2025-03-25", "2025-04-10"),          # open: 11; 16 days late
        ("R1", "2024-12-15", None), ("R1", "2025-04-15", None),                  # overdue; not yet due
        ("R2", "2025-02-10", "2025-02-10")]])
TRAINING = _table("training", [
    {"rep_id": r, "date": _t(d), "topic": "product", "score": s}
    for r, d, s in [("R1", "2025-01-15", 80.0), ("R1", "2025-03-15", 90.0), ("R1", "2025-04-15", 50.0),
                    ("R2", "2025-02-15", 70.0)]])
INCENTIVES = _table("incentives", [{"rep_id": "R1", "period": "2025-Q1", "payout": 300.0},
                                   {"rep_id": "R2", "period": "2025-01", "payout": 50.0}])
ALL = {"reps": REPS, "territories": TERRITORIES, "accounts": ACCOUNTS, "sales": SALES, "quotas": QUOTAS,
       "opportunities": OPPS, "activities": ACTIVITIES, "follow_ups": FOLLOW_UPS, "training": TRAINING,
       "incentives": INCENTIVES}


@pytest.fixture(scope="module")
def kpis():
    return m.rep_kpis(Dataset(dict(ALL)), Q1, S).set_index("rep_id")


def test_columns_and_roster(kpis):
    """Every roster rep has a row (R3 has no activity at all), columns in the contract's order."""
    assert list(kpis.reset_index().columns) == m.REP_KPI_COLUMNS
    assert list(kpis.index) == ["R1", "R2", "R3"]
    assert kpis["ramping"].tolist() == [False, True, False]  # R2 hired 2.5 months before Q1 end


def test_revenue_quota_attainment_gap(kpis):
    """Returns are netted; a quarterly quota and a yearly quota give a quarter's share; a product
    quota that breaks down the total is not added to it."""
    assert kpis["revenue"].tolist() == [130.0, 200.0, 60.0]
    assert kpis["quota"].tolist() == [300.0, 300.0, 180.0]
    assert kpis["attainment"].tolist() == pytest.approx([130 / 300, 200 / 300, 60 / 180])
    assert kpis["gap"].tolist() == [170.0, 100.0, 120.0]
    assert kpis["remaining_quota"].tolist() == [170.0, 100.0, 120.0]


def test_growth_and_market_share(kpis):
    """Growth vs 2024-Q1; market share over the 12 months to 2025-03-31 / territory potential
    (T2 has no market_potential, so Σ of its accounts' potential = 500)."""
    assert kpis.loc["R1", "growth"] == pytest.approx(130 / 100 - 1)
    assert kpis.loc["R3", "growth"] == pytest.approx(60 / 30 - 1)
    assert np.isnan(kpis.loc["R2", "growth"])                          # nothing a year earlier
    assert kpis["market_share"].tolist() == pytest.approx([(130 + 150) / 1000, 200 / 500, 60 / 600])


def test_accounts_new_and_retention(kpis):
    """R1: active {A1 (100-20), A2}; A2's first ever sale is in Q1; of 2024-Q4's {A1, A5} one stays."""
    assert kpis["active_accounts"].tolist() == [2, 1, 1]
    assert kpis["new_accounts"].tolist() == [1, 1, 0]
    assert kpis.loc["R1", "retention_rate"] == 0.5 and kpis.loc["R1", "churn_rate"] == 0.5
    assert np.isnan(kpis.loc["R3", "retention_rate"])                 # nothing active before


def test_pipeline(kpis):
    """Status derived from stage; cycle = median of 31, 91 and 10 days; coverage = open / remaining."""
    assert kpis["won"].tolist() == [3, 0, 0] and kpis["lost"].tolist() == [1, 1, 0]
    assert kpis.loc["R1", "win_rate"] == 0.75 and kpis.loc["R2", "win_rate"] == 0.0
    assert np.isnan(kpis.loc["R3", "win_rate"])
    assert kpis.loc["R1", "sales_cycle_days"] == 31 and np.isnan(kpis.loc["R2", "sales_cycle_days"])
    # Q1 is finished (the data runs to mid-April): the pipeline open on 1 January is O2 (created
    # 2024-12-01, won 2025-03-02); O5 closed before the start, the others were created after it.
    assert kpis["open_pipeline"].tolist() == [300.0, 600.0, 0.0]          # open now: O4, O7
    assert kpis["start_pipeline"].tolist() == [100.0, 0.0, 0.0]
    assert kpis["pipeline_coverage"].tolist() == pytest.approx([100 / 300, 0.0, 0.0])


def test_coverage_of_a_finished_period_is_pipeline_at_start_over_quota():
    ds = Dataset(dict(ALL))
    assert m.pipeline_at_start(ds, Q1) and not m.pipeline_at_start(ds, quarter(2025, 2))
    assert m.data_end(ds) == _t("2025-04-15")          # a period ending on the last day is over
    assert m.pipeline_at_start(ds, custom(date(2025, 4, 1), date(2025, 4, 15)))
    assert not m.pipeline_at_start(ds, custom(date(2025, 4, 1), date(2025, 4, 16)))
    team = m.team_kpis(ds, Q1, S)
    assert team["start_pipeline"] == 100.0
    assert team["pipeline_coverage"] == pytest.approx(100 / (300 + 300 + 180))


def test_coverage_of_a_period_under_way_is_open_pipeline_over_quota_left():
    """Q2 is under way: open now O4 (R1, 300) and O7 (R2, 600); only R2 has a Q2 quota (1200 / 4),
    nothing sold yet, so 600 / 300; R1 and R3 have no quota: n/a."""
    k = m.rep_kpis(Dataset(dict(ALL)), quarter(2025, 2), S).set_index("rep_id")
    assert k["open_pipeline"].tolist() == [300.0, 600.0, 0.0]
    assert k.loc["R2", "pipeline_coverage"] == pytest.approx(2.0)
    assert k[["pipeline_coverage"]].loc[["R1", "R3"]].isna().all().all()


def test_pipeline_at_start_values_zeroed_lost_deals_at_list_price():
    """A deal lost with amount 0 (the CRM zeroes it) was worth its list price while open."""
    opps = _table("opportunities", [
        {"opportunity_id": "X1", "rep_id": "R1", "created_date": _t("2024-12-01"), "close_date": _t("2025-02-01"),
         "stage": "Closed Lost", "amount": 0.0, "product": "P1"},
        {"opportunity_id": "X2", "rep_id": "R1", "created_date": _t("2024-12-01"), "close_date": _t("2025-02-01"),
         "stage": "Closed Won", "amount": 50.0, "product": "P1"},
        {"opportunity_id": "X3", "rep_id": "R1", "created_date": _t("2025-04-01"), "close_date": _t("2025-04-20"),
         "stage": "Closed Won", "amount": 70.0, "product": "P1"}])
    products = _table("products", [{"product": "P1", "list_price": 40.0}])
    quotas = _table("quotas", [{"rep_id": "R1", "period": "2025-Q1", "quota": 360.0}])
    team = m.team_kpis(Dataset({"opportunities": opps, "products": products, "quotas": quotas}), Q1, S)
    assert team["start_pipeline"] == 90.0
    assert team["pipeline_coverage"] == pytest.approx(90 / 360)


def test_activity(kpis):
    """Q1 has 90 days; R3 did nothing: a real 0 meetings but no adherence (no denominator)."""
    assert kpis["meetings"].tolist() == [4, 1, 0]
    assert kpis["meetings_per_week"].tolist() == pytest.approx([4 * 7 / 90, 7 / 90, 0.0])
    assert kpis.loc["R1", "presentations_per_quarter"] == pytest.approx(91 / 90)
    assert kpis.loc["R1", "workshops_per_quarter"] == pytest.approx(91 / 90)
    assert kpis["reach"].tolist() == pytest.approx([2 / 4, 1 / 2, 0.0])   # A5, A4 are not R1's
    assert kpis["planned"].tolist() == [2, 1, 0] and kpis["planned_known"].tolist() == [3, 1, 0]
    assert kpis.loc["R1", "call_plan_adherence"] == pytest.approx(2 / 3)
    assert np.isnan(kpis.loc["R3", "call_plan_adherence"])
    assert kpis.loc["R1", ["share_user", "share_buyer", "share_admin"]].tolist() == [0.5, 0.25, 0.25]
    assert np.isnan(kpis.loc["R3", "share_user"])


def test_follow_ups(kpis):
    """An open follow-up past due is late, counted up to the period end (data goes beyond it);
    one completed after the period end was still open (overdue) at the period end."""
    assert kpis["follow_ups_due"].tolist() == [4, 1, 0]
    assert kpis["follow_ups_on_time"].tolist() == [1, 1, 0]
    assert kpis.loc["R1", "on_time_follow_up_rate"] == 0.25
    assert kpis.loc["R2", "on_time_follow_up_rate"] == 1.0                # done on the due day
    assert np.isnan(kpis.loc["R3", "on_time_follow_up_rate"])
    assert kpis.loc["R1", "days_late"] == 11                               # median of 3, 11, 16
    assert kpis["overdue_open_follow_ups"].tolist() == [3, 0, 0]


def test_open_follow_ups_count_up_to_the_last_day_of_data():
    """When the data ends before the period does, open ones are late up to the last data day."""
    fu = _table("follow_ups", [{"rep_id": "R1", "due_date": _t("2025-02-20")}])
    sales = SALES[SALES["date"] <= _t("2025-03-10")]
    k = m.rep_kpis(Dataset({"reps": REPS, "follow_ups": fu, "sales": sales}), Q1, S).set_index("rep_id")
    assert k.loc["R1", "days_late"] == 9 and k.loc["R1", "overdue_open_follow_ups"] == 1


def test_training_payout_points(kpis):
    assert kpis.loc["R1", "knowledge_quotient"] == 85 and np.isnan(kpis.loc["R3", "knowledge_quotient"])
    assert kpis["payout"].tolist() == [300.0, 50.0, 0.0]                   # R3 was paid nothing
    assert kpis.loc["R1", "cost_of_sales"] == pytest.approx(300 / 130)
    p = S.points
    assert kpis.loc["R1", "points"] == pytest.approx(
        p.meeting + p.presentation + p.workshop + p.follow_up_on_time + 170 * p.training_per_score_point)
    assert kpis.loc["R3", "points"] == 0


def test_team_rollup_sums_parts_not_ratios():
    """Team attainment = Σ revenue / Σ quota = 390 / 780, not the mean of the reps' ratios."""
    ds = Dataset(dict(ALL))
    team = m.team_kpis(ds, Q1, S)
    reps = m.rep_kpis(ds, Q1, S)
    assert team["attainment"] == pytest.approx(390 / 780)
    assert team["attainment"] != pytest.approx(reps["attainment"].mean())
    assert team["win_rate"] == pytest.approx(3 / 5) and team["sales_cycle_days"] == 31
    assert team["meetings_per_week"] == pytest.approx(5 * 7 / (90 * 3))  # per rep
    assert team["reach"] == pytest.approx(5 / 7)       # R1 touched A5 and A4: team accounts
    assert team["on_time_follow_up_rate"] == pytest.approx(2 / 5) and team["days_late"] == 11
    assert team["knowledge_quotient"] == pytest.approx(80)               # mean of the 3 rows
    assert team["market_share"] == pytest.approx((280 + 200 + 60) / 2100)
    assert team["remaining_quota"] == 390 and team["reps"] == 3 and team["ramping_reps"] == 1


def test_region_and_territory_rollup():
    ds = Dataset(dict(ALL))
    region = m.rollup(ds, Q1, S, "region").set_index("region")
    assert region.loc["East", "attainment"] == pytest.approx(330 / 600)
    assert region.loc["East", "active_accounts"] == 3 and region.loc["West", "revenue"] == 60
    terr = m.rollup(ds, Q1, S, "territory", Scope(region="East"))
    assert terr["territory_id"].tolist() == ["T1", "T2"] and terr["region"].tolist() == ["East", "East"]
    with pytest.raises(ValueError):
        m.rollup(ds, Q1, S, "district")


def test_reps_without_quota_do_not_inflate_attainment():
    """Revenue of a rep without a quota is team revenue but not part of attainment."""
    quotas = QUOTAS[QUOTAS["rep_id"] != "R3"]
    team = m.team_kpis(Dataset(dict(ALL, quotas=quotas)), Q1, S)
    assert team["revenue"] == 390 and team["attainment"] == pytest.approx(330 / 600)


def test_missing_tables_give_nan_not_zero():
    """With sales alone, everything that needs another table is n/a."""
    k = m.rep_kpis(Dataset({"reps": REPS, "sales": SALES}), Q1, S).set_index("rep_id")
    assert k["revenue"].tolist() == [130.0, 200.0, 60.0]
    for col in ("quota", "attainment", "gap", "win_rate", "open_pipeline", "meetings", "meetings_per_week",
                "reach", "call_plan_adherence", "on_time_follow_up_rate", "overdue_open_follow_ups",
                "knowledge_quotient", "payout", "cost_of_sales", "points", "market_share"):
        assert k[col].isna().all(), col
    k = m.rep_kpis(Dataset({"reps": REPS, "quotas": QUOTAS}), Q1, S)
    assert k["quota"].notna().all() and k["revenue"].isna().all() and k["attainment"].isna().all()


def test_opportunities_alone_give_revenue_and_a_roster():
    """A plain CRM export: reps come from the owners, revenue from won deals on close_date."""
    k = m.rep_kpis(Dataset({"opportunities": OPPS}), Q1, S).set_index("rep_id")
    assert sorted(k.index) == ["R1", "R2"] and k.loc["R1", "region"] == "Unassigned"
    assert k.loc["R1", "revenue"] == 680 and k.loc["R2", "revenue"] == 0
    assert m.missing_inputs(Dataset({"opportunities": OPPS}), "revenue") == []
    assert m.missing_inputs(Dataset({"opportunities": OPPS}), "attainment") == ["quotas"]


def test_period_crossing_a_year():
    """Dec 2024 + Jan 2025: yearly 2024 quota (100/month) + Q1 2025 quota (100/month)."""
    k = m.rep_kpis(Dataset(dict(ALL)), custom(date(2024, 12, 1), date(2025, 1, 31)), S).set_index("rep_id")
    assert k.loc["R1", "revenue"] == 140 and k.loc["R1", "quota"] == 200
    assert k.loc["R1", "attainment"] == pytest.approx(0.7)


def test_partial_months_prorate_quota_by_days():
    k = m.rep_kpis(Dataset(dict(ALL)), custom(date(2025, 1, 1), date(2025, 1, 15)), S).set_index("rep_id")
    assert k.loc["R3", "quota"] == pytest.approx(60 * 15 / 31)


def test_quota_by_month_spreads_evenly():
    q = m.quota_by_month(Dataset({"quotas": QUOTAS}))
    r1 = q[(q["rep_id"] == "R1") & q["product"].isna() & (q["month"] < _t("2025-12-01"))]
    q1 = r1[r1["month"] >= _t("2025-01-01")]
    assert q1["month"].tolist() == [_t("2025-01-01"), _t("2025-02-01"), _t("2025-03-01")]
    assert q1["quota"].tolist() == [100.0, 100.0, 100.0]
    assert len(q[q["rep_id"] == "R2"]) == 12 and q.loc[q["rep_id"] == "R2", "quota"].eq(100).all()


def test_monthly_series():
    ds = Dataset(dict(ALL))
    by_rep = m.monthly(ds, date(2025, 1, 1), date(2025, 3, 31), S, by="rep_id")
    r1 = by_rep[by_rep["rep_id"] == "R1"]
    assert r1["revenue"].tolist() == [100.0, -20.0, 50.0] and r1["quota"].tolist() == [100.0] * 3
    assert r1["attainment"].tolist() == pytest.approx([1.0, -0.2, 0.5])
    team = m.monthly(ds, date(2025, 1, 1), date(2025, 3, 31), S)
    assert list(team.columns) == ["month", "revenue", "quota", "attainment"]
    assert team["revenue"].tolist() == [160.0, 180.0, 50.0]
    assert team["attainment"].tolist() == pytest.approx([160 / 260, 180 / 260, 50 / 260])
    prod = m.monthly(ds, date(2025, 1, 1), date(2025, 3, 31), S, by="product")
    p1 = prod[prod["product"] == "P1"]
    assert p1["quota"].tolist() == [50.0] * 3 and p1["attainment"].tolist() == pytest.approx([2.0, 3.6, 0.0])


def test_monthly_revenue_is_a_gap_outside_the_sales_data():
    """Sales run from 2024-02-01 to 2025-04-10: months before and after are NaN, not $0; a month
    inside the span without sales is a real 0; quota stays where it is known."""
    team = m.monthly(Dataset(dict(ALL)), date(2024, 1, 1), date(2025, 6, 30), S).set_index("month")
    assert np.isnan(team.loc[_t("2024-01-01"), "revenue"]) and np.isnan(team.loc[_t("2024-01-01"), "attainment"])
    assert team.loc[_t("2024-01-01"), "quota"] == 100.0
    assert team.loc[_t("2024-02-01"), "revenue"] == 100.0 and team.loc[_t("2024-03-01"), "revenue"] == 30.0
    assert team.loc[_t("2024-04-01"), "revenue"] == 0.0
    assert team.loc[_t("2025-04-01"), "revenue"] == 10.0
    assert team.loc[[_t("2025-05-01"), _t("2025-06-01")], "revenue"].isna().all()
    prod = m.monthly(Dataset(dict(ALL)), date(2025, 1, 1), date(2025, 6, 30), S, by="product")
    p1 = prod[prod["product"] == "P1"].set_index("month")["revenue"]   # P1 has quotas in Q1 only
    assert p1.loc[_t("2025-03-01")] == 0.0 and p1.index.max() == _t("2025-03-01")


def test_monthly_activity():
    ma = m.monthly_activity(Dataset(dict(ALL)), date(2025, 1, 1), date(2025, 3, 31))
    r1 = ma[ma["rep_id"] == "R1"].set_index("month")
    assert r1["meetings"].tolist() == [2, 1, 1]
    assert r1.loc[_t("2025-02-01"), "meetings_per_week"] == pytest.approx(1 * 7 / 28)
    assert r1.loc[_t("2025-01-01"), "call_plan_adherence"] == 0.5
    assert r1["on_time_follow_up_rate"].tolist()[:2] == [1.0, 0.0]
    team = m.monthly_activity(Dataset(dict(ALL)), date(2025, 1, 1), date(2025, 3, 31), by=None)
    assert team.loc[1, "meetings_per_week"] == pytest.approx(2 * 7 / (28 * 3))
    assert m.monthly_activity(Dataset({"reps": REPS, "sales": SALES}), date(2025, 1, 1),
                              date(2025, 1, 31))["meetings"].isna().all()


def test_attainment_distribution():
    kp = pd.DataFrame({"attainment": [0.3, 0.5, 0.79, 0.8, 1.0, 1.19, 1.5, np.nan]})
    d = m.attainment_distribution(kp)
    assert d["n"] == 7 and d["counts"] == {"<50%": 1, "50–80%": 2, "80–100%": 1, "100–120%": 2, ">120%": 1}
    assert d["bands"]["50–80%"] == pytest.approx(2 / 7) and d["share_at_goal"] == pytest.approx(3 / 7)
    assert d["median"] == 0.8 and d["spread"] == pytest.approx(1.095 - 0.645)


def test_peer_percentiles_reverse_lower_is_better():
    kp = pd.DataFrame({"rep_id": ["a", "b", "c", "d"], "role": ["X", "X", "Y", "Y"],
                       "attainment": [0.5, 1.0, 0.8, np.nan], "days_late": [1.0, 5.0, 3.0, 0.0]})
    p = m.peer_percentiles(kp).set_index("rep_id")
    assert p["attainment_pct_team"].tolist()[:3] == pytest.approx([100 / 3, 100, 200 / 3])
    assert np.isnan(p.loc["d", "attainment_pct_team"])
    assert p["days_late_pct_team"].tolist() == [75.0, 25.0, 50.0, 100.0]   # fewer days late = better
    assert p["days_late_pct_role"].tolist() == [100.0, 50.0, 50.0, 100.0]


def test_product_mix():
    pm = m.product_mix(Dataset(dict(ALL)), Q1).set_index("product")
    assert pm.loc["P1", "revenue"] == 280 and pm.loc["P2", "revenue"] == 110
    assert pm.loc["P1", "share"] == pytest.approx(280 / 390)
    assert pm.loc["P1", "quota"] == 150 and pm.loc["P1", "attainment"] == pytest.approx(280 / 150)
    assert np.isnan(pm.loc["P2", "quota"]) and np.isnan(pm.loc["P2", "attainment"])


def test_biggest_movers():
    """Jan → Feb attainment: R2 0 → 2.0, R1 1.0 → -0.2, R3 1.0 → 0 (left out at n=2)."""
    mv = m.biggest_movers(Dataset(dict(ALL)), month(2025, 2), S, n=2)
    assert list(mv.columns) == ["rep_id", "rep_name", "region", "attainment", "attainment_previous", "change"]
    assert mv["rep_id"].tolist() == ["R2", "R1"]
    assert mv["change"].tolist() == pytest.approx([2.0, -1.2])


def test_pay_for_performance():
    kp = pd.DataFrame({"payout": [1.0, 2.0, 3.0, 4.0], "attainment": [0.1, 0.3, 0.2, 0.9]})
    assert m.pay_for_performance(kp) == pytest.approx(0.8)
    assert np.isnan(m.pay_for_performance(kp.head(2)))


def test_kpis_metadata_covers_every_column():
    assert set(m.KPIS) == set(m.KPI_COLUMNS)
    targets = set(vars(S.targets))
    for k in m.KPIS.values():
        assert k.unit in m.UNITS and (k.target is None or k.target in targets)


def test_stage_funnel():
    """Open deals by stage now, then won / lost closed in the period."""
    f = m.stage_funnel(Dataset(dict(ALL)), Q1)
    assert f["stage"].tolist() == ["Proposal", "Negotiation", "Won", "Lost"]     # process order, not size
    assert f["opportunities"].tolist() == [1, 1, 3, 2] and f["amount"].tolist() == [600.0, 300.0, 680.0, 0.0]
    by_rep = m.stage_funnel(Dataset(dict(ALL)), Q1, Scope(region="East"), by_rep=True)
    assert by_rep.loc[by_rep["stage"] == "Lost", "rep_id"].tolist() == ["R1", "R2"]
    assert list(m.stage_funnel(Dataset({"sales": SALES}), Q1).columns) == ["stage", "status", "opportunities",
                                                                          "amount"]


def test_open_pipeline_without_amounts():
    """Open deals without an amount are valued at list price; with no price either, n/a (not 0)."""
    opps = OPPS.assign(amount=OPPS["amount"].where(OPPS["stage"] != "Proposal"))      # O7 loses its amount
    opps = opps.assign(product=opps["opportunity_id"].map({"O7": "P1"}).astype("str"))
    q2 = quarter(2025, 2)        # under way (these deals' data ends 2025-03-31): the pipeline open now
    k = m.rep_kpis(Dataset({"reps": REPS, "opportunities": opps}), q2, S).set_index("rep_id")
    assert np.isnan(k.loc["R2", "open_pipeline"]) and k.loc["R1", "open_pipeline"] == 300
    prices = _table("products", [{"product": "P1", "list_price": 250.0}])
    k = m.rep_kpis(Dataset({"reps": REPS, "opportunities": opps, "products": prices}), q2, S).set_index("rep_id")
    assert k.loc["R2", "open_pipeline"] == 250


# ------------------------------------------------------------------------------- employment
EMP_REPS = _table("reps", [
    {"rep_id": "E1", "rep_name": "Eve", "hire_date": _t("2020-01-01")},
    {"rep_id": "E2", "rep_name": "Fay", "hire_date": _t("2025-02-10")},   # mid-Q1
    {"rep_id": "E3", "rep_name": "Gus", "hire_date": _t("2025-05-01")},   # after Q1
    {"rep_id": "E4", "rep_name": "Hal", "hire_date": _t("2025-02-20")}])  # mid-Q1, monthly quotas
EMP_QUOTAS = _table("quotas", [
    *({"rep_id": r, "period": "2025-Q1", "quota": 90.0} for r in ("E1", "E2", "E3")),
    *({"rep_id": "E4", "period": f"2025-0{i}", "quota": q} for i, q in ((1, 10.0), (2, 20.0), (3, 30.0)))])
EMP_SALES = _table("sales", [
    {"date": _t(d), "rep_id": r, "product": "P", "revenue": v}
    for d, r, v in [("2025-01-10", "E1", 50.0), ("2025-03-03", "E2", 40.0), ("2025-02-25", "E4", 5.0)]])


def _employment_ds() -> Dataset:
    return Dataset({"reps": EMP_REPS, "quotas": EMP_QUOTAS, "sales": EMP_SALES})


def test_rep_hired_after_the_period_is_not_applicable():
    k = m.rep_kpis(_employment_ds(), Q1, S).set_index("rep_id")
    assert k.loc["E3", ["revenue", "quota", "attainment", "gap", "remaining_quota"]].isna().all()
    assert list(m.not_employed(_employment_ds(), Q1)) == [False, False, True, False]
    assert "E3" not in m.period_quota(_employment_ds(), Q1).index


def test_rep_hired_mid_period_has_the_quota_of_the_months_employed():
    """E2 (hired in February) carries February and March of a 90 quarter: 60. E4's table gives
    monthly quotas: February 20 + March 30 as given (January, before the hire, is left out)."""
    k = m.rep_kpis(_employment_ds(), Q1, S).set_index("rep_id")
    assert k.loc[["E1", "E2", "E4"], "quota"].tolist() == [90.0, 60.0, 50.0]
    assert k.loc["E2", "gap"] == 20.0 and k.loc["E4", "attainment"] == pytest.approx(5 / 50)


def test_team_quota_and_gap_leave_out_people_not_employed():
    team = m.team_kpis(_employment_ds(), Q1, S)
    assert team["quota"] == 90.0 + 60.0 + 50.0
    assert team["revenue"] == 95.0 and team["gap"] == 200.0 - 95.0


def test_a_month_before_the_hire_has_no_quota_in_the_monthly_series():
    by_rep = m.monthly(_employment_ds(), date(2025, 1, 1), date(2025, 3, 31), S, by="rep_id")
    e2 = by_rep[by_rep["rep_id"] == "E2"]
    assert np.isnan(e2["quota"].iloc[0]) and e2["quota"].iloc[1:].tolist() == [30.0, 30.0]


def test_people_who_left_carry_no_quota_after_their_end_date():
    """The optional reps.end_date: gone before Q1 → n/a and out of the team; gone in February →
    January and February of a 90 quarter (60)."""
    reps = EMP_REPS.assign(end_date=pd.NaT).astype({"end_date": "datetime64[ns]"})
    reps.loc[reps["rep_id"] == "E1", "end_date"] = _t("2024-12-15")
    reps = pd.concat([reps, _table("reps", [{"rep_id": "E5", "rep_name": "Ivy", "hire_date": _t("2019-01-01")}])
                      .assign(end_date=_t("2025-02-05"))], ignore_index=True)
    quotas = pd.concat([EMP_QUOTAS, _table("quotas", [{"rep_id": "E5", "period": "2025-Q1", "quota": 90.0}])],
                       ignore_index=True)
    ds = Dataset({"reps": reps, "quotas": quotas, "sales": EMP_SALES[EMP_SALES["rep_id"] != "E1"]})
    k = m.rep_kpis(ds, Q1, S).set_index("rep_id")
    assert k.loc["E1", ["revenue", "quota", "gap"]].isna().all()
    assert k.loc["E5", "quota"] == 60.0
    assert m.team_kpis(ds, Q1, S)["quota"] == 60.0 + 50.0 + 60.0      # E2, E4, E5


def test_monthly_series_from_the_cube_equal_those_read_from_the_rows(monkeypatch):
    """Monthly series slice a per-Dataset rep × month cube (built in one pass or a few rows at a
    time); with the cube refused (too many months, as a stray date decades away would make it)
    they are read from the rows instead, and all give the same numbers, inside and around the
    data, for a scope too."""
    from core.kpis import monthly as monthly_module

    line = {"rep_id": "R2", "date": _t("1931-05-02"), "account_id": "A1", "product": "P1", "revenue": 7.0}
    stray = pd.concat([SALES, _table("sales", [line])], ignore_index=True)
    tables = dict(ALL) | {"sales": stray}
    windows = [(date(2024, 1, 1), date(2025, 6, 30)), (date(2025, 2, 1), date(2025, 2, 28)),
               (date(1931, 1, 1), date(1931, 12, 31))]
    scopes = [Scope(), Scope(region=REPS["region"].iloc[0])]

    def series(ds):
        return [(m.monthly(ds, lo, hi, S, scope, by="rep_id"), m.monthly_activity(ds, lo, hi, scope))
                for lo, hi in windows for scope in scopes]

    sliced = Dataset(dict(ALL))
    assert monthly_module._cube(sliced, "sales") is not None
    from_cube = series(sliced)
    monkeypatch.setattr(monthly_module, "CUBE_CHUNK", 2)          # built two rows at a time
    from_chunks = series(Dataset(dict(ALL)))
    monkeypatch.setattr(monthly_module, "MAX_CUBE_CELLS", 0)
    from_rows = series(Dataset(dict(ALL)))
    for (a, b), (c, d), (e, f) in zip(from_cube, from_rows, from_chunks, strict=True):
        pd.testing.assert_frame_equal(a, c)
        pd.testing.assert_frame_equal(b, d)
        pd.testing.assert_frame_equal(e, c)
        pd.testing.assert_frame_equal(f, d)
    monkeypatch.undo()
    far = Dataset(tables)
    assert monthly_module._cube(far, "sales") is not None        # 95 years × 3 reps is still small
    monkeypatch.setattr(monthly_module, "MAX_CUBE_CELLS", 1000)
    refused = Dataset(tables)
    assert monthly_module._cube(refused, "sales") is None
    old = m.monthly(refused, date(1931, 1, 1), date(1931, 12, 31), S, by="rep_id")
    assert old.loc[(old["rep_id"] == "R2") & (old["month"] == _t("1931-05-01")), "revenue"].tolist() == [7.0]
    pd.testing.assert_frame_equal(old, m.monthly(far, date(1931, 1, 1), date(1931, 12, 31), S, by="rep_id"))


def test_kpis_do_not_depend_on_the_order_of_the_lines(bundled_sample):
    """A window's lines are found by binary search over the dates (core.kpis.arrays.dated_rows):
    lines in date order (the sample) and the same lines shuffled give the same KPIs."""
    rng = np.random.default_rng(3)
    shuffled = bundled_sample.replace(tables={
        **bundled_sample.tables,
        **{name: bundled_sample.table(name).sample(frac=1.0, random_state=rng).reset_index(drop=True)
           for name in ("sales", "activities")}})
    for period in (quarter(2025, 4), month(2025, 11), custom(date(2025, 2, 10), date(2025, 9, 3))):
        ordered, mixed = (m.rep_kpis(ds, period, S) for ds in (bundled_sample, shuffled))
        pd.testing.assert_frame_equal(ordered, mixed, check_exact=False, rtol=1e-12)


def test_attainment_alone_equals_the_kpi_tables_before_and_after_the_full_parts():
    """rep_attainment reads only revenue and quota (the movers' period before): the same attainment
    as rep_kpis, whether the period's full parts were computed first or not, for a scope too."""
    from core.kpis.rollup import rep_attainment

    for period in (Q1, month(2025, 2), custom(date(2025, 1, 10), date(2025, 3, 3))):
        for scope in (Scope(), Scope(region="West")):
            alone = rep_attainment(Dataset(dict(ALL)), period, scope)
            ds = Dataset(dict(ALL))
            full = m.rep_kpis(ds, period, S, scope)["attainment"].to_numpy()
            np.testing.assert_array_equal(alone, full)
            np.testing.assert_array_equal(rep_attainment(ds, period, scope), full)
    assert np.isnan(rep_attainment(Dataset({"sales": SALES}), Q1)).all()


def test_quota_rollup_is_the_rollups_quota_and_attainment():
    """quota_rollup (revenue and quota parts only; territory balance reads it) equals rollup's quota
    and attainment per territory, region and team, for a scope too."""
    for level in ("territory", "region", "team"):
        for scope in (Scope(), Scope(region="East")):
            alone = m.quota_rollup(Dataset(dict(ALL)), Q1, level, scope)
            full = m.rollup(Dataset(dict(ALL)), Q1, S, level, scope)[alone.columns]
            pd.testing.assert_frame_equal(alone, full)
