"""GoalGap — why is my team missing its goals? Entry point: shared sidebar + page navigation."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import sidebar
from ui.state import freeze_startup_objects

st.set_page_config(page_title="GoalGap — why is my team missing goal?", page_icon="🎯", layout="wide")

HERE = Path(__file__).parent
SECTIONS = {
    "Why we miss goal": [("overview", "Overview", ":material/flag:"),
                         ("diagnostic", "Diagnostic", ":material/troubleshoot:")],
    "Performance": [("trends", "Trends & forecast", ":material/trending_up:"),
                    ("activity", "Activity & follow-up", ":material/event_available:"),
                    ("pipeline", "Pipeline", ":material/filter_alt:"),
                    ("customers", "Customers & market", ":material/storefront:"),
                    ("incentives", "Incentives", ":material/payments:")],
    "Territories & people": [("territories", "Territories", ":material/map:"),
                             ("rep_profile", "Rep profile", ":material/person:"),
                             ("managers", "Managers", ":material/supervisor_account:"),
                             ("team_competencies", "Team competencies", ":material/school:"),
                             ("leaderboard", "Leaderboard", ":material/emoji_events:")],
    "Your data": [("data", "Data", ":material/upload_file:"), ("export", "Export & sessions", ":material/download:"),
                  ("settings", "Targets & settings", ":material/tune:"),
                  ("quotas", "Quotas, fiscal year & currency", ":material/target:")],
}


def _page(name: str, title: str, icon: str) -> st.Page:
    return st.Page(f"pages/{name}.py", title=title, icon=icon, url_path=name)


# Navigation first: until st.navigation is called, Streamlit lists the pages/ folder on its own.
# expanded: every page in view (collapsed, Data and Export hid behind "View 6 more").
page = st.navigation({section: [_page(*p) for p in pages if (HERE / "pages" / f"{p[0]}.py").exists()]
                      for section, pages in SECTIONS.items()}, expanded=True)
sidebar.render()
try:
    page.run()
finally:           # also when the page stops early (st.stop) or switches page
    freeze_startup_objects()
