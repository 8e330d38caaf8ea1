"""The Excel summary (export.md): lay out a SummaryData as a workbook, byte for byte reproducible.

The numbers come from core.report.summary.collect; this module only writes them: headers, number
formats, traffic-light formatting against the targets, native charts, and text written so that
Excel never runs it as a formula. The same inputs give the same bytes (fixed document dates and
zip timestamps), so the app's download and the `report` command produce identical files.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, time
from io import BytesIO
from typing import Any
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from core.fmt import is_missing
from core.kpis.registry import KPIS
from core.report.summary import SHEETS, SummaryData
from core.settings import Settings

MONEY, PCT, DAYS, ONE, TWO, INT = '"$"#,##0', "0.0%", '#,##0" d"', "0.0", "0.00", "#,##0"
MULTIPLE, INDEX, MONTH = '0.0"×"', "0", "mmm yyyy"
# The Excel number format of each unit (core.kpis.registry.UNITS): a column is formatted by the
# unit of the KPI or column behind it (SummaryData.units), never by its display header.
UNIT_FORMATS = {"money": MONEY, "pct": PCT, "days": DAYS, "per_week": ONE, "per_quarter": ONE,
                "score": ONE, "ratio": MULTIPLE, "count": INT, "index": INDEX, "rating": TWO,
                "correlation": TWO, "month": MONTH}
# Text a spreadsheet would read as the start of a formula (OWASP "CSV injection").
FORMULA_START = re.compile(r"^[=+\-@\t\r]")

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
GREEN = PatternFill("solid", fgColor="C6EFCE")
AMBER = PatternFill("solid", fgColor="FFEB9C")
RED = PatternFill("solid", fgColor="FFC7CE")
TITLE_FONT = Font(bold=True, size=16)
SECTION_FONT = Font(bold=True, size=12, color="1F4E79")
BOLD = Font(bold=True)
ITALIC = Font(italic=True)
WIDTH_SAMPLE_ROWS = 500
# Hidden helper columns on the Summary sheet that draw the waterfall (invisible base + bar).
WATERFALL_BASE_COL, WATERFALL_BAR_COL = 26, 27
LONG_TEXT = 60                 # characters: a text column this wide wraps its cells instead
WRAP = Alignment(wrap_text=True, vertical="top")
SUMMARY_WIDTHS = {"A": 34, "B": 18, "C": 16, "D": 16}   # the text block; charts stand beside it
CHART_COL, CHART_ROWS, CM_PER_COL = 6, 19, 1.7          # charts from column F, one every 19 rows


def build_workbook(data: SummaryData) -> bytes:
    """The .xlsx of export.md for `data`: same `data`, same bytes."""
    wb = Workbook()
    summary = wb.active
    summary.title = SHEETS[0]
    bodies: dict[str, _Body] = {}
    for name in (*SHEETS[1:], *(n for n in data.sheets if n not in SHEETS)):
        body = _write_table(wb.create_sheet(name), data.sheets[name], name, data)
        if body is not None:
            bodies[name] = body
    _write_summary(summary, wb, data)
    stamp = datetime.combine(data.period.end, time())
    wb.properties.creator = "GoalGap"
    wb.properties.title = f"GoalGap summary {data.period.label}"
    wb.properties.created = wb.properties.modified = stamp
    return _reproducible_zip(wb, bodies)


# ---------------------------------------------------------------------------------------------
# Data sheets: header row + data rows, formats, widths, filters, traffic lights
# ---------------------------------------------------------------------------------------------

def _is_text(column: pd.Series) -> bool:
    """Text, or a categorical of text (ingest holds ids and labels so): either may carry user text
    that must be cleaned and never written as a formula."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    return bool(pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype))


def _clean_text(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Text columns as text without XML-illegal control characters, and their names."""
    text = [c for c in frame.columns if _is_text(frame[c])]
    cleaned = frame.assign(**{c: frame[c].astype("str").str.replace(ILLEGAL_CHARACTERS_RE.pattern, "",
                                                                       regex=True)
                              .where(frame[c].notna()) for c in text})
    return cleaned, text


def _write_table(ws: Worksheet, frame: pd.DataFrame, sheet: str, data: SummaryData) -> _Body | None:
    """Header, data rows, formats, widths, filter and traffic lights of one data sheet. The data
    rows of a sheet whose values are all numbers, booleans or text are returned as a `_Body`,
    written when the workbook is saved; other sheets get openpyxl cells (None)."""
    headers = list(frame.columns)
    ws.append(headers)
    cleaned, text = _clean_text(frame)
    values = cleaned.astype(object).where(cleaned.notna(), None)
    n = len(frame)
    body = _Body.of(ws, values) if n and "Unit" not in headers else None
    if body is None:
        for row in values.itertuples(index=False, name=None):
            ws.append(row)
    for j, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        fmt = UNIT_FORMATS.get(data.units.get(sheet, {}).get(header, ""))
        if fmt and n:
            for c in body.column_style(j) if body else _column_cells(ws, j, n):
                c.number_format = fmt
        ws.column_dimensions[get_column_letter(j)].width = _width(header, frame[header])
        if header in text and ws.column_dimensions[get_column_letter(j)].width >= LONG_TEXT:
            for c in body.column_style(j) if body else _column_cells(ws, j, n):
                c.alignment = WRAP
    if "Unit" in headers:
        _formats_by_unit(ws, frame)
    if body:
        body.protect(_risky(cleaned, text))
    else:
        _protect_text(ws, cleaned, text)
    if not n and data.missing.get(sheet):    # export.md: one line saying what is missing and how to add it
        _put(ws, 2, 1, data.missing[sheet], font=ITALIC)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(headers), 1))}{n + 1}"
    _traffic_lights(ws, headers, n, data, sheet)
    _print_setup(ws, len(headers), n + 1, title_rows="1:1")
    return body


def _print_setup(ws: Worksheet, last_col: int, last_row: int, title_rows: str | None = None) -> None:
    """Landscape, one page wide, the used range as print area, and the header row on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_area = f"A1:{get_column_letter(max(last_col, 1))}{max(last_row, 1)}"
    if title_rows:
        ws.print_title_rows = title_rows


def _formats_by_unit(ws: Worksheet, frame: pd.DataFrame) -> None:
    """Sheets mixing units in one column (Comparison): each row's numbers in its Unit's format."""
    numeric = [j for j, c in enumerate(frame.columns, start=1) if pd.api.types.is_float_dtype(frame[c])]
    for i, unit in enumerate(frame["Unit"], start=2):
        fmt = UNIT_FORMATS.get(unit)
        for j in numeric if fmt else ():
            ws.cell(row=i, column=j).number_format = fmt


def _column_cells(ws: Worksheet, j: int, n: int) -> list[Cell]:
    """The data cells (rows 2 to n + 1) of column j."""
    return [c for (c,) in ws.iter_rows(min_row=2, max_row=n + 1, min_col=j, max_col=j)]


def _risky(frame: pd.DataFrame, text: list[str]) -> dict[int, np.ndarray]:
    """Column number → which rows of that text column start like a formula."""
    return {frame.columns.get_loc(c) + 1: frame[c].str.contains(FORMULA_START, na=False).to_numpy()
            for c in text}


def _protect_text(ws: Worksheet, frame: pd.DataFrame, text: list[str]) -> None:
    """Cells whose text starts like a formula are stored as text with Excel's quote prefix."""
    for j, risky in _risky(frame, text).items():
        for i in np.flatnonzero(risky):
            _as_text(ws.cell(row=int(i) + 2, column=j))


def _as_text(cell: Cell) -> None:
    cell.data_type = "s"
    cell.quotePrefix = True


def safe_row(ws: Worksheet, values: Iterable[Any]) -> list[Any]:
    """`values` ready for `ws.append`, for any workbook GoalGap writes: text loses XML-illegal
    control characters, and text starting like a formula (FORMULA_START) becomes a text cell with
    Excel's quote prefix, shown as typed and never run."""
    return [_safe_value(ws, v) if isinstance(v, str) else v for v in values]


def _safe_value(ws: Worksheet, text: str) -> str | Cell:
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not FORMULA_START.match(text):
        return text
    cell = Cell(ws, value=text)
    _as_text(cell)
    return cell


def _width(header: str, values: pd.Series) -> float:
    sample = values.head(WIDTH_SAMPLE_ROWS).dropna()
    longest = int(sample.astype("str").str.len().max()) if len(sample) else 0
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        longest = 12
    return float(min(max(len(header) + 2, longest + 2, 8), 60))


def _traffic_lights(ws: Worksheet, headers: list[str], n: int, data: SummaryData, sheet: str) -> None:
    """Red / amber / green against the settings' targets; empty cells stay uncoloured. A KPI column
    is lit from its registry entry (target, direction, amber band), whatever its header says."""
    if not n:
        return
    sources = data.columns.get(sheet, {})
    for j, header in enumerate(headers, start=1):
        c = f"{get_column_letter(j)}2"
        rules = _light_rules(sources.get(header, header), sheet, c, data.settings)
        if rules is None:
            continue
        rng = f"{get_column_letter(j)}2:{get_column_letter(j)}{n + 1}"
        for formula, fill in zip(rules, (GREEN, AMBER, RED), strict=True):
            ws.conditional_formatting.add(rng, FormulaRule(formula=[formula], fill=fill))


def _light_rules(column: str, sheet: str, c: str, settings: Settings) -> tuple[str, str, str] | None:
    """The green, amber and red formulas for cell `c` of `column` (None: not lit). KPIs with a
    target where higher is better: green at target, amber from `amber` × target. Lower-is-better
    targets (0 days late) are ideals, not pass marks, so they are not lit."""
    t, th = settings.targets, settings.thresholds
    num = f"ISNUMBER({c})"
    kpi = KPIS.get(column)
    if sheet == "Competencies" and column == "gap":          # rating points, not the money gap
        lo = th.competency_gap_min
        return (f"AND({num},{c}>={t.competency_gap!r})", f"AND({num},{c}>={lo!r},{c}<{t.competency_gap!r})",
                f"AND({num},{c}<{lo!r})")
    if kpi is not None and kpi.target and kpi.higher_is_better:
        return _at_least(c, float(getattr(t, kpi.target)), kpi.amber)
    if column == "coverage":
        return _at_least(c, t.coverage, 0.9)
    if column == "overlap":
        return (f"AND({num},{c}<={t.overlap!r})", f"AND({num},{c}>{t.overlap!r},{c}<={2 * t.overlap!r})",
                f"AND({num},{c}>{2 * t.overlap!r})")
    if column == "potential_index":
        lo, hi = t.potential_index_low, t.potential_index_high
        return f"AND({num},{c}>={lo!r},{c}<={hi!r})", "FALSE", f"AND({num},OR({c}<{lo!r},{c}>{hi!r}))"
    if column == "severity":
        return f'{c}="low"', f'{c}="medium"', f'{c}="high"'
    return None


def _at_least(c: str, target: float, amber: float) -> tuple[str, str, str]:
    num = f"ISNUMBER({c})"
    return (f"AND({num},{c}>={target!r})", f"AND({num},{c}>={target * amber!r},{c}<{target!r})",
            f"AND({num},{c}<{target * amber!r})")


# ---------------------------------------------------------------------------------------------
# The Summary sheet: laid out for a person
# ---------------------------------------------------------------------------------------------

def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None,
         font: Font | None = None) -> Cell:
    """Write one value: missing → empty cell, formula-like text → text."""
    cell = ws.cell(row=row, column=col)
    if is_missing(value):
        return cell
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if FORMULA_START.match(cell.value):
            _as_text(cell)
    else:
        cell.value = value.item() if isinstance(value, np.generic) else value
    if fmt:
        cell.number_format = fmt
    if font:
        cell.font = font
    return cell


def _write_summary(ws: Worksheet, wb: Workbook, data: SummaryData) -> None:
    p = data.period
    _put(ws, 1, 1, "GoalGap — why is the team missing its goals?", font=TITLE_FONT)
    facts = (("Period", f"{p.label} ({p.start.isoformat()} to {p.end.isoformat()})"),
             ("Scope", data.scope_label), ("Data source", data.source_label),
             ("Diagnostic method", data.method), ("Currency", data.settings.reporting_currency))
    for i, (label, value) in enumerate(facts, start=2):
        _put(ws, i, 1, label, font=BOLD)
        _put(ws, i, 2, value)
    row = _headline_block(ws, 7, data)
    row = _forecast_block(ws, row + 1, data)
    waterfall_rows = _waterfall_block(ws, row + 1, data)
    row = _findings_block(ws, waterfall_rows[1] + 2, data)
    for col, width in SUMMARY_WIDTHS.items():
        ws.column_dimensions[col].width = width
    _wrap_long_lines(ws, row)
    charts_bottom, charts_right = _charts(ws, wb, data, 2, waterfall_rows)
    _print_setup(ws, max(len(SUMMARY_WIDTHS), charts_right), max(row, charts_bottom))


def _wrap_long_lines(ws: Worksheet, last_row: int) -> None:
    """A line of text longer than its cell (a finding, a note, the data source) spreads over the
    text block's empty cells to its right, wrapped, in a row tall enough to show it all."""
    cols = list(SUMMARY_WIDTHS.values())
    for row in range(1, last_row + 1):
        filled = [j for j in range(1, len(cols) + 1) if ws.cell(row=row, column=j).value is not None]
        if not filled or not isinstance(ws.cell(row=row, column=filled[-1]).value, str):
            continue
        j = filled[-1]
        text, room = ws.cell(row=row, column=j).value, sum(cols[j - 1:])
        if len(text) <= cols[j - 1] or (ws.cell(row=row, column=j).font.sz or 11) > 11:   # fits, or a title
            continue
        if j < len(cols):
            ws.merge_cells(start_row=row, start_column=j, end_row=row, end_column=len(cols))
        ws.cell(row=row, column=j).alignment = WRAP
        lines = math.ceil(len(text) * 1.1 / room)   # 10 % slack: proportional fonts, word breaks
        if lines > 1:
            ws.row_dimensions[row].height = 15 * lines


def _section(ws: Worksheet, row: int, title: str, headers: tuple[str, ...] = ()) -> int:
    _put(ws, row, 1, title, font=SECTION_FONT)
    for j, h in enumerate(headers, start=1):
        cell = _put(ws, row + 1, j, h)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    return row + (2 if headers else 1)


def _status(value: float, target: float, higher_is_better: bool) -> tuple[str, PatternFill | None]:
    if is_missing(value) or is_missing(target):
        return "", None
    ok = value >= target if higher_is_better else value <= target
    return ("on target", GREEN) if ok else (("below target" if higher_is_better else "above target"), RED)


def _headline_block(ws: Worksheet, row: int, data: SummaryData) -> int:
    row = _section(ws, row, "Headline KPIs (team in scope)", ("KPI", "Value", "Target", "Status"))
    for k in data.headline.itertuples(index=False):
        fmt = UNIT_FORMATS.get(k.unit)
        _put(ws, row, 1, k.KPI)
        _put(ws, row, 2, k.value, fmt)
        _put(ws, row, 3, k.target, fmt)
        text, fill = _status(k.value, k.target, k.higher_is_better)
        if fill:
            _put(ws, row, 4, text).fill = fill
        row += 1
    return row


def _forecast_block(ws: Worksheet, row: int, data: SummaryData) -> int:
    f = data.forecast
    row = _section(ws, row, "Forecast to the end of the period")
    lines = (("Projected revenue", f["projected"], MONEY), ("80% interval, low", f["low"], MONEY),
             ("80% interval, high", f["high"], MONEY), ("Quota", f["quota"], MONEY),
             ("Chance of reaching quota", f["p_goal"], PCT),
             ("Revenue to date", f["actual_to_date"], MONEY),
             ("Working days left", f["remaining_working_days"], INT),
             ("Needed per working day", f["needed_per_day"], MONEY), ("Method", f["method"], None))
    for label, value, fmt in lines:
        _put(ws, row, 1, label)
        _put(ws, row, 2, value, fmt)
        row += 1
    return row


def _waterfall_block(ws: Worksheet, row: int, data: SummaryData) -> tuple[int, int]:
    """The waterfall table (and the hidden columns its chart draws); returns its first and last
    data rows (none, and no chart, when the waterfall is missing: its line says why)."""
    if data.waterfall.empty and data.missing.get("Waterfall"):
        row = _section(ws, row, "Gap to goal: from quota to revenue")
        _put(ws, row, 1, data.missing["Waterfall"], font=ITALIC)
        return row + 1, row
    row = _section(ws, row, "Gap to goal: from quota to revenue", ("Step", "Amount"))
    base, bar = _waterfall_bars(data.waterfall["Amount"].to_numpy(dtype="float64"))
    _put(ws, row - 1, WATERFALL_BASE_COL, "chart base")
    _put(ws, row - 1, WATERFALL_BAR_COL, "Amount")
    for i, (step, amount) in enumerate(zip(data.waterfall["Step"], data.waterfall["Amount"], strict=False)):
        _put(ws, row + i, 1, step)
        _put(ws, row + i, 2, amount, MONEY)
        _put(ws, row + i, WATERFALL_BASE_COL, base[i], MONEY)
        _put(ws, row + i, WATERFALL_BAR_COL, bar[i], MONEY)
    for col in (WATERFALL_BASE_COL, WATERFALL_BAR_COL):
        ws.column_dimensions[get_column_letter(col)].hidden = True
    return row, row + len(data.waterfall) - 1


def _waterfall_bars(amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invisible base and visible bar of each step: the first and last steps are totals (quota,
    revenue) standing on zero; the steps between float from the running level."""
    if len(amounts) == 0:
        return amounts, amounts
    level_after = amounts[0] + np.cumsum(np.r_[0.0, amounts[1:-1]])
    before, after = np.r_[0.0, level_after[:-1]], level_after
    base, bar = np.minimum(before, after), np.abs(after - before)
    base[0], bar[0] = 0.0, amounts[0]
    if len(amounts) > 1:
        base = np.r_[base, 0.0]
        bar = np.r_[bar, amounts[-1]]
    return base, bar


def _findings_block(ws: Worksheet, row: int, data: SummaryData) -> int:
    row = _section(ws, row, "Top findings")
    for line in data.top_findings or (data.missing.get("Findings") or "No finding for this period and scope.",):
        _put(ws, row, 1, line)
        row += 1
    _put(ws, row, 1, "Findings are associations in the data, not proof of cause.", font=ITALIC)
    row += 1
    if data.notes:
        row = _section(ws, row + 1, "Not available")
        for note in data.notes:
            _put(ws, row, 1, note)
            row += 1
    return row


def _charts(ws: Worksheet, wb: Workbook, data: SummaryData, row: int,
            waterfall_rows: tuple[int, int]) -> tuple[int, int]:
    """Native Excel charts beside the headline numbers, from `row` down: the waterfall, attainment
    by rep, revenue vs quota (each only where it has data). Returns the last row and column they
    cover (about), for the print area."""
    charts = (_waterfall_chart(ws, data, waterfall_rows), _attainment_chart(wb, data), _trend_chart(wb, data))
    right = 0
    for chart in (c for c in charts if c is not None):
        ws.add_chart(chart, f"{get_column_letter(CHART_COL)}{row}")
        right = max(right, CHART_COL + math.ceil(chart.width / CM_PER_COL))
        row += CHART_ROWS
    return row, right


def _waterfall_chart(ws: Worksheet, data: SummaryData, waterfall_rows: tuple[int, int]) -> BarChart | None:
    """A stacked bar over the hidden helper columns: an invisible base and the visible step."""
    first, last = waterfall_rows
    if last < first:
        return None
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title = f"Gap to goal, {data.period.label}: quota → causes → revenue"
    chart.y_axis.title, chart.y_axis.number_format = "US$", MONEY
    chart.add_data(Reference(ws, min_col=WATERFALL_BASE_COL, max_col=WATERFALL_BAR_COL,
                             min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.series[0].graphicalProperties.noFill = True
    chart.series[0].graphicalProperties.line.noFill = True
    chart.visible_cells_only, chart.legend = False, None
    chart.width, chart.height = 22, 9
    return chart


def _attainment_chart(wb: Workbook, data: SummaryData) -> BarChart | None:
    n = len(data.sheets["Rep scorecard"])
    if not n or data.sheets["Rep scorecard"]["Attainment"].isna().all():   # no quota: nothing to draw
        return None
    scorecard, headers = wb["Rep scorecard"], list(data.sheets["Rep scorecard"].columns)
    chart = BarChart()
    chart.type = "col"
    chart.title = f"Attainment by rep, {data.period.label}"
    chart.y_axis.title, chart.y_axis.number_format = "Attainment (% of quota)", "0%"
    chart.add_data(Reference(scorecard, min_col=headers.index("Attainment") + 1, min_row=1,
                             max_row=n + 1), titles_from_data=True)
    chart.set_categories(Reference(scorecard, min_col=headers.index("Rep") + 1, min_row=2, max_row=n + 1))
    chart.legend = None
    chart.width, chart.height = min(max(22, 0.6 * n), 120), 9
    return chart


def _trend_chart(wb: Workbook, data: SummaryData) -> LineChart | None:
    m = len(data.sheets["Trends"])
    if not m:
        return None
    trends, headers = wb["Trends"], list(data.sheets["Trends"].columns)
    chart = LineChart()
    chart.title = "Monthly revenue vs quota, with the forecast"
    chart.y_axis.title, chart.y_axis.number_format = "US$ per month", MONEY
    for name in ("Revenue", "Quota", "Forecast"):
        chart.add_data(Reference(trends, min_col=headers.index(name) + 1, min_row=1, max_row=m + 1),
                       titles_from_data=True)
    chart.set_categories(Reference(trends, min_col=1, min_row=2, max_row=m + 1))
    chart.x_axis.number_format = "mmm yy"
    chart.width, chart.height = 22, 9
    return chart


# ---------------------------------------------------------------------------------------------
# Data rows written as XML when the workbook is saved
# ---------------------------------------------------------------------------------------------

# The Python types of the values `_Body` writes (those openpyxl types as numbers, booleans and text).
_WRITTEN_TYPES = frozenset({float, int, bool, str, type(None)})
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_UNWRITABLE = re.compile("[\ufffe\uffff]")   # lxml refuses them: such a sheet goes through openpyxl
MAX_CELL_TEXT = 32767                        # openpyxl cuts longer text (Excel's limit)


class _Body:
    """The data rows of one sheet, written into its XML when the workbook is saved: the XML
    openpyxl writes for those cells (values, types, style ids, byte for byte), made a column at a
    time instead of through one Cell object per value (the data sheets hold ~150,000 values at
    1,000 reps, which cost openpyxl 2.5 CPU s to create and write).

    A column's style (number format, wrap) is set on one template cell, in the order the cells
    would have been styled, so the workbook registers the same formats in the same order; a text
    cell starting like a formula gets the quote prefix, as `_protect_text` gives it."""

    def __init__(self, ws: Worksheet, columns: list[list[Any]]) -> None:
        self.columns = columns
        self.templates = [Cell(ws, row=2, column=j) for j in range(1, len(columns) + 1)]
        self.risky: dict[int, np.ndarray] = {}

    @classmethod
    def of(cls, ws: Worksheet, values: pd.DataFrame) -> _Body | None:
        """The rows of `values` (missing as None), or None when a value is not a number, a
        boolean or writable text (a date, say): openpyxl then writes the sheet."""
        columns = [values.iloc[:, j].tolist() for j in range(values.shape[1])]
        for column in columns:
            kinds = set(map(type, column))
            if not kinds <= _WRITTEN_TYPES:
                return None
            if str in kinds and any(_UNWRITABLE.search(v) for v in column if isinstance(v, str)):
                return None
        return cls(ws, columns)

    def column_style(self, j: int) -> list[Cell]:
        """The cell that carries column j's style (set its number format or alignment)."""
        return [self.templates[j - 1]]

    def protect(self, risky: dict[int, np.ndarray]) -> None:
        """Column number → rows whose text starts like a formula (stored as text, quote prefix)."""
        self.risky = {j: r for j, r in risky.items() if r.any()}

    def render(self, wb: Workbook) -> bytes:
        """The <row> elements of rows 2 to n + 1."""
        styles = self._style_ids(wb)
        cells = [self._column(j, column, *styles[j - 1]) for j, column in enumerate(self.columns, start=1)]
        rows = "".join(f'<row r="{i}">{"".join(row)}</row>' for i, row in enumerate(zip(*cells, strict=True), start=2))
        return rows.encode("ascii", "xmlcharrefreplace")       # openpyxl's XML is ASCII, the rest as &#n;

    def last_cell(self) -> str:
        """The bottom-right cell of the sheet (its dimension ends there)."""
        return f"{get_column_letter(len(self.columns))}{len(self.columns[0]) + 1}"

    def _style_ids(self, wb: Workbook) -> list[tuple[str, str]]:
        """Per column, the s="…" attribute of its plain and its quote-prefixed cells, each style
        registered with the workbook where openpyxl would meet it first (row by row, left to right),
        so that its id is the one openpyxl would write."""
        arrays: list[tuple[StyleArray, StyleArray]] = []
        first: list[tuple[int, int, int]] = []           # (row, column, plain 0 / quoted 1)
        for j, template in enumerate(self.templates, start=1):
            plain = StyleArray(template._style) if template._style else StyleArray()
            quoted = StyleArray(plain)
            quoted.quotePrefix = 1
            arrays.append((plain, quoted))
            risky = self.risky.get(j)
            if risky is None:
                first.append((0, j, 0))
                continue
            if not risky.all():
                first.append((int(np.argmin(risky)), j, 0))
            first.append((int(np.argmax(risky)), j, 1))
        ids: list[list[str]] = [["", ""] for _ in self.templates]
        for _, j, kind in sorted(first):
            array = arrays[j - 1][kind]
            if any(array):                                # an unstyled cell has no s attribute
                ids[j - 1][kind] = f' s="{wb._cell_styles.add(array)}"'
        return [(plain, quoted) for plain, quoted in ids]

    def _column(self, j: int, column: list[Any], plain: str, quoted: str) -> list[str]:
        """The <c> elements of column j, as openpyxl's lxml_write_cell writes them."""
        letter = get_column_letter(j)
        risky = self.risky.get(j)
        out = []
        for i, v in enumerate(column):
            ref = f"{letter}{i + 2}"
            kind = type(v)
            if v is None:                                 # openpyxl skips an empty cell without style
                out.append(f'<c r="{ref}"{plain} t="n"></c>' if plain else "")
            elif kind is str:
                out.append(_text_cell(ref, v[:MAX_CELL_TEXT], quoted if risky is not None and risky[i] else plain,
                                      risky is not None and bool(risky[i])))
            elif kind is bool:
                out.append(f'<c r="{ref}"{plain} t="b"><v>{int(v)}</v></c>')
            else:
                number = "%.16g" % v if math.isfinite(v) else ""   # noqa: UP031 - openpyxl's safe_string
                out.append(f'<c r="{ref}"{plain} t="n"><v>{number}</v></c>')
        return out


def _text_cell(ref: str, text: str, style: str, as_text: bool) -> str:
    """One text cell: an inline string, or an error value (#N/A…) as openpyxl types those."""
    if text in ERROR_CODES and not as_text:
        return f'<c r="{ref}"{style} t="e"><v>{text.translate(_XML_TEXT)}</v></c>'
    if not text:
        return f'<c r="{ref}"{style} t="inlineStr"></c>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text.translate(_XML_TEXT)}</t></is></c>'


class _Writer(ExcelWriter):  # type: ignore[misc]
    """openpyxl's writer; each sheet with a `_Body` has its rows made right after the sheet itself
    is written, where openpyxl would have written (and numbered the styles of) those cells."""

    def __init__(self, wb: Workbook, archive: ZipFile, bodies: dict[str, _Body]) -> None:
        super().__init__(wb, archive)
        self.bodies = bodies
        self.rows: dict[str, tuple[bytes, str]] = {}      # archive path → rows, last cell

    def write_worksheet(self, ws: Worksheet) -> None:
        super().write_worksheet(ws)
        body = self.bodies.get(ws.title)
        if body is not None:
            self.rows[ws.path[1:]] = (body.render(self.workbook), body.last_cell())


def _with_rows(xml: bytes, rows: bytes, last_cell: str) -> bytes:
    """A data sheet's XML (header row only) with its data rows and its whole dimension."""
    head, end, tail = xml.partition(b"</sheetData>")
    start, dim, rest = head.partition(b'<dimension ref="A1:')
    if not end or not dim or end in tail:
        raise ValueError("unexpected worksheet XML from openpyxl")
    rest = rest[rest.index(b'"'):]
    return start + dim + last_cell.encode() + rest + rows + end + tail


# ---------------------------------------------------------------------------------------------
# Reproducible bytes
# ---------------------------------------------------------------------------------------------

def _reproducible_zip(wb: Workbook, bodies: dict[str, _Body]) -> bytes:
    """Save without openpyxl's 'modified = now' and with fixed zip entry timestamps. The first
    archive is only read back, so it is stored uncompressed (compressed once, not twice); the data
    rows of `bodies` go into their sheets then."""
    raw = BytesIO()
    with ZipFile(raw, "w", ZIP_STORED, allowZip64=True) as archive:
        writer = _Writer(wb, archive, bodies)
        writer.write_data()
    out = BytesIO()
    with ZipFile(BytesIO(raw.getvalue())) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename in writer.rows:
                content = _with_rows(content, *writer.rows[info.filename])
            dst.writestr(entry, content)
    return out.getvalue()
