"""The real server under hostile and heavy uploads (slow; run with `pytest -m slow`).

- A 2 MB workbook holding 13 million cells (rows and cells written without numbers) gets a plain
  message in one session within seconds, while a second session keeps answering and the server
  lives on.
- Ten different 50 MB uploads, each in its own browser session, closed in turn: the server's
  resident memory afterwards stays under 2 GB.
- The load and first-screen benchmarks run end to end on a tiny load.

Driven in headless Chromium (Debian's /usr/bin/chromium through Playwright); skipped where either
is missing. Times and memory are printed (pytest -s) for the README's figures.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_sandbox import unnumbered_cells_workbook

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")]
TIMEOUT_MS = 180_000
PORT_BOMB, PORT_MEMORY, PORT_FIRST_SCREEN = 8602, 8612, 8632
DISCONNECTED_TTL_S = 5      # how long the server keeps a closed tab's session for a reconnect


def start_server(port: int, *options: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1", *options],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    pytest.fail(f"the Streamlit server did not start on port {port} within 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of one process (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def open_app(browser, url: str):
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=TIMEOUT_MS)
    return page


def test_bomb_workbook_gets_a_plain_message_and_other_sessions_keep_working(browser, tmp_path):
    bomb = tmp_path / "sales_export.xlsx"
    bomb.write_bytes(unnumbered_cells_workbook(13_000_000))
    assert bomb.stat().st_size < 3_000_000
    proc, url = start_server(PORT_BOMB)
    try:
        attacker, bystander = open_app(browser, url), open_app(browser, url)
        attacker.goto(f"{url}/data")
        attacker.wait_for_selector("input[type=file]", state="attached", timeout=TIMEOUT_MS)
        started = time.time()
        attacker.locator("input[type=file]").set_input_files(str(bomb))

        # the other session answers while the bad file is being refused
        bystander.reload()
        bystander.wait_for_selector("[data-testid='stMetricValue']", timeout=TIMEOUT_MS)
        answered = time.time() - started

        attacker.wait_for_function("() => document.body.innerText.includes('too big to read')",
                                   timeout=TIMEOUT_MS)
        refused = time.time() - started
        print(f"\nbomb workbook: plain message after {refused:.1f} s; second session answered after "
              f"{answered:.1f} s; server RSS {rss_mb(proc.pid):.0f} MB")
        assert attacker.locator("[data-testid='stException']").count() == 0
        assert proc.poll() is None
        assert urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).read() == b"ok"
        bystander.reload()      # and still answers afterwards
        bystander.wait_for_selector("[data-testid='stMetricValue']", timeout=TIMEOUT_MS)
        assert refused < 30
    finally:
        stop_server(proc)


def large_sales_csv(path: Path, seed: int, size_mb: int = 50) -> Path:
    """A sales table of about `size_mb` MB, different for every seed."""
    rng = np.random.default_rng(seed)
    n = size_mb * 1_000_000 // 38
    frame = pd.DataFrame({
        "date": (np.datetime64("2024-01-01") + rng.integers(0, 730, n)).astype("datetime64[D]").astype(str),
        "rep_id": np.char.add("R", rng.integers(100, 400, n).astype(str)),
        "product": np.char.add("P", rng.integers(10, 60, n).astype(str)),
        "revenue": rng.integers(100, 999_999, n) / 100,
    })
    frame.to_csv(path, index=False)
    return path


def test_ten_large_uploads_are_released_when_their_sessions_close(browser, tmp_path):
    proc, url = start_server(PORT_MEMORY, "--server.disconnectedSessionTTL", str(DISCONNECTED_TTL_S))
    try:
        open_app(browser, url).context.close()
        print(f"\nserver RSS at start (sample loaded): {rss_mb(proc.pid):.0f} MB")
        peak = 0.0
        for k in range(10):
            path = large_sales_csv(tmp_path / f"sales_{k}.csv", seed=k)
            page = open_app(browser, url)
            page.goto(f"{url}/data")
            page.wait_for_selector("input[type=file]", state="attached", timeout=TIMEOUT_MS)
            page.locator("input[type=file]").set_input_files(str(path))
            page.wait_for_function(f"() => document.body.innerText.includes('Showing {path.name}')",
                                   timeout=TIMEOUT_MS)
            peak = max(peak, rss_mb(proc.pid))
            page.context.close()
            path.unlink()
            print(f"upload {k + 1}: {rss_mb(proc.pid):.0f} MB after its session closed")
        time.sleep(DISCONNECTED_TTL_S + 5)
        open_app(browser, url).context.close()      # a later visitor: the server tidies up closed sessions
        time.sleep(2)
        held = rss_mb(proc.pid)
        print(f"ten 50 MB uploads: peak {peak:.0f} MB, {held:.0f} MB held after every session closed")
        assert held <= 2048
    finally:
        stop_server(proc)


def test_load_benchmark_runs_on_a_tiny_load():
    """bench/load.py end to end with 2 sessions: both servers start, the period changes are timed.
    Run as its own process, as a user runs it (and apart from any event loop a browser test left)."""
    done = subprocess.run([sys.executable, "-m", "bench.load", "--sessions", "2", "--changes", "1", "--rounds", "1",
                           "--port", str(PORT_BOMB), "--bare-port", "8622"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "| bare page | 2 |" in out and "| GoalGap demo | 2 |" in out and "median ratio" in out


def test_first_screen_benchmark_runs_on_one_fresh_server():
    """bench/first_screen.py end to end: one fresh server started with serve.py, two visitors timed."""
    done = subprocess.run([sys.executable, "-m", "bench.first_screen", "--servers", "1", "--scripts", "serve.py",
                           "--port", str(PORT_FIRST_SCREEN)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| serve.py: first visitor of a fresh server |" in done.stdout
    assert "| serve.py: second visitor |" in done.stdout
