"""The shipped .streamlit/config.toml: no usage statistics, XSRF on, no error details shown to users,
and an upload limit that ingest's own limits can handle (and that the README states)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from core.ingest.readers import MAX_SHEET_CELLS, MAX_UNZIPPED_BYTES

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_usage_statistics_are_off():
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_xsrf_protection_is_on():
    assert CONFIG["server"]["enableXsrfProtection"] is True


def test_no_error_details_reach_the_browser():
    """Tracebacks never shown to a user: Streamlit shows a generic message instead."""
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_workbook_limits_are_documented():
    """Workbooks unpack (about 10:1) before reading, so they have their own, smaller ceiling than a
    CSV upload: the README must say so, with the numbers ingest enforces."""
    limit_mb = CONFIG["server"]["maxUploadSize"]
    assert 0 < limit_mb <= 1000
    readme = (ROOT / "README.md").read_text()
    assert f"{MAX_UNZIPPED_BYTES >> 30} GB" in readme and f"{MAX_SHEET_CELLS:,}" in readme


def test_upload_limit_is_documented():
    """The README states the same upload limit the server enforces."""
    readme = (ROOT / "README.md").read_text()
    limit_mb = CONFIG["server"]["maxUploadSize"]
    if not re.search(r"(?i)upload", readme) or f"{limit_mb} MB" not in readme:
        pytest.fail(f"README.md must state the upload limit ({limit_mb} MB)")
