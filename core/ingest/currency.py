"""Money in several currencies, converted to one reporting currency (data.md: never summed unconverted).

A money cell may carry its currency as an ISO code or a symbol ("EUR 1.234,56", "€1.234,56",
"£900", "CHF 1'234.50", "1,234.56 USD"), or the sheet may have a `currency` column. Amounts are
converted to the reporting currency of the settings with the rate the user entered for that
currency, else the European Central Bank's rate of the row's date (the `currencyconverter`
package ships the ECB's history since 1999 and works offline; a date outside it, or a day without
a rate, takes the nearest known rate). A currency that cannot be converted stops the load with a
message naming it: different currencies are never added together.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.dataset import ISSUE_COLUMNS, ColumnMatch
from core.errors import UserError
from core.ingest import cleaning
from core.ingest.readers import RawSheet

if TYPE_CHECKING:
    from currency_converter import CurrencyConverter

DEFAULT = "USD"
MONEY_COLUMNS = ("revenue", "quota", "amount", "payout", "potential", "market_potential")
# Symbols people put in amounts, longest first so "US$" is not read as "$".
SYMBOLS = {"US$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD",
           "HK$": "HKD", "S$": "SGD", "R$": "BRL", "Fr.": "CHF", "€": "EUR", "£": "GBP", "¥": "JPY",
           "₹": "INR", "₩": "KRW", "₺": "TRY", "zł": "PLN", "$": "USD"}
_CURRENCY_HEADERS = re.compile(r"(?i)^(?:(?:opportunity|amount|deal|order|invoice|transaction)\s+)?"
                               r"(?:currency(?:\s+(?:iso\s+)?code)?|curr|ccy|iso\s+code|w[äa]hrung|devise|"
                               r"moneda|divisa)$")
# ISO 4217 codes in use (the ECB's history adds a few retired ones); a three-letter word that is not
# one of them ("abc", "N/A") is not a currency.
ISO_CODES = frozenset(re.findall(r"[A-Z]{3}", """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD
KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK
NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD
SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF
XPF YER ZAR ZMW ZWL"""))
_CODE = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(ISO_CODES)) + r")(?![A-Za-z])")
_SYMBOL = re.compile("|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True)))
_MARKER = re.compile(r"[A-Za-z€£¥₹₩₺$]")


@functools.cache
def _converter() -> CurrencyConverter:
    from currency_converter import CurrencyConverter

    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)


def known_codes() -> frozenset[str]:
    """The ISO codes the ECB history can convert."""
    return frozenset(_converter().currencies)


def code_of(text: str | float | None) -> str | None:
    """The currency a cell or a `currency` column value names (ISO code or symbol), or None."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    text = str(text).strip()
    if m := _CODE.search(text.upper() if len(text) == 3 else text):
        return m.group(1)
    if len(text) == 3 and text.isalpha():
        return None
    if m := _SYMBOL.search(text):
        return SYMBOLS[m.group(0)]
    return None


def parse_money(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each cell's amount (float, NaN when unreadable) and the currency its text names (or NA)."""
    text = cleaning.to_text(values)
    marked = text.str.contains(_MARKER).fillna(False).astype(bool)
    codes = pd.Series(pd.NA, index=values.index, dtype="str")
    if marked.any():
        distinct = text[marked].unique()
        found = {t: code_of(t) for t in distinct}
        codes[marked] = text[marked].map(found)
    body = text.where(~marked, text.str.replace(_CODE, "", regex=True).str.replace(_SYMBOL, "", regex=True))
    body = body.str.replace(r"(?<=\d)'(?=\d{3})", "", regex=True).str.strip()
    numeric = values.dtype.kind in "fi"
    amount = values.astype("float64") if numeric else cleaning.parse_number(body.astype(object)).values
    return amount, codes


def _rates(pairs: pd.DataFrame, target: str, user: Mapping[str, float]) -> pd.Series:
    """Units of `target` per unit of each (code, day) pair; NaN where no rate is known."""
    conv = _converter()
    known = set(conv.currencies)
    out = []
    for code, day in zip(pairs["code"], pairs["day"], strict=True):
        if code == target:
            out.append(1.0)
        elif code in user:
            out.append(float(user[code]))
        elif code in known and target in known:
            when = None if pd.isna(day) else pd.Timestamp(day).date()
            out.append(conv.convert(1.0, code, target, date=when))
        else:
            out.append(np.nan)
    return pd.Series(out, index=pairs.index, dtype="float64")


def convert(amount: pd.Series, codes: pd.Series, days: pd.Series | None, target: str = DEFAULT,
            user_rates: Mapping[str, float] | None = None, where: str = "") -> pd.Series:
    """Amounts in `target`; rows with no currency are taken to be in `target` already.

    Raises UserError naming the currencies that have no rate (user-entered or ECB)."""
    target = target.upper()
    user = {k.upper(): v for k, v in (user_rates or {}).items()}
    codes = codes.fillna(target).astype("str").str.upper()
    day = days if days is not None else pd.Series(pd.NaT, index=amount.index)
    pairs = pd.DataFrame({"code": codes.to_numpy(), "day": pd.to_datetime(day).dt.normalize().to_numpy()})
    distinct = pairs.drop_duplicates()
    rate = _rates(distinct, target, user)
    missing = sorted(set(distinct.loc[rate.isna(), "code"]))
    if missing:
        seen = sorted(set(codes))
        raise UserError(f"{where + ': ' if where else ''}amounts are in {', '.join(seen)}, and "
                        f"{', '.join(missing)} cannot be converted to {target} (no exchange rate is known). "
                        f"Enter the rate on the Targets & settings page (Currency), or choose another "
                        "reporting currency; amounts in different currencies are never added together.")
    lookup = pd.Series(rate.to_numpy(), index=pd.MultiIndex.from_frame(distinct))
    per_row = lookup.reindex(pd.MultiIndex.from_frame(pairs)).to_numpy()
    return pd.Series(amount.to_numpy(dtype="float64") * per_row, index=amount.index)


def _may_name_currency(raw: pd.Series, target: str) -> bool:
    """A quick look before the careful parse: can any cell name a currency other than `target`?
    (Numbers cannot; a "$" alone is the reporting currency when that is USD.)"""
    if raw.dtype.kind in "fiub":
        return False
    marker = r"[A-Za-z€£¥₹₩₺]" if target == "USD" else r"[A-Za-z€£¥₹₩₺$]"
    arr = getattr(raw.array, "_pa_array", None)
    if arr is not None:     # pyarrow-backed text (CSV files): one scan, no copy
        import pyarrow.compute as pc

        return bool(pc.any(pc.match_substring_regex(arr, marker)).as_py())
    if raw.dtype == object:  # workbook cells: only the text cells can name a currency
        raw = raw[[isinstance(v, str) for v in raw]]
    return bool(raw.astype("str").str.contains(marker, regex=True).fillna(False).any())


def currency_column(columns: Sequence[str]) -> str | None:
    """The sheet's currency column ("Currency", "Opportunity Currency", "Währung" …), if any."""
    return next((c for c in columns if _CURRENCY_HEADERS.match(re.sub(r"[_\s]+", " ", str(c)).strip())), None)


def _row_days(sheet: RawSheet, mapping: dict[str, str]) -> pd.Series | None:
    """The day whose rate converts each row: its date, close date or period start; None = latest."""
    for name in ("date", "close_date", "created_date"):
        if name in mapping:
            return cleaning.parse_date(sheet.data[mapping[name]]).values
    if "period" in mapping:
        from core.periods import PeriodError, parse_period

        def start(label: str) -> date | None:
            try:
                return parse_period(label).start
            except PeriodError:
                return None
        text = cleaning.to_text(sheet.data[mapping["period"]])
        starts = {t: start(t) for t in text.dropna().unique()}
        return pd.to_datetime(text.map(starts))
    return None


def to_reporting(sheet: RawSheet, matches: Sequence[ColumnMatch], target: str = DEFAULT,
                 user_rates: Mapping[str, float] | None = None) -> tuple[RawSheet, list[Conversion]]:
    """The sheet with its money columns in the reporting currency, and what was converted per column.

    A sheet whose amounts name no currency other than `target` comes back as it is. Raises
    UserError when a currency has no rate."""
    mapping = {m.canonical: m.source_column for m in matches if m.canonical}
    money = [mapping[c] for c in MONEY_COLUMNS if c in mapping]
    if not money:
        return sheet, []
    target = (target or DEFAULT).upper()
    cur_col = currency_column([m.source_column for m in matches if m.canonical is None])
    column_codes = None
    if cur_col is not None:
        column_codes = cleaning.to_text(sheet.data[cur_col]).map(code_of, na_action="ignore").astype("str")
    data, notes = None, []
    for col in money:
        raw = sheet.data[col]
        if column_codes is None and not _may_name_currency(raw, target):
            continue
        amount, codes = parse_money(raw)
        if column_codes is not None:
            codes = codes.fillna(column_codes)
        foreign = codes.notna() & codes.ne(target)
        if not foreign.any():
            continue
        converted = convert(amount, codes, _row_days(sheet, mapping), target, user_rates, sheet.source)
        data = sheet.data.copy() if data is None else data
        data[col] = raw.astype(object).where(amount.isna(), converted.astype(object))
        counts = codes[foreign].value_counts()
        notes.append(Conversion(sheet.source, col, target, counts, dict(user_rates or {})))
    if data is None:
        return sheet, []
    return dataclasses.replace(sheet, data=data), notes


@dataclasses.dataclass(frozen=True)
class Conversion:
    """The amounts of one column converted to the reporting currency: rows per source currency."""

    source: str
    column: str
    target: str
    counts: pd.Series               # currency code -> rows, most rows first
    user: Mapping[str, float]       # the user's own rates, by currency

    def note(self) -> pd.DataFrame:
        """The validation report's line for it."""
        mine = {k.upper() for k in self.user}
        how = {c: "your rate" if c.upper() in mine else "ECB rate of the row's date" for c in self.counts.index}
        value = "; ".join(f"{c}: {n:,} rows ({how[c]})" for c, n in self.counts.items())
        row = {"Table": "", "Source": self.source, "Row": pd.NA, "Column": self.column,
               "Problem": f"{CONVERTED} {self.target}", "Value": value, "Kind": "info"}
        return pd.DataFrame([row])[ISSUE_COLUMNS].astype({c: "str" for c in ISSUE_COLUMNS if c != "Row"}) \
            .astype({"Row": "Int64"})


CONVERTED = "amounts converted to"


def combined(conversions: Sequence[Conversion]) -> list[Conversion]:
    """One conversion per source and column, the rows of each currency added up: each batch of a
    big file converts its own rows."""
    out: dict[tuple[str, str], Conversion] = {}
    for c in conversions:
        seen = out.get((c.source, c.column))
        counts = c.counts if seen is None else seen.counts.add(c.counts, fill_value=0).astype("int64")
        ordered = counts.sort_index().sort_values(ascending=False, kind="stable")    # most rows first
        out[(c.source, c.column)] = dataclasses.replace(c, counts=ordered)
    return list(out.values())


def converted_from(issues: pd.DataFrame) -> list[str]:
    """The currencies ingest converted from (read from its notes), for pages and the workbook."""
    notes = issues[issues["Problem"].str.startswith(CONVERTED, na=False)]
    found = notes["Value"].str.findall(r"([A-Z]{3}): ").explode().dropna()
    return sorted(set(found))


def currency_line(code: str, issues: pd.DataFrame) -> str:
    """One sentence saying which currency the amounts are in, and what was converted."""
    code = (code or DEFAULT).upper()
    source = converted_from(issues)
    if not source:
        return f"Amounts in {code}."
    return f"Amounts in {code}; amounts in {', '.join(source)} were converted to {code}."
