"""Opening the real app (app.py, its sidebar, the bundled sample) on one page, for page tests."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str, timeout: float = 120) -> AppTest:
    """AppTest of app.py, run once, then switched to pages/<page>.py and run again."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at
