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
