"""The session's notebook in the browser session: notes boxes and the coaching log.

User text is shown with st.dataframe / st.text only, never as Markdown.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from core.dataset import Dataset
from core.errors import UserError
from core.fmt import NA
from core.people.notes import Notebook, coaching_effect

NOTEBOOK_KEY = "notebook"


def notebook() -> Notebook:
    """The notes and coaching log of this browser session (saved with the session file)."""
    return st.session_state.get(NOTEBOOK_KEY) or Notebook()


def notes_box(about: str, key: str, label: str, folded: bool = True) -> None:
    """The notes on one subject, and a small form to add one (in an expander unless `folded` is
    False, for places already inside one)."""
    mine = notebook().notes_about(about, key)
    holder = st.expander(f"{label} ({len(mine)})", icon="📝") if folded else st.container()
    with holder:
        if mine:
            st.dataframe(pd.DataFrame({"Date": [n.date for n in mine], "Note": [n.text for n in mine]}),
                         hide_index=True, width="stretch", placeholder=NA)
        with st.form(f"note_form_{about}_{key}", clear_on_submit=True, border=False):
            text = st.text_area("New note", key=f"note_text_{about}_{key}", height=80)
            if st.form_submit_button("Add note"):
                update_notebook(lambda b: b.add_note(about, key, text, date.today()))


def coaching_box(ds: Dataset, rep_id: str, competencies: list[str]) -> None:
    """The rep's coaching log with "is the coaching working?", and a form to add an entry."""
    book = notebook()
    effect = coaching_effect(ds, book)
    mine = effect[effect["rep_id"] == rep_id]
    if len(mine):
        st.dataframe(mine.drop(columns="rep_id"), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%+.2f")
                                    for c in ("before", "before_low", "before_high", "after", "after_low",
                                              "after_high")}, placeholder=NA)
        st.caption("Trends are manager-rating points per 90 days before and after the coaching date, "
                   "with 80% intervals.")
    with st.form(f"coaching_form_{rep_id}", clear_on_submit=True):
        day = st.date_input("Coaching date", value=date.today(), key=f"coaching_date_{rep_id}")
        skill = st.selectbox("Competency", competencies or ["(none)"], key=f"coaching_skill_{rep_id}")
        agreed = st.text_area("What was agreed", key=f"coaching_agreed_{rep_id}", height=80)
        if st.form_submit_button("Add to the coaching log"):
            update_notebook(lambda b: b.add_coaching(rep_id, day, skill, agreed))


def update_notebook(change: Callable[[Notebook], Notebook]) -> None:
    """Apply `change` to the session's notebook; a refused entry is said in plain words."""
    try:
        st.session_state[NOTEBOOK_KEY] = change(notebook())
    except UserError as err:
        st.error(str(err))
