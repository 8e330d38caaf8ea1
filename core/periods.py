"""Reporting periods: parse `2025`, `2025-Q3`, `2025-07` or a custom range; step back in time.

A Period is a closed range of calendar days. Quota and incentive periods in the data use the same
labels, so `parse_period` serves both the user's choice and the tables.

Fiscal years (a start month in the settings, `fiscal_start`; 1 = the calendar year) follow the
common US convention: a fiscal year is named by the calendar year it ends in, so with a July start
FY2026 runs from 1 July 2025 to 30 June 2026 and FY2026-Q1 is July–September 2025. Labels with
"FY" are fiscal ("FY2026", "FY25 Q3", "FY2026-H1"); labels without it ("2025", "2025-Q3",
"H2 2025", "Jul-25", "März 2025") are calendar periods. With a fiscal start set, the quarters,
halves and years the app offers are fiscal ones and are labelled "FY…".
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from core.errors import UserError

_Y = r"'?(\d{4}|\d{2})"          # a year, four digits or two ("FY25", "Jul-25")
_SEP = r"\s*[-/ .']?\s*"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(rx)) for kind, rx in (
    ("year", r"^(\d{4})$"),
    ("fy_year", rf"^fy\s*{_Y}$"),
    ("fy_part", rf"^fy\s*{_Y}{_SEP}([qh])([1-4])$"),
    ("fy_part_rev", rf"^([qh])([1-4]){_SEP}fy\s*{_Y}$"),
    ("part", r"^(\d{4})\s*[-/ ]?\s*([qh])([1-4])$"),
    ("part_rev", rf"^([qh])([1-4]){_SEP}{_Y}$"),
    ("month", r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"),
    ("month_rev", r"^(\d{1,2})\s*[-/.]\s*(\d{4})$"),
    ("month_name", rf"^([a-z]+)\.?{_SEP}{_Y}$"),
    ("month_name_rev", r"^(\d{4})\s*[-/ ]\s*([a-z]+)\.?$"),
))
# Month names and their usual abbreviations in English, German, French and Spanish, accents removed.
_MONTH_NAMES = {name: i for i, names in enumerate((
    "jan january januar janner jaenner janvier janv enero ene",
    "feb february februar fevrier fev fevr febrero",
    "mar march marz maerz mrz mars marzo",
    "apr april avril avr abril abr",
    "may mai mayo",
    "jun june juni juin junio",
    "jul july juli juillet juil julio",
    "aug august aout agosto ago",
    "sep sept september septembre septiembre setiembre set",
    "oct october okt oktober octobre octubre",
    "nov november novembre noviembre",
    "dec december dez dezember decembre dic diciembre",
), start=1) for name in names.split()}
_SIZES = {"month": 1, "quarter": 3, "half": 6, "year": 12}


class PeriodError(UserError):
    """A period label or range a user gave cannot be understood."""


@dataclass(frozen=True)
class Period:
    """A closed range of days [start, end] with a label people read ("2025-Q3")."""

    start: date
    end: date
    label: str
    kind: str = "custom"  # month | quarter | half | year | custom
    fiscal_start: int = 1  # first month of the year its quarters, halves and years belong to

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

    def previous(self) -> Period:
        """The period of equal length (same kind) just before this one."""
        if self.kind in _SIZES:
            return self._shifted(-_SIZES[self.kind])
        end = self.start - timedelta(days=1)
        return custom(end - timedelta(days=self.days - 1), end)

    def year_earlier(self) -> Period:
        """The same period one year earlier (for growth)."""
        if self.kind in _SIZES:
            return self._shifted(-12)
        return custom(_minus_year(self.start), _minus_year(self.end))

    def _shifted(self, months: int) -> Period:
        return block(self.kind, *_shift_month(self.start.year, self.start.month, months), self.fiscal_start)


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


def fiscal_year_of(y: int, m: int, fiscal_start: int = 1) -> int:
    """The fiscal year month (y, m) belongs to: named by the calendar year it ends in."""
    return y + (fiscal_start > 1 and m >= fiscal_start)


def block(kind: str, y: int, m: int, fiscal_start: int = 1) -> Period:
    """The month, quarter, half or year (of the calendar starting in `fiscal_start`) that begins in
    month (y, m), labelled "2025-Q3" on the calendar year and "FY2026-Q1" on a fiscal one."""
    n = _SIZES[kind]
    ey, em = _shift_month(y, m, n - 1)
    if kind == "month":
        label = f"{y}-{m:02d}"
    else:
        fy = fiscal_year_of(y, m, fiscal_start)
        part = ((m - fiscal_start) % 12) // n + 1
        prefix = f"FY{fy}" if fiscal_start > 1 else f"{fy}"
        label = prefix if kind == "year" else f"{prefix}-{'Q' if kind == 'quarter' else 'H'}{part}"
    return Period(date(y, m, 1), _month_end(ey, em), label, kind, fiscal_start if kind != "month" else 1)


def fiscal(kind: str, fy: int, part: int = 1, fiscal_start: int = 1) -> Period:
    """Quarter / half `part` (or the whole year) of fiscal year `fy`."""
    first_y, first_m = _shift_month(fy - (fiscal_start > 1), fiscal_start, 0)
    return block(kind, *_shift_month(first_y, first_m, (part - 1) * _SIZES[kind]), fiscal_start)


def calendar_labels(p: Period) -> list[str]:
    """The calendar labels ("2025", "2025-Q3", "2025-07") that tile a period of whole months, coarsest
    first: how a fiscal or half-year period is stored in tables that hold calendar labels."""
    months = pd.period_range(p.start, p.end, freq="M")
    if p.start.day != 1 or p.end != _month_end(p.end.year, p.end.month):
        raise PeriodError(f"{p.label} is not made of whole months.")
    if p.start.month == 1 and len(months) % 12 == 0:
        return [str(y) for y in range(p.start.year, p.start.year + len(months) // 12)]
    if p.start.month % 3 == 1 and len(months) % 3 == 0:
        return [f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months[::3]]
    return [m.strftime("%Y-%m") for m in months]


def custom(start: date, end: date) -> Period:
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    return Period(start, end, f"{start.isoformat()} to {end.isoformat()}", "custom")


def parse_period(label: str, fiscal_start: int = 1) -> Period:
    """A period label as people write it, or PeriodError.

    Calendar: "2025", "2025-Q3", "2025Q3", "Q3/2025", "Q1 2017", "H2 2025", "2025-07", "07/2025",
    "Jul-25", "Jul 2025", "März 2025", "janv. 2025", "marzo 2025". Fiscal (of the year starting in
    month `fiscal_start`): "FY2026", "FY26", "FY2026-Q1", "FY25 Q3", "Q1 FY26", "FY2026-H2".
    """
    text = _plain(label)
    for kind, pattern in _PATTERNS:
        if m := pattern.match(text):
            found = _from_match(kind, m.groups(), fiscal_start)
            if found is not None:
                return found
    raise PeriodError(f"'{label}' is not a period: use a year (2025), a quarter (2025-Q3) "
                      "or a month (2025-07), or with a fiscal year FY2026 or FY2026-Q1.")


def _plain(label: object) -> str:
    """Lower case, accents removed, spaces collapsed ("März 2025" -> "marz 2025")."""
    text = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text.lower()).strip()


def _full_year(text: str) -> int:
    y = int(text)
    return 2000 + y if y < 100 else y


def _from_match(kind: str, g: tuple[str, ...], fiscal_start: int) -> Period | None:
    """The Period a matched pattern names, or None when its numbers are out of range."""
    if kind == "year":
        return year(int(g[0]))
    if kind == "fy_year":
        return fiscal("year", _full_year(g[0]), 1, fiscal_start)
    if kind in ("fy_part", "fy_part_rev"):
        fy, letter, n = (g[0], g[1], g[2]) if kind == "fy_part" else (g[2], g[0], g[1])
        return _part(letter, int(n), lambda k, p: fiscal(k, _full_year(fy), p, fiscal_start))
    if kind in ("part", "part_rev"):
        y, letter, n = (g[0], g[1], g[2]) if kind == "part" else (g[2], g[0], g[1])
        return _part(letter, int(n), lambda k, p: fiscal(k, _full_year(y), p, 1))
    if kind in ("month", "month_rev"):
        y, mo = (g[0], g[1]) if kind == "month" else (g[1], g[0])
        return month(int(y), int(mo)) if 1 <= int(mo) <= 12 else None
    name, y = (g[0], g[1]) if kind == "month_name" else (g[1], g[0])
    month_no = _MONTH_NAMES.get(name)
    return month(_full_year(y), month_no) if month_no else None


def _part(letter: str, n: int, make: Callable[[str, int], Period]) -> Period | None:
    if letter == "q":
        return make("quarter", n)
    return make("half", n) if n <= 2 else None


def period_of(kind: str, day: date, fiscal_start: int = 1) -> Period:
    """The month, quarter, half or year (of the calendar starting in `fiscal_start`) containing `day`."""
    day = pd.Timestamp(day).date()
    if kind not in _SIZES:
        raise PeriodError(f"Unknown period kind '{kind}'.")
    start = 1 if kind == "month" else fiscal_start
    back = (day.month - start) % _SIZES[kind]
    return block(kind, *_shift_month(day.year, day.month, -back), fiscal_start)


def latest_complete(kind: str, last_day: date, fiscal_start: int = 1) -> Period:
    """The latest month/quarter/half/year that ends on or before `last_day` (the last day with data)."""
    p = period_of(kind, last_day, fiscal_start)
    return p if p.end <= pd.Timestamp(last_day).date() else p.previous()


def months_between(start: date, end: date) -> list[Period]:
    """Every calendar month from the month of `start` to the month of `end`, as Periods."""
    return [month(p.year, p.month) for p in pd.period_range(start, end, freq="M")]
