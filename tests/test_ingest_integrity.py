"""Issue 12, ingest integrity: nothing dropped or merged in silence, one identity per person, no
unusable value loaded, no text file that hangs the reader. Every file is built here in code; each
case checks the message a person reads and that every row is accounted for."""
from __future__ import annotations

import io
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.errors import UserError
from core.ingest.pipeline import ingest
from core.ingest.readers import MAX_COLUMNS, ReadError, read_file
from tests.ingest_helpers import assert_rows_accounted

H = ["Date", "Rep", "Product", "Revenue"]
ROSTER = [["Rep ID", "Rep Name", "Region", "Territory"], ["R1", "Ann Lee", "East", "T1"],
          ["R7", "John Smith", "East", "T1"], ["R9", "John Smith", "West", "T2"]]


def csv(rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    def cell(v: object) -> str:
        text = str(v)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text
    return ("\n".join(",".join(cell(v) for v in r) for r in rows) + "\n").encode(encoding)


def issues(ds, kind: str | None = None, pattern: str = "") -> pd.DataFrame:
    out = ds.issues if kind is None else ds.issues[ds.issues["Kind"] == kind]
    return out[out["Problem"].str.contains(pattern, regex=True)] if pattern else out


def rows_of(frame: pd.DataFrame) -> list[int]:
    return sorted(frame["Row"].dropna().astype(int))


# --------------------------------------------------------------------------------------- 2. nothing dropped
def test_hidden_and_very_hidden_sheets_are_read_and_said_so():
    wb = openpyxl.Workbook()
    visible = wb.active
    visible.title = "Sales"
    for r in [H, ["2024-01-05", "R1", "GTX", 100], ["2024-01-06", "R1", "GTX", 200]]:
        visible.append(r)
    for name, state, n in (("Old", "hidden", 3), ("Archive", "veryHidden", 4)):
        ws = wb.create_sheet(name)
        ws.sheet_state = state
        ws.append(H)
        for i in range(n):
            ws.append([f"2024-02-{i + 1:02d}", name, "GTX", 10 * (i + 1)])
    buffer = io.BytesIO()
    wb.save(buffer)
    ds = ingest([("book.xlsx", buffer.getvalue())])
    assert len(ds.tables["sales"]) == 9
    assert ds.tables["sales"]["revenue"].sum() == 300 + 60 + 100
    hidden = issues(ds, "warning", "in the workbook")
    assert dict(zip(hidden["Source"], hidden["Problem"].str.extract(r"is (hidden|very hidden) in the workbook; "
                                                                     r"its (\d+) rows", expand=True)
                    .agg(" ".join, axis=1), strict=False)) \
        == {"book.xlsx › Old": "hidden 3", "book.xlsx › Archive": "very hidden 4"}
    assert hidden["Problem"].str.contains("choose 'ignore' for it on the Data page").all()
    assert_rows_accounted(ds, rows_in=9)


def test_rows_differing_only_in_a_column_not_loaded_are_not_duplicates():
    """An invoice number or a currency still tells two sales apart (the EUR sale is converted to the
    reporting currency, never added as dollars); a row the same in every column is a duplicate,
    dropped once and listed."""
    head = [*H, "Invoice", "Currency"]
    rows = [["2024-01-05", "R1", "GTX", 100, "INV-1", "USD"],
            ["2024-01-05", "R1", "GTX", 100, "INV-2", "USD"],     # another invoice: a sale
            ["2024-01-05", "R1", "GTX", 100, "INV-3", "EUR"],     # another invoice and currency
            ["2024-01-05", "R1", "GTX", 100, "INV-1", "USD"]]     # row 2 again: a duplicate
    ds = ingest([("sales.csv", csv([head, *rows]))])
    revenue = ds.tables["sales"]["revenue"]
    assert len(revenue) == 3 and (revenue == 100).sum() == 2 and revenue.iloc[2] != 100
    dup = issues(ds, "duplicate")
    assert rows_of(dup) == [5] and dup["Value"].tolist() == ["same as row 2 of sales.csv"]
    assert dup["Problem"].str.contains("the same in every column of the file").all()
    near = issues(ds, "warning", "both kept")
    assert rows_of(near) == [3]          # the EUR sale differs once converted: not even near
    assert near["Problem"].str.contains("Invoice").all()
    assert_rows_accounted(ds, rows_in=4)


def test_calls_differing_in_attendee_type_are_all_kept():
    """A CRM call report: the same rep, account, day and call type, once with a physician and once
    with a nurse, are two calls (whether the attendee column is loaded or not)."""
    for column in ("Attendee Type", "Contact Role"):
        head = ["Date", "Assigned", "Call Type", "Account", column]
        rows = [["2024-03-01", "R1", "Visit", "Mercy", "Physician"],
                ["2024-03-01", "R1", "Visit", "Mercy", "Nurse"],
                ["2024-03-01", "R1", "Visit", "Mercy", "Physician"]]
        ds = ingest([("sales.csv", csv([H, ["2024-01-05", "R1", "GTX", 1]])), ("calls.csv", csv([head, *rows]))])
        assert len(ds.tables["activities"]) == 2, column
        assert rows_of(issues(ds, "duplicate")) == [4]
        assert rows_of(issues(ds, "warning", "both kept")) == [3]
        assert_rows_accounted(ds, rows_in=4)


def test_accounts_named_like_footers_are_kept_real_footers_skipped():
    """ "Copyright Clearance Center", "Powered By Patients Foundation", "Total (East) Medical Group"
    are customers: their sales load. The report's own totals and legal lines at the end do not."""
    head = ["Account", *H]
    rows = [["Copyright Clearance Center", "2024-01-05", "R1", "GTX", 100],
            ["Mercy General", "2024-01-06", "R1", "GTX", 2_000],
            ["Powered By Patients Foundation", "2024-01-07", "R2", "GTX", 10_000],
            ["Total (East) Medical Group", "2024-01-08", "R2", "GTX", 20_000],
            ["Grand Totals (4 records)", "", "", "", 32_100],
            [],
            ["Confidential Information - Do Not Distribute"]]
    ds = ingest([("report.csv", csv([head, *rows]))])
    sales = ds.tables["sales"]
    assert sales["revenue"].sum() == 32_100
    assert sales["account_id"].tolist() == [r[0] for r in rows[:4]]
    assert rows_of(issues(ds, "info", "report footer")) == [6, 8]
    kept = issues(ds, "warning", "reads like a report footer")
    assert rows_of(kept) == [4, 5] and kept["Problem"].str.contains("kept").all()
    assert issues(ds, "rejected").empty
    assert_rows_accounted(ds, rows_in=7)


def test_a_footer_holding_only_its_label_is_skipped_even_where_it_would_load():
    """An accounts list loads from names alone; its "Grand Totals (2 records)" line has nothing else."""
    rows = [["Account ID", "Account Name", "Territory"], ["A1", "Mercy", "T1"],
            ["A2", "Copyright Clearance Center", "T2"], ["Grand Totals (2 records)"]]
    ds = ingest([("sales.csv", csv([H, ["2024-01-05", "R1", "GTX", 1]])), ("accounts.csv", csv(rows))])
    assert ds.tables["accounts"]["account_name"].tolist() == ["Mercy", "Copyright Clearance Center"]
    assert rows_of(issues(ds, "info", "report footer")) == [4]
    assert_rows_accounted(ds, rows_in=4)


# --------------------------------------------------------------------------------------- 3. identity
def test_latin1_export_with_utf8_export_appended_reads_each_part_right():
    part1 = csv([H, ["2024-01-05", "José Müller", "GTX", 100], ["2024-01-06", "Ann", "GTX", 5]], "latin-1")
    part2 = csv([["2024-01-07", "José Müller", "GTX", 200], ["2024-01-08", "Ann", "GTX", 7]], "utf-8")
    ds = ingest([("sales.csv", part1 + part2)])
    assert sorted(ds.tables["reps"]["rep_id"]) == ["Ann", "José Müller"]
    assert ds.tables["sales"].groupby("rep_id")["revenue"].sum().to_dict() == {"Ann": 12, "José Müller": 300}
    assert len(issues(ds, "warning", "different text encodings")) == 1
    assert_rows_accounted(ds, rows_in=4)


def test_one_name_written_several_ways_is_one_rep():
    """Without a roster: "Smith, John", "JOHN  SMITH" and "John Smith" are one person."""
    rows = [["2024-01-05", "John Smith", "GTX", 1], ["2024-01-06", "John Smith", "GTX", 2],
            ["2024-01-07", "Smith, John", "GTX", 4], ["2024-01-08", "JOHN  SMITH", "GTX", 8]]
    ds = ingest([("sales.csv", csv([H, *rows]))])
    assert ds.tables["reps"]["rep_id"].tolist() == ["John Smith"]
    assert ds.tables["sales"]["rep_id"].unique().tolist() == ["John Smith"]
    told = issues(ds, "warning", "the same name written another way")
    assert rows_of(told) == [4, 5]
    assert_rows_accounted(ds, rows_in=4)


def test_roster_names_matched_through_the_same_normaliser():
    rows = [["2024-01-05", "ann  LEE", "GTX", 1], ["2024-01-06", "Lee, Ann", "GTX", 2],
            ["2024-01-07", "Ánn Lee", "GTX", 4]]
    ds = ingest([("sales.csv", csv([H, *rows])), ("reps.csv", csv(ROSTER))])
    assert ds.tables["sales"]["rep_id"].tolist() == ["R1", "R1", "R1"]
    assert issues(ds, "orphan").empty
    assert_rows_accounted(ds, rows_in=6)


def test_two_reps_of_one_name_are_never_merged():
    """Two John Smiths (R7 East, R9 West): rows naming "John Smith" go to neither, and say so."""
    rows = [["2024-01-05", "John Smith", "GTX", 100], ["2024-01-06", "Smith, John", "GTX", 200],
            ["2024-01-07", "R9", "GTX", 400]]
    ds = ingest([("sales.csv", csv([H, *rows])), ("reps.csv", csv(ROSTER))])
    sales = ds.tables["sales"]
    assert sales["rep_id"].tolist() == ["John Smith", "Smith, John", "R9"]
    unclear = issues(ds, "ambiguous")
    assert rows_of(unclear) == [2, 3]
    assert unclear["Problem"].str.contains(r"more than one rep in the rep list \(R7 \(East\), R9 \(West\)\)").all()
    assert unclear["Problem"].str.contains("put the rep's id in the file").all()
    assert issues(ds, "orphan").empty          # listed once, as ambiguous
    assert_rows_accounted(ds, rows_in=6)


def test_roster_without_ids_keeps_namesakes_in_two_regions_apart():
    roster = [["Rep Name", "Region", "Territory"], ["John Smith", "East", "T1"], ["John Smith", "West", "T2"]]
    ds = ingest([("sales.csv", csv([H, ["2024-01-05", "John Smith", "GTX", 1]])), ("reps.csv", csv(roster))])
    assert ds.tables["reps"]["rep_id"].tolist() == ["John Smith (East)", "John Smith (West)"]
    told = issues(ds, "ambiguous")
    assert rows_of(told[told["Table"] == "reps"]) == [2, 3]
    assert rows_of(told[told["Table"] == "sales"]) == [2]
    assert issues(ds, "duplicate").empty
    assert_rows_accounted(ds, rows_in=3)


# --------------------------------------------------------------------------------------- 4. values
def test_infinite_and_absurd_amounts_are_rejected_with_a_reason():
    rows = [["2024-01-05", "R1", "GTX", 100], ["2024-01-06", "R1", "GTX", "inf"],
            ["2024-01-07", "R1", "GTX", "1e308"], ["2024-01-08", "R1", "GTX", "-1e12"],
            ["2024-01-09", "R1", "GTX", "-Infinity"], ["2024-01-10", "R1", "GTX", 999_999_999_999]]
    ds = ingest([("sales.csv", csv([H, *rows]))])
    assert ds.tables["sales"]["revenue"].tolist() == [100, 999_999_999_999]
    bad = issues(ds, "rejected", "infinite or 1,000,000,000,000 or more")
    assert rows_of(bad) == [3, 4, 5, 6]
    assert_rows_accounted(ds, rows_in=6)


def test_absurd_value_in_an_optional_column_is_blanked_and_said_so():
    rows = [["2024-01-05", "R1", "GTX", 100, 3], ["2024-01-06", "R1", "GTX", 50, "1e308"]]
    ds = ingest([("sales.csv", csv([[*H, "Units"], *rows]))])
    units = ds.tables["sales"]["units"]
    assert units.iloc[0] == 3 and np.isnan(units.iloc[1])
    assert rows_of(issues(ds, "warning", "infinite or .*; left blank")) == [3]
    assert_rows_accounted(ds, rows_in=2)


def test_end_of_time_dates_read_as_no_date_and_said_so():
    """9999-12-31 as an expected close date is "no date" (the deal still counts); as a sale's date
    it leaves the sale without the date it needs, so the row is rejected with what to do."""
    opps = [["Opportunity ID", "Owner", "Stage", "Amount", "Close Date", "Created Date"],
            ["O1", "R1", "Prospecting", 500, "9999-12-31", "2024-01-02"],
            ["O2", "R1", "Closed Won", 700, "2024-03-01", "2024-01-02"],
            ["O3", "R1", "Negotiation", 900, "12/31/9999", "2024-01-03"]]
    sales = [H, ["9999-12-31", "R1", "GTX", 5], ["2024-01-06", "R1", "GTX", 6], ["2099-01-01", "R1", "GTX", 7]]
    ds = ingest([("opps.csv", csv(opps)), ("sales.csv", csv(sales))])
    assert ds.tables["opportunities"]["close_date"].isna().tolist() == [True, False, True]
    blanked = issues(ds, "warning", "'no date' value")
    assert rows_of(blanked) == [2, 4] and blanked["Problem"].str.contains("left blank").all()
    rejected = issues(ds, "rejected")
    assert rows_of(rejected[rejected["Problem"].str.contains("'no date' value .* fill it in")]) == [2]
    assert rows_of(rejected[rejected["Problem"].str.contains("more than a year in the future")]) == [4]
    assert ds.tables["sales"]["revenue"].tolist() == [6]
    assert_rows_accounted(ds, rows_in=6)


def test_formulas_saved_without_values_say_to_resave_in_excel():
    """openpyxl writes formulas with no calculated value: the revenue a person saw in Excel is not
    in the file. Those rows are listed with what to do, the others load."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales"
    ws.append([*H, "Units"])
    ws.append(["2024-01-05", "R1", "GTX", 100, 1])
    ws.append(["2024-01-06", "R1", "GTX", "=D2*2", "=E2+1"])
    ws.append(["2024-01-07", "R1", "GTX", 30, "=E2*3"])
    buffer = io.BytesIO()
    wb.save(buffer)
    ds = ingest([("book.xlsx", buffer.getvalue())])
    assert ds.tables["sales"]["revenue"].tolist() == [100, 30]
    assert np.isnan(ds.tables["sales"]["units"].iloc[1])
    told = issues(ds, pattern="saved without calculated values — open it in Excel and save it again")
    assert set(zip(told["Row"].astype(int), told["Kind"], strict=False)) \
        == {(3, "rejected"), (3, "warning"), (4, "warning")}
    assert_rows_accounted(ds, rows_in=3)


def test_formulas_with_placeholder_zero_of_a_workbook_to_recalculate():
    """xlsxwriter stores 0 for a formula and asks Excel to recalculate: 0 is not the value."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    ws = book.add_worksheet("Sales")
    for r, row in enumerate([H, ["2024-01-05", "R1", "GTX", 100]]):
        ws.write_row(r, 0, row)
    ws.write_row(2, 0, ["2024-01-06", "R1", "GTX"])
    ws.write_formula(2, 3, "=D2*2")
    book.close()
    ds = ingest([("book.xlsx", buffer.getvalue())])
    assert ds.tables["sales"]["revenue"].tolist() == [100]
    assert rows_of(issues(ds, "rejected", "saved without calculated values")) == [3]
    assert_rows_accounted(ds, rows_in=2)


def test_header_with_a_cyrillic_letter_is_matched_and_named():
    header = ["Date", "Rep", "Product", "Rev\u0435nue"]          # a Cyrillic "е"
    ds = ingest([("sales.csv", csv([header, ["2024-01-05", "R1", "GTX", 100]]))])
    assert ds.tables["sales"]["revenue"].tolist() == [100]
    told = issues(ds, "warning", "another alphabet")
    assert told["Column"].tolist() == ["Rev\u0435nue"]
    assert told["Problem"].str.contains("'е'").all() and told["Problem"].str.contains("matched to revenue").all()
    assert_rows_accounted(ds, rows_in=1)


def test_a_header_wholly_in_another_alphabet_is_not_flagged():
    header = [*H, "Примечание"]
    ds = ingest([("sales.csv", csv([header, ["2024-01-05", "R1", "GTX", 100, "да"]]))])
    assert issues(ds, "warning", "another alphabet").empty


# --------------------------------------------------------------------------------------- crashes and hangs
def test_a_csv_cell_over_the_csv_module_limit_loads():
    """A 300,000-character notes cell, in a file with a title line (so the careful reader runs)."""
    notes = "n" * 300_000
    data = csv([["Sales export"], [*H, "Notes"], ["2024-01-05", "R1", "GTX", 100, notes],
                ["2024-01-06", "R1", "GTX", 5, "short"]])
    ds = ingest([("sales.csv", data)])
    assert ds.tables["sales"]["revenue"].tolist() == [100, 5]
    assert_rows_accounted(ds, rows_in=2)


def test_a_million_fields_on_one_line_is_refused_before_parsing():
    data = b"Date,Rep,Product,Revenue\n" + b",".join([b"x"] * 1_000_000) + b"\n"
    with pytest.raises(UserError) as err:
        ingest([("wide.csv", data)])
    message = str(err.value)
    assert ("wide.csv has 1,000,000 columns on one line (row 2 of the file); "
            f"GoalGap reads tables of at most {MAX_COLUMNS:,}") \
        in message


def test_fifty_thousand_columns_are_refused_with_a_plain_message():
    header = ",".join(f"Col {i}" for i in range(50_000)).encode()
    data = header + b"\n" + b"\n".join(b",".join([b"1"] * 50_000) for _ in range(3)) + b"\n"
    with pytest.raises(ReadError, match=r"has 50,000 columns on one line \(row 1 of the file\)"):
        read_file("wide.csv", data, lambda _: False)


def test_quoted_delimiters_do_not_count_as_columns():
    """A notes cell holding 5,000 commas is one field: the file is read, not refused."""
    notes = '"' + "a," * 5_000 + '"'
    data = ("Date,Rep,Product,Revenue,Notes\n2024-01-05,R1,GTX,100," + notes + "\n").encode()
    ds = ingest([("sales.csv", data)])
    assert ds.tables["sales"]["revenue"].tolist() == [100]


def test_messages_are_plain_words():
    """Every message these cases produce names no exception or library."""
    technical = re.compile(r"Traceback|Error\b|Exception|pandas|calamine|pyarrow|\bnan\b|\bNone\b")
    rows = [["2024-01-05", "R1", "GTX", "inf"], ["9999-12-31", "R1", "GTX", 1]]
    header = ["Date", "Rep", "Product", "Rev\u0435nue"]
    ds = ingest([("sales.csv", csv([header, *rows, ["2024-01-05", "R1", "GTX", 1]]))])
    for problem in ds.issues["Problem"]:
        assert not technical.search(problem), problem
