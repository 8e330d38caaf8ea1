"""bench.honest at a tiny scale: DuckDB's SQL computes the same per-rep KPIs as core, the
results section replaces itself in RESULTS.md, and the growth exponent is what it says."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import time

import pytest

from bench import honest
from bench.generate import prepare

pytest.importorskip("duckdb", reason="the benchmark's SQL reference needs duckdb")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("honest")
    data = prepare(12, 1.0, 1.5, xlsx_rows=10, root=root, log=lambda _: None)
    return data, root


def test_duckdb_sql_gives_the_same_per_rep_kpis_as_core(tiny):
    """The SQL on DuckDB's own tables (read from the CSVs, duplicates dropped) and ingest +
    rep_kpis agree on every KPI of every rep: the comparison is the same work, not a lookalike."""
    data, root = tiny
    label = honest.latest_quarter(data.folder)
    duck, ours = root / "duck.parquet", root / "ours.parquet"
    timing = honest.duck_child(data.folder, label, 1, duck)
    honest.ours_child(data.folder, label, 1, ours)
    assert timing["load"] > 0 and timing["first_query"] > 0
    assert honest.agreement(duck, ours) == f"the same values for the {len(honest.KPI_COLUMNS)} KPIs of all 12 reps"


def test_agreement_names_a_kpi_that_differs(tiny, tmp_path):
    """A changed value is reported by KPI, so the comparison can fail."""
    import pandas as pd

    data, _ = tiny
    label = honest.latest_quarter(data.folder)
    duck, ours = tmp_path / "duck.parquet", tmp_path / "ours.parquet"
    honest.duck_child(data.folder, label, 1, duck)
    frame = pd.read_parquet(duck)
    frame.loc[0, "win_rate"] = frame["win_rate"].fillna(0).iloc[0] + 0.5
    frame.to_parquet(ours)
    assert honest.agreement(duck, ours).startswith("differs: win_rate")


def test_section_is_replaced_in_place(tmp_path):
    """The results file keeps what surrounds the section; a second run replaces the section."""
    out = tmp_path / "RESULTS.md"
    out.write_text("# head\n")
    honest.write_section(out, f"{honest.START}\nfirst\n{honest.END}\n")
    out.write_text(out.read_text() + "tail\n")
    honest.write_section(out, f"{honest.START}\nsecond\n{honest.END}\n")
    text = out.read_text()
    assert text.startswith("# head\n") and text.endswith("tail\n")
    assert "second" in text and "first" not in text and text.count(honest.START) == 1


def test_growth_exponent():
    """t ∝ n^k: doubling n and quadrupling t is k = 2; three times n for three times t is 1."""
    assert honest.exponent(1.0, 4.0, 1000, 2000) == pytest.approx(2.0)
    assert honest.exponent(2.0, 6.0, 1000, 3000) == pytest.approx(1.0)
    assert math.isclose(honest.exponent(5.0, 5.0, 10, 20), 0.0)


def test_run_child_counts_the_processes_it_leaves_behind(tmp_path):
    """A child that starts a bigger process and exits without waiting for it (as the report's
    sandbox forkserver is left): the grandchild's memory is in the peak, its CPU in the CPU."""
    grandchild = "b = b'\\x01' * (300 << 20); import time; time.sleep(0.3)"
    child = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {grandchild!r}])"
    run = honest.run_child([sys.executable, "-c", child], tmp_path / "log")
    assert run.peak_mb >= 300
    assert run.cpu > 0


def test_pss_counts_pages_a_forked_process_shares_once(tmp_path):
    """A process that forks after filling 200 MB: both hold the pages (RSS summed ~400 MB), the
    machine holds them once (PSS summed ~200 MB)."""
    child = ("import os, time; b = bytearray(200 << 20); b[::4096] = b'\\x01' * len(b[::4096]); "
             "pid = os.fork(); time.sleep(1.5); os._exit(0) if pid == 0 else os.waitpid(pid, 0)")
    run = honest.run_child([sys.executable, "-c", child], tmp_path / "log")
    assert run.peak_mb >= 400
    assert 200 <= run.pss_mb <= run.peak_mb - 150


def test_descendants_rss_counts_a_running_child():
    """The sampler sees a child's resident memory; a process without children has none."""
    proc = subprocess.Popen([sys.executable, "-c", "b = b'\\x01' * (100 << 20); import time; time.sleep(5)"])
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        for _ in range(50):
            if honest.descendants_rss(os.getpid()) * page >= 100 << 20:
                break
            time.sleep(0.1)
        assert honest.descendants_rss(os.getpid()) * page >= 100 << 20
        assert honest.descendants_rss(proc.pid) == 0
    finally:
        proc.kill()
        proc.wait()


def test_run_child_leaves_the_callers_other_children_alone(tmp_path):
    """A child this process had before the run is neither waited for nor counted: run_child returns
    while it still runs."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = honest.run_child([sys.executable, "-c", "pass"], tmp_path / "log")
        assert sleeper.poll() is None
        assert run.peak_mb < 1000
    finally:
        sleeper.kill()
        sleeper.wait()
