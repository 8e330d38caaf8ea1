"""ui/state's hold on uploaded data: shared while a session holds it, released after; a file that
cannot be read is not read again (unless it only ran out of time)."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
import weakref
from datetime import date
from pathlib import Path

import pytest
from streamlit.runtime.caching import clear_session_resource_cache
from streamlit.testing.v1 import AppTest

import ui.state as state
from core import periods
from core.dataset import Scope
from core.errors import UserError
from core.ingest.sandbox import OutOfTime
from core.people import competency
from ui import sidebar
from ui.sidebar import MINE

ROOT = Path(__file__).resolve().parents[1]
SESSION_ID = "test session id"      # every AppTest's session (streamlit.testing)
SALES = b"date,rep_id,product,revenue\n2025-07-03,R1,Stent,1000\n2025-08-15,R2,Stent,700\n"


def test_a_dataset_nobody_holds_is_released(session_state):
    ds = state.uploaded_dataset([("sales.csv", SALES)], None)
    assert session_state[state.DATASET_KEY] is ds                         # the session holds it
    assert state.uploaded_dataset([("sales.csv", SALES)], None) is ds      # shared while held
    held = weakref.ref(ds)
    del ds
    _finish_prewarm()       # the whole-team work started on loading holds the data while it runs
    session_state.clear()                                                 # the session closes
    gc.collect()
    assert held() is None


def _finish_prewarm() -> None:
    for thread in threading.enumerate():
        if thread.name == "goalgap-prewarm":
            thread.join(timeout=120)


def test_loading_data_starts_the_whole_team_work_once_and_pages_reuse_it(monkeypatch, session_state):
    """The diagnosis of the opening period is computed in the background on loading, once; a
    page asking for it afterwards gets the very same result (no second computation)."""
    _finish_prewarm()                      # another test's data: not counted here
    seen = []
    real = state.diagnostics.diagnose

    def counted(*args, **kwargs):
        seen.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(state.diagnostics, "diagnose", counted)
    quotas = b"rep_id,period,quota\nR1,2025-Q3,1500\nR2,2025-Q3,900\n"
    files = [("sales.csv", SALES + b"2025-09-20,R1,Stent,300\n"), ("quotas.csv", quotas)]
    ds = state.uploaded_dataset(files, None)
    state.prewarm(ds, state.settings())            # asked again: already started, not repeated
    _finish_prewarm()
    work = state.whole_team_work(ds, state.settings())

    def calls() -> int:
        return sum(d is ds for d in seen)

    assert work and calls() == sum(fn is counted for fn, _ in work)
    fn, args = work[0]
    first = state.dataset_call(fn, ds, *args)
    assert state.dataset_call(fn, ds, *args) is first and calls() == sum(fn is counted for fn, _ in work)


def test_an_unreadable_upload_is_not_read_again(monkeypatch, session_state):
    calls = []

    def refuse(files, overrides):
        calls.append(files)
        raise UserError("notes.csv is not a text (CSV) file.")

    monkeypatch.setattr(state, "ingest_isolated", refuse)
    files = [("notes.csv", b"\x00\x01 never seen before")]
    for _ in range(2):
        with pytest.raises(UserError, match="not a text"):
            state.uploaded_dataset(files, None)
    assert len(calls) == 1


def test_an_upload_that_ran_out_of_time_may_be_tried_again(monkeypatch, session_state):
    calls = []

    def too_slow(files, overrides):
        calls.append(files)
        raise OutOfTime("reading took longer than 30 seconds")

    monkeypatch.setattr(state, "ingest_isolated", too_slow)
    files = [("big.csv", b"a,b\n1,2\n slow this time")]
    for _ in range(2):
        with pytest.raises(OutOfTime):
            state.uploaded_dataset(files, None)
    assert len(calls) == 2


def test_without_quotas_no_whole_team_work_is_started():
    """No page shows a diagnosis or an outlook without quotas: loading such data starts nothing."""
    ds = state.uploaded_dataset([("sales.csv", SALES + b"2025-09-21,R2,Stent,50\n")], None)
    assert state.whole_team_work(ds, state.settings()) == []


def test_assessments_add_every_competency_table_to_the_whole_team_work_last():
    """The competency tables of every rating date are computed on loading too, after the
    diagnoses the first screens wait for; with assessments but no quotas, they alone."""
    assessments = b"rep_id,date,competency,rating\nR1,2025-03-31,Discovery,3\nR1,2025-06-30,Discovery,3.5\n"
    quotas = b"rep_id,period,quota\nR1,2025-Q3,1500\nR2,2025-Q3,900\n"
    with_quotas = state.uploaded_dataset([("sales.csv", SALES), ("quotas.csv", quotas),
                                          ("assessments.csv", assessments)], None)
    work = state.whole_team_work(with_quotas, state.settings())
    assert work[0][0] is state.diagnostics.diagnose and work[-1] == (competency.every_table, ())
    alone = state.uploaded_dataset([("sales.csv", SALES), ("assessments.csv", assessments)], None)
    assert state.whole_team_work(alone, state.settings()) == [(competency.every_table, ())]


def test_the_first_script_run_freezes_the_startup_objects_once(monkeypatch):
    """Streamlit collects garbage after every script run; the objects alive after the process's first
    run (modules, the sample) are moved out of that collection once, and later objects are not."""
    monkeypatch.setattr(state, "_startup_frozen", threading.Event())     # as in a fresh process
    state.freeze_startup_objects()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    later = [[i] for i in range(1000)]          # a session's objects, made after the first run
    state.freeze_startup_objects()
    # Not frozen again: the 2,000 later objects would add to the count (frozen objects that die,
    # such as an earlier test's leftovers, leave it, so the count may fall)
    assert gc.get_freeze_count() <= frozen and len(later) == 1000


def test_sessions_asking_for_the_same_view_at_once_build_it_once(session_state):
    """25 sessions changing to the same period at once: one builds the figure, the others get it."""
    ds = state.uploaded_dataset([("sales.csv", SALES + b"2025-09-22,R1,Stent,75\n")], None)
    ctx = state.Ctx(ds, periods.period_of("quarter", date(2025, 8, 1)), Scope(), state.settings(), "test")
    builds, start = [], threading.Barrier(5)

    def build() -> list[str]:
        builds.append(1)
        time.sleep(0.2)         # long enough for the other sessions to arrive while it is built
        return ["figure"]

    def session(out: list) -> None:
        start.wait()
        out.append(state.view_memo(ctx, "test.figure", build))

    shown: list = []
    threads = [threading.Thread(target=session, args=(shown,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(builds) == 1 and len(shown) == 5 and all(s is shown[0] for s in shown)


PRELOAD_CHECK = """
import gc, sys, threading
import ui.state as state
assert not any(name in sys.modules for name in state.PRELOADED_MODULES)
reads, ingest = [], state.ingest_paths
state.ingest_paths = lambda paths: reads.append(paths) or ingest(paths)
state.preload_sample()
next(t for t in threading.enumerate() if t.name == "goalgap-preload").join(timeout=300)
print(type(state.sample_dataset()).__name__, len(reads), all(name in sys.modules for name in state.PRELOADED_MODULES),
      state._startup_frozen.is_set(), gc.get_freeze_count() > 0)
"""


def test_the_server_start_reads_the_sample_and_imports_what_pages_draw_with():
    """serve.py's start-up hook: in a fresh process the sample is read once (a session then gets that
    very read), the pages' drawing modules are imported and the start-up objects frozen."""
    if not state.SAMPLE_PATH.exists():
        pytest.skip("sample_data/goalgap_sample.xlsx not generated yet")
    done = subprocess.run([sys.executable, "-c", PRELOAD_CHECK], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["Dataset", "1", "True", "True", "True"]


def test_a_closed_tab_releases_its_data_before_streamlit_drops_the_session(session_state):
    """What Streamlit calls when a session's tab disconnects drops the session's context and data
    at once; its uploads stay (until Streamlit drops the session), so a tab that reconnects in time
    gets the same data read again."""
    files = [("sales.csv", SALES + b"2025-09-23,R2,Stent,60\n")]
    session_state[state.UPLOAD_KEY] = files
    ds = state.uploaded_dataset(files, None)
    fingerprint = ds.fingerprint
    session_state[state.CTX_KEY] = state.Ctx(ds, periods.period_of("quarter", date(2025, 8, 1)), Scope(),
                                             state.settings(), "sales.csv")
    held = weakref.ref(ds)
    del ds
    _finish_prewarm()
    state._release(state._SessionEnd(session_state))
    assert held() is None
    assert state.CTX_KEY not in session_state and state.DATASET_KEY not in session_state
    assert session_state[state.UPLOAD_KEY] is files
    assert state.uploaded_dataset(files, None).fingerprint == fingerprint


def test_the_app_arranges_the_release_and_a_reconnecting_tab_gets_its_data_back():
    """A real run registers the session's release; clearing the session's resources as Streamlit does
    when the tab disconnects drops the data, and the next run (the tab reconnecting) shows it again."""
    # Every AppTest has the same session id: start from a session with no resources held, as a new
    # tab does (an earlier AppTest in this process would otherwise own this session's release).
    clear_session_resource_cache(SESSION_ID)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[state.UPLOAD_KEY] = [("sales.csv", SALES + b"2025-09-24,R1,Stent,90\n")]
    at.session_state["source"] = MINE
    at.run()
    assert not at.exception and state.DATASET_KEY in at.session_state
    shown = at.session_state[state.CTX_KEY].ds.fingerprint
    clear_session_resource_cache(SESSION_ID)          # what AppSession does when its websocket closes
    assert state.DATASET_KEY not in at.session_state and state.CTX_KEY not in at.session_state
    at.run()
    assert not at.exception and at.session_state[state.CTX_KEY].ds.fingerprint == shown


def test_data_with_app_quotas_is_shared_while_held_and_goes_with_the_last_session(monkeypatch, session_state):
    """Quotas set in the app give a derived Dataset: one per content while a session holds it (it was
    kept in a global cache for 6 hours after every session had closed)."""
    made = []

    def with_quotas(ds, quotas, fiscal_start, seasonality):
        made.append(quotas)
        return ds.replace()
    monkeypatch.setattr(sidebar, "with_quotas", with_quotas)
    ds = state.uploaded_dataset([("sales.csv", SALES + b"2025-09-25,R1,Stent,10\n")], None)
    chosen = state.settings()
    first = sidebar._with_app_quotas("content-and-quotas", ds, chosen)
    assert sidebar._with_app_quotas("content-and-quotas", ds, chosen) is first and len(made) == 1
    held = weakref.ref(first)
    del first                       # the last session showing it closes
    gc.collect()
    assert held() is None
    sidebar._with_app_quotas("content-and-quotas", ds, chosen)
    assert len(made) == 2


def test_the_periods_next_to_the_one_shown_are_diagnosed_in_the_background(monkeypatch, session_state):
    """After a page shows a period's diagnosis, the period before and the one after (of the same
    kind, inside the data) are diagnosed in the background, once; a custom range has none."""
    from dataclasses import replace

    _finish_prewarm()                      # another test's data: not counted here
    quotas = b"rep_id,period,quota\nR1,2025-Q3,1500\nR2,2025-Q3,900\n"
    sales = SALES + b"2025-04-02,R1,Stent,80\n2025-11-20,R1,Stent,90\n"
    ds = state.uploaded_dataset([("sales.csv", sales), ("quotas.csv", quotas)], None)
    _finish_prewarm()
    q2, q3, q4 = (periods.quarter(2025, q) for q in (2, 3, 4))
    assert state.neighbours(ds, q3) == [q2, q4]
    assert state.neighbours(ds, q4) == [q3]                  # nothing after the data's last day
    assert state.neighbours(ds, periods.custom(date(2025, 7, 1), date(2025, 8, 1))) == []
    seen = []
    real = state.diagnostics.diagnose

    def counted(*args, **kwargs):
        seen.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(state.diagnostics, "diagnose", counted)
    ctx = state.Ctx(ds, q3, Scope(), state.settings(), "test")
    for _ in range(2):
        state.diagnose_neighbours(ctx)
        _finish_prewarm()
    assert seen == [q2, q4]
    state.diagnose_neighbours(replace(ctx, period=q4))      # another period shown: its own neighbours
    _finish_prewarm()
    assert seen == [q2, q4, q3]
