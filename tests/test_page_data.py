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
