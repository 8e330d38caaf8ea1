"""Quota rules on hand-computed tables, and quotas kept in the settings applied to the data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset
from core.ingest import quota_rules
from core.periods import parse_period
from core.schema import empty_table
from core.territory.balance import period_quota


def test_growth_adds_the_percentage_and_leaves_reps_without_revenue_unset():
    last = pd.Series({"A": 100.0, "B": 250.0, "C": 0.0, "D": np.nan})
    got = quota_rules.growth(last, 10)
    assert got[["A", "B"]].tolist() == pytest.approx([110.0, 275.0])
    assert got[["C", "D"]].isna().all()


def test_split_follows_the_weights_and_sums_to_the_team_number():
    weights = pd.Series({"A": 1.0, "B": 3.0, "C": 0.0})
    got = quota_rules.split(1000.0, weights)
    assert got[["A", "B"]].tolist() == pytest.approx([250.0, 750.0]) and np.isnan(got["C"])
    assert quota_rules.split(1000.0, pd.Series({"A": 0.0})).isna().all()


def _dataset() -> Dataset:
    reps = pd.DataFrame({"rep_id": ["A", "B", "C"], "rep_name": ["Ann", "Ben", "Cy"],
                         "region": "West", "territory_id": ["T1", "T2", "T3"], "role": "Sales Rep",
                         "hire_date": pd.NaT, "manager": pd.NA})
    sales = pd.DataFrame({"date": pd.to_datetime(["2024-07-10", "2024-08-01", "2024-09-30", "2025-07-01"]),
                          "rep_id": ["A", "A", "B", "C"], "account_id": pd.NA, "product": "X",
                          "revenue": [100.0, 300.0, 200.0, 999.0], "units": np.nan})
    terr = pd.DataFrame({"territory_id": ["T1", "T2", "T3"], "territory_name": pd.NA, "region": "West",
                         "market_potential": [1.0e6, 3.0e6, np.nan]})
    tables = {"reps": reps, "sales": sales, "territories": terr}
    return Dataset(tables={k: pd.concat([empty_table(k), v], ignore_index=True)
                           .astype(empty_table(k).dtypes.to_dict()) for k, v in tables.items()})


def test_preview_of_each_rule_for_a_quarter():
    """2025-Q3 looks back at 2024-Q3: A sold 400, B 200, C nothing (its 2025 sale does not count)."""
    ds, q3 = _dataset(), parse_period("2025-Q3")
    growth = quota_rules.preview(ds, q3, "growth", 50).set_index("rep_id")
    assert growth["basis"].tolist() == [400.0, 200.0, 0.0]
    assert growth["quota"].tolist()[:2] == [600.0, 300.0] and np.isnan(growth.loc["C", "quota"])
    share = quota_rules.preview(ds, q3, "share", 900).set_index("rep_id")["quota"]
    assert share.tolist()[:2] == pytest.approx([600.0, 300.0]) and np.isnan(share["C"])
    potential = quota_rules.preview(ds, q3, "potential", 800).set_index("rep_id")["quota"]
    assert potential.tolist()[:2] == pytest.approx([200.0, 600.0]) and np.isnan(potential["C"])
    assert set(quota_rules.preview(ds, q3, "growth", 0)["period"]) == {"2025-Q3"}


def test_kept_quotas_replace_the_uploaded_ones_with_fiscal_labels_read():
    ds = _dataset()
    rows = quota_rules.rows_of(pd.DataFrame({"rep_id": ["A", "B", "C", None],
                                             "period": ["FY2026-Q1", "2025-Q3", "soon", "2025"],
                                             "quota": [90.0, 60.0, 10.0, 5.0], "product": [None, "", None, None]}))
    assert rows == (("A", "FY2026-Q1", 90.0, ""), ("B", "2025-Q3", 60.0, ""), ("C", "soon", 10.0, ""))
    out = quota_rules.with_quotas(ds, rows, fiscal_start=7)
    assert period_quota(out, parse_period("2025-Q3")).to_dict() == {"A": 90.0, "B": 60.0}
    bad = out.issues[out.issues["Kind"] == "rejected"]
    assert bad["Value"].tolist() == ["soon"] and bad["Source"].tolist() == [quota_rules.APP_SOURCE]
    assert quota_rules.with_quotas(ds, (), 7) is ds
    assert quota_rules.frame_of(rows)["product"].isna().all()


def test_a_fiscal_year_quota_is_spread_over_its_calendar_quarters():
    out = quota_rules.with_quotas(_dataset(), (("A", "FY2026", 400.0, ""),), fiscal_start=7)
    assert out.table("quotas")["period"].tolist() == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert out.table("quotas")["quota"].tolist() == [100.0] * 4
