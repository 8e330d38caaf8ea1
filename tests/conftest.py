"""Shared test set-up: how the suite runs (every core, browser tests with the slow ones), the
AppTest navigation mode, and the inputs several modules read, built once per test process.

The shared inputs are read-only: a Dataset is immutable once built, and a test that needs a
changed copy makes one (dataclasses.replace, DataFrame.copy) rather than changing the shared one.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

if TYPE_CHECKING:
    from core.dataset import Dataset
    from core.report.summary import SummaryData

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "external" / "maven_crm"
MAVEN_FILES = ("sales_pipeline.csv", "sales_teams.csv", "products.csv", "accounts.csv")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Spread the run over every core (pytest-xdist's `-n auto --dist loadscope`) when
    pytest-xdist is installed (requirements-dev.txt) and the command did not choose (`-n 0`,
    `-n 1`, `-p no:xdist`). Not in addopts: README's install (requirements.txt) has no xdist.

    loadscope sends each test module to one worker, so a module's fixtures (one AppTest of a
    page, one generated team) are built once, and a module's server or browser lives in one
    worker. Runs before xdist's own hook, which turns "auto" into the number of cores.
    """
    if hasattr(config, "workerinput") or os.environ.get("PYTEST_XDIST_WORKER"):
        return      # a worker: xdist resets its numprocesses to None, and it must not start workers
    option = config.option
    if (config.pluginmanager.hasplugin("xdist") and getattr(option, "numprocesses", 0) is None
            and not getattr(option, "collectonly", False) and not getattr(option, "usepdb", False)):
        option.numprocesses = "auto"
        if option.dist == "no":
            option.dist = "loadscope"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test (a real server and Chromium) is a slow test: out of the default run, run by
    `pytest -m slow` (.ci/run's second step). Runs before `-m` deselects."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def bundled_sample() -> Dataset:
    """The bundled sample workbook as ingested: the very Dataset the app shows in this process
    (ui.state.sample_dataset's resource cache), so page tests and core tests share one read."""
    from ui.state import SAMPLE_PATH, sample_dataset

    if not SAMPLE_PATH.exists():
        pytest.skip("sample_data/goalgap_sample.xlsx not generated yet")
    return sample_dataset()


@pytest.fixture(scope="session")
def maven_crm() -> Dataset:
    """The public Maven CRM export (its four CSVs) as a user would upload it."""
    from core.ingest.pipeline import ingest_paths

    if not all((MAVEN / f).exists() for f in MAVEN_FILES):
        pytest.skip("public Maven CRM data (shared/external/maven_crm) is not on this machine")
    return ingest_paths([MAVEN / f for f in MAVEN_FILES])


class TeamSummary(NamedTuple):
    ds: Dataset
    data: SummaryData
    workbook: bytes


@pytest.fixture(scope="session")
def team12_summary() -> TeamSummary:
    """A generated team (12 reps, 2.2 years, seed 5), its summary for 2026-Q3 with the default
    settings and the Excel workbook built from that summary."""
    from core.dataset import Dataset
    from core.periods import parse_period
    from core.report.summary import collect
    from core.report.workbook import build_workbook
    from core.sample.team import generate
    from core.settings import Settings

    ds = Dataset(tables=generate(n_reps=12, years=2.2, seed=5).tables)
    data = collect(ds, parse_period("2026-Q3"), Settings())
    return TeamSummary(ds, data, build_workbook(data))
