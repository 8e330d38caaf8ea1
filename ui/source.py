"""The data the app opens on: the administrator's source when one is configured, else the bundled sample.

An administrator points every session at the company's data, with no upload size limit, either by
the environment variable GOALGAP_DATA (and GOALGAP_TABLE_MAP), which wins, or in
`.streamlit/secrets.toml`:

    [goalgap]
    data = "/srv/goalgap/team.duckdb"      # a folder of CSV / Parquet / xlsx files, a DuckDB file, or a URL
    table_map = "/srv/goalgap/map.toml"    # optional: which of its tables (and columns) holds which

(core.ingest.sources.configured_source reads them). The source is read once per process and
content (the files' sizes and modification times, core.ingest.sources.source_signature, and the
session's ingest settings), in a worker process as the CLI reads its INPUT (core.ingest.sandbox),
and held for every session like the sample. A session's uploads take precedence for that session.
A source that cannot be read leaves the app on the bundled sample, and the Data page says why in
plain words; a URL's password is never shown.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, NamedTuple

import streamlit as st

from core.dataset import Dataset
from core.errors import UserError
from core.ingest.sandbox import Budget, ingest_inputs_isolated
from core.ingest.sources import ConfiguredSource, TableMap, configured_source, source_signature
from core.settings import Settings
from ui.state import prewarm, sample_dataset, settings

SAMPLE_LABEL = "the bundled sample team"
ADMIN_CHOICE = "Team data (set by the administrator)"
RETRY_FAILED_S = 60.0           # a source that could not be read is tried again after this long
_log = logging.getLogger(__name__)
_failures: dict[str, tuple[str, float]] = {}       # signature → (message, when)
_failures_lock = threading.Lock()


class Opened(NamedTuple):
    """The data a session without uploads shows, how the sidebar names it, and the Data page's notice."""

    ds: Dataset
    label: str
    notice: str = ""
    failed: bool = False


def configured() -> ConfiguredSource | None:
    """The administrator's source from the environment or the app's secrets (None when unset)."""
    secrets: Any = st.secrets if st.secrets.load_if_toml_exists() else {}
    return configured_source(os.environ, secrets)


def default_data(chosen: Settings) -> Opened:
    """The administrator's data when it is configured and can be read; else the bundled sample
    (with the reason when the administrator's source could not be read)."""
    try:
        source = configured()
    except UserError as err:
        return _fallback(str(err))
    if source is None:
        return Opened(sample_dataset(), SAMPLE_LABEL)
    signature = source_signature(source) + json.dumps(chosen.ingest_options(), sort_keys=True)
    with _failures_lock:
        failed = _failures.get(signature)
    if failed is not None and time.monotonic() - failed[1] < RETRY_FAILED_S:
        return _fallback(failed[0], source)
    try:
        ds = _read(signature, source, chosen.ingest_options())
    except UserError as err:
        message = source.masked(str(err))
    except Exception:  # noqa: BLE001 — any failure leaves the app on the sample; the log keeps the details
        _log.exception("the administrator's data source %s could not be read", source.name)
        message = "it failed in an unexpected way (the server's log has the details)."
    else:
        with _failures_lock:
            _failures.pop(signature, None)
        described = f"{source.name} ({_tables_read(ds)})"
        return Opened(ds, f"the administrator's source: {described}",
                      f"Data from the administrator's source: {described}. Upload files below to use your "
                      "own for this session.")
    with _failures_lock:
        _failures[signature] = (message, time.monotonic())
    return _fallback(message, source)


@st.cache_resource(max_entries=4, show_spinner="Reading the team's data…")
def _read(signature: str, _source: ConfiguredSource, _options: dict[str, Any]) -> Dataset:
    """The source read once per signature (its content and the ingest options) in a worker process."""
    table_map = TableMap.read(_source.table_map) if _source.table_map else None
    ds = ingest_inputs_isolated([_source.data], table_map, _options, Budget.for_machine())   # no upload limit
    prewarm(ds, settings())
    return ds


def _tables_read(ds: Dataset) -> str:
    """How many of the source's tables became GoalGap tables, in words."""
    n = len({s.table for s in ds.sources if s.table and not s.source.startswith("derived")})
    return f"{n} table" + ("" if n == 1 else "s")


def _fallback(reason: str, source: ConfiguredSource | None = None) -> Opened:
    where = f" ({source.name})" if source is not None else ""
    reason = reason.strip()
    return Opened(sample_dataset(), f"{SAMPLE_LABEL} (the administrator's source could not be read)",
                  f"The administrator's data source{where} could not be read: {reason}"
                  f"{'' if reason.endswith('.') else '.'} Showing the bundled sample team instead.",
                  failed=True)


def choice_names(sample_choice: str, *others: str) -> dict[str, str]:
    """The sidebar's name for each data choice: the sample choice reads as the team's data when an
    administrator configured a source (worked out once per run, for the radio's format_func)."""
    try:
        admin = configured() is not None
    except UserError:
        admin = False
    return {sample_choice: ADMIN_CHOICE if admin else sample_choice} | {c: c for c in others}


def show_notice(opened: Opened) -> None:
    """On the Data page: where the default data came from, or why the administrator's could not be read."""
    from ui.text import md

    if opened.failed:
        st.warning(md(opened.notice))
    elif opened.notice:
        st.info(md(opened.notice))
