"""Numbers in words people read: money, percentages, counts — and "n/a" for anything missing."""
from __future__ import annotations

from typing import Any

import pandas as pd

NA = "n/a"


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # list-likes are not missing scalars
        return False


# The reporting currency's sign in money labels (settings.reporting_currency): its symbol, or its
# ISO code and a space when it has no unmistakable symbol ("CHF 1.2M").
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money_symbol(currency: str = "USD") -> str:
    """"$", "€", "£" … or "CHF " for amounts in `currency` (an ISO code)."""
    code = (currency or "USD").upper()
    return _SYMBOLS.get(code, f"{code} ")


def fmt_money(x: Any, compact: bool = True, currency: str = "USD") -> str:
    """$1.2M / $845k / $950 (compact), or $1,234,567 (full); €, £ or "CHF " for other currencies."""
    if is_missing(x):
        return NA
    v = float(x)
    sign = "-" if v < 0 else ""
    a = abs(v)
    s = money_symbol(currency)
    if not compact:
        return f"{sign}{s}{a:,.0f}"
    if a >= 1e9:
        return f"{sign}{s}{a / 1e9:.1f}B"
    if a >= 1e6:
        return f"{sign}{s}{a / 1e6:.2f}M"
    if a >= 1e4:
        return f"{sign}{s}{a / 1e3:.0f}k"
    return f"{sign}{s}{a:,.0f}"


def fmt_pct(x: Any, digits: int = 0) -> str:
    """A fraction as a percentage: 0.873 → '87%'."""
    return NA if is_missing(x) else f"{float(x) * 100:.{digits}f}%"


def fmt_num(x: Any, digits: int = 1) -> str:
    return NA if is_missing(x) else f"{float(x):,.{digits}f}"


_BY_UNIT = {"pct": fmt_pct, "money": fmt_money,
            "ratio": lambda v: f"{v:.2f}".rstrip("0").rstrip(".") + "×",
            "index": lambda v: fmt_num(v, 0), "score": lambda v: fmt_num(v, 0),
            "count": lambda v: fmt_num(v, 0), "days": lambda v: fmt_num(v, 0) + " days",
            "rating": lambda v: f"{v:+.1f}", "per_week": lambda v: fmt_num(v, 1),
            "per_quarter": lambda v: fmt_num(v, 1)}


def fmt_unit(value: Any, unit: str) -> str:
    """A value in words for its unit ("58%", "1.4×", "12 days", "$845k"); "n/a" when missing."""
    return NA if is_missing(value) else _BY_UNIT[unit](float(value))
