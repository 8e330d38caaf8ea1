"""GoalGap — why is my team missing its goals? Entry point: shared sidebar + page navigation."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import sidebar

st.set_page_config(page_title="GoalGap — why is my team missing goal?", page_icon="🎯", layout="wide")

HERE = Path(__file__).parent
SECTIONS = {
    "Why we miss goal": [("overview", "Overview", "🎯"), ("diagnostic", "Diagnostic", "🩺")],
    "Performance": [("trends", "Trends & forecast", "📈"), ("activity", "Activity & follow-up", "📅"),
                    ("pipeline", "Pipeline", "🧪")],
    "Territories & people": [("territories", "Territories", "🗺️"), ("rep_profile", "Rep profile", "👤"),
                             ("team_competencies", "Team competencies", "🧭"),
                             ("leaderboard", "Leaderboard", "🏆")],
    "Your data": [("data", "Data", "📂"), ("export", "Export & sessions", "📤"),
                  ("settings", "Targets & settings", "⚙️")],
}


def _page(name: str, title: str, icon: str) -> st.Page:
    return st.Page(f"pages/{name}.py", title=title, icon=icon, url_path=name)


# Navigation first: until st.navigation is called, Streamlit lists the pages/ folder on its own.
page = st.navigation({section: [_page(*p) for p in pages if (HERE / "pages" / f"{p[0]}.py").exists()]
                      for section, pages in SECTIONS.items()})
sidebar.render()
page.run()
