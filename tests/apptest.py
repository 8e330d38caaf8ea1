"""Opening the real app (app.py, its sidebar, the bundled sample) on one page, for page tests."""
from __future__ import annotations

import json
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


def chart_specs(at: AppTest) -> list[dict]:
    """The plotly figures on the page, as the JSON Streamlit sends to the browser."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def plotly_values(array: object) -> list:
    """A plotly JSON array as a list: plotly holds numeric arrays as base64 typed arrays."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        import numpy as np
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)
