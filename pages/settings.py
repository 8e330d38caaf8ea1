"""Targets and thresholds: one editable settings object shared by every page and the export."""
from __future__ import annotations

from dataclasses import fields, replace

import streamlit as st

from core.settings import Points, Settings, Targets, Thresholds
from ui.state import SETTINGS_KEY, settings

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


st.title("Targets & settings")
st.write("Every page compares each KPI with these targets, and the diagnostic flags a rep when a "
         "signal crosses these thresholds. Defaults follow common medtech practice; change them to "
         "match your plan. Changes apply to this session and are saved with it.")
current = settings()
with st.form("settings"):
    st.subheader("KPI targets")
    targets = _edit(current.targets, "t")
    st.subheader("Diagnostic thresholds")
    thresholds = _edit(current.thresholds, "th")
    st.subheader("Leaderboard points")
    points = _edit(current.points, "p")
    if st.form_submit_button("Apply", type="primary"):
        st.session_state[SETTINGS_KEY] = Settings(targets, thresholds, points)
        st.success("Applied: every page now uses these targets.")
if st.button("Reset to defaults"):
    st.session_state[SETTINGS_KEY] = Settings(Targets(), Thresholds(), Points())
    for key in [k for k in st.session_state if str(k).split(".")[0] in {"t", "th", "p"}]:
        del st.session_state[key]
    st.rerun()
