"""GoalGap — why is my team missing its goals? Entry point: shared sidebar + page navigation."""
from __future__ import annotations

import streamlit as st

from ui import sidebar

st.set_page_config(page_title="GoalGap — why is my team missing goal?", page_icon="🎯", layout="wide")

PAGES = {
    "Why we miss goal": [
        st.Page("pages/settings.py", title="Targets & settings", icon="⚙️"),
    ],
}
DATA_ONLY = [st.Page("pages/settings.py", title="Targets & settings", icon="⚙️")]

ctx = sidebar.render()
st.navigation(PAGES if ctx is not None else DATA_ONLY).run()
