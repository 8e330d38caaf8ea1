"""The template workbook and the validation report workbook."""
import io

import openpyxl

from core.ingest.pipeline import ingest
from core.ingest.template import issue_counts, issues_workbook, template_workbook
from core.schema import TABLE_ORDER, TABLES


def test_template_has_readme_and_one_sheet_per_table():
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook()), read_only=True)
    assert wb.sheetnames == ["README", *TABLE_ORDER]
    for name in TABLE_ORDER:
        header = next(wb[name].iter_rows(max_row=1, values_only=True))
        assert list(header) == TABLES[name].column_names
    readme = list(wb["README"].iter_rows(min_row=2, values_only=True))
    assert len(readme) == sum(len(t.columns) for t in TABLES.values())
    quota = next(r for r in readme if r[0] == "quotas" and r[1] == "quota")
    assert quota[3] == "required" and "> 0" in quota[4]


def _messy_dataset():
    sales = b"Date,Rep,Product,Revenue\n2024-01-05,R1,A,100\n2024-01-05,R1,A,100\n2024-01-06,R1,A,n/a\n"
    return ingest([("sales.csv", sales), ("notes.pdf", b"%PDF")])


def test_issue_counts_per_table():
    counts = issue_counts(_messy_dataset()).set_index("Table")
    assert counts.loc["sales", "rows loaded"] == 1
    assert counts.loc["sales", "rejected"] == 1
    assert counts.loc["sales", "duplicate"] == 1
    assert counts.loc["(file)", "rejected"] == 1


def test_issues_workbook_lists_every_issue():
    ds = _messy_dataset()
    wb = openpyxl.load_workbook(io.BytesIO(issues_workbook(ds)), read_only=True)
    assert wb.sheetnames == ["Summary", "Sources", "Issues"]
    rows = list(wb["Issues"].iter_rows(values_only=True))
    assert rows[0] == ("Table", "Source", "Row", "Column", "Problem", "Value", "Kind")
    assert len(rows) - 1 == len(ds.issues)
    assert {r[6] for r in rows[1:]} == set(ds.issues["Kind"])
    sources = list(wb["Sources"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in sources] == [s.source for s in ds.sources]
