"""The one place pages get their data: the session's context and a content-keyed cache.

Datasets are held once per distinct content (keyed by a digest of the uploaded bytes and the
column matches), never by a name a user chooses, so sessions cannot see each other's data. Each
session holds its own Dataset in its session state, and the content index only refers to it
weakly: when the last session using it closes, its memory is released. Files are read in a worker
process with a memory and time budget (core.ingest.sandbox). Results are cached with st.cache_data (at
most RESULTS_MAX_ENTRIES, each for RESULTS_TTL_S) keyed by the Dataset's fingerprint (a digest of
every row), the period, the scope and the settings; whole-team results that every scope shares
live on the Dataset itself (dataset_call), as core's per-period KPI parts do (Dataset.memo).
"""
from __future__ import annotations

import gc
import hashlib
import importlib
import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import periods
from core.dataset import Dataset, Scope
from core.diagnostic import findings as diagnostics
from core.errors import UserError
from core.fmt import table_label
from core.ingest.pipeline import ingest_paths
from core.ingest.sandbox import OutOfTime, ingest_isolated
from core.kpis import metrics
from core.kpis.in_progress import current_periods, outlook
from core.people import competency
from core.periods import Period
from core.settings import Settings

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "sample_data" / "goalgap_sample.xlsx"
UPLOAD_KEY = "uploaded_files"      # list[tuple[name, bytes]] held in this session only
OVERRIDES_KEY = "column_overrides"  # JSON-able dict of the user's table/column corrections
UPLOAD_DIGEST_KEY = "uploaded_files_digest"  # (that list, its names and sizes, its digest)
SETTINGS_KEY = "settings"
CTX_KEY = "ctx"
DATASET_KEY = "uploaded_dataset"   # this session's Dataset: it lives as long as the session
RESULTS_MAX_ENTRIES, RESULTS_TTL_S = 128, 30 * 60     # cached_call: at most 128 results, 30 min each
FAILURES_KEPT = 64                 # uploads that could not be read: their message, not read again
_datasets: weakref.WeakValueDictionary[str, Dataset] = weakref.WeakValueDictionary()
_failures: OrderedDict[str, str] = OrderedDict()
_index_lock = threading.Lock()
COMPUTING_LOCKS_KEPT = 256
_computing_locks: OrderedDict[str, threading.Lock] = OrderedDict()
_prewarmed: OrderedDict[str, None] = OrderedDict()
_digests: OrderedDict[int, tuple[Settings, str]] = OrderedDict()
_startup_frozen = threading.Event()
NEIGHBOURS_AFTER_S = 0.5           # diagnose_neighbours starts this long after the page that asked


@dataclass(frozen=True)
class Ctx:
    ds: Dataset
    period: Period
    scope: Scope
    settings: Settings
    source_label: str


@st.cache_resource(max_entries=1, show_spinner="Loading the sample team…")
def sample_dataset() -> Dataset:
    ds = ingest_paths([SAMPLE_PATH])
    prewarm(ds, settings())
    return ds


PRELOADED_MODULES = ("ui.charts", "ui.in_progress", "ui.whatif", "ui.notes")   # what the pages import


def preload_sample() -> None:
    """When the server starts (serve.py), in a background thread: read the data a first visitor sees
    (the administrator's source, else the bundled sample team; the read starts
    its whole-team work, see prewarm), import what the pages draw with, and freeze what is then
    alive out of the garbage collector's reach (freeze_startup_objects). The first visitor then pays
    none of it; one who arrives during the read waits for the same read (st.cache_resource computes
    a value once)."""
    def run() -> None:
        from ui.source import default_data  # ui.source reads the sample through this module

        default_data(Settings())             # the administrator's source when one is set, else the sample
        for name in PRELOADED_MODULES:
            importlib.import_module(name)
        freeze_startup_objects()

    threading.Thread(target=run, name="goalgap-preload", daemon=True).start()


def files_digest(files: Sequence[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode())
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def _upload_digest(files: Sequence[tuple[str, bytes]]) -> str:
    """files_digest(files), hashed once per uploaded list rather than on every rerun (hundreds of
    MB at a large company). The Data page replaces the list in session state on each upload, so
    the digest is kept next to the very list object it belongs to (and its names and sizes, in
    case a list is ever changed in place)."""
    shape = tuple((name, len(data)) for name, data in files)
    held = st.session_state.get(UPLOAD_DIGEST_KEY)
    if held is None or held[0] is not files or held[1] != shape:
        held = (files, shape, files_digest(files))
        st.session_state[UPLOAD_DIGEST_KEY] = held
    return held[2]


def uploaded_dataset(files: Sequence[tuple[str, bytes]], overrides: dict | None) -> Dataset:
    """The Dataset for these uploaded files and corrections: read once per distinct content while
    any session holds it, in a worker process (core.ingest.sandbox). A file that cannot be read raises
    its UserError again without being read again."""
    overrides_json = json.dumps(overrides or {}, sort_keys=True)
    key = _upload_digest(files) + hashlib.sha256(overrides_json.encode()).hexdigest()
    with _index_lock:
        ds, failure = _datasets.get(key), _failures.get(key)
    if failure is not None:
        raise UserError(failure)
    if ds is None:
        ds = _read_upload(key, files, overrides_json)
    st.session_state[DATASET_KEY] = ds
    return ds


def _read_upload(key: str, files: Sequence[tuple[str, bytes]], overrides_json: str) -> Dataset:
    try:
        with st.spinner("Reading your files…"):
            ds = ingest_isolated(list(files), json.loads(overrides_json) or None)
    except OutOfTime:
        raise                       # perhaps a busy moment: the same file may be tried again
    except UserError as err:
        with _index_lock:
            _failures[key] = str(err)
            while len(_failures) > FAILURES_KEPT:
                _failures.popitem(last=False)
        raise
    with _index_lock:
        ds = _datasets.setdefault(key, ds)
    prewarm(ds, settings())
    return ds


HELD_UNTIL_CLOSED = (CTX_KEY, DATASET_KEY)      # the session state a session's loaded data hangs from


class _SessionEnd:
    """Made once per session; Streamlit releases it (and calls _release) when the session's browser
    tab disconnects. Holds that session's state (the run context's thread-safe wrapper of it), not
    the data."""

    def __init__(self, state: Any) -> None:
        self.state = state


def _release(end: _SessionEnd) -> None:
    """A session's tab closed or lost its connection: drop what its loaded data hangs from now, not
    when Streamlit drops the session (server.disconnectedSessionTTL, 2 minutes), so an upload
    nobody else holds is released at once (its index is weak, see uploaded_dataset). The uploaded
    files themselves stay until then: a tab that reconnects in time gets its data read again from
    them on its next run. Collected at once when the session had data of its own (its tables are
    reachable from the page's namespace, a cycle only the collector frees)."""
    own = DATASET_KEY in end.state
    for key in HELD_UNTIL_CLOSED:
        if key in end.state:
            del end.state[key]
    if own:
        gc.collect()


@st.cache_resource(scope="session", show_spinner=False, on_release=_release)
def _session_end() -> _SessionEnd:
    return _SessionEnd(get_script_run_ctx().session_state)    # scope="session": only ever inside a run


def release_when_closed() -> None:
    """Arrange, once per session (a session-scoped resource, which Streamlit releases when the
    session disconnects), that the session's data is dropped as soon as its tab closes."""
    _session_end()


def settings() -> Settings:
    return st.session_state.get(SETTINGS_KEY) or Settings()


def context() -> Ctx:
    """The data, period, scope and settings the sidebar chose for this session.

    app.py draws the sidebar before any page runs. On a fresh server a deep link can run a page
    before app.py has ever registered the navigation (Streamlit's pages/-folder mode): send the
    session through app.py, which registers it.
    """
    if CTX_KEY not in st.session_state:
        st.switch_page("app.py")
    ctx = st.session_state[CTX_KEY]
    if ctx is None:
        st.info("No data to show yet: open the **Data** page to upload your files, or choose the "
                "sample team in the sidebar.")
        st.stop()
    return ctx


def settings_digest(chosen: Settings) -> str:
    """chosen.digest(), worked out once per Settings object (a session keeps the same one from rerun
    to rerun; the digest serialises every field, and every cache key of a rerun needs it)."""
    with _index_lock:
        held = _digests.get(id(chosen))
        if held is not None and held[0] is chosen:
            return held[1]
    digest = chosen.digest()
    with _index_lock:
        _digests[id(chosen)] = (chosen, digest)       # the object is kept, so its id is not reused
        while len(_digests) > COMPUTING_LOCKS_KEPT:
            _digests.popitem(last=False)
    return digest


def _key(value: Any) -> str:
    if isinstance(value, Dataset):
        return "ds:" + value.fingerprint
    if isinstance(value, Settings):
        return "settings:" + settings_digest(value)
    if isinstance(value, (pd.DataFrame, pd.Series)):
        digest = hashlib.sha256(pd.util.hash_pandas_object(value, index=True).values.tobytes())
        return f"frame:{value.shape}:{digest.hexdigest()}"
    return repr(value)


# A computation that takes a while says so (Streamlit shows the spinner only after half a second, so
# quick ones never flash it): a page is never blank without a sign that it is working.
BUSY_TEXT = "Computing…"


@st.cache_data(max_entries=RESULTS_MAX_ENTRIES, ttl=RESULTS_TTL_S, show_spinner=BUSY_TEXT)
def _cached(key: str, _fn: Callable, _args: tuple, _kwargs: dict) -> Any:
    return _fn(*_args, **_kwargs)


def _call_key(fn: Callable, args: tuple, kwargs: dict) -> str:
    return "|".join([f"{fn.__module__}.{fn.__qualname__}", *map(_key, args),
                     *(f"{k}={_key(v)}" for k, v in sorted(kwargs.items()))])


def cached_call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs), computed once per distinct content of its arguments."""
    return _cached(_call_key(fn, args, kwargs), fn, args, kwargs)


def dataset_call(fn: Callable, ds: Dataset, *args: Any, **kwargs: Any) -> Any:
    """fn(ds, *args, **kwargs), computed once per Dataset and arguments and held on the Dataset
    (Dataset.memo), which lives as long as its data is loaded. For whole-team results that every
    page and scope share (the team's diagnosis of a period): a scope change filters them and never
    recomputes them. A caller that asks while the same result is being computed (by prewarm or
    another session) waits for it instead of computing it a second time."""
    key = _call_key(fn, args, kwargs)
    kept, result = ds.cache.peek(("ui.dataset_call", key))
    if kept:                    # computed already: no spinner (an element and a timer thread a call)
        return result
    # The background prewarm thread has no script run to draw a spinner in.
    busy = st.spinner(BUSY_TEXT) if get_script_run_ctx() is not None else nullcontext()
    with busy, _computing(f"{ds.fingerprint}|{key}"):
        return ds.memo(("ui.dataset_call", key), lambda: fn(ds, *args, **kwargs))


def view_memo(ctx: Ctx, name: str, build: Callable[[], Any], *extra: Any) -> Any:
    """build(): a figure or table that a page draws from ctx (its data, period, scope and settings)
    and `extra`, made once and the same object on every rerun that shows the same thing (held on
    the Dataset, `name` keeping its own most-recent results). Building a plotly figure validates
    every trace (tens of ms a figure): a period change that returns to a period seen before — or
    another session on the same data — then costs only the sending. `build` must use nothing but
    ctx and `extra`; the result is read-only (st.plotly_chart and st.dataframe copy what they send).
    Sessions asking for the same view at once (25 people changing to the same period) wait for the
    one that builds it rather than each building it."""
    key = "|".join([repr(ctx.period), repr(ctx.scope), settings_digest(ctx.settings), *map(_key, extra)])
    with _computing(f"{ctx.ds.fingerprint}|ui.view.{name}|{key}"):
        return ctx.ds.memo((f"ui.view.{name}", key), build)


def _computing(key: str) -> threading.Lock:
    """The lock of one dataset_call result: held while it is computed."""
    with _index_lock:
        lock = _computing_locks.pop(key, None) or threading.Lock()
        _computing_locks[key] = lock                     # most recently used last
        while len(_computing_locks) > COMPUTING_LOCKS_KEPT:
            _computing_locks.popitem(last=False)
    return lock


def whole_team_work(ds: Dataset, settings: Settings) -> list[tuple[Callable, tuple]]:
    """The whole-team results the first screens need, as (function, arguments) for dataset_call:
    the diagnosis of the period the sidebar opens on (the latest complete quarter, which the rep
    tables and the Rep profile read) and, when a quarter is in progress, its outlook and the
    diagnosis of the quarter before it (the Overview's first block); then, last, the competency
    table of every rating date (competency.every_table: a dozen tables serve every period, so a
    period opened later does not wait for its mixed models)."""
    span = ds.date_span()
    ratings: list[tuple[Callable, tuple]] = [(competency.every_table, ())] if ds.has("assessments") else []
    if span is None or not ds.has("sales") or metrics.missing_inputs(ds, "attainment"):
        return ratings                      # without quotas no page shows a diagnosis or an outlook
    opening = periods.latest_complete("quarter", span[1], settings.fiscal_start_month)
    work: list[tuple[Callable, tuple]] = [(diagnostics.diagnose, (opening, settings, Scope()))]
    now = current_periods(ds)
    if now is not None and now[0] != now[1]:    # a quarter in progress
        current, done, _ = now
        work.append((outlook, (current, settings, Scope())))
        if done != opening:
            work.append((diagnostics.diagnose, (done, settings, Scope())))
    return work + ratings


def prewarm(ds: Dataset, settings: Settings) -> None:
    """Start the whole-team work (whole_team_work) in a background thread as soon as a dataset is
    loaded, once per dataset and settings: done once per dataset rather than by the first page
    that asks, so the Overview's first screen does not wait for it (a page that asks meanwhile
    waits for the same computation, see dataset_call). A failure is left for the page to meet
    and explain."""
    _in_background(f"{ds.fingerprint}|{settings_digest(settings)}", ds, lambda: whole_team_work(ds, settings))


def _in_background(key: str, ds: Dataset, work: Callable[[], list[tuple[Callable, tuple]]],
                   after_s: float = 0.0) -> None:
    """Run the dataset_call results `work()` lists in a background thread, once per `key`,
    starting `after_s` seconds from now."""
    with _index_lock:
        if key in _prewarmed:
            return
        _prewarmed[key] = None
        while len(_prewarmed) > COMPUTING_LOCKS_KEPT:
            _prewarmed.popitem(last=False)

    def run() -> None:
        time.sleep(after_s)
        try:
            for fn, args in work():
                dataset_call(fn, ds, *args)
        except Exception:           # noqa: BLE001 - the page that needs it computes it and shows why
            return

    threading.Thread(target=run, name="goalgap-prewarm", daemon=True).start()


def neighbours(ds: Dataset, period: Period) -> list[Period]:
    """The periods listed next to `period` in the sidebar (the one before, then the one after, of
    the same kind), those the data touches; none for a custom range."""
    span = ds.date_span()
    if span is None or period.kind == "custom":
        return []
    after = periods.period_of(period.kind, period.end + timedelta(days=1), period.fiscal_start)
    return [p for p in (period.previous(), after) if p.end >= span[0] and p.start <= span[1]]


def team_diagnosis(ctx: Ctx) -> diagnostics.Diagnosis:
    """The whole team's diagnosis of the period shown: once per dataset, period and settings,
    whichever page or session asks first (dataset_call; one that asks while it is computed, by
    another session or in the background, waits for it); a scope filters it."""
    return dataset_call(diagnostics.diagnose, ctx.ds, ctx.period, ctx.settings, Scope())


def team_rep_diagnosis(ctx: Ctx) -> pd.DataFrame:
    """Every rep's diagnosis of the period shown (primary cause, causes, money), without the
    findings' texts that only the Diagnostic shows: as team_diagnosis, once per dataset, period
    and settings (the full diagnosis includes it)."""
    return dataset_call(diagnostics.rep_diagnosis, ctx.ds, ctx.period, ctx.settings)


def diagnose_neighbours(ctx: Ctx) -> None:
    """Start, in the background, the whole team's diagnosis of the periods next to the one shown
    (neighbours), once per dataset, settings and period shown: stepping to the period before or
    after then finds it computed (or being computed, and waits for it rather than computing it
    again). Called at the end of a page that shows a diagnosis, and started NEIGHBOURS_AFTER_S
    later, so that it does not slow the delivery of the page it follows (Python threads share one
    interpreter lock: work started at once held up the page's last messages and its clean-up)."""
    if metrics.missing_inputs(ctx.ds, "attainment"):
        return                                  # without quotas no page shows a diagnosis
    _in_background(f"{ctx.ds.fingerprint}|{settings_digest(ctx.settings)}|{ctx.period!r}", ctx.ds,
                   lambda: [(diagnostics.diagnose, (p, ctx.settings, Scope())) for p in neighbours(ctx.ds, ctx.period)],
                   NEIGHBOURS_AFTER_S)


def freeze_startup_objects() -> None:
    """Once per process, after its first script run: move every object alive then (the imported
    modules, the sample team, its first results) out of the garbage collector's reach (gc.freeze).

    Streamlit runs a full collection after every script run (runner.postScriptGC). Its cost grows
    with every object alive, and the modules GoalGap imports (pandas, scipy, plotly, Streamlit)
    hold some 200,000: about 130 ms of CPU on every rerun of every session, most of a period
    change's work. Those objects live as long as the process, so the collector has nothing to find
    in them. Later objects (sessions, uploads, results) are collected as before. Done after the
    first run, before anyone can have uploaded anything (the sidebar opens on the sample), or
    earlier, when the server starts (preload_sample)."""
    with _index_lock:
        if _startup_frozen.is_set():
            return
        _startup_frozen.set()
    gc.collect()
    gc.freeze()


def not_available(what: str, tables: Sequence[str]) -> None:
    """Say plainly what is missing instead of showing zeros, and where to fix it: quotas can be
    set in the app (Quotas page), every other table is uploaded on the Data page."""
    st.info(missing_text(what, tables), icon="ℹ️")


def missing_text(what: str, tables: Sequence[str]) -> str:
    """The sentence not_available shows."""
    uploads = [t for t in tables if t != "quotas"]
    fixes = []
    if uploads:
        fixes.append(f"upload {', '.join(f'**{table_label(t)}**' for t in uploads)} on the Data page")
    if "quotas" in tables:
        fixes.append("set quotas on the **Quotas, fiscal year & currency** page (or upload a quota file on the "
                     "Data page)")
    return f"{what}: not available — {' and '.join(fixes) or 'the data has nothing to compute it from'}."


def page_caption(ctx: Ctx, *extra: str) -> None:
    """The line under a page title: scope, period and data source (user text, escaped), then any
    notes the page adds (its own words, not user text)."""
    from ui.text import md

    st.caption(" · ".join([md(ctx.scope.label), ctx.period.label, md(ctx.source_label), *extra]))
