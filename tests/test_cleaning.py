"""Value parsers: money, dates, ZIPs, booleans, activity types, stages, product spellings."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.ingest import cleaning


def _num(values, dtype="str"):
    return cleaning.parse_number(pd.Series(values, dtype=dtype))


@pytest.mark.parametrize("text, expected", [
    ("USD 1,054.00", 1054.0), ("$1,054", 1054.0), ("(1,054)", -1054.0), ("1.054,00 €", 1054.0),
    ("1,2k", 1200.0), ("1.2k", 1200.0), ("-$1,000.50", -1000.5), ("1,054,000.50", 1054000.5),
    ("1.054.000", 1054000.0), ("EUR 3", 3.0), (" 42 ", 42.0), ("85%", 85.0), ("2.5m", 2.5e6),
])
def test_money_as_people_write_it(text, expected):
    """Currency codes, symbols, brackets, European separators and k/m suffixes are read."""
    assert _num([text]).values.iloc[0] == pytest.approx(expected)


def test_unreadable_number_flagged_and_blank_not():
    """'n/a' is flagged as unreadable; an empty cell and #N/A are blanks, not errors."""
    parsed = _num(["n/a", "", "#N/A", "7"])
    assert parsed.values.iloc[3] == 7.0
    assert parsed.values.iloc[:3].isna().all()
    assert parsed.bad.tolist() == [True, False, False, False]


def test_one_thousands_group_follows_the_column():
    """'1.054' is a thousand in a column that writes decimals with commas, else a decimal."""
    assert _num(["1.054", "12,5"]).values.tolist() == [1054.0, 12.5]
    assert _num(["1,054", "12.5"]).values.tolist() == [1054.0, 12.5]
    assert _num(["1.054"]).values.tolist() == [1.054]


def test_workbook_cells_mix_numbers_and_text():
    """Typed workbook cells (floats) and text amounts in one column are both read."""
    parsed = cleaning.parse_number(pd.Series([1054.0, "USD 5", "", "x"], dtype=object))
    assert parsed.values.iloc[:2].tolist() == [1054.0, 5.0]
    assert parsed.bad.tolist() == [False, False, False, True]


def _dates(values, dtype="str"):
    return cleaning.parse_date(pd.Series(values, dtype=dtype))


def test_iso_us_and_two_digit_years():
    """ISO, ISO with time, US m/d/Y and m/d/yy read to midnight datetime64[ns]."""
    parsed = _dates(["2024-03-01", "2024-03-01 10:05:00", "03/02/2024", "12/31/24"])
    assert parsed.values.dtype == "datetime64[ns]"
    assert parsed.values.dt.strftime("%Y-%m-%d").tolist() == ["2024-03-01", "2024-03-01", "2024-03-02",
                                                              "2024-12-31"]
    assert parsed.note == ""


def test_day_first_decided_per_column():
    """A first field above 12 anywhere in the column makes the whole column day-first."""
    parsed = _dates(["31/01/2024", "02/03/2024"])
    assert parsed.values.dt.strftime("%Y-%m-%d").tolist() == ["2024-01-31", "2024-03-02"]
    assert parsed.note == ""


def test_undecidable_dates_reported_as_ambiguous():
    """When no value settles the order, the US reading is used and the note says so."""
    parsed = _dates(["01/02/2024", "02/03/2024"])
    assert parsed.values.dt.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-02-03"]
    assert "month-first" in parsed.note


def test_serials_datetimes_and_words():
    """Excel serial numbers, datetime cells and month names; unreadable text is flagged."""
    cells = pd.Series([dt.datetime(2024, 3, 1, 10), 45000.0, "Mar 5, 2024", "nope", "", None], dtype=object)
    parsed = cleaning.parse_date(cells)
    assert parsed.values.iloc[:3].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-01", "2023-03-15",
                                                                       "2024-03-05"]
    assert parsed.bad.tolist() == [False, False, False, True, False, False]


@pytest.mark.parametrize("cell, expected", [("2138", "02138"), ("02138-1234", "02138"), (2138.0, "02138"),
                                            ("2138.0", "02138"), ("021381234", "02138"), ("98101", "98101")])
def test_zip_codes_keep_leading_zeros(cell, expected):
    assert cleaning.parse_zip(pd.Series([cell], dtype=object)).values.iloc[0] == expected


def test_zip_unreadable_flagged():
    assert cleaning.parse_zip(pd.Series(["abc"])).bad.iloc[0]


def test_booleans():
    """yes/no, true/false, 1/0, y/n and 'x' are read; anything else is flagged."""
    parsed = cleaning.parse_bool(pd.Series(["yes", "N", "x", "1", "0", "TRUE", "maybe", None], dtype=object))
    assert parsed.values.tolist()[:6] == [True, False, True, True, False, True]
    assert parsed.values.dtype == "boolean"
    assert parsed.bad.tolist() == [False] * 6 + [True, False]


@pytest.mark.parametrize("raw, canonical", [
    ("Face to Face", "meeting"), ("Detail Only", "meeting"), ("Visit", "meeting"), ("In-service", "workshop"),
    ("Inservice", "workshop"), ("Case coverage", "case_support"), ("OR case", "case_support"),
    ("Call", "phone"), ("Phone call", "phone"), ("E-mail", "email"), ("Group Detail", "presentation"),
    ("Product demo", "demo"), ("case_support", "case_support"), ("Knitting", "other"),
])
def test_activity_types(raw, canonical):
    assert cleaning.activity_type(pd.Series([raw], dtype="str")).iloc[0] == canonical


def test_status_from_stage():
    stages = pd.Series(["Closed Won", "Won", "closedwon", "Closed Lost", "Lost", "closedlost", "Prospecting",
                        "appointmentscheduled", "Negotiation/Review"], dtype="str")
    assert cleaning.status_from_stage(stages).tolist() == ["won"] * 3 + ["lost"] * 3 + ["open"] * 3


def test_product_spellings_follow_reference_or_majority():
    """'GTXPro' joins 'GTX Pro' from the reference list; without one the most frequent spelling wins."""
    values = pd.Series(["GTXPro"] * 3 + ["GTX Pro"] * 2 + ["MG"], dtype="str")
    assert cleaning.canonical_spellings(values, pd.Series(["GTX Pro"], dtype="str")) == {"GTXPro": "GTX Pro"}
    assert cleaning.canonical_spellings(values) == {"GTX Pro": "GTXPro"}


def test_period_labels():
    cells = pd.Series(["2025", "2025-Q3", "Q3 2025", "07/2025", dt.datetime(2025, 3, 1), 2025.0, "junk"],
                      dtype=object)
    parsed = cleaning.parse_period_label(cells)
    assert parsed.values.iloc[:6].tolist() == ["2025", "2025-Q3", "2025-Q3", "2025-07", "2025-03", "2025"]
    assert parsed.bad.tolist() == [False] * 6 + [True]


def test_text_cells():
    """Ids stored as numbers lose the '.0'; blanks and #N/A become missing."""
    text = cleaning.to_text(pd.Series([1001.0, " a ", "#N/A", ""], dtype=object))
    assert text.iloc[:2].tolist() == ["1001", "a"]
    assert text.iloc[2:].isna().all()


@pytest.mark.slow   # a timing check: out of the default run, run by .ci/run's slow step
def test_big_columns_are_fast():
    """200k plain numbers and repeated dates parse in well under a second."""
    import time
    numbers = pd.Series(np.round(np.random.default_rng(1).random(200_000), 2).astype(str), dtype="str")
    dates = pd.Series(pd.date_range("2020-01-01", periods=1000).strftime("%m/%d/%Y").tolist() * 200,
                      dtype="str")
    start = time.perf_counter()
    assert cleaning.parse_number(numbers).values.notna().all()
    assert cleaning.parse_date(dates).values.notna().all()
    assert time.perf_counter() - start < 1.0


def test_label_parsers_read_each_distinct_value_once_alike():
    """Big text columns are parsed per distinct value and spread back: same values, flags and row
    labels as parsing every cell (the small path)."""
    roles = ["Surgeon", "buyer", None, "CEO", "xyz", "nurse", "VP Supply"]
    periods = ["Q3 2025", "2025-07", None, "", "junk", "2025", "07/2025"]
    for parser, cells in ((cleaning.contact_role, roles), (cleaning.parse_period_label, periods)):
        big = pd.Series(cells * 300, dtype="str", index=np.arange(5, 5 + 7 * 300))
        fast, cell_by_cell = parser(big), parser.__wrapped__(big)
        pd.testing.assert_series_equal(fast.values, cell_by_cell.values)
        pd.testing.assert_series_equal(fast.bad, cell_by_cell.bad)
    small = cleaning.contact_role(pd.Series(roles, dtype="str"))
    assert small.values.tolist()[:2] == ["user", "buyer"] and small.bad.tolist()[4]


# --------------------------------------------------------------------------------------- identity and "no date"
def test_person_key_is_one_key_per_person():
    names = pd.Series(["John Smith", "Smith, John", "JOHN  SMITH", " john smith ", "José Müller", "Jose Muller",
                       "JosÃ© MÃ¼ller", "Müller, José", "John Smyth", None], dtype="object")
    keys = cleaning.person_key(names)
    assert keys.iloc[:4].unique().tolist() == ["john smith"]
    assert keys.iloc[4:8].unique().tolist() == ["jose muller"]
    assert keys.iloc[8] == "john smyth" and pd.isna(keys.iloc[9])


def test_canonical_spelling_of_a_person_prefers_the_plain_form():
    values = pd.Series(["Smith, John", "Smith, John", "John Smith", "JosÃ© MÃ¼ller", "JosÃ© MÃ¼ller", "José Müller"])
    assert cleaning.canonical_spellings(values, key=cleaning.person_key) == {
        "Smith, John": "John Smith", "JosÃ© MÃ¼ller": "José Müller"}


def test_lookalike_letters_folded_and_named():
    assert cleaning.fold_lookalikes("Rev\u0435nue") == "Revenue"           # Cyrillic е
    assert cleaning.fold_lookalikes("\u0410mount\u200b") == "Amount"        # Cyrillic А, zero-width space
    assert cleaning.fold_lookalikes("Ｒｅｐ") == "Rep"
    assert cleaning.lookalike_letters("Rev\u0435nue") == "\u0435"
    assert cleaning.lookalike_letters("Revenue") == "" and cleaning.lookalike_letters("Выручка") == ""


@pytest.mark.parametrize("cell", ["9999-12-31", "12/31/9999", "31.12.9999", "9999-12-31 23:59:59", "99991231",
                                  "0000-00-00", "1900-01-01", "4712-12-31", dt.datetime(9999, 12, 31), 2958465.0])
def test_no_date_values_read_as_no_date(cell):
    parsed = cleaning.parse_date(pd.Series([cell, "2024-01-05"], dtype="object"))
    assert parsed.no_date.tolist() == [True, False]
    assert parsed.bad.tolist() == [False, False]
    assert pd.isna(parsed.values.iloc[0]) and parsed.values.iloc[1] == pd.Timestamp("2024-01-05")


@pytest.mark.parametrize("cell", ["1905-03-02", "2099-12-31", "9/9/1999", 45000.0, 1.0])
def test_real_dates_are_not_no_date_values(cell):
    assert not cleaning.parse_date(pd.Series([cell], dtype="object")).no_date.any()


def test_long_label_columns_read_per_distinct_value_as_cell_by_cell():
    """A long text column is parsed once per distinct value; every cell gets what it gets when
    short pieces of the column are parsed cell by cell (the path below 1,000 rows)."""
    cells = ["Face to Face", " phone call ", "", "#N/A", None, "Webinar", "yes", " X ", "Closed Won", "no"]
    long = pd.Series(cells * 150, dtype="str")
    for parse in (cleaning.parse_activity_type, cleaning.parse_status, cleaning.parse_contact_role,
                  cleaning.parse_bool, cleaning.parse_text):
        whole = parse(long)
        pieces = [parse(long.iloc[i:i + 500]) for i in range(0, len(long), 500)]
        assert whole.values.equals(pd.concat([p.values for p in pieces])), parse.__name__
        assert whole.bad.equals(pd.concat([p.bad for p in pieces])), parse.__name__
    kinds = cleaning.parse_activity_type(long).values
    assert kinds.iloc[0] == "meeting" and kinds.iloc[1] == "phone" and kinds.iloc[5] == "presentation"
    assert kinds.iloc[2:5].isna().all()
    flags = cleaning.parse_bool(long)
    assert flags.values.iloc[6] == True and flags.values.iloc[9] == False and flags.bad.iloc[0]  # noqa: E712
