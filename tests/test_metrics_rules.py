"""The KPI rules as hand-computed tables: quota in a period (spread over months, partial months by
days, product-only quotas, totals broken down by product, fiscal periods, hiring), attainment and
gap (n/a without a quota, groups from sums over reps with a quota) and the points scheme."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset, Scope
from core.fmt import NA, fmt_unit
from core.kpis.forecast import period_to_forecast
from core.kpis.inputs import territories_in_scope
from core.kpis.parts import period_quota
from core.kpis.points import PointCounts, point_components, total_points
from core.kpis.quota import attainment, gap, quota_in_period, revenue_against_quota
from core.kpis.registry import KPIS
from core.kpis.rollup import rep_kpis, team_kpis
from core.periods import custom, month, parse_period, quarter
from core.schema import TABLES, pandas_dtype
from core.settings import Points, Settings

Q1 = quarter(2025, 1)


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=TABLES[name].column_names)
    return frame.astype({c.name: pandas_dtype(c) for c in TABLES[name].columns})


def _quotas(*rows: tuple) -> pd.DataFrame:
    """(period label, quota[, product]) rows of rep R1."""
    return _table("quotas", [{"rep_id": "R1", "period": r[0], "quota": r[1], "product": r[2] if len(r) > 2 else None}
                             for r in rows])


def _reps(hired: str | None = None) -> pd.DataFrame:
    return _table("reps", [{"rep_id": "R1", "rep_name": "Ann", "region": "East", "territory_id": "T1",
                            "hire_date": pd.Timestamp(hired) if hired else pd.NaT},
                           {"rep_id": "R2", "rep_name": "Bob", "region": "East", "territory_id": "T1"}])


# 31 days in January, 28 in February 2025
JAN_16_TO_FEB_15 = custom(date(2025, 1, 16), date(2025, 2, 15))
FY26_Q1_FROM_FEB = parse_period("FY2026-Q1", fiscal_start=2)          # February to April 2025


@pytest.mark.parametrize("rows, period, hired, expected", [
    ([("2025-Q1", 300.0)], Q1, None, 300.0),                                     # the quarter's own quota
    ([("2025-Q1", 300.0)], month(2025, 2), None, 100.0),                         # a third of it a month
    ([("2025", 1200.0)], Q1, None, 300.0),                                       # a year spread over 12 months
    ([("2025-01", 60.0), ("2025-02", 60.0)], Q1, None, 120.0),                   # months as given; March has none
    ([("2025-Q1", 150.0, "P1"), ("2025-Q1", 150.0, "P2")], Q1, None, 300.0),     # product-only: their sum
    ([("2025-Q1", 300.0), ("2025-Q1", 150.0, "P1")], Q1, None, 300.0),           # P1 breaks the total down
    ([("2025-Q1", 300.0)], JAN_16_TO_FEB_15, None, 100 * 16 / 31 + 100 * 15 / 28),   # partial months by days
    ([("2025-Q1", 300.0), ("2025-Q2", 600.0)], FY26_Q1_FROM_FEB, None, 100 + 100 + 200),  # fiscal quarter
    ([("2025-Q1", 300.0)], Q1, "2025-02-10", 200.0),                             # hired in February
    ([("2025-Q1", 300.0)], Q1, "2025-05-01", None),                              # hired after: no quota
    ([("2025-Q2", 300.0)], Q1, None, None),                                      # no quota in the period
])
def test_quota_in_a_period(rows, period, hired, expected):
    ds = Dataset({"reps": _reps(hired), "quotas": _quotas(*rows)})
    quota = period_quota(ds, period)
    assert "R2" not in quota.index                                               # no quota row: n/a, not 0
    if expected is None:
        assert "R1" not in quota.index
    else:
        assert quota["R1"] == pytest.approx(expected)
        assert rep_kpis(ds, period, Settings()).set_index("rep_id").loc["R1", "quota"] == pytest.approx(expected)


@pytest.mark.parametrize("months, period, expected", [
    (["2025-01-01", "2025-02-01", "2025-03-01"], Q1, [100.0, 100.0, 100.0]),
    (["2025-01-01", "2025-02-01", "2025-04-01"], JAN_16_TO_FEB_15, [100 * 16 / 31, 100 * 15 / 28, 0.0]),
])
def test_quota_in_period_weights_each_month_by_its_days(months, period, expected):
    qm = pd.DataFrame({"month": pd.to_datetime(months), "quota": [100.0] * len(months)})
    assert quota_in_period(qm, period).tolist() == pytest.approx(expected)


NAN = float("nan")


@pytest.mark.parametrize("revenue, quota, expected_attainment, expected_gap", [
    (80.0, 100.0, 0.8, 20.0),
    (0.0, 100.0, 0.0, 100.0),          # a quota and no sales: 0 %, the whole quota short
    (130.0, 100.0, 1.3, -30.0),        # ahead of goal: a negative gap
    (50.0, NAN, NAN, NAN),             # no quota: n/a, never 0
    (50.0, 0.0, NAN, NAN),             # a zero quota is no quota
    (NAN, 100.0, NAN, NAN),            # revenue unknown
])
def test_attainment_and_gap(revenue, quota, expected_attainment, expected_gap):
    np.testing.assert_allclose(attainment(np.array([revenue]), np.array([quota])), [expected_attainment])
    np.testing.assert_allclose(gap(np.array([revenue]), np.array([quota])), [expected_gap])


@pytest.mark.parametrize("reps, expected_attainment, expected_gap", [
    ([(80.0, 100.0), (120.0, 100.0)], 1.0, 0.0),
    ([(80.0, 100.0), (500.0, NAN)], 0.8, 20.0),      # the rep without a quota does not count
    ([(80.0, 100.0), (500.0, 0.0)], 0.8, 20.0),
    ([(80.0, NAN), (500.0, NAN)], NAN, NAN),          # nobody has a quota: n/a
])
def test_a_groups_attainment_is_summed_over_reps_with_a_quota(reps, expected_attainment, expected_gap):
    revenue, quota = (np.array(x) for x in zip(*reps, strict=True))
    counted, with_quota = revenue_against_quota(revenue, quota)
    total_revenue, total_quota = np.nansum(counted), np.nansum(with_quota)
    np.testing.assert_allclose(attainment(total_revenue, total_quota), expected_attainment)
    np.testing.assert_allclose(gap(total_revenue, total_quota), expected_gap)


def test_team_attainment_end_to_end_leaves_out_reps_without_a_quota():
    sales = _table("sales", [{"date": pd.Timestamp("2025-02-01"), "rep_id": r, "account_id": "A", "product": "P",
                              "revenue": v} for r, v in [("R1", 240.0), ("R2", 500.0)]])
    ds = Dataset({"reps": _reps(), "quotas": _quotas(("2025-Q1", 300.0)), "sales": sales})
    team, reps = team_kpis(ds, Q1, Settings()), rep_kpis(ds, Q1, Settings()).set_index("rep_id")
    assert (team["revenue"], team["quota"], team["attainment"], team["gap"]) == pytest.approx((740.0, 300.0, 0.8, 60.0))
    assert reps.loc["R2", ["quota", "attainment", "gap"]].isna().all()


def _counts(meetings=NAN, presentations=NAN, workshops=NAN, follow_ups=NAN, training=NAN) -> PointCounts:
    return PointCounts(*(np.array([v]) for v in (meetings, presentations, workshops, follow_ups, training)))


@pytest.mark.parametrize("counts, scheme, expected", [
    (_counts(2, 1, 1, 1, 80.0), Points(), 20 + 20 + 50 + 10 + 8),
    (_counts(2, 1, 1, 1, 80.0), replace(Points(), meeting=1.0, workshop=0.0), 2 + 20 + 0 + 10 + 8),
    (_counts(meetings=3, presentations=0, workshops=0), Points(), 30.0),      # only activities uploaded
    (_counts(follow_ups=0), Points(), 0.0),                                   # uploaded, nothing on time: 0
    (_counts(), Points(), NAN),                                               # nothing uploaded: n/a
])
def test_points(counts, scheme, expected):
    np.testing.assert_allclose(total_points(point_components(counts, scheme)), [expected])


def test_a_missing_component_is_na_not_zero():
    components = point_components(_counts(meetings=2), Points())
    assert components["meetings_pts"][0] == 20.0
    assert np.isnan(components["training_pts"][0]) and np.isnan(components["follow_ups_pts"][0])


def _team() -> Dataset:
    reps = _table("reps", [{"rep_id": r, "rep_name": r, "region": g, "territory_id": t}
                           for r, g, t in [("R1", "East", "T1"), ("R2", "East", "T1"), ("R3", "West", "T2")]])
    sales = _table("sales", [{"date": pd.Timestamp("2025-05-20"), "rep_id": "R1", "account_id": "A",
                              "product": "P", "revenue": 1.0}])
    return Dataset({"reps": reps, "sales": sales})


TERRITORIES = pd.Series(["T1", "T2", "T3"])              # T3: accounts only, no rep
REGIONS = pd.Series(["East", "West", "West"])


@pytest.mark.parametrize("scope, expected", [
    (Scope(), [True, True, True]),                          # the whole team keeps territories without reps
    (Scope(region="West"), [False, True, True]),
    (Scope(territory_id="T1"), [True, False, False]),
    (Scope(rep_id="R2"), [True, False, False]),             # the rep's own territory
    (Scope(region="East", rep_id="R3"), [False, False, False]),
])
def test_territories_in_scope(scope, expected):
    assert territories_in_scope(_team(), scope, TERRITORIES, REGIONS).tolist() == expected


@pytest.mark.parametrize("period, expected", [
    (quarter(2025, 2), quarter(2025, 2)),                  # in progress (data ends 2025-05-20): itself
    (quarter(2025, 1), quarter(2025, 2)),                  # over: the quarter holding the last day
    (month(2025, 1), month(2025, 5)),
    (custom(date(2025, 1, 1), date(2025, 2, 1)), custom(date(2025, 1, 1), date(2025, 2, 1))),
])
def test_the_period_to_forecast(period, expected):
    assert period_to_forecast(_team(), period) == expected


@pytest.mark.parametrize("unit", sorted({k.unit for k in KPIS.values()} | {"correlation"}))
def test_every_kpi_unit_is_shown_in_the_app(unit):
    assert fmt_unit(0.5, unit) != NA and fmt_unit(NAN, unit) == NA


def test_an_account_passed_between_reps_is_kept_by_the_team_lost_by_its_rep():
    """The account rules (formulas.account_kpis), per group: A bought from R1 in Q4 and from R2 in
    Q1, B from R1 in both. The team keeps both (100 %); R1 keeps B only (50 %); R2 had no account
    in Q4 (retention n/a, not 0). No account is new: both bought before Q1."""
    reps = _table("reps", [{"rep_id": r, "rep_name": r, "region": "East", "territory_id": t}
                           for r, t in (("R1", "T1"), ("R2", "T2"))])
    sales = _table("sales", [{"date": pd.Timestamp(d), "rep_id": r, "account_id": a, "product": "P", "revenue": 10.0}
                             for d, r, a in (("2024-11-05", "R1", "A"), ("2025-02-05", "R2", "A"),
                                             ("2024-11-06", "R1", "B"), ("2025-02-06", "R1", "B"))])
    ds = Dataset({"reps": reps, "sales": sales})
    team = team_kpis(ds, Q1, Settings())
    per_rep = rep_kpis(ds, Q1, Settings()).set_index("rep_id")
    assert team["retention_rate"] == 1.0 and team["active_accounts"] == 2 and team["new_accounts"] == 0
    assert per_rep.loc["R1", "retention_rate"] == 0.5 and per_rep.loc["R1", "churn_rate"] == 0.5
    assert np.isnan(per_rep.loc["R2", "retention_rate"]) and per_rep.loc["R2", "active_accounts"] == 1
    assert per_rep["new_accounts"].tolist() == [0, 0]
