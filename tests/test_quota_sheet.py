"""Quota sheets the way directors keep them, read as the quotas table (core.ingest.quota_sheet via ingest)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.ingest.pipeline import ingest
from core.ingest.quota_sheet import header_period
from core.periods import parse_period
from core.territory.balance import period_quota
from tests.ingest_helpers import assert_rows_accounted, xlsx
from tests.quota_fixtures import REPS, quarterly_quotas, salesforce_csv, wide_quota_xlsx


@pytest.fixture(scope="module")
def with_sheet():
    return ingest([("opportunities.csv", salesforce_csv()), ("quota plan.xlsx", wide_quota_xlsx())])


def _problems(ds, kind=None):
    q = ds.issues[ds.issues["Table"] == "quotas"]
    return q if kind is None else q[q["Kind"] == kind]


def test_wide_sheet_gives_every_rep_the_sheets_quota(with_sheet):
    """Each rep's quota of each quarter is the cell of the sheet, names matched to the export's
    owners (ANN AMES → Ann Ames), the total column and row left out."""
    ds = with_sheet
    for i, q in enumerate(("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")):
        got = period_quota(ds, parse_period(q))
        want = pd.Series({rep: qs[i] for rep, qs in quarterly_quotas().items()})
        pd.testing.assert_series_equal(got.sort_index(), want.sort_index().astype("float64"),
                                       check_names=False)
    assert set(ds.table("quotas")["rep_id"]) == set(REPS) == set(ds.table("reps")["rep_id"])
    assert_rows_accounted(ds)


def test_totals_are_recognised_and_reported_with_their_row(with_sheet):
    issues = _problems(with_sheet)
    total_col = issues[issues["Problem"].str.startswith("total column")]
    assert total_col["Column"].tolist() == ["Total"]
    total_row = issues[issues["Problem"].str.startswith("total row")]
    assert total_row["Row"].tolist() == [12]          # title, blank, header, eight reps, total


def test_month_headers_as_text_and_as_date_cells():
    """"Jan-26" style headers and real date cells both read as months; a blank cell is no quota."""
    sheet = [["Rep", "Jan-26", "Feb-26", dt.datetime(2026, 3, 1)],
             ["Ann Ames", 10, 20, 30], ["Ben Bray", 5, None, 7]]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("targets.xlsx", xlsx({"Quotas": sheet}))])
    q = ds.table("quotas").sort_values(["rep_id", "period"])
    assert q[["rep_id", "period", "quota"]].values.tolist() == [
        ["Ann Ames", "2026-01", 10.0], ["Ann Ames", "2026-02", 20.0], ["Ann Ames", "2026-03", 30.0],
        ["Ben Bray", "2026-01", 5.0], ["Ben Bray", "2026-03", 7.0]]


def test_fiscal_year_headers_with_a_july_start_are_split_into_calendar_quarters():
    """FY2026 with a July start is Jul 2025 – Jun 2026: its quota lands in those four quarters."""
    sheet = [["Rep", "FY2026"], ["Ann Ames", 400000], ["Ben Bray", 200000]]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("quotas.xlsx", xlsx({"Quotas": sheet}))],
                {"fiscal_start": 7})
    q = ds.table("quotas")
    assert sorted(q["period"].unique()) == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    fy = parse_period("FY2026", 7)
    assert period_quota(ds, fy).to_dict() == pytest.approx({"Ann Ames": 400000.0, "Ben Bray": 200000.0})
    assert period_quota(ds, parse_period("2025-Q3")).to_dict() == {"Ann Ames": 100000.0, "Ben Bray": 50000.0}


def test_one_annual_number_per_rep_takes_its_year_from_the_sheet_name():
    sheet = [["Rep", "Quota"], ["Ann Ames", 480000], ["Ben Bray", 240000]]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("book.xlsx", xlsx({"Quotas 2025": sheet}))])
    assert period_quota(ds, parse_period("2025-Q2")).to_dict() == {"Ann Ames": 120000.0, "Ben Bray": 60000.0}


def test_long_table_with_written_and_fiscal_labels():
    """A long table's "FY25 Q3", "März 2025" and "H2 2025" labels are read on the fiscal calendar."""
    sheet = [["Rep", "Period", "Quota"], ["Ann Ames", "FY25 Q3", 90], ["Ann Ames", "März 2025", 40],
             ["Ben Bray", "H2 2025", 600]]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("quotas.csv", _csv(sheet))], {"fiscal_start": 7})
    q = ds.table("quotas").sort_values(["rep_id", "period"])
    # FY2025 runs Jul 2024 – Jun 2025: its Q3 is Jan–Mar 2025
    assert q[["rep_id", "period", "quota"]].values.tolist() == [
        ["Ann Ames", "2025-03", 40.0], ["Ann Ames", "2025-Q1", 90.0],
        ["Ben Bray", "2025-Q3", 300.0], ["Ben Bray", "2025-Q4", 300.0]]


def test_two_quotas_for_one_rep_and_period_are_reported_not_summed():
    sheet = [["Rep", "Period", "Quota"], ["Ann Ames", "2025-Q3", 100], ["Ben Bray", "2025-Q3", 50],
             ["Ann Ames", "Q3 2025", 70]]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("quotas.csv", _csv(sheet))])
    assert period_quota(ds, parse_period("2025-Q3")).to_dict() == {"Ann Ames": 100.0, "Ben Bray": 50.0}
    dup = _problems(ds, "duplicate")
    assert dup["Row"].tolist() == [4]
    assert "second quota for rep Ann Ames" in dup["Problem"].iloc[0]
    assert_rows_accounted(ds)


def test_a_wide_sheet_with_a_generic_name_is_read_as_quotas_and_said_so():
    sheet = [["Name", "Q1 2025", "Q2 2025"], ["Ann Ames", 1, 2]]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("book.xlsx", xlsx({"Sheet1": sheet}))])
    assert len(ds.table("quotas")) == 2
    src = next(s for s in ds.sources if s.source == "book.xlsx › Sheet1")
    assert src.table == "quotas" and "quota sheet" in src.note


@pytest.mark.parametrize("label, expected", [
    ("Q1 2017", "2017-Q1"), ("Jan-26", "2026-01"), ("FY2026 Quota", "2026"), ("2026.0", "2026"),
    ("2026-03-01 00:00:00", "2026-03"), ("Target Q3/2025 ($)", "2025-Q3"), ("Region", None), ("Total", None),
])
def test_header_period(label, expected):
    p = header_period(label)
    assert (p.label if p else None) == expected


def _csv(rows: list[list[object]]) -> bytes:
    return ("\n".join(",".join("" if v is None else str(v) for v in r) for r in rows) + "\n").encode()


def test_one_annual_number_is_spread_by_the_seasonality_setting():
    """Twelve monthly weights (December weighs 3, the rest 1): a yearly 1,400 gives December 300
    and every other month 100; without weights it is 1,400 / 4 a quarter."""
    sheet = [["Rep", "2025"], ["Ann Ames", 1400]]
    weights = [1.0] * 11 + [3.0]
    ds = ingest([("opportunities.csv", salesforce_csv()), ("quotas.xlsx", xlsx({"Quotas": sheet}))],
                {"seasonality": weights})
    q = ds.table("quotas").set_index("period")["quota"]
    assert len(q) == 12 and q["2025-12"] == pytest.approx(300.0) and q["2025-01"] == pytest.approx(100.0)
    even = ingest([("opportunities.csv", salesforce_csv()), ("quotas.xlsx", xlsx({"Quotas": sheet}))])
    assert even.table("quotas")["quota"].tolist() == [1400.0]
    assert period_quota(even, parse_period("2025-Q4")).to_dict() == {"Ann Ames": 350.0}
