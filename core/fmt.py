"""Numbers in words people read: money, percentages, counts — and "n/a" for anything missing."""
from __future__ import annotations

import re
from collections.abc import Callable
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


def fmt_chance(p: Any) -> str:
    """A probability as people read one: '<1%' and '>99%' at the ends, never a '0%' or '100%'
    that reads as certainty when a model only says "very unlikely"."""
    if is_missing(p):
        return NA
    if float(p) < 0.01:
        return "<1%"
    if float(p) > 0.99:
        return ">99%"
    return fmt_pct(p)


def fmt_num(x: Any, digits: int = 1) -> str:
    return NA if is_missing(x) else f"{float(x):,.{digits}f}"


def count_of(n: int, noun: str) -> str:
    """'1 rep', '5 reps', '1,200 reps': a count with its noun, singular or plural as read."""
    return f"{n:,} {noun if n == 1 else noun + 's'}"


_BY_UNIT: dict[str, Callable[[float], str]] = {"pct": fmt_pct, "money": fmt_money,
            "ratio": lambda v: f"{v:.2f}".rstrip("0").rstrip(".") + "×",
            "index": lambda v: fmt_num(v, 0), "score": lambda v: fmt_num(v, 0),
            "count": lambda v: fmt_num(v, 0), "days": lambda v: fmt_num(v, 0) + " days",
            "rating": lambda v: f"{v:+.1f}", "per_week": lambda v: fmt_num(v, 1),
            "per_quarter": lambda v: fmt_num(v, 1), "correlation": lambda v: fmt_num(v, 2)}


def fmt_unit(value: Any, unit: str) -> str:
    """A value in words for its unit ("58%", "1.4×", "12 days", "$845k"); "n/a" when missing."""
    return NA if is_missing(value) else _BY_UNIT[unit](float(value))


# ---------------------------------------------------------------------------------------------
# Words for the program's keys: tables, columns and causes as people read them (issue 16)
# ---------------------------------------------------------------------------------------------

_ACRONYMS = {"id": "ID", "kpi": "KPI", "crm": "CRM", "erp": "ERP", "cv": "CV", "url": "URL"}
_TABLE_WORDS = {"follow_ups": "follow-ups"}
# Diagnosis states beside the causes (a rep's primary cause when no cause is blamed).
CAUSE_STATES = {"none": "At goal", "unexplained": "Unexplained", "n/a": "No quota"}


def key_words(key: str) -> str:
    """A snake_case key in lower-case words: 'expected_levels' → 'expected levels', 'rep_id' → 'rep ID'."""
    return " ".join(_ACRONYMS.get(w, w) for w in str(key).split("_") if w)


def table_label(name: str) -> str:
    """A table's name as a sentence reads it: 'follow_ups' → 'follow-ups'."""
    return _TABLE_WORDS.get(name, key_words(name))


def column_label(name: str) -> str:
    """A column's name as a header: 'rep_id' → 'Rep ID', 'hire_date' → 'Hire date'."""
    text = key_words(name)
    return text[:1].upper() + text[1:]


def cause_label(key: str) -> str:
    """A cause key as its label ('customer_retention' → 'Customer retention'), or a diagnosis state
    ('none' → 'At goal'); one home for the map pages and exports use."""
    # imported on use: fmt stays a leaf module that computing modules import
    from core.diagnostic.signals import CAUSES

    if key in CAUSES:
        return CAUSES[key].label
    return CAUSE_STATES.get(key, column_label(key))


def cause_labels(keys: Any) -> str:
    """Causes as a list in words: 'customer_retention, pipeline' (or a list of keys) → 'Customer
    retention, Pipeline'; missing → n/a."""
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    elif is_missing(keys):
        return NA
    return ", ".join(cause_label(k) for k in keys)


def readable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as people read it: headers in words, and dates without a midnight time of day."""
    out = frame.rename(columns={c: column_label(c) for c in frame.columns if isinstance(c, str)})
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_datetime64_any_dtype(values) and (values.dropna().dt.normalize() == values.dropna()).all():
            out[col] = values.dt.strftime("%Y-%m-%d").fillna("")
    return out


# How core names its statistical methods, in words a sales director reads (core's own strings stay
# as they are for the tests; every page, the workbook and the deck show these words).
_RULES_FEW = re.compile(r"\brules \((\d+) (reps|months): too few for a model\)")
_OLS = re.compile(r"\bmodel: OLS\b")
_METHOD_WORDS = (("rules (team-level measure)", "rule of thumb (a measure of the whole team)"),
                 ("mixed model (per-rep slope)", "a model across the team with each rep's own trend"),
                 ("per-rep fit", "a trend fitted to the rep's own ratings"),
                 ("too few assessments", "too few ratings for a trend"))


def method_words(text: str) -> str:
    """A method description from core in plain words: "rules (11 reps: too few for a model)" →
    "rules of thumb (only 11 reps, too few to fit a model)"; text it does not know is unchanged."""
    def few(m: re.Match[str]) -> str:
        count, what = int(m.group(1)), m.group(2)
        return ("rules of thumb (no " + what + " to fit a model on)" if count == 0
                else f"rules of thumb (only {count} {what}, too few to fit a model)")

    text = _OLS.sub("a regression (least squares)", _RULES_FEW.sub(few, text))
    for raw, words in _METHOD_WORDS:
        text = text.replace(raw, words)
    return text
