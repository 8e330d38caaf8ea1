"""Interactive at scale (issue 14, item 4): at 1,000 reps a new period on the Overview or the
Diagnostic ≤ 0.5 s, a region change on the Diagnostic ≤ 0.3 s, the first Overview ≤ 6 s.

    python -m bench.interactive --data /tmp/team.pkl --repeat 5
    python -m bench.interactive --folder FOLDER --save /tmp/team.pkl      # ingest once, keep it

The pages run in Streamlit's AppTest, in this process, on a Dataset read once (a pickled Dataset
with --data, else the CSV or Parquet folder --folder read as the command line reads it). The
Dataset is handed to the app as a session's upload that has just been read (the upload's own
reading is not timed; the team's diagnosis it starts in the background, ui.state.prewarm, is).
Each timing is one script run, wall and CPU seconds of this process (every thread: the
background diagnosis counts):

- first Overview: the Overview of a Dataset nothing has been computed for yet (its memo and
  st.cache_data emptied, the background diagnosis started as an upload starts it), through app.py
  and its sidebar;
- new period on the Overview: the sidebar's quarter changed to one not shown before;
- new period on the Diagnostic / region change on the Diagnostic: the page run with the session's
  context changed as the sidebar changes it (AppTest runs a page chosen with switch_page without
  app.py, so without the sidebar): a quarter not shown before; a region not shown before for a
  quarter already shown (st.cache_data emptied first, the Dataset's whole-team results kept).

Prints the median (and each run) of each, against its target.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench import publish

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"first Overview": 6.0, "new period (jump), Overview": 0.5, "new period (step), Overview": 0.5,
           "new period (jump), Diagnostic": 0.5, "new period (step), Diagnostic": 0.5,
           "region change, Diagnostic": 0.3}


def load(data: str | None, folder: str | None, save: str | None):
    """The Dataset to time: unpickled from `data`, else read from `folder` (and pickled to `save`)."""
    if data:
        with open(data, "rb") as f:
            return pickle.load(f)
    from core.ingest.sources import ingest_inputs

    ds = ingest_inputs([folder], None, {})
    if save:
        with open(save, "wb") as f:
            pickle.dump(ds, f, protocol=5)
    return ds


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def as_upload(ds) -> list[tuple[str, bytes]]:
    """The Dataset registered as a session's upload just read (ui.state.uploaded_dataset's index),
    with its background whole-team work started; the files the session state then names."""
    from core.settings import Settings
    from ui import state

    files = [("team.pkl", ds.fingerprint.encode())]
    overrides = json.dumps(Settings().ingest_options() or {}, sort_keys=True)
    state._datasets[state.files_digest(files) + hashlib.sha256(overrides.encode()).hexdigest()] = ds
    return files


def run_checked(at, title: str) -> None:
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    shown = [t.value for t in at.title][:1]
    if not shown or not shown[0].startswith(title):
        raise RuntimeError(f"the app showed {shown}, not {title}")


# The competency tables (people.competency_table) are not among them: one per rating date, the app
# computes them all when data is loaded (ui.state.whole_team_work), as it does the rows' arrays.
PERIOD_RESULTS = ("metrics.period", "diagnostic.", "ui.dataset_call", "ui.view.", "segments.", "territory.")


def forget_periods(ds) -> None:
    """Forget every result of a period (KPI parts, diagnoses, views), keeping what a Dataset
    computes once (its rows as arrays, the roster): every period is then new again."""
    names = {key[0] for key in list(ds.cache._results)}
    ds.clear_memo(*(n for n in names if n.startswith(PERIOD_RESULTS)))
    from ui import state

    state._prewarmed.clear()


def settle() -> None:
    """Wait for the background work a page started (the user reading the page meanwhile)."""
    for thread in threading.enumerate():
        if thread.name == "goalgap-prewarm":
            thread.join()


def measure(ds, repeat: int) -> dict[str, list[tuple[float, float]]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.dataset import Scope
    from core.periods import parse_period
    from core.settings import Settings
    from ui import state
    from ui.sidebar import ALL, MINE

    files = as_upload(ds)
    out: dict[str, list[tuple[float, float]]] = {k: [] for k in TARGETS}

    def session():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
        at.session_state[state.UPLOAD_KEY] = files
        at.session_state["source"] = MINE
        return at

    for _ in range(repeat):
        ds.clear_memo()
        st.cache_data.clear()
        state._prewarmed.clear()
        at = session()

        def first(at=at) -> None:
            state.prewarm(ds, Settings())           # as the upload's reading starts it
            run_checked(at, "Overview")
        out["first Overview"].append(timed(first))
        settle()
    # the Overview: one session walks through months, through app.py and its sidebar
    at = session()
    run_checked(at, "Overview")
    at.selectbox(key="period_kind").set_value("Month")
    at._finished_page_script_hash = ""
    run_checked(at, "Overview")
    shown = at.session_state[state.CTX_KEY].period
    labels = [q.split()[0] for q in at.selectbox(key="period_month").options]
    past = labels[labels.index(shown.label) + 1:]                     # newest first
    # jumps: two months back each time (nothing computed for it); steps: the month just before
    # the one shown (computed in the background while the page was read)
    plan = [(kind, past[i + (kind == "step")]) for i in range(1, len(past) - 1, 3)
            for kind in ("jump", "step")][:2 * repeat]
    for kind, q in plan:
        settle()
        at.selectbox(key="period_month").set_value(next(o for o in at.selectbox(key="period_month").options
                                                        if o.split()[0] == q))
        at._finished_page_script_hash = ""      # through app.py and its sidebar (bench.run.step_page)
        out[f"new period ({kind}), Overview"].append(timed(lambda: run_checked(at, "Overview")))
        if at.session_state[state.CTX_KEY].period.label != q.split()[0]:
            raise RuntimeError(f"the sidebar did not apply {q!r}")
    # the Diagnostic: the same plan with every period forgotten, then new regions of the last period
    settle()
    forget_periods(ds)
    st.cache_data.clear()
    ctx = replace(at.session_state[state.CTX_KEY], period=shown)
    at.session_state[state.CTX_KEY] = ctx
    at.switch_page("pages/diagnostic.py")
    run_checked(at, "Diagnostic")
    for kind, q in plan:
        settle()
        ctx = replace(ctx, period=parse_period(q.split()[0]), scope=Scope())
        at.session_state[state.CTX_KEY] = ctx
        out[f"new period ({kind}), Diagnostic"].append(timed(lambda: run_checked(at, "Diagnostic")))
    regions = sorted(r for r in ds.table("reps")["region"].dropna().unique() if r != ALL)
    for i in range(repeat):
        settle()
        st.cache_data.clear()
        ctx = replace(ctx, scope=Scope(region=regions[i % len(regions)]))
        at.session_state[state.CTX_KEY] = ctx
        out["region change, Diagnostic"].append(timed(lambda: run_checked(at, "Diagnostic")))
    return out


def report(out: dict[str, list[tuple[float, float]]], reps: int) -> str:
    lines = [f"Interactive timings at {reps:,} reps (AppTest, in process; {os.cpu_count()} cores, load average "
             f"{os.getloadavg()[0]:.1f} at the end); medians (each run):", "",
             "| step | target (s) | wall (s) | CPU (s) |", "|---|---|---|---|"]
    for name, runs in out.items():
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        cells = [f"{statistics.median(x):.2f} ({', '.join(f'{v:.2f}' for v in x)})" for x in (wall, cpu)]
        lines.append(f"| {name} | ≤ {TARGETS[name]:g} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.interactive", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="a pickled Dataset")
    source.add_argument("--folder", help="a folder of CSV or Parquet files (read as the command line reads it)")
    parser.add_argument("--save", help="with --folder: pickle the Dataset read to this file")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--neighbours-after", type=float,
                        help="seconds before the periods next to the one shown are diagnosed in the background "
                             "(ui.state.NEIGHBOURS_AFTER_S; longer than a page run: the page's own cost alone)")
    parser.add_argument("--out", help="append the result (Markdown) to this file")
    args = parser.parse_args(argv)
    ds = load(args.data, args.folder, args.save)
    if args.neighbours_after is not None:
        from ui import state

        state.NEIGHBOURS_AFTER_S = args.neighbours_after
    text = report(measure(ds, args.repeat), len(ds.table("reps")))
    if args.neighbours_after is not None:
        text += f"\n\nNeighbour periods diagnosed {args.neighbours_after:g} s after each page (--neighbours-after)."
    publish([text], args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
