"""Workbooks ingest hands to people: the empty template to fill in, and the validation report.

Both are written from core.schema / the Dataset, so a column described once in schema.py shows up
the same way in the template, the README sheet and the report.
"""
from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from core.dataset import ISSUE_COLUMNS, Dataset
from core.schema import TABLE_ORDER, TABLES

EXCEL_MAX_ROWS = 1_048_575
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_TYPE_WORDS = {"str": "text", "date": "date (e.g. 2025-03-31)", "float": "number", "int": "whole number",
               "bool": "yes / no"}

# Two example rows per table: one team, consistent ids across sheets.
EXAMPLES: dict[str, list[dict[str, object]]] = {
    "reps": [
        {"rep_id": "R001", "rep_name": "Dana Lee", "region": "East", "territory_id": "T-BOS",
         "role": "Sales Rep", "hire_date": "2021-04-12", "manager": "Chris Park"},
        {"rep_id": "R002", "rep_name": "Sam Ortiz", "region": "West", "territory_id": "T-SEA",
         "role": "Senior Sales Rep", "hire_date": "2018-09-03", "manager": "Alex Kim"},
    ],
    "territories": [
        {"territory_id": "T-BOS", "territory_name": "Boston", "region": "East", "market_potential": 4_200_000},
        {"territory_id": "T-SEA", "territory_name": "Seattle", "region": "West", "market_potential": 3_100_000},
    ],
    "accounts": [
        {"account_id": "A100", "account_name": "Mercy General Hospital", "territory_id": "T-BOS",
         "account_type": "Hospital", "segment": "Cardiology", "potential": 850_000, "zip": "02138",
         "city": "Cambridge", "state": "MA"},
        {"account_id": "A200", "account_name": "Lakeside Surgery Center", "territory_id": "T-SEA",
         "account_type": "ASC", "segment": "Orthopedics", "potential": 240_000, "zip": "98101",
         "city": "Seattle", "state": "WA"},
    ],
    "sales": [
        {"date": "2025-03-14", "rep_id": "R001", "account_id": "A100", "product": "GTX Pro",
         "revenue": 4821, "units": 1},
        {"date": "2025-03-20", "rep_id": "R002", "account_id": "A200", "product": "MG Special",
         "revenue": -55, "units": -1},
    ],
    "quotas": [
        {"rep_id": "R001", "period": "2025-Q1", "quota": 250_000, "product": ""},
        {"rep_id": "R002", "period": "2025-03", "quota": 80_000, "product": "GTX Pro"},
    ],
    "activities": [
        {"date": "2025-03-11", "rep_id": "R001", "activity_type": "meeting", "account_id": "A100",
         "planned": "yes", "contact_role": "user", "segment": "Cardiology", "product": "GTX Pro"},
        {"date": "2025-03-12", "rep_id": "R002", "activity_type": "case_support", "account_id": "A200",
         "planned": "no", "contact_role": "user", "segment": "Orthopedics", "product": "MG Special"},
    ],
    "follow_ups": [
        {"rep_id": "R001", "due_date": "2025-03-18", "completed_date": "2025-03-17", "account_id": "A100"},
        {"rep_id": "R002", "due_date": "2025-03-25", "completed_date": "", "account_id": "A200"},
    ],
    "opportunities": [
        {"opportunity_id": "OP-1", "rep_id": "R001", "created_date": "2025-01-06", "stage": "Closed Won",
         "status": "won", "close_date": "2025-03-14", "amount": 4821, "account_id": "A100",
         "product": "GTX Pro"},
        {"opportunity_id": "OP-2", "rep_id": "R002", "created_date": "2025-02-10", "stage": "Negotiation",
         "status": "", "close_date": "2025-05-30", "amount": 12_000, "account_id": "A200",
         "product": "GTX Pro"},
    ],
    "training": [
        {"rep_id": "R001", "date": "2025-02-03", "topic": "GTX Pro clinical data", "score": 66.7},
        {"rep_id": "R002", "date": "2025-02-04", "topic": "Competitor: Acme", "score": 90},
    ],
    "assessments": [
        {"rep_id": "R001", "date": "2025-01-31", "competency": "Discovery", "rating": 3, "assessor": "manager"},
        {"rep_id": "R001", "date": "2025-01-31", "competency": "Objection handling", "rating": 2,
         "assessor": "manager"},
    ],
    "expected_levels": [
        {"role": "Sales Rep", "competency": "Discovery", "expected_rating": 3},
        {"role": "Senior Sales Rep", "competency": "Discovery", "expected_rating": 4},
    ],
    "incentives": [
        {"rep_id": "R001", "period": "2025-Q1", "payout": 12_500, "component": "commission"},
        {"rep_id": "R002", "period": "2025-Q1", "payout": 2_000, "component": "SPIF"},
    ],
    "products": [
        {"product": "GTX Pro", "list_price": 4821, "series": "GTX"},
        {"product": "MG Special", "list_price": 55, "series": "MG"},
    ],
}


def _style_header(ws: Worksheet, widths: list[int]) -> None:
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"


def _readme_rows() -> list[list[str]]:
    rows = []
    for name in TABLE_ORDER:
        table = TABLES[name]
        for col in table.columns:
            rows.append([name, col.name, _TYPE_WORDS.get(col.dtype, col.dtype),
                         "required" if col.required else "optional", col.description,
                         ", ".join(col.synonyms)])
    return rows


def template_workbook() -> bytes:
    """An .xlsx with a README sheet and one sheet per canonical table (headers + example rows)."""
    # the one formula-safe writer, imported here because core.report.workbook imports the whole analysis
    from core.report.workbook import safe_row

    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    readme.append(["Table", "Column", "Type", "Required", "What it means", "Also recognised as"])
    for row in _readme_rows():
        readme.append(safe_row(readme, row))
    _style_header(readme, [16, 18, 22, 10, 70, 60])
    for row in readme.iter_rows(min_row=2):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    for name in TABLE_ORDER:
        table = TABLES[name]
        ws = wb.create_sheet(name)
        ws.append(table.column_names)
        for example in EXAMPLES.get(name, []):
            ws.append(safe_row(ws, [example.get(c, "") for c in table.column_names]))
        _style_header(ws, [max(12, len(c) + 4) for c in table.column_names])
    return _save(wb)


def issue_counts(ds: Dataset) -> pd.DataFrame:
    """Per table: rows loaded and the number of issues of each kind."""
    kinds = ["rejected", "orphan", "duplicate", "ambiguous", "warning", "info"]
    issues = ds.issues
    counts = issues.assign(Table=issues["Table"].replace("", "(file)")) \
        .pivot_table(index="Table", columns="Kind", values="Problem", aggfunc="size", fill_value=0)
    counts = counts.reindex(columns=kinds, fill_value=0)
    loaded = pd.Series({name: len(ds.tables[name]) for name in TABLE_ORDER if name in ds.tables},
                       name="rows loaded")
    out = pd.concat([loaded, counts], axis=1).fillna(0).astype("int64")
    out.index.name = "Table"
    order = [t for t in (*TABLE_ORDER, "(file)") if t in out.index]
    return out.loc[order].reset_index()


def issues_workbook(ds: Dataset) -> bytes:
    """The validation report: counts per table, what each source became, and every issue. Text
    from the uploads (file, sheet and column names, values) is written formula-safe."""
    # the one formula-safe writer, imported here because core.report.workbook imports the whole analysis
    from core.report.workbook import safe_row

    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    counts = issue_counts(ds)
    summary.append(list(counts.columns))
    for row in counts.itertuples(index=False):
        summary.append(safe_row(summary, row))
    _style_header(summary, [18] + [12] * (counts.shape[1] - 1))

    sources = wb.create_sheet("Sources")
    sources.append(["Source", "Table", "Rows read", "Header row", "Note", "Columns matched"])
    for s in ds.sources:
        matched = "; ".join(f"{m.source_column} → {m.canonical} ({m.how})" for m in s.matches if m.canonical)
        sources.append(safe_row(sources, [s.source, s.table or "(not used)", s.rows, s.header_row, s.note,
                                          matched]))
    _style_header(sources, [40, 16, 10, 10, 70, 90])

    sheet = wb.create_sheet("Issues")
    sheet.append(ISSUE_COLUMNS)
    issues = ds.issues.head(EXCEL_MAX_ROWS).astype(object)
    for row in issues.where(issues.notna(), None).itertuples(index=False):
        sheet.append(safe_row(sheet, row))
    _style_header(sheet, [16, 40, 8, 24, 70, 40, 12])
    if len(ds.issues) > EXCEL_MAX_ROWS:
        sheet.append(["", "", None, "", f"{len(ds.issues) - EXCEL_MAX_ROWS:,} more issues not shown "
                      "(Excel row limit)", "", "info"])
    return _save(wb)


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
