"""The data sheets' rows written as XML (core.report.workbook._Body) are the rows openpyxl's own
cells give: same bytes, on the generated team and on values that need care (formula-like text,
error codes, spaces, non-ASCII, long text, booleans, nullable integers, infinities, gaps)."""
from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest

import core.report.workbook as workbook
from core.report.summary import SummaryData
from core.report.workbook import build_workbook


def _with_openpyxl_cells(data: SummaryData, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The workbook with every data row written through openpyxl cells (as dates always are)."""
    with monkeypatch.context() as m:
        m.setattr(workbook._Body, "of", classmethod(lambda cls, ws, values: None))
        return build_workbook(data)


def _awkward() -> pd.DataFrame:
    n = 6
    return pd.DataFrame({
        "Rep ID": ["R1", "=1+2", "+Cee", " lead", "#N/A", "é€😀 & <b>\r"],
        "Rep": ["x" * 40_000, "", None, "-minus", "tab\there", "trail "],
        "Revenue": [1.5, np.nan, np.inf, -0.0, 1e300, 123456789.123456789],
        "Attainment": [0.1, 0.2, np.nan, 1 / 3, 2.0, 0.0],
        "Ramping": [True, False, True, False, False, True],
        "Row": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
        "Assessments": np.arange(n, dtype="int64"),
    })


def test_generated_team_rows_equal_openpyxl_cells(team12_summary, monkeypatch):
    assert team12_summary.workbook == _with_openpyxl_cells(team12_summary.data, monkeypatch)


def test_awkward_values_equal_openpyxl_cells(team12_summary, monkeypatch):
    data = team12_summary.data
    frame = _awkward()
    gaps = pd.DataFrame({"Note": ["a", None, "c"], "Who": [None, None, "d"]})     # row 3: no cell written
    sheets = dict(data.sheets) | {"Rep scorecard": frame, "Extra": frame.copy(), "Gaps": gaps}
    units = dict(data.units) | {"Extra": {"Revenue": "money", "Attainment": "pct", "Row": "count"}}
    data = replace(data, sheets=sheets, units=units, columns=dict(data.columns) | {"Extra": {}, "Gaps": {}})
    fast = build_workbook(data)
    assert fast == _with_openpyxl_cells(data, monkeypatch)
    ws = openpyxl.load_workbook(io.BytesIO(fast))["Extra"]
    assert ws["A3"].value == "=1+2" and ws["A3"].data_type == "s" and ws["A3"].quotePrefix
    assert ws["A6"].value == "#N/A" and ws["A6"].data_type == "e"
    assert ws["A7"].value == "é€😀 & <b>\r" and ws["B2"].value == "x" * 32_767
    assert ws["C2"].number_format == workbook.MONEY and ws["E2"].value is True
    assert ws.max_row == 7 and ws.calculate_dimension() == "A1:G7"


def test_a_date_column_goes_through_openpyxl(team12_summary):
    data = team12_summary.data
    frame = pd.DataFrame({"Month": pd.to_datetime(["2026-01-01", "2026-02-01"]), "Revenue": [1.0, 2.0]})
    data = replace(data, sheets=dict(data.sheets) | {"Extra": frame}, columns=dict(data.columns) | {"Extra": {}})
    ws = openpyxl.load_workbook(io.BytesIO(build_workbook(data)))["Extra"]
    assert ws["A2"].value == pd.Timestamp("2026-01-01") and ws["B3"].value == 2.0


def test_categorical_text_is_cleaned_and_never_a_formula(team12_summary):
    """Ingest holds ids and labels as categoricals: their text is still user text."""
    data = team12_summary.data
    frame = pd.DataFrame({"Competency": pd.Categorical(['=HYPERLINK("http://x","y")', "Closing\x07", None]),
                          "Score": [1.0, 2.0, 3.0]})
    data = replace(data, sheets=dict(data.sheets) | {"Extra": frame}, columns=dict(data.columns) | {"Extra": {}})
    ws = openpyxl.load_workbook(io.BytesIO(build_workbook(data)))["Extra"]
    assert ws["A2"].data_type == "s" and ws["A2"].quotePrefix
    assert ws["A3"].value == "Closing" and ws["A4"].value is None
