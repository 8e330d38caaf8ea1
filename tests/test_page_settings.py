"""Targets & settings page: edits reach every page's context, reset, and settings files in and out."""
from __future__ import annotations

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from core.settings import Settings
from tests.apptest import ROOT, open_page

pytestmark = pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                                reason="the bundled sample workbook is not built yet")


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _context_settings(at: AppTest) -> Settings:
    """The settings the sidebar hands every page (its context), after one more run."""
    at.run()
    return at.session_state["ctx"].settings


@pytest.fixture()
def at() -> AppTest:
    return open_page("settings")


def test_page_renders_with_the_defaults(at):
    assert not at.exception and not at.error
    assert at.title[0].value == "Targets & settings"
    assert at.number_input(key="t.meetings_per_week").value == 5.0
    assert at.number_input(key="t.attainment").value == 100.0      # a percent shown as such
    assert _context_settings(at) == Settings()


def test_apply_changes_the_context_and_reset_restores_the_defaults(at):
    at.number_input(key="t.meetings_per_week").set_value(6.0)
    at.number_input(key="t.attainment").set_value(90.0)
    _button(at, "Apply").click().run()
    assert not at.exception
    assert any("Applied" in s.value for s in at.success)
    applied = _context_settings(at)
    assert applied == Settings().with_target("meetings_per_week", 6.0).with_target("attainment", 0.9)
    assert at.number_input(key="t.meetings_per_week").value == 6.0

    _button(at, "Reset to defaults").click().run()
    assert not at.exception
    assert _context_settings(at) == Settings()
    assert at.number_input(key="t.meetings_per_week").value == 5.0


def test_download_holds_the_sessions_settings(at, monkeypatch):
    """The download is the applied settings as JSON, named goalgap-settings.json; it opens again
    as the same settings (what `python -m core report --settings` reads)."""
    served: dict[str, bytes] = {}
    keep = MemoryMediaFileStorage.load_and_get_id

    def record(self, data, mimetype, kind, filename=None):
        served[filename] = data
        return keep(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at.number_input(key="t.meetings_per_week").set_value(7.0)
    _button(at, "Apply").click().run()
    assert not at.exception
    assert "Download these settings (.json)" in [b.proto.label for b in at.get("download_button")]
    blob = served["goalgap-settings.json"]
    assert Settings.from_json(blob.decode()) == Settings().with_target("meetings_per_week", 7.0)


def test_a_settings_file_becomes_the_sessions_settings(at):
    wanted = Settings().with_target("meetings_per_week", 6.0).with_target("knowledge_quotient", 75.0)
    at.file_uploader(key="settings_upload").upload("goalgap-settings.json", wanted.to_json().encode(),
                                                   "application/json").run()
    assert not at.exception and not at.error
    assert any("goalgap-settings.json" in s.value for s in at.success)
    assert at.number_input(key="t.meetings_per_week").value == 6.0   # the form shows the file's values
    assert _context_settings(at) == wanted


def test_a_file_that_is_not_settings_gets_a_plain_message(at):
    at.file_uploader(key="settings_upload").upload("notes.json", b'{"targets": {"meetings_per_week": "six"}}',
                                                   "application/json").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The settings file gives targets that are not numbers: "
                                           "meetings_per_week. Use plain numbers such as 5 or 0.8."]
    assert _context_settings(at) == Settings()


def test_inputs_are_grouped_labelled_with_units_and_help(at):
    """The page reads the settings' metadata: one expander per group, labels a director reads with
    the unit, help texts, months as whole numbers and percentages as %."""
    from core.settings import GROUPS, setting_info
    from core.settings import Thresholds as Th

    assert [e.label for e in at.expander] == [g for g in GROUPS if g != "Calendar, currency & quotas"]
    ramp = at.number_input(key="th.ramp_months")
    assert ramp.value == 9 and ramp.label == "Ramp-up period of a new rep (months)"
    assert ramp.help == setting_info(Th, "ramp_months").help
    assert at.number_input(key="th.false_discovery_rate").value == 10.0
    assert at.number_input(key="th.false_discovery_rate").label.endswith("(%)")
    assert all(n.help and "_" not in n.label for n in at.number_input)
