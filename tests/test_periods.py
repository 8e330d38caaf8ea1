"""Periods: parsing the labels users and tables use, and stepping back in time."""
from datetime import date

import pandas as pd
import pytest

from core import periods
from core.errors import UserError
from core.periods import PeriodError, parse_period


@pytest.mark.parametrize("label, start, end, kind", [
    ("2025", date(2025, 1, 1), date(2025, 12, 31), "year"),
    ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
    ("2025q1", date(2025, 1, 1), date(2025, 3, 31), "quarter"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31), "month"),
])
def test_parse_period(label, start, end, kind):
    """Year, quarter and month labels become the right day ranges."""
    p = parse_period(label)
    assert (p.start, p.end, p.kind) == (start, end, kind)


@pytest.mark.parametrize("bad", ["2025-Q5", "2025-13", "Q3", "last quarter", ""])
def test_parse_period_rejects_with_plain_message(bad):
    """Unknown labels raise a user-facing error that says what to type."""
    with pytest.raises(PeriodError, match="2025-Q3"):
        parse_period(bad)
    assert issubclass(PeriodError, UserError)


def test_previous_and_year_earlier_cross_year_boundaries():
    """Q1 steps back to Q4 of the year before; January to December; custom ranges keep their length."""
    assert parse_period("2025-Q1").previous().label == "2024-Q4"
    assert parse_period("2025-01").previous().label == "2024-12"
    assert parse_period("2025-Q1").year_earlier().label == "2024-Q1"
    c = periods.custom(date(2025, 1, 10), date(2025, 1, 19))
    assert (c.previous().start, c.previous().end) == (date(2024, 12, 31), date(2025, 1, 9))
    leap = periods.custom(date(2024, 2, 29), date(2024, 3, 5)).year_earlier()
    assert leap.start == date(2023, 2, 28)


def test_latest_complete_and_months():
    """The latest complete quarter before a mid-quarter date is the previous quarter."""
    assert periods.latest_complete("quarter", date(2026, 11, 20)).label == "2026-Q3"
    assert periods.latest_complete("quarter", date(2026, 9, 30)).label == "2026-Q3"
    assert parse_period("2025-Q4").months() == ["2025-10", "2025-11", "2025-12"]
    p = parse_period("2025-07")
    mask = p.contains(pd.Series(pd.to_datetime(["2025-06-30", "2025-07-01", "2025-07-31", "2025-08-01"])))
    assert mask.tolist() == [False, True, True, False]
    assert p.days == 31


def test_period_end_before_start_is_refused():
    with pytest.raises(PeriodError):
        periods.custom(date(2025, 2, 1), date(2025, 1, 1))


# --------------------------------------------------------------------------------------- fiscal years
@pytest.mark.parametrize("label, start, end, kind", [
    ("FY2026-Q1", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
    ("FY25 Q3", date(2025, 1, 1), date(2025, 3, 31), "quarter"),
    ("Q1 FY26", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
    ("FY2026", date(2025, 7, 1), date(2026, 6, 30), "year"),
    ("FY2026-H2", date(2026, 1, 1), date(2026, 6, 30), "half"),
    ("2025Q3", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
    ("Q3/2025", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
    ("Q1 2017", date(2017, 1, 1), date(2017, 3, 31), "quarter"),
    ("H2 2025", date(2025, 7, 1), date(2025, 12, 31), "half"),
    ("Jul-25", date(2025, 7, 1), date(2025, 7, 31), "month"),
    ("Jan-26", date(2026, 1, 1), date(2026, 1, 31), "month"),
    ("July 2025", date(2025, 7, 1), date(2025, 7, 31), "month"),
    ("März 2025", date(2025, 3, 1), date(2025, 3, 31), "month"),
    ("Mär 25", date(2025, 3, 1), date(2025, 3, 31), "month"),
    ("mars 2025", date(2025, 3, 1), date(2025, 3, 31), "month"),
    ("marzo 2025", date(2025, 3, 1), date(2025, 3, 31), "month"),
    ("janv. 2025", date(2025, 1, 1), date(2025, 1, 31), "month"),
    ("févr. 2025", date(2025, 2, 1), date(2025, 2, 28), "month"),
    ("Dez 2024", date(2024, 12, 1), date(2024, 12, 31), "month"),
    ("diciembre 2024", date(2024, 12, 1), date(2024, 12, 31), "month"),
    ("07/2025", date(2025, 7, 1), date(2025, 7, 31), "month"),
])
def test_parse_fiscal_and_written_labels_with_a_july_fiscal_year(label, start, end, kind):
    """With the fiscal year starting in July, FY labels are fiscal (FY2026 ends in June 2026);
    labels without FY and month names in four languages stay calendar periods."""
    p = parse_period(label, fiscal_start=7)
    assert (p.start, p.end, p.kind) == (start, end, kind)


def test_fiscal_labels_without_a_fiscal_start_are_calendar_periods():
    """No fiscal start set: FY2026 is the calendar year 2026 and keeps the plain labels."""
    assert parse_period("FY2026") == parse_period("2026")
    assert parse_period("FY2026-Q1").label == "2026-Q1"
    assert parse_period("2025-Q3").fiscal_start == 1


@pytest.mark.parametrize("bad", ["FY2026-Q5", "H3 2025", "Foo 2025", "13/2025"])
def test_parse_rejects_impossible_fiscal_and_month_labels(bad):
    with pytest.raises(PeriodError):
        parse_period(bad, fiscal_start=7)


def test_fiscal_periods_step_back_and_are_labelled_fiscal():
    """A fiscal quarter steps back across the fiscal year boundary; the sidebar's periods of a day
    are fiscal ones with FY labels."""
    q1 = parse_period("FY2026-Q1", fiscal_start=7)
    assert q1.previous().label == "FY2025-Q4"
    assert (q1.previous().start, q1.previous().end) == (date(2025, 4, 1), date(2025, 6, 30))
    assert q1.year_earlier().label == "FY2025-Q1"
    assert periods.period_of("quarter", date(2025, 8, 3), 7).label == "FY2026-Q1"
    assert periods.period_of("year", date(2025, 8, 3), 7).label == "FY2026"
    assert periods.period_of("quarter", date(2025, 8, 3)).label == "2025-Q3"
    feb = periods.period_of("quarter", date(2025, 1, 15), 2)
    assert (feb.start, feb.end, feb.label) == (date(2024, 11, 1), date(2025, 1, 31), "FY2025-Q4")
    assert periods.latest_complete("year", date(2026, 5, 1), 7).label == "FY2025"


def test_calendar_labels_tile_a_fiscal_period_with_the_coarsest_calendar_labels():
    assert periods.calendar_labels(parse_period("FY2026", 7)) == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert periods.calendar_labels(parse_period("FY2026", 1)) == ["2026"]
    assert periods.calendar_labels(parse_period("FY2026-Q1", 2)) == ["2025-02", "2025-03", "2025-04"]
    assert periods.calendar_labels(parse_period("2025-07")) == ["2025-07"]
