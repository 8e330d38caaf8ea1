"""Data page: upload, what each sheet became, corrections, validation report."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.ingest.template import issue_counts
from tests.apptest import open_page
from ui.sidebar import MINE
from ui.state import OVERRIDES_KEY, UPLOAD_KEY

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                                reason="the bundled sample workbook is not built yet")

SALES = b"When,Who,What,Money\n2024-01-05,R1,GTX,100\n2024-01-06,R2,GTX,n/a\n"
DICTIONARY = b"Table,Field,Description\nsales,When,the day of the sale\nsales,Money,revenue in dollars\n"


def _app() -> AppTest:
    return open_page("data")


def test_sample_shows_counts_and_sources():
    at = _app()
    assert not at.exception
    ds = at.session_state["ctx"].ds
    counts = at.dataframe[0].value
    assert counts["rows loaded"].tolist() == issue_counts(ds)["rows loaded"].tolist()
    assert len(at.expander) == len(ds.sources)


def test_uploaded_file_with_a_correction():
    """An unrecognised CSV is matched by the user; the correction reloads it as sales."""
    at = _app()
    at.session_state[UPLOAD_KEY] = [("misc.csv", SALES)]
    at.session_state["source"] = MINE
    at.run()
    assert not at.exception
    assert any("something to sell" in e.value for e in at.error)
    at.session_state[OVERRIDES_KEY] = {"tables": {"misc.csv": "sales"},
                                       "columns": {"misc.csv": {"When": "date", "Who": "rep_id", "What": "product",
                                                                "Money": "revenue"}}}
    at.run()
    assert not at.exception
    counts = at.dataframe[0].value.set_index("Table")
    assert counts.loc["sales", "rows loaded"] == 1
    assert counts.loc["sales", "rejected"] == 1
    assert at.selectbox(key="tbl_0").value == "sales"


def _issue_table(at: AppTest):
    [table] = [d for d in at.dataframe if "Problem" in d.value.columns]
    return table


def test_validation_table_reads_its_problem_whole_at_1366_px():
    """The problem follows what it is about, is the widest column, and the columns fit the ~900 px the
    page has at 1366 px; a problem longer than a line wraps (rows taller than 4rem), short ones do not."""
    import json

    at = _app()
    at.session_state[UPLOAD_KEY] = [("misc.csv", SALES)]
    at.session_state["source"] = MINE
    at.session_state[OVERRIDES_KEY] = {"tables": {"misc.csv": "sales"},
                                       "columns": {"misc.csv": {"When": "date", "Who": "rep_id", "What": "product",
                                                                "Money": "revenue"}}}
    at.run()
    assert not at.exception
    table = _issue_table(at)
    assert list(table.value.columns) == ["Kind", "Table", "Column", "Problem", "Value", "Source", "Row"]
    assert table.value["Problem"].tolist() == ["cannot read as a number"]       # short: one line
    widths = {k: v["width"] for k, v in json.loads(table.proto.columns).items() if "width" in v}
    assert max(widths, key=widths.get) == "Problem" and sum(widths.values()) <= 900
    assert not table.proto.HasField("row_height")
    at.session_state[UPLOAD_KEY] = [("misc.csv", SALES), ("dictionary.csv", DICTIONARY)]
    at.run()                                                    # a documentation sheet: a long problem
    at.multiselect(key=next(k for k in at.session_state if str(k).startswith("issue_kinds_"))).select("info").run()
    table = _issue_table(at)
    assert table.value["Problem"].str.len().max() > 60
    assert table.proto.row_height > 64                          # Streamlit wraps text only above 4rem
