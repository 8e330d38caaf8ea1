"""Shared test set-up: how the suite runs (both cores, browser tests with the slow ones) and
the AppTest navigation mode."""
import pytest
from streamlit.runtime.pages_manager import PagesManager


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Spread the run over every core (pytest-xdist's `-n auto --dist loadscope`) when
    pytest-xdist is installed (requirements-dev.txt) and the command did not choose (`-n 0`,
    `-n 1`, `-p no:xdist`). Not in addopts: README's install (requirements.txt) has no xdist.

    loadscope sends each test module to one worker, so a module's fixtures (one AppTest of a
    page, one generated team) are built once, and a module's server or browser lives in one
    worker. Runs before xdist's own hook, which turns "auto" into the number of cores.
    """
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
