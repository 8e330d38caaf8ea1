"""Currencies: detected per row, converted to the reporting currency, or refused by name."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from currency_converter import CurrencyConverter

from core.errors import UserError
from core.fmt import fmt_money
from core.ingest import currency
from core.ingest.pipeline import ingest
from tests.ingest_helpers import xlsx


def test_amounts_and_their_currency_are_read_from_each_cell():
    cells = pd.Series(["EUR 1.234,56", "€1.234,56", "£900", "CHF 1'234.50", "1,234.56 USD", "$5", "700",
                       None, "abc", "1.234,56 €"], dtype=object)
    amount, code = currency.parse_money(cells)
    assert amount.tolist()[:7] == [1234.56, 1234.56, 900.0, 1234.5, 1234.56, 5.0, 700.0]
    assert amount.iloc[7:9].isna().all() and amount.iloc[9] == 1234.56
    assert code.fillna("").tolist() == ["EUR", "EUR", "GBP", "CHF", "USD", "USD", "", "", "", "EUR"]


def test_convert_uses_the_users_rate_first_then_the_ecb_rate_of_the_day():
    amount = pd.Series([100.0, 100.0, 100.0, 50.0])
    codes = pd.Series(["EUR", "GBP", "GBP", pd.NA], dtype="str")
    days = pd.Series(pd.to_datetime(["2025-03-03", "2020-03-02", "2025-03-03", "2025-03-03"]))
    got = currency.convert(amount, codes, days, "USD", {"EUR": 1.1})
    ecb = CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)
    assert got.tolist() == pytest.approx([110.0, ecb.convert(100, "GBP", "USD", dt.date(2020, 3, 2)),
                                          ecb.convert(100, "GBP", "USD", dt.date(2025, 3, 3)), 50.0])
    assert got[1] != pytest.approx(got[2])           # each row at its own day's rate


def test_a_currency_without_rate_is_refused_by_name():
    with pytest.raises(UserError, match=r"ARS, USD.*ARS cannot be converted to USD"):
        currency.convert(pd.Series([1.0, 2.0]), pd.Series(["ARS", "USD"]), None, "USD")


def _sales(rows: list[list[object]]) -> bytes:
    return xlsx({"Sales": [["Date", "Rep", "Product", "Revenue", "Currency"], *rows]})


def test_a_workbook_with_sales_in_two_currencies_is_converted_and_says_so():
    book = _sales([[dt.datetime(2025, 3, 3), "R1", "GTX", 100, "EUR"],
                   [dt.datetime(2025, 3, 4), "R1", "GTX", 200, "USD"],
                   [dt.datetime(2025, 3, 5), "R2", "GTX", "€50", None]])
    ds = ingest([("book.xlsx", book)], {"currency": {"reporting": "USD", "rates": {"EUR": 1.1}}})
    assert ds.table("sales")["revenue"].tolist() == pytest.approx([110.0, 200.0, 55.0])
    assert currency.converted_from(ds.issues) == ["EUR"]
    assert currency.currency_line("USD", ds.issues) == \
        "Amounts in USD; amounts in EUR were converted to USD."
    note = ds.issues[ds.issues["Problem"].str.startswith(currency.CONVERTED)]
    assert note["Table"].tolist() == ["sales"] and "EUR: 2 rows (your rate)" in note["Value"].iloc[0]


def test_a_workbook_in_a_currency_without_rate_is_refused_naming_the_currencies():
    book = _sales([[dt.datetime(2025, 3, 3), "R1", "GTX", "ARS 1.000", None],
                   [dt.datetime(2025, 3, 4), "R1", "GTX", "£200", None]])
    with pytest.raises(UserError, match=r"ARS, GBP.*ARS cannot be converted to USD"):
        ingest([("book.xlsx", book)])


def test_plain_numbers_and_dollar_signs_are_left_alone_in_usd():
    book = _sales([[dt.datetime(2025, 3, 3), "R1", "GTX", "$1,000", None],
                   [dt.datetime(2025, 3, 4), "R1", "GTX", 250, None]])
    ds = ingest([("book.xlsx", book)])
    assert ds.table("sales")["revenue"].tolist() == [1000.0, 250.0]
    assert currency.converted_from(ds.issues) == []


def test_money_labels_carry_the_reporting_currency():
    assert fmt_money(1_234_567) == "$1.23M"
    assert fmt_money(12_345, currency="EUR") == "€12k"
    assert fmt_money(950, compact=False, currency="CHF") == "CHF 950"
