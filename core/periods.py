"""Reporting periods: parse `2025`, `2025-Q3`, `2025-07` or a custom range; step back in time.

A Period is a closed range of calendar days. Quota and incentive periods in the data use the same
labels, so `parse_period` serves both the user's choice and the tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from core.errors import UserError

_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*-\s*(\d{1,2})\s*$")


class PeriodError(UserError):
    """A period label or range a user gave cannot be understood."""


@dataclass(frozen=True)
class Period:
    """A closed range of days [start, end] with a label people read ("2025-Q3")."""

    start: date
    end: date
    label: str
    kind: str = "custom"  # month | quarter | year | custom

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"The period ends ({self.end}) before it starts ({self.start}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)

    @property
    def end_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.end)

    def months(self) -> list[str]:
        """The `YYYY-MM` labels of every month the period touches."""
        return [p.strftime("%Y-%m") for p in pd.period_range(self.start, self.end, freq="M")]

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of `dates` (datetime64) falling inside the period."""
        return (dates >= self.start_ts) & (dates <= self.end_ts)

    def previous(self) -> "Period":
        """The period of equal length (same kind) just before this one."""
        if self.kind == "month":
            return month(*_shift_month(self.start.year, self.start.month, -1))
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            y, q = (self.start.year, q - 1) if q > 1 else (self.start.year - 1, 4)
            return quarter(y, q)
        if self.kind == "year":
            return year(self.start.year - 1)
        end = self.start - timedelta(days=1)
        return custom(end - timedelta(days=self.days - 1), end)

    def year_earlier(self) -> "Period":
        """The same period one year earlier (for growth)."""
        if self.kind == "month":
            return month(self.start.year - 1, self.start.month)
        if self.kind == "quarter":
            return quarter(self.start.year - 1, (self.start.month - 1) // 3 + 1)
        if self.kind == "year":
            return year(self.start.year - 1)
        return custom(_minus_year(self.start), _minus_year(self.end))


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _shift_month(y: int, m: int, by: int) -> tuple[int, int]:
    idx = y * 12 + (m - 1) + by
    return idx // 12, idx % 12 + 1


def _month_end(y: int, m: int) -> date:
    ny, nm = _shift_month(y, m, 1)
    return date(ny, nm, 1) - timedelta(days=1)


def month(y: int, m: int) -> Period:
    return Period(date(y, m, 1), _month_end(y, m), f"{y}-{m:02d}", "month")


def quarter(y: int, q: int) -> Period:
    return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"{y}-Q{q}", "quarter")


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), f"{y}", "year")


def custom(start: date, end: date) -> Period:
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    return Period(start, end, f"{start.isoformat()} to {end.isoformat()}", "custom")


def parse_period(label: str) -> Period:
    """`2025` → year, `2025-Q3` → quarter, `2025-07` → month; anything else raises PeriodError."""
    text = str(label)
    if m := _YEAR.match(text):
        return year(int(m.group(1)))
    if m := _QUARTER.match(text):
        return quarter(int(m.group(1)), int(m.group(2)))
    if m := _MONTH.match(text):
        mo = int(m.group(2))
        if 1 <= mo <= 12:
            return month(int(m.group(1)), mo)
    raise PeriodError(f"'{label}' is not a period: use a year (2025), a quarter (2025-Q3) "
                      "or a month (2025-07).")


def period_of(kind: str, day: date) -> Period:
    """The month, quarter or year that contains `day`."""
    day = pd.Timestamp(day).date()
    if kind == "month":
        return month(day.year, day.month)
    if kind == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    if kind == "year":
        return year(day.year)
    raise PeriodError(f"Unknown period kind '{kind}'.")


def latest_complete(kind: str, last_day: date) -> Period:
    """The latest month/quarter/year that ends on or before `last_day` (the last day with data)."""
    p = period_of(kind, last_day)
    return p if p.end <= pd.Timestamp(last_day).date() else period_of(kind, p.start - timedelta(days=1))


def months_between(start: date, end: date) -> list[Period]:
    """Every calendar month from the month of `start` to the month of `end`, as Periods."""
    return [month(p.year, p.month) for p in pd.period_range(start, end, freq="M")]
