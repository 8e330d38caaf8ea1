"""The Overview's first screen on a fresh server (issue 16: "the first meaningful screen within 3 s
on the demo"), as a person sees it in a browser.

    python -m bench.first_screen --port 8631 --servers 3 --scripts app.py serve.py

Each round starts GoalGap's server anew with `streamlit run SCRIPT` for each of --scripts (serve.py
reads the sample when the server starts, app.py when the first visitor arrives); once it answers its
health check (when a person could first reach it) and --arrive-after seconds more, it opens it in
headless Chromium at 1366×768, twice: the first visitor of the fresh server, then a second visitor (a new browser
context, so a new session). For each it times, from the navigation:

- headline: the Overview's headline tiles (Revenue, Quota, Attainment, Gap to goal) on the screen;
- settled: nothing spinning and the page's text unchanged for 3 s (the rule of shoot.py and the
  browser tests), counted without those 3 quiet seconds;

and the server's CPU time until the page settled. Prints the median over the rounds of each (and
with --out appends the table, Markdown, to a file). Needs Playwright and Debian's Chromium.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench import publish
from bench.load import ROOT, Target, cpu_seconds, start

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
HEADLINE = ("Revenue", "Quota", "Attainment", "Gap to goal (team)")
SHOWN = """labels => {
  const shown = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')]
    .filter(m => m.querySelector('[data-testid="stMetricValue"]')).map(m => m.innerText.split('\\n')[0].trim());
  return labels.every(l => shown.includes(l));
}"""
BUSY = "[data-testid='stSpinner'], [data-testid='stSkeleton'], [data-testid='stStatusWidget']"
QUIET_S = 3.0
TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Visit:
    headline_s: float
    settled_s: float
    server_cpu_s: float


def settled(page, t0: float) -> float:
    """Seconds from t0 until nothing is busy and the main text stayed the same for QUIET_S."""
    last, since = None, None
    while time.perf_counter() - t0 < TIMEOUT_S:
        busy = page.locator(BUSY).count() > 0
        text = page.evaluate("() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).innerText")
        digest = hashlib.md5(text.encode()).hexdigest()
        if busy or digest != last:
            since, last = None, digest
        elif since is None:
            since = time.perf_counter()
        elif time.perf_counter() - since > QUIET_S:
            return since - t0
        page.wait_for_timeout(100)
    raise SystemExit(f"the Overview did not settle within {TIMEOUT_S:.0f} s")


def visit(browser, url: str, server) -> Visit:
    """One new session opening the app (the Overview is its first page)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        cpu0, t0 = cpu_seconds(server), time.perf_counter()
        page.goto(url)
        page.wait_for_function(SHOWN, arg=list(HEADLINE), timeout=TIMEOUT_S * 1000, polling=50)
        headline = time.perf_counter() - t0
        done = settled(page, t0)
        return Visit(headline, done, cpu_seconds(server) - cpu0)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_screen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--servers", type=int, default=3, help="rounds, each on a freshly started server")
    parser.add_argument("--scripts", nargs="+", default=["serve.py"], help="what `streamlit run` starts")
    parser.add_argument("--arrive-after", type=float, default=0.0,
                        help="seconds between the server answering and the first visitor (0: at once, the worst case)")
    parser.add_argument("--out", help="append the result (Markdown) to this file")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    visits: dict[str, list[Visit]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            for _ in range(args.servers):
                for script in args.scripts:
                    target = Target(script, ROOT / script, args.port)
                    server = start(target)
                    time.sleep(args.arrive_after)
                    try:
                        for who in ("first visitor of a fresh server", "second visitor"):
                            visits.setdefault(f"{script}: {who}", []).append(visit(browser, target.url, server))
                    finally:
                        server.terminate()
                        server.wait(timeout=20)
        finally:
            browser.close()
    lines = [f"The Overview on the demo, {args.servers} fresh servers, first visitor {args.arrive_after:.0f} s after "
             f"the server answers ({os.cpu_count()} cores, load average "
             f"{os.getloadavg()[0]:.1f} at the end), Chromium 1366×768; medians (each run):", "",
             "| server, visit | headline tiles (s) | settled (s) | server CPU until settled (s) |", "|---|---|---|---|"]
    for name, runs in visits.items():
        cells = [[getattr(v, f) for v in runs] for f in ("headline_s", "settled_s", "server_cpu_s")]
        lines.append(f"| {name} | " + " | ".join(
            f"{statistics.median(c):.1f} ({', '.join(f'{x:.1f}' for x in c)})" for c in cells) + " |")
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
