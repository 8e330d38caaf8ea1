"""Targets and thresholds: one editable settings object shared by every page and the export."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.errors import UserError
from core.settings import (
    GROUPS,
    SECTIONS,
    Points,
    SettingInfo,
    Settings,
    Targets,
    Thresholds,
    infos,
)
from ui.state import SETTINGS_KEY, settings
from ui.text import md

FILE_MESSAGE_KEY = "settings_file_message"   # (kind, text) from the last settings file opened
PREFIX = {"targets": "t", "thresholds": "th", "points": "p"}   # widget keys: "<prefix>.<field>"
WIDGET_PREFIXES = set(PREFIX.values())
EDITED_HERE = [g for g in GROUPS if g != "Calendar, currency & quotas"]   # those on the Quotas page
# How each unit is typed: (format, step). Percentages are shown ×100.
INPUT = {"%": ("%.0f", 1.0), "percentage points": ("%.0f", 1.0), "months": ("%d", 1), "count": ("%.0f", 1.0),
         "days": ("%.1f", 0.5), "×": ("%.1f", 0.1), "per week": ("%.1f", 0.5), "per quarter": ("%.1f", 0.5),
         "score 0–100": ("%.0f", 1.0), "index, 100 = average": ("%.0f", 1.0), "points": ("%.1f", 1.0)}


def _input(section: str, name: str, info: SettingInfo, current: float) -> float:
    """One number input, labelled with the setting's unit and help; returns the value as stored."""
    fmt, step = INPUT.get(info.unit, ("%.2f", 0.05))
    if isinstance(current, int):
        shown: float = int(current)
    else:
        shown = current * 100 if info.is_percent else float(current)
    new = st.number_input(f"{info.label} ({info.unit})", value=shown, step=step, format=fmt,
                          help=info.help, key=f"{PREFIX[section]}.{name}")
    return type(current)(new / 100 if info.is_percent else new)


def _edit_group(current: Settings, group: str, values: dict[str, dict[str, float]]) -> None:
    """The inputs of one group, three to a row; their values go into values[section][name]."""
    chosen = [(sec, n, i) for sec, typ in SECTIONS.items() for n, i in infos(typ).items() if i.group == group]
    cols = st.columns(3)
    for k, (section, name, info) in enumerate(chosen):
        with cols[k % 3]:
            values[section][name] = _input(section, name, info, getattr(getattr(current, section), name))


def _forget_edits() -> None:
    """Drop the number inputs' own state so they show the session's settings again."""
    for key in [k for k in st.session_state if str(k).split(".")[0] in WIDGET_PREFIXES]:
        del st.session_state[key]


def _use_settings_file() -> None:
    """Callback of the settings uploader: the file's settings become the session's."""
    upload = st.session_state.get("settings_upload")
    st.session_state[FILE_MESSAGE_KEY] = None
    if upload is None:
        return
    try:
        text = upload.getvalue().decode("utf-8", errors="replace")
        st.session_state[SETTINGS_KEY] = Settings.from_json(text)
    except UserError as err:
        st.session_state[FILE_MESSAGE_KEY] = ("error", str(err))
        return
    _forget_edits()
    st.session_state[FILE_MESSAGE_KEY] = ("success", f"Applied the settings in {upload.name}: every "
                                                     "page now uses them.")


st.title("Targets & settings")
st.write("Every page compares each KPI with these targets, and the diagnostic flags a rep when a "
         "signal crosses these thresholds. Defaults follow common medtech practice; change them to "
         "match your plan. Changes apply to this session and are saved with it.")
current = settings()
with st.form("settings_form"):   # not SETTINGS_KEY: a form key cannot share a session key
    edited: dict[str, dict[str, float]] = {section: {} for section in SECTIONS}
    for number, group in enumerate(EDITED_HERE):
        with st.expander(group, expanded=number == 0):
            _edit_group(current, group, edited)
    if st.form_submit_button("Apply", type="primary"):
        st.session_state[SETTINGS_KEY] = replace(
            current, **{section: replace(getattr(current, section), **edited[section]) for section in SECTIONS})
        st.session_state[FILE_MESSAGE_KEY] = None
        st.success("Applied: every page now uses these targets.")
st.caption("The fiscal year, reporting currency and quotas are set on the Quotas page.")
if st.button("Reset to defaults"):
    st.session_state[SETTINGS_KEY] = replace(settings(), targets=Targets(), thresholds=Thresholds(), points=Points())
    st.session_state[FILE_MESSAGE_KEY] = None
    _forget_edits()
    st.rerun()

st.subheader("Settings files")
st.caption("Keep these settings in a file to use them in another session, or to give them to "
           "`python -m core report --settings` so that it writes the same workbook as the app.")
left, right = st.columns(2)
with left:
    st.download_button("Download these settings (.json)", data=settings().to_json(),
                       file_name="goalgap-settings.json", mime="application/json", on_click="ignore",
                       icon=":material/download:")
with right:
    st.file_uploader("Use a settings file", type=["json"], key="settings_upload",
                     on_change=_use_settings_file,
                     help="A file downloaded from this page; it replaces the settings above.")
    kind, text = st.session_state.get(FILE_MESSAGE_KEY) or ("", "")
    if kind == "success":
        st.success(md(text))
    elif kind == "error":
        st.error(md(text))
