"""Import the report's modules while the data is still being read.

The command line reads its inputs in a worker process (core.ingest.sandbox) and waits for it, one
core idle. The report then imports what it computes with: statsmodels' Holt-Winters and OLS, scipy,
openpyxl, the diagnostic's causes (about 1.2 s at first import, measured on 2 cores). Importing
them in a thread during that wait takes them off the clock.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# What core.report.summary.collect and build_workbook import when they first run (function-level
# imports included); tests/test_report_ahead.py checks that nothing heavy is left to import after.
REPORT = ("core.report.summary", "core.report.workbook", "core.diagnostic.causes", "core.kpis.forecast",
          "statsmodels.tsa.holtwinters", "statsmodels.regression.linear_model", "scipy.stats",
          "scipy.optimize", "scipy.special")
DECK = (*REPORT, "core.report.deck")


@contextmanager
def imports_ahead(names: Sequence[str]) -> Iterator[None]:
    """Import `names` in a background thread while the body runs; wait for it at the end, so the
    caller never imports a module the thread is still importing."""
    thread = threading.Thread(target=_import_all, args=(tuple(names),), name="goalgap-imports-ahead",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _import_all(names: tuple[str, ...]) -> None:
    """Import each module; one that fails is left for the report to import, and to say why."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001,S112 — the report's own import raises it again, where it is reported
            continue
