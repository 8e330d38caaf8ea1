"""core.engine.parts: the per-rep × month parts written once with Ibis, run on embedded DuckDB,
summed over a period's months, equal the pandas engine's period parts (core.kpis.parts) on a
hand-built team and on the bundled sample; the parts the pandas engine does not have are checked
against hand-computed numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ibis")

from core.dataset import Dataset  # noqa: E402
from core.engine.parts import MONTH_ADDITIVE, dataset_month_parts, period_sums  # noqa: E402
from core.kpis.inputs import whole_roster  # noqa: E402
from core.kpis.parts import period_parts  # noqa: E402
from core.periods import Period, month, parse_period, quarter, year  # noqa: E402
from core.schema import TABLES, pandas_dtype  # noqa: E402

Q1, Q2 = quarter(2025, 1), quarter(2025, 2)


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=TABLES[name].column_names)
    return frame.astype({c.name: pandas_dtype(c) for c in TABLES[name].columns})


def _d(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text) if text else pd.NaT


def hand_team() -> Dataset:
    """Three reps (Cy hired in February 2025, gone after April) and the rules' edge cases: a
    sales line of a rep off the roster, one without an account, one without revenue; deals whose
    status is only in their stage, a deal valued by its product's list price; an all-products
    quota with a product quota under it, product-only quotas, a yearly quota; a follow-up done
    late, one never done; a training without a score; activities of every kind, roles unknown."""
    reps = _table("reps", [
        {"rep_id": "R1", "rep_name": "Ann", "region": "East", "territory_id": "T1"},
        {"rep_id": "R2", "rep_name": "Bob", "region": "East", "territory_id": "T2"},
        {"rep_id": "R3", "rep_name": "Cy", "region": "West", "territory_id": "T3",
         "hire_date": _d("2025-02-10"), "end_date": _d("2025-04-30")},
    ])
    sales = _table("sales", [
        {"date": _d(d), "rep_id": r, "account_id": a, "product": "P1", "revenue": v}
        for d, r, a, v in [("2024-02-03", "R1", "A1", 100.0), ("2025-01-05", "R1", "A1", 200.0),
                           ("2025-02-15", "R1", None, 50.0), ("2025-03-31", "R2", "A2", 300.0),
                           ("2025-04-01", "R2", "A2", 70.0), ("2025-03-02", "R3", "A3", None),
                           ("2025-03-03", "R9", "A1", 999.0), ("2024-12-31", "R2", "A2", 40.0)]])
    opps = _table("opportunities", [
        {"opportunity_id": f"O{i}", "rep_id": r, "created_date": _d(c), "stage": st, "status": s,
         "close_date": _d(x), "amount": v, "account_id": "A1", "product": p}
        for i, (r, c, st, s, x, v, p) in enumerate([
            ("R1", "2024-11-01", "Closed Won", None, "2025-01-20", 500.0, "P1"),
            ("R1", "2025-01-02", "Closed Lost", None, "2025-02-20", 0.0, "P1"),
            ("R1", "2025-02-01", "Negotiation", "WON ", "2025-03-10", None, "P2"),
            ("R2", "2025-01-15", "Proposal", None, None, 800.0, "P1"),
            ("R2", "2024-12-01", "x", "lost", "2025-05-05", 250.0, "P1"),
        ])])
    products = _table("products", [{"product": "P1", "list_price": 10.0}, {"product": "P2", "list_price": 40.0}])
    quotas = _table("quotas", [
        {"rep_id": "R1", "period": "2025-Q1", "quota": 300.0},
        {"rep_id": "R1", "period": "2025-Q1", "quota": 90.0, "product": "P1"},      # breaks the total down
        {"rep_id": "R2", "period": "2025-Q1", "quota": 60.0, "product": "P1"},
        {"rep_id": "R2", "period": "2025-Q1", "quota": 30.0, "product": "P2"},      # product-only: summed
        {"rep_id": "R3", "period": "2025", "quota": 1200.0},                        # Feb–Apr employed
        {"rep_id": "R2", "period": "not a period", "quota": 5.0},
    ])
    incentives = _table("incentives", [
        {"rep_id": "R1", "period": "2025-Q1", "payout": 30.0, "component": "bonus"},
        {"rep_id": "R2", "period": "2025-02", "payout": 7.0, "component": "bonus"},
    ])
    activities = _table("activities", [
        {"date": _d(d), "rep_id": r, "activity_type": t, "account_id": "A1", "planned": p, "contact_role": c}
        for d, r, t, p, c in [("2025-01-03", "R1", "meeting", True, "buyer"),
                              ("2025-01-04", "R1", "demo", False, "user"),
                              ("2025-02-04", "R1", "presentation", None, None),
                              ("2025-03-04", "R2", "workshop", True, "nurse"),
                              ("2025-03-05", "R2", "call", True, "admin"),
                              ("2025-04-05", "R2", "meeting", None, "user")]])
    follow_ups = _table("follow_ups", [
        {"rep_id": r, "due_date": _d(due), "completed_date": _d(done), "account_id": "A1"}
        for r, due, done in [("R1", "2025-01-10", "2025-01-09"), ("R1", "2025-02-10", "2025-02-12"),
                             ("R2", "2025-03-01", None), ("R2", "2025-04-02", "2025-04-02")]])
    training = _table("training", [
        {"rep_id": r, "date": _d(d), "topic": "Product", "score": s}
        for r, d, s in [("R1", "2025-01-20", 80.0), ("R1", "2025-03-20", None), ("R2", "2025-05-20", 60.0)]])
    return Dataset({"reps": reps, "sales": sales, "opportunities": opps, "products": products, "quotas": quotas,
                    "incentives": incentives, "activities": activities, "follow_ups": follow_ups,
                    "training": training})


def _assert_same_parts(ds: Dataset, monthly: pd.DataFrame, period: Period) -> None:
    """Every month-additive part: Σ of the Ibis months = the pandas engine's period part."""
    reference = period_parts(ds, period)
    got = period_sums(monthly, period, whole_roster(ds)["rep_id"])
    compared = [name for name in MONTH_ADDITIVE if name in reference]
    assert compared and set(compared) <= set(got)
    for name in compared:
        np.testing.assert_allclose(got[name], reference[name], rtol=1e-9, atol=1e-6, equal_nan=True,
                                   err_msg=f"{name} in {period.label}")


@pytest.fixture(scope="module")
def hand() -> tuple[Dataset, pd.DataFrame]:
    ds = hand_team()
    return ds, dataset_month_parts(ds)


@pytest.mark.parametrize("period", [Q1, Q2, month(2025, 2), month(2025, 3), year(2025), year(2024)],
                         ids=lambda p: p.label)
def test_hand_team_equals_pandas(hand, period):
    ds, monthly = hand
    _assert_same_parts(ds, monthly, period)


def test_hand_team_numbers(hand):
    """The rules themselves, by hand, so that both engines agreeing on a wrong number fails."""
    ds, monthly = hand
    q1 = period_sums(monthly, Q1, ["R1", "R2", "R3"])
    r1, r2, r3 = ({name: values[i] for name, values in q1.items()} for i in range(3))
    assert (r1["revenue"], r2["revenue"], r3["revenue"]) == (250.0, 300.0, 0.0)   # R9 off the roster
    assert r1["revenue_prior_year"] == 100.0 and r2["revenue_12m"] == 340.0
    assert (r1["rep_quota"], r2["rep_quota"]) == (300.0, 90.0)
    assert r3["rep_quota"] == pytest.approx(200.0)                        # 100 a month, Feb and March
    assert (r1["rep_payout"], r2["rep_payout"]) == (30.0, 7.0) and np.isnan(r3["rep_payout"])
    assert (r1["won"], r1["lost"]) == (2.0, 1.0)                          # WON from the status, the rest by stage
    assert (r1["meetings"], r1["presentations"], r1["meeting_type"]) == (3.0, 1.0, 1.0)
    assert (r2["meetings"], r2["workshops"], r2["planned"], r2["planned_known"]) == (1.0, 1.0, 2.0, 2.0)
    assert (r2["role_known"], r2["role_admin"], r1["role_known"]) == (2.0, 1.0, 2.0)
    assert (r1["follow_ups_due"], r1["follow_ups_on_time"], r2["follow_ups_on_time"]) == (2.0, 1.0, 0.0)
    assert (r1["score_sum"], r1["scores"]) == (80.0, 1.0)
    engine_only = monthly.groupby(level="rep_id")[["won_value", "lost_value", "opened", "trainings"]].sum()
    # R1: won 500 + the P2 deal at its list price 40; lost 0 (its amount); opened O1 (2024), O2, O3
    assert engine_only.loc["R1"].tolist() == [540.0, 0.0, 3.0, 2.0]
    assert engine_only.loc["R2"].tolist() == [0.0, 250.0, 2.0, 1.0]


def test_partial_months_are_refused(hand):
    from core.periods import custom

    ds, monthly = hand
    with pytest.raises(ValueError, match="whole months"):
        period_sums(monthly, custom(pd.Timestamp("2025-01-16").date(), pd.Timestamp("2025-02-15").date()), ["R1"])


def test_without_a_reps_table_every_rep_named_counts():
    ds = hand_team().without("reps")
    _assert_same_parts(ds, dataset_month_parts(ds), Q1)


def test_revenue_from_won_deals_without_a_sales_table():
    ds = hand_team().without("sales")
    monthly = dataset_month_parts(ds)
    _assert_same_parts(ds, monthly, Q1)
    assert period_sums(monthly, Q1, ["R1"])["revenue"][0] == 500.0        # the deal won in January


@pytest.mark.parametrize("label", ["2026-Q3", "2025", "2026-07", "2024-Q4"])
def test_bundled_sample_equals_pandas(bundled_sample, sample_month_parts, label):
    _assert_same_parts(bundled_sample, sample_month_parts, parse_period(label))


@pytest.fixture(scope="module")
def sample_month_parts(bundled_sample) -> pd.DataFrame:
    return dataset_month_parts(bundled_sample)
