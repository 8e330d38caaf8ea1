"""Property: random tables and cell values never raise out of ingest (only a plain UserError), and
every row read is loaded, rejected or set apart with its own issue row."""
from __future__ import annotations

import csv
import io

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import UserError
from core.ingest.pipeline import ingest
from tests.ingest_helpers import assert_rows_accounted

HEADERS = ["Date", "Rep", "Product", "Revenue", "Amount", "Stage", "Close Date", "Opportunity Owner", "Quota",
           "Period", "Rep ID", "Rep Name", "Region", "Territory", "Account", "Call Type", "Score", "Rating",
           "Due Date", "Units", "Created Date", "Status", "Planned", "Zip", "", "Notes"]
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "n/a", "#N/A", "USD 1,2k", "(1,054.00)", "1.054,00 €", "45300", "Jan 8", "13/13/2024",
                     "2024-02-30", "Closed Won", "yes", "x", "=1+1", "😀", "محمد", "Grand Totals (3 records)",
                     "1e308", "-0", "nan", "inf", "9" * 30, "2024-Q5", "02138-1234"]),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
)
TABLES = st.integers(min_value=1, max_value=6).flatmap(lambda width: st.tuples(
    st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=10)), min_size=width, max_size=width),
    st.lists(st.lists(CELLS, min_size=0, max_size=width + 1), max_size=12)))


def as_csv(header: list[str], rows: list[list[str]], sep: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="surrogatepass")


def as_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [header, *rows]:
        ws.append([_xlsx_safe(c) for c in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_safe(cell: str) -> str:
    """openpyxl refuses control characters a real Excel file cannot hold either."""
    return "".join(ch for ch in cell if ch >= " " or ch in "\t\n")




def _ingest(files: list[tuple[str, bytes]]) -> None:
    try:
        ds = ingest(files)
    except UserError as err:
        assert str(err).strip()
        return
    assert_rows_accounted(ds, empty_unused_may_be_silent=True)
    assert ds.has("sales") or ds.has("opportunities")   # something to sell (data.md), maybe only a pipeline


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=TABLES, sep=st.sampled_from([",", ";", "\t", "|"]), name=st.sampled_from(["sales.csv", "data.csv",
                                                                                      "opps.txt", "x"]))
def test_random_csv_never_raises(table, sep, name):
    header, rows = table
    _ingest([(name, as_csv(header, rows, sep))])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=TABLES, sheet=st.sampled_from(["Sales", "Opportunities", "Sheet1", "Quotas"]))
def test_random_workbook_never_raises(table, sheet):
    header, rows = table
    data = as_xlsx(header, rows)
    _ingest([(f"{sheet}.xlsx", data)])


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400), name=st.sampled_from(["a.csv", "a.xlsx", "a.xls", "a.txt", "a.xlsb"]))
def test_random_bytes_never_raise(data, name):
    _ingest([(name, data)])
