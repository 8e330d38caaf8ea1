"""Shared test set-up."""
import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch):
    """Run AppTest the way the server runs once app.py has called st.navigation.

    AppTest resets Streamlit's "uses the pages/ folder" flag before every run, so every rerun
    after the first would run the page file alone, without app.py and its sidebar. The server
    clears that flag for good on app.py's first st.navigation call (its first script run).
    """
    init = PagesManager.__init__

    def navigation_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", navigation_init)


@pytest.fixture
def session_state(monkeypatch):
    """One session's state, for code that keeps things in st.session_state called outside an app
    run: a plain dict in place of Streamlit's. Clearing it is what closing the session does."""
    state: dict = {}
    monkeypatch.setattr(st, "session_state", state)
    return state
