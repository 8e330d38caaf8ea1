"""The performance benchmark (issue 8): GoalGap at the scale of a large medtech company.

    .venv/bin/python -m bench.run [--reps 1000 --years 3 --density 2.7 --repeat 5 --out bench/RESULTS.md]

Generates (once, into bench/data/) the sample team at 1,000 reps × 3 years with about 3 million
activities, then measures ingest, the KPIs, the diagnostic, the Excel summary and an Overview
rerun, against a DuckDB SQL reference, and writes the medians, the targets and PASS/MISS to
bench/RESULTS.md. Each step runs `--repeat` times (slow steps at most `--slow-repeat` times) and
computes from scratch every time (no cache is shared between runs except where a step says so).
Peak memory is the peak RSS of a fresh subprocess running ingest → KPIs → diagnostic → summary.
A target missed gets a cProfile of the step (top functions by cumulative time) in the results.
"""
from __future__ import annotations

import os

if __name__ == "__main__":      # before numpy loads: BLAS threads fight statsmodels on 2 cores
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse
import cProfile
import functools
import importlib
import io
import json
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from bench.generate import DATA_ROOT, BenchData, prepare

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "sample_data" / "goalgap_sample.xlsx"
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
WARM_IMPORTS = ("core.ingest.pipeline", "core.kpis.metrics", "core.kpis.forecast", "core.diagnostic.findings",
                "core.report.summary", "core.report.workbook", "statsmodels.api", "statsmodels.tsa.holtwinters",
                "openpyxl", "python_calamine", "duckdb")
THREAD_VARS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


# ------------------------------------------------------------------------------------ results

@dataclass
class Timing:
    """Seconds of each run of one step on one dataset (empty when the step could not run)."""

    step: str
    data: str
    times: list[float] = field(default_factory=list)
    note: str = ""
    cpu: list[float] = field(default_factory=list)     # CPU seconds of this process per run

    @property
    def ok(self) -> bool:
        return bool(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


@dataclass
class Target:
    what: str
    target: str
    measured: str
    passed: bool | None          # None = could not be measured
    profile: str = ""            # cProfile excerpt when missed


@dataclass
class Report:
    args: dict
    data: BenchData | None = None
    demo_rows: dict[str, int] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)     # stage → peak RSS MB (fresh process)
    notes: list[str] = field(default_factory=list)

    def add(self, timing: Timing) -> Timing:
        self.timings.append(timing)
        print(f"  {timing.step} [{timing.data}]: " + (f"median {timing.median:.3f} s over {len(timing.times)}"
                                                      if timing.ok else timing.note), flush=True)
        return timing

    def failures(self) -> list[Timing]:
        return [t for t in self.timings if t.note.startswith("failed")]


def _module(name: str) -> Any | None:
    """The module, or None while another helper has not written it yet."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and name.startswith(err.name):
            return None
        raise


def measure(report: Report, step: str, data: str, fn: Callable[[], Any], repeat: int,
            needs: Sequence[str] = ()) -> tuple[Timing, Any]:
    """Run fn `repeat` times, timing each run; a missing module or an error becomes a note."""
    missing = [m for m in needs if _module(m) is None]
    if missing:
        return report.add(Timing(step, data, note=f"not available yet ({', '.join(missing)})")), None
    times, cpu, result = [], [], None
    try:
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = fn()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    except Exception as err:  # a benchmark reports a broken step and goes on with the others
        return report.add(Timing(step, data, note=f"failed: {type(err).__name__}: {err}"[:300])), None
    return report.add(Timing(step, data, times, cpu=cpu)), result


def profile(fn: Callable[[], Any], in_thread: bool = False) -> str:
    """Top functions of one run of fn by cumulative time, paths shortened. `in_thread`: profile the
    thread fn starts instead (AppTest runs the app script in a thread of its own)."""
    prof = cProfile.Profile()
    try:
        if in_thread:
            def start(*_: Any) -> None:
                sys.setprofile(None)
                prof.enable()
            threading.setprofile(start)
            try:
                fn()
            finally:
                threading.setprofile(None)
        else:
            prof.runcall(fn)
    except Exception as err:  # the profile of a failing step is its error
        return f"{type(err).__name__}: {err}"
    return _top(prof)


def _top(prof: cProfile.Profile, top: int = 22) -> str:
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    for prefix in sorted({str(ROOT) + "/", *(p + "/" for p in sys.path if "site-packages" in p)}, key=len,
                         reverse=True):
        text = text.replace(prefix, "")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


# ------------------------------------------------------------------------------------ steps

def _latest_quarter(ds):
    from core.periods import latest_complete

    span = ds.date_span()
    return latest_complete("quarter", span[1])


def step_ingest(report: Report, data: BenchData, demo_path: Path, repeat: int, slow: int) -> tuple[Any, Any]:
    """1. Ingest: the demo workbook and the large CSVs through core.ingest.pipeline; pandas' calamine and
    openpyxl readers side by side on the demo workbook and on the 200k-row xlsx."""
    ingest = _module("core.ingest.pipeline")
    needs = ("core.ingest.pipeline",)
    demo_t, demo = measure(report, "ingest demo workbook (core.ingest.pipeline)", "demo",
                           lambda: ingest.ingest_paths([demo_path]), repeat, needs)
    if demo is not None:
        report.demo_rows = {name: len(t) for name, t in demo.tables.items()}
    _, large = measure(report, "ingest large CSVs (core.ingest.pipeline)", "large",
                       lambda: ingest.ingest_paths(list(data.csvs)), slow, needs)
    fast = measure(report, "read demo workbook, pandas engine=calamine", "demo",
                   lambda: pd.read_excel(demo_path, sheet_name=None, engine="calamine"), slow)[0]
    slow_t = measure(report, "read demo workbook, pandas engine=openpyxl", "demo",
                     lambda: pd.read_excel(demo_path, sheet_name=None, engine="openpyxl"), slow)[0]
    label = f"{data.xlsx_rows:,}-row xlsx"
    big_fast = measure(report, f"read {label}, pandas engine=calamine", "large",
                       lambda: pd.read_excel(data.xlsx, engine="calamine"), slow)[0]
    big_slow = measure(report, f"read {label}, pandas engine=openpyxl", "large",
                       lambda: pd.read_excel(data.xlsx, engine="openpyxl"), slow)[0]
    readers = _module("core.ingest.readers")
    ours = measure(report, f"read {label}, core.ingest.readers (GoalGap's reader)", "large",
                   lambda: readers.read_file(data.xlsx.name, data.xlsx.read_bytes(), lambda _: False),
                   slow, ("core.ingest.readers",))[0]
    report.targets.append(_limit("demo workbook ingest", demo_t, 2.0, "≤ 2 s",
                                 lambda: ingest.ingest_paths([demo_path])))
    for what, a, b in ((f"xlsx read, calamine vs openpyxl ({label})", big_fast, big_slow),
                       ("xlsx read, calamine vs openpyxl (demo workbook)", fast, slow_t),
                       (f"xlsx read, GoalGap's reader vs openpyxl ({label})", ours, big_slow)):
        speedup = b.median / a.median if a.ok and b.ok else float("nan")
        report.targets.append(Target(what, "≥ 5 × faster", f"{speedup:.1f} ×",
                                     None if speedup != speedup else speedup >= 5))
    return demo, large


def _limit(what: str, timing: Timing, limit: float, text: str, fn: Callable[[], Any] | None) -> Target:
    if not timing.ok:
        return Target(what, text, timing.note, None)
    passed = timing.median <= limit
    return Target(what, text, f"{timing.median:.2f} s", passed,
                  "" if passed or fn is None else profile(fn))


def all_quarter_kpis(ds, period, settings) -> dict[str, pd.DataFrame]:
    """Every KPI for one quarter per rep, territory, region and team."""
    from core.kpis import metrics

    out = {"rep": metrics.rep_kpis(ds, period, settings)}
    for level in ("territory", "region", "team"):
        out[level] = metrics.rollup(ds, period, settings, level)
    return out


def all_monthly(ds, settings) -> dict[str, pd.DataFrame]:
    """The trends: revenue, quota, attainment for every month of the data per team, region, rep and
    product, and the activity KPIs per month and rep."""
    from core.kpis import metrics

    first, last = ds.date_span()
    out = {f"by {by}": metrics.monthly(ds, first, last, settings, by=by)
           for by in (None, "region", "rep_id", "product")}
    out["activity by rep"] = metrics.monthly_activity(ds, first, last, by="rep_id")
    return out


def step_kpis(report: Report, ds, data: str, repeat: int) -> Timing:
    """2. All KPIs for the latest complete quarter, per rep alone, and every month (the trends)."""
    from core.settings import Settings

    settings, period = Settings(), _latest_quarter(ds)
    needs = ("core.kpis.metrics",)

    def cold(fn):
        """From scratch: the dataset's memo (ids coded, tables as arrays, per-period parts) emptied."""
        return lambda: (ds.clear_memo(), fn())[1]

    def period_cold(fn):
        """As after the app's first page: the dataset is prepared, this period not yet computed."""
        return lambda: (ds.clear_memo("metrics.period"), fn())[1]

    quarter = lambda: all_quarter_kpis(ds, period, settings)  # noqa: E731
    per_rep = lambda: _module("core.kpis.metrics").rep_kpis(ds, period, settings)  # noqa: E731
    t, _ = measure(report, f"all KPIs for one quarter ({period.label}: rep, territory, region, team), from scratch",
                   data, cold(quarter), repeat, needs)
    if data == "large":
        report.targets.append(_limit("all KPIs for one quarter", t, 2.0, "≤ 2 s", cold(quarter)))
    measure(report, f"all KPIs for one quarter ({period.label}), dataset already prepared", data,
            period_cold(quarter), repeat, needs)
    measure(report, f"per-rep KPIs for one quarter (rep_kpis, {period.label}), from scratch", data,
            cold(per_rep), repeat, needs)
    measure(report, f"per-rep KPIs for one quarter (rep_kpis, {period.label}), dataset already prepared", data,
            period_cold(per_rep), repeat, needs)
    first, last = ds.date_span()
    measure(report, f"all KPIs for every month ({first:%Y-%m} – {last:%Y-%m}, trends), from scratch", data,
            cold(lambda: all_monthly(ds, settings)), repeat, needs)
    return t


DUCKDB_SQL = """
WITH rev AS (SELECT rep_id, SUM(revenue) AS revenue FROM sales
             WHERE "date" BETWEEN $start AND $end GROUP BY rep_id),
quo AS (SELECT rep_id, SUM(quota) AS quota FROM quotas
        WHERE period = $label AND product IS NULL GROUP BY rep_id),
act AS (SELECT rep_id, COUNT(*) AS meetings FROM activities
        WHERE "date" BETWEEN $start AND $end
          AND activity_type IN ('meeting', 'presentation', 'workshop', 'demo', 'case_support')
        GROUP BY rep_id),
fu AS (SELECT rep_id, COUNT(*) AS due, COUNT(*) FILTER (WHERE completed_date <= due_date) AS on_time
       FROM follow_ups WHERE due_date BETWEEN $start AND $end GROUP BY rep_id),
opp AS (SELECT rep_id, COUNT(*) FILTER (WHERE status = 'won') AS won,
               COUNT(*) FILTER (WHERE status = 'lost') AS lost
        FROM opportunities WHERE close_date BETWEEN $start AND $end GROUP BY rep_id)
SELECT r.rep_id,
       COALESCE(rev.revenue, 0) AS revenue,
       quo.quota,
       CASE WHEN quo.quota > 0 THEN COALESCE(rev.revenue, 0) / quo.quota END AS attainment,
       COALESCE(act.meetings, 0) * 7.0 / $days AS meetings_per_week,
       fu.on_time::DOUBLE / NULLIF(fu.due, 0) AS on_time_follow_up_rate,
       opp.won::DOUBLE / NULLIF(opp.won + opp.lost, 0) AS win_rate
FROM reps r LEFT JOIN rev USING (rep_id) LEFT JOIN quo USING (rep_id) LEFT JOIN act USING (rep_id)
     LEFT JOIN fu USING (rep_id) LEFT JOIN opp USING (rep_id)
ORDER BY r.rep_id
"""
DUCKDB_COLUMNS = ("revenue", "quota", "attainment", "meetings_per_week", "on_time_follow_up_rate", "win_rate")


def duckdb_kpis(con, period) -> pd.DataFrame:
    params = {"start": pd.Timestamp(period.start_ts), "end": pd.Timestamp(period.end_ts),
              "label": period.label, "days": period.days}
    return con.execute(DUCKDB_SQL, params).df()


def _duckdb(ds, threads: int):
    import duckdb

    con = duckdb.connect(config={"threads": threads})
    for name in ("reps", "sales", "quotas", "activities", "follow_ups", "opportunities"):
        con.register(name, ds.table(name))
    return con


def _agreement(ref: pd.DataFrame, ours: pd.DataFrame) -> str:
    """Largest difference between DuckDB's and GoalGap's per-rep values, per KPI."""
    both = ref.merge(ours, on="rep_id", suffixes=("_sql", ""))
    diffs = {c: float((both[f"{c}_sql"] - both[c]).abs().max()) for c in DUCKDB_COLUMNS}
    worst = max(diffs.values())
    if worst <= 1e-6:
        return "same values as rep_kpis for the 6 KPIs of every rep"
    return "differs from rep_kpis: " + ", ".join(f"{c} max |Δ| {d:.3g}" for c, d in diffs.items() if d > 1e-6)


def step_duckdb(report: Report, ds, repeat: int, ours_all: Timing) -> None:
    """6. The near-limit reference: the per-rep quarter KPIs in one DuckDB query on the same frames
    (DuckDB reading pandas frames; bench.honest compares against DuckDB on its own tables)."""
    from core.settings import Settings

    if _module("duckdb") is None:
        report.add(Timing("DuckDB reference", "large", note="not available (pip install -r requirements-dev.txt)"))
        return
    period = _latest_quarter(ds)
    ref = {}
    for threads in (2, 1):
        con = _duckdb(ds, threads)
        t, result = measure(report, f"DuckDB SQL, per-rep quarter KPIs ({threads} thread{'s' * (threads > 1)})",
                            "large", functools.partial(duckdb_kpis, con, period), max(repeat, 3))
        ref[threads] = (t, result)
    t2, result = ref[2]
    ours_rep = next((t for t in report.timings if t.step.startswith("per-rep KPIs") and t.data == "large"
                     and t.step.endswith("already prepared")), None)
    metrics = _module("core.kpis.metrics")
    if result is not None and metrics is not None:
        t2.note = _agreement(result, metrics.rep_kpis(ds, period, Settings()))
    ours_fresh = next((t for t in report.timings if t.step.startswith("per-rep KPIs") and t.data == "large"
                       and t.step.endswith("from scratch")), None)
    for label, ours in (("all KPIs for one quarter, from scratch", ours_all),
                        ("per-rep KPIs, from scratch", ours_fresh),
                        ("per-rep KPIs, dataset prepared (DuckDB querying the same pandas frames)", ours_rep)):
        if ours is None or not ours.ok or not t2.ok:
            report.targets.append(Target(f"{label} vs DuckDB", "≤ 3 × DuckDB", "n/a", None))
            continue
        ratio = ours.median / t2.median
        report.targets.append(Target(f"{label} vs DuckDB (2 threads)", "≤ 3 × DuckDB",
                                     f"{ratio:.1f} × ({ours.median:.2f} s vs {t2.median:.3f} s)", ratio <= 3))


def step_diagnostic(report: Report, ds, data: str, repeat: int) -> None:
    """3. The full diagnostic for the latest complete quarter."""
    from core.settings import Settings

    settings, period = Settings(), _latest_quarter(ds)
    diagnose = lambda: (ds.clear_memo(), _module("core.diagnostic.findings").diagnose(ds, period, settings))[1]  # noqa: E731
    t, _ = measure(report, f"full diagnostic ({period.label})", data, diagnose, repeat, ("core.diagnostic.findings",))
    if data == "large":
        report.targets.append(_limit("full diagnostic", t, 10.0, "≤ 10 s", diagnose))


def excel_summary(ds, period, settings) -> bytes:
    from core.report.summary import collect
    from core.report.workbook import build_workbook

    return build_workbook(collect(ds, period, settings))


def step_summary(report: Report, ds, data: str, repeat: int) -> None:
    """4. The Excel summary: collect every table, then write the workbook."""
    from core.settings import Settings

    settings, period = Settings(), _latest_quarter(ds)
    run = lambda: (ds.clear_memo(), excel_summary(ds, period, settings))[1]  # noqa: E731
    t, book = measure(report, f"Excel summary ({period.label}: collect + build_workbook)", data, run, repeat,
                      ("core.report.summary", "core.report.workbook"))
    if book is not None:
        t.note = f"{len(book) / 1e6:.2f} MB workbook"
    if data == "large":
        report.targets.append(_limit("Excel summary", t, 10.0, "≤ 10 s", run))


# ------------------------------------------------------------------------------------ the page

def step_page(report: Report, data: str, files: list[tuple[str, bytes]] | None, repeat: int,
              limit: float) -> None:
    """5. An Overview rerun after the region filter changes, in AppTest, through the real sidebar.

    The large dataset goes through the upload path (the files in session state, source "My files").
    cold: st.cache_data cleared before the change, so the page computes the new scope (what a user
    sees the first time they pick a region); warm: back to a region already computed.
    """
    if _module("ui.state") is None or not (ROOT / "pages" / "overview.py").exists():
        report.add(Timing("Overview rerun after a region change", data, note="not available yet"))
        return
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ui.sidebar import ALL, MINE
    from ui.state import CTX_KEY, UPLOAD_KEY

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)

    cpu: list[float] = []

    def run(region: str | None = None) -> float:
        if region is not None:
            at.selectbox(key="scope_region").set_value(region)
        # AppTest (streamlit 1.67) reruns the page an st.navigation app finished on as a script of
        # its own, without app.py and so without the sidebar; an empty hash sends the rerun
        # through app.py, to its default page (the Overview), as a browser rerun does.
        at._finished_page_script_hash = ""
        start, start_cpu = time.perf_counter(), time.process_time()
        at.run()
        seconds = time.perf_counter() - start
        cpu.append(time.process_time() - start_cpu)
        if at.exception:
            raise RuntimeError(at.exception[0].message)
        if [t.value for t in at.title][:1] != ["Overview"]:
            raise RuntimeError(f"the app opened {[t.value for t in at.title]}, not the Overview")
        shown = at.session_state[CTX_KEY].scope.region or ALL
        if region is not None and shown != region:
            raise RuntimeError(f"the sidebar did not apply region {region!r} (scope shows {shown!r})")
        return seconds

    try:
        if files:
            at.session_state[UPLOAD_KEY] = files
            at.session_state["source"] = MINE
        first = run()
        regions = [c for c in at.selectbox(key="scope_region").options if c != ALL] or [ALL]
        current, cold, warm = ALL, [], []
        first_cpu = cpu[-1]
        for i in range(repeat):
            st.cache_data.clear()
            nxt = regions[i % len(regions)]
            nxt = nxt if nxt != current else ALL
            cold.append(run(nxt))
            current = nxt
        cold_cpu = cpu[-repeat:]
        other = ALL if current != ALL else regions[0]
        run(other)
        for i in range(repeat):
            warm.append(run(current if i % 2 == 0 else other))
    except Exception as err:  # reported, not raised: the other steps still run
        failed = report.add(Timing("Overview rerun after a region change", data,
                                   note=f"failed: {type(err).__name__}: {err}"[:300]))
        report.targets.append(Target(f"Overview rerun after a filter change ({data})", f"≤ {limit:g} s",
                                     failed.note[:120], None))
        return
    how = "upload path: ingest inside the app" if files else "bundled sample"
    cold_t = Timing("Overview rerun after a region change, cold (AppTest)", data, cold,
                    "st.cache_data cleared first: the page computes the new region", cold_cpu)
    report.add(Timing("app first run, Overview (AppTest)", data, [first], how, [first_cpu]))
    report.add(cold_t)
    report.add(Timing("Overview rerun after a region change, warm (AppTest)", data, warm,
                      "region computed before: cache hits", cpu[-repeat:]))

    def cold_again() -> None:
        st.cache_data.clear()
        run(other)

    what, text = f"Overview rerun after a filter change ({data}), first visit of a region", f"≤ {limit:g} s"
    report.targets.append(_limit(what, cold_t, limit, text, None))
    if not report.targets[-1].passed:
        report.targets[-1].profile = profile(cold_again, in_thread=True)


# ------------------------------------------------------------------------------------ memory

def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    VmHWM starts afresh at exec; ru_maxrss does not (a child forked from a large parent reports
    the parent's peak), so ru_maxrss is only the fallback where /proc is missing.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_child(folder: Path) -> None:
    """In a fresh process: the large dataset end to end, printing the peak RSS after each stage."""
    from bench.generate import MANIFEST
    from core.diagnostic import findings as diagnostics
    from core.ingest.pipeline import ingest
    from core.kpis import metrics
    from core.settings import Settings

    def mark(stage: str) -> None:
        peaks[stage] = peak_rss_mb()

    peaks: dict[str, float] = {}
    mark("imports")
    names = json.loads((folder / MANIFEST).read_text())["rows"]
    files = [(f"{name}.csv", (folder / f"{name}.csv").read_bytes()) for name in names]
    mark("uploaded bytes held")
    ds = ingest(files)
    mark("ingest")
    settings, period = Settings(), _latest_quarter(ds)
    all_quarter_kpis(ds, period, settings)
    mark("KPIs for one quarter")
    all_monthly(ds, settings)
    mark("KPIs for every month")
    diagnostics.diagnose(ds, period, settings)
    mark("diagnostic")
    excel_summary(ds, period, settings)
    mark("Excel summary")
    metrics.rep_kpis(ds, period, settings)     # keep ds alive to the end, as a session would
    print(json.dumps(peaks))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def step_memory(report: Report, data: BenchData) -> Target:
    env = {**os.environ, **THREAD_VARS, "PYTHONPATH": str(ROOT)}
    start, start_cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--peak-child", str(data.folder)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - start_cpu
    if proc.returncode != 0:
        note = f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
        report.add(Timing("end to end in a fresh process (peak memory run)", "large", note=note[:300]))
        return Target("peak memory, large dataset end to end", "≤ 3 GB", note[:120], None)
    report.memory = json.loads(proc.stdout.strip().splitlines()[-1])
    report.add(Timing("end to end in a fresh process (peak memory run)", "large", [seconds],
                      "imports + read bytes + ingest + KPIs + trends + diagnostic + summary, once", [cpu]))
    peak = max(report.memory.values())
    return Target("peak memory, large dataset end to end", "≤ 3 GB", f"{peak / 1024:.2f} GB", peak <= 3 * 1024)


# ------------------------------------------------------------------------------------ report

def _machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    mem = next((int(line.split()[1]) / 1024 ** 2 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), float("nan")) if Path("/proc/meminfo").exists() else float("nan")
    versions = {}
    for name in ("pandas", "numpy", "streamlit", "statsmodels", "python-calamine", "openpyxl", "duckdb"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cores": str(os.cpu_count()), "memory": f"{mem:.1f} GB", "cpu": cpu,
            "python": platform.python_version(), "platform": platform.platform(),
            **versions}


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def render(report: Report) -> str:
    a = report.args
    m = _machine()
    lines = [
        "# GoalGap performance benchmark", "",
        f"Written by `python -m bench.run{' ' * bool(a['command'])}{a['command']}` "
        f"on {datetime.now():%Y-%m-%d %H:%M}.", "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM, {m['platform']}. "
        f"Python {m['python']}, pandas {m['pandas']}, numpy {m['numpy']}, streamlit {m['streamlit']}, "
        f"statsmodels {m['statsmodels']}, python-calamine {m['python-calamine']}, openpyxl {m['openpyxl']}, "
        f"duckdb {m['duckdb']}. {', '.join(f'{k}={v}' for k, v in THREAD_VARS.items())}.", "",
        f"Each step ran {a['repeat']} times ({min(a['repeat'], a['slow_repeat'])} for the slow ones: ingest of "
        "the large CSVs, "
        "the xlsx reads, the diagnostic and the Excel summary); times are wall-clock seconds, every run "
        "computing from scratch. CPU s is the CPU time of the benchmark process over the same run (all its "
        "threads: DuckDB uses 2): on a machine shared with other work it is the better guide to what the "
        f"step costs. Load average (1 min) at the start {a['load'][0]:.1f}, at the end {os.getloadavg()[0]:.1f} "
        f"on {m['cores']} cores.", "",
        "## Targets", "",
        "| step | target | measured | result |", "|---|---|---|---|",
    ]
    for t in report.targets:
        result = "n/a" if t.passed is None else ("PASS" if t.passed else "**MISS**")
        lines.append(f"| {t.what} | {t.target} | {t.measured} | {result} |")
    d = report.data
    folder = (d.folder.relative_to(ROOT) if d.folder.is_relative_to(ROOT) else d.folder) if d else "-"
    lines += ["", "## Datasets", "",
              f"large: `{folder}`"
              f" — `generate(n_reps={a['reps']}, years={a['years']:g}, density={a['density']:g}, seed={a['seed']})`"
              f" written as CSV; the xlsx holds the first {d.xlsx_rows:,} activities." if d else "", "",
              "| table | large (rows) | demo workbook (rows) |", "|---|---:|---:|"]
    names = list(d.rows) if d else list(report.demo_rows)
    for name in names:
        large = f"{d.rows[name]:,}" if d else "-"
        demo = f"{report.demo_rows[name]:,}" if name in report.demo_rows else "-"
        lines.append(f"| {name} | {large} | {demo} |")
    lines += ["", "## Every measurement", "",
              "| step | data | runs | median s | min s | max s | CPU s (median) | note |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for t in report.timings:
        lo, hi = (min(t.times), max(t.times)) if t.times else (float("nan"),) * 2
        lines.append(f"| {t.step} | {t.data} | {len(t.times)} | {_fmt(t.median)} | {_fmt(lo)} | {_fmt(hi)} | "
                     f"{_fmt(t.cpu_median)} | {t.note} |")
    if report.memory:
        lines += ["", "## Peak memory (fresh process, large dataset end to end)", "",
                  "Peak RSS (VmHWM) after each stage; the uploaded bytes stay held, as in a session.", "",
                  "| after | peak RSS MB |", "|---|---:|"]
        lines += [f"| {stage} | {mb:,.0f} |" for stage, mb in report.memory.items()]
    lines += ["", f"Peak RSS of the benchmark process itself (everything above, AppTest included): "
              f"{peak_rss_mb():,.0f} MB.", ""]
    missed = [t for t in report.targets if t.profile]
    if missed:
        lines += ["## Profiles of the missed targets", "",
                  "One run under cProfile, top functions by cumulative time (cProfile slows Python code "
                  "more than numpy/pandas internals).", ""]
        for t in missed:
            lines += [f"### {t.what}", "", "```", t.profile, "```", ""]
    lines += [*report.notes]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------ main

def run(args: argparse.Namespace) -> Report:
    report = Report(args=vars(args) | {"command": " ".join(args.argv), "load": os.getloadavg()})
    repeat, slow = args.repeat, min(args.repeat, args.slow_repeat)
    data = prepare(args.reps, args.years, args.density, args.seed, args.xlsx_rows, Path(args.data))
    report.data = data
    if data.seconds:
        report.notes.append(f"Generating and writing the large dataset took {data.seconds:.0f} s (once).")
    for name in WARM_IMPORTS:         # import once up front: the first run of a step pays no import
        _module(name)
    print("1. ingest", flush=True)
    demo, large = step_ingest(report, data, Path(args.demo), repeat, slow)
    for ds, name in ((demo, "demo"), (large, "large")):
        if ds is None:
            continue
        print(f"2-4. KPIs, diagnostic, summary [{name}]", flush=True)
        all_kpis = step_kpis(report, ds, name, repeat)
        if name == "large":
            print("6. DuckDB reference", flush=True)
            step_duckdb(report, ds, repeat, all_kpis)
        step_diagnostic(report, ds, name, slow if name == "large" else repeat)
        step_summary(report, ds, name, slow if name == "large" else repeat)
    print("5. Overview rerun in AppTest", flush=True)
    if not args.no_demo_page:
        step_page(report, "demo", None, repeat, 0.3)
    files = [(p.name, p.read_bytes()) for p in data.csvs]
    step_page(report, "large", files, repeat, 1.5)
    del files
    if not args.no_memory:
        print("peak memory (fresh process)", flush=True)
        report.targets.append(step_memory(report, data))
    return report


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=1000, help="reps in the large dataset (default 1000)")
    parser.add_argument("--years", type=float, default=3.0, help="years of history (default 3)")
    parser.add_argument("--density", type=float, default=2.7,
                        help="data volume per rep (default 2.7: ~3 M activities at 1,000 reps × 3 years)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--xlsx-rows", type=int, default=200_000, help="rows of the large xlsx (default 200,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per step (default 5)")
    parser.add_argument("--slow-repeat", type=int, default=3, help="runs per slow step (default 3)")
    parser.add_argument("--data", default=str(DATA_ROOT), help="where the generated data goes (default bench/data)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results file (default bench/RESULTS.md)")
    parser.add_argument("--demo", default=str(DEMO), help="the demo workbook (default: the bundled sample)")
    parser.add_argument("--no-demo-page", action="store_true",
                        help="skip the Overview rerun on the bundled sample (the app always opens it)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    parser.add_argument("--peak-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def _kept_section(out: Path) -> str:
    """bench.honest's section of the results file (DuckDB on its own tables), kept when this
    benchmark rewrites the file."""
    from bench.honest import END, START

    old = out.read_text() if out.exists() else ""
    if START not in old or END not in old:
        return ""
    return "\n" + START + old.split(START, 1)[1].split(END, 1)[0] + END + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.peak_child:
        peak_child(Path(args.peak_child))
        return 0
    report = run(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report) + _kept_section(out))
    print(f"wrote {out}")
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
