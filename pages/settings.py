"""Targets and thresholds: one editable settings object shared by every page and the export."""
from __future__ import annotations

from dataclasses import fields, replace

import streamlit as st

from core.errors import UserError
from core.settings import Points, Settings, Targets, Thresholds
from ui.state import SETTINGS_KEY, settings
from ui.text import md

FILE_MESSAGE_KEY = "settings_file_message"   # (kind, text) from the last settings file opened
WIDGET_PREFIXES = {"t", "th", "p"}
PERCENT = {"attainment", "call_plan_adherence", "on_time_follow_up_rate", "coverage", "overlap",
           "on_time_follow_up_min", "plan_adherence_min", "buyer_admin_share_min", "win_rate_gap",
           "churn_excess", "quarter_end_share_max", "reps_at_goal_min", "quota_per_potential_excess",
           "meetings_shortfall", "false_discovery_rate"}


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize() + (" (%)" if name in PERCENT else "")


def _edit(group: object, prefix: str) -> object:
    values = {}
    cols = st.columns(3)
    for i, f in enumerate(fields(group)):
        current = getattr(group, f.name)
        shown = current * 100 if f.name in PERCENT else current
        with cols[i % 3]:
            new = st.number_input(_label(f.name), value=float(shown), key=f"{prefix}.{f.name}",
                                  step=1.0 if f.name in PERCENT or abs(shown) >= 5 else 0.05)
        new = new / 100 if f.name in PERCENT else new
        values[f.name] = type(current)(new)
    return replace(group, **values)


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
    st.subheader("KPI targets")
    targets = _edit(current.targets, "t")
    st.subheader("Diagnostic thresholds")
    thresholds = _edit(current.thresholds, "th")
    st.subheader("Leaderboard points")
    points = _edit(current.points, "p")
    if st.form_submit_button("Apply", type="primary"):
        st.session_state[SETTINGS_KEY] = replace(current, targets=targets, thresholds=thresholds, points=points)
        st.session_state[FILE_MESSAGE_KEY] = None
        st.success("Applied: every page now uses these targets.")
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
