"""Export page: preview, downloads, anonymisation toggle, and opening a session (good and tampered)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.periods import parse_period
from core.report.session import save_session
from core.settings import Settings
from tests.apptest import open_page
from ui.sidebar import MINE
from ui.state import OVERRIDES_KEY, SETTINGS_KEY, UPLOAD_KEY

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                                reason="the bundled sample workbook is not built yet")
SALES = b"date,rep_id,product,revenue\n2025-07-03,R1,Stent,1000\n2025-08-15,R2,Stent,700\n"
CALLS = b"date,rep_id,activity_type,planned\n2025-07-03,R1,meeting,yes\n2025-08-15,R2,meeting,no\n"


def _app() -> AppTest:
    return open_page("export")


def _upload(at: AppTest, blob: bytes) -> None:
    at.file_uploader(key="session_upload").upload("mine.goalgap", blob, "application/zip").run()


def test_preview_and_downloads():
    at = _app()
    assert not at.exception
    assert at.dataframe[0].value["KPI"].tolist()[:3] == ["Revenue", "Quota", "Attainment"]
    labels = [b.label for b in at.get("download_button")]
    assert "Download the Excel summary (.xlsx)" in labels and "Save session" in labels
    assert "Download the deck for the meeting (.pptx)" in labels
    assert any("not proof of cause" in c.value for c in at.caption)


def test_anonymised_preview_hides_names():
    at = _app()
    real = set(at.session_state["ctx"].ds.table("reps")["rep_name"])
    at.toggle(key="export_anonymize").set_value(True).run()
    assert not at.exception
    who = at.dataframe[1].value["Who (names)"].dropna().astype(str)
    assert who.str.contains("Rep ").any()
    assert not any(name in " ".join(who) for name in real)


def test_opening_a_session_restores_files_and_settings():
    at = _app()
    settings = Settings().with_target("attainment", 0.9)
    files = [("sales.csv", SALES), ("activities.csv", CALLS)]
    blob = save_session(files, None, settings, {"source": None, "period": {"kind": "quarter", "label": "2025-Q3"}})
    _upload(at, blob)
    assert not at.exception
    assert at.session_state[UPLOAD_KEY] == files
    assert at.session_state[OVERRIDES_KEY] is None
    assert at.session_state[SETTINGS_KEY] == settings
    assert at.session_state["source"] == MINE
    assert at.session_state["period_quarter"] == parse_period("2025-Q3")
    assert at.session_state["ctx"].period.label == "2025-Q3"
    assert at.session_state["ctx"].ds.table("sales")["revenue"].sum() == 1700
    assert not at.error


def test_tampered_session_shows_a_plain_message():
    at = _app()
    blob = save_session([("sales.csv", SALES)], None, Settings(), {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name).replace(b"1000", b"9000"))
    _upload(at, out.getvalue())
    assert not at.exception
    assert "changed since it was saved" in at.error[0].value
    assert UPLOAD_KEY not in at.session_state or not at.session_state[UPLOAD_KEY]


def test_passphrase_session_opens_once_its_passphrase_is_entered():
    """Choosing the file first asks for the passphrase; entering it opens the session."""
    at = _app()
    blob = save_session([("sales.csv", SALES)], None, Settings(), {"source": MINE}, passphrase="s3cret")
    _upload(at, blob)
    assert not at.exception and "protected by a passphrase" in at.error[0].value
    at.text_input(key="session_passphrase_open").input("wrong").run()
    assert not at.exception and "passphrase does not open" in at.error[0].value
    at.text_input(key="session_passphrase_open").input("s3cret").run()
    assert not at.exception and not at.error
    assert at.session_state[UPLOAD_KEY] == [("sales.csv", SALES)]


def test_crafted_view_values_never_break_the_sidebar():
    """A session naming a period kind the sidebar does not offer keeps the default one."""
    at = _app()
    blob = save_session([("sales.csv", SALES)], None, Settings(),
                        {"source": "elsewhere", "period_kind": "Fortnight", "scope_region": "Nowhere"})
    _upload(at, blob)
    assert not at.exception
    assert at.session_state["source"] == MINE and at.session_state["period_kind"] != "Fortnight"


def test_anonymised_export_of_a_managers_team_keeps_the_team_and_hides_the_manager():
    """The manager scope follows the pseudonyms: same reps in the preview, no manager name shown."""
    at = _app()
    manager = sorted(at.session_state["ctx"].ds.table("reps")["manager"].dropna().unique())[0]
    at.sidebar.selectbox(key="scope_manager").set_value(manager).run()
    at.toggle(key="export_whole_team").set_value(False).run()
    assert any(f"Team of {manager}" in m.value for m in at.markdown)
    headline = at.dataframe[0].value["Value"].tolist()
    at.toggle(key="export_anonymize").set_value(True).run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Team of Manager" in shown and manager not in shown
    assert at.dataframe[0].value["Value"].tolist() == headline      # the same team's numbers, not nobody's
