"""End to end in headless Chromium: the real server, the real file uploader, every page, the period and
scope widgets, the Excel download; and several browser sessions on different uploads at once.
Screenshots of every page go to test-artifacts/ (not committed). Skipped where Chromium or
Playwright is missing."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")]
RUN_TIMEOUT_MS = 90_000
PlaywrightTimeout = playwright_sync.TimeoutError


def crm_export(team: str, base: int) -> bytes:
    """A small Salesforce-style opportunity report, with its header block and footer."""
    rows = ['"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date","Created Date"']
    for i in range(12):
        stage = ("Closed Won", "Closed Lost", "Negotiation/Review")[i % 3]
        rows.append(f'"{team} Rep{i % 3}","Hospital {i}","Deal {i}","{stage}","USD {base + 100 * i:,}.00",'
                    f'"{1 + i % 6}/{10 + i}/2024","1/2/2024"')
    rows += ['', '"Grand Totals (12 records)"', '"Confidential Information - Do Not Distribute"']
    return ("\r\n".join(rows) + "\r\n").encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "server.log").open("w")   # the server's own tracebacks, for whoever reads a failure
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the Streamlit server did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def settle(page) -> None:
    """Wait until the script run finished, then check no exception element is shown."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(200)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, f"{page.url}: {errors.all_inner_texts()}"


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def upload(page, url: str, files: list[Path]) -> None:
    page.goto(f"{url}/data")
    page.wait_for_selector("input[type=file]", state="attached", timeout=RUN_TIMEOUT_MS)
    page.locator("input[type=file]").set_input_files([str(f) for f in files])
    names = [f.name for f in files]
    page.wait_for_function("names => names.every(n => document.body.innerText.includes('Showing ' ) && "
                           "document.body.innerText.includes(n))", arg=names, timeout=RUN_TIMEOUT_MS)
    settle(page)


def choose(page, key: str, option: str) -> None:
    """Pick an option of a sidebar selectbox by its widget key (the list is opened again if a
    rerun replaced the box while it opened)."""
    box = page.locator(f".st-key-{key} [data-testid='stSelectbox'] [role='combobox']").first
    choice = page.locator("[role='option']").filter(has_text=re.compile(rf"^{re.escape(option)}")).first
    for _ in range(3):
        box.scroll_into_view_if_needed()
        box.click()
        try:
            choice.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    choice.click()
    settle(page)


def visit(page, link) -> None:
    """Follow a sidebar link inside the app (a reload would start a new session without the upload)."""
    link.click()
    settle(page)


def test_upload_visit_every_page_and_download(server, browser, tmp_path):
    from core.ingest.template import template_workbook

    template = tmp_path / "goalgap_template.xlsx"
    template.write_bytes(template_workbook())
    crm = tmp_path / "salesforce_opportunities.csv"
    crm.write_bytes(crm_export("Acme", 5000))
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=RUN_TIMEOUT_MS)
    settle(page)
    shoot(page, "00-sample-overview")

    upload(page, server, [template, crm])
    text = page.inner_text("body")
    assert "salesforce_opportunities.csv" in text and "goalgap_template.xlsx" in text
    shoot(page, "01-data-after-upload")

    links = page.locator("[data-testid='stSidebarNav'] a")
    titles = links.all_inner_texts()
    assert len(titles) >= 5
    for i, title in enumerate(titles):
        visit(page, links.nth(i))
        assert "salesforce_opportunities.csv" in page.inner_text("[data-testid='stSidebar']")
        shoot(page, f"{i + 2:02d}-{re.sub(r'[^a-z]+', '-', title.lower()).strip('-')}")

    visit(page, links.filter(has_text="Overview").first)
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert values and any(re.search(r"\d", v) for v in values), values
    choose(page, "period_kind", "Month")
    choose(page, "scope_region", "East")
    assert page.locator("[data-testid='stMetricValue']").count() > 0
    shoot(page, "90-overview-month-east")

    visit(page, links.filter(has_text="Export").first)
    button = page.get_by_text("Download the Excel summary", exact=False)
    if button.count():
        with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
            button.first.click()
        path = info.value.path()
        assert zipfile.is_zipfile(path) and "xl/workbook.xml" in zipfile.ZipFile(path).namelist()
    shoot(page, "91-export")
    context.close()


def test_several_browser_sessions_see_only_their_own_data(server, browser, tmp_path):
    teams = ["Alpha", "Bravo", "Charlie"]
    pages = []
    for k, team in enumerate(teams):
        path = tmp_path / f"{team.lower()}.csv"
        path.write_bytes(crm_export(team, 1000 * (k + 2)))
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        page.goto(server)
        page.wait_for_selector("[data-testid='stMetricValue']", timeout=RUN_TIMEOUT_MS)
        upload(page, server, [path])
        pages.append((team, page))
    for team, page in pages:   # every session again, now that all of them have uploaded
        links = page.locator("[data-testid='stSidebarNav'] a")
        visit(page, links.filter(has_text="Overview").first)
        page.wait_for_selector("[data-testid='stMetricValue']", timeout=RUN_TIMEOUT_MS)
        assert not [o for o in teams if o != team and f"{o} Rep" in page.inner_text("body")]
        visit(page, links.filter(has_text="Data").first)
        text = page.inner_text("body")
        assert f"{team.lower()}.csv" in text
        for other in teams:
            if other != team:
                assert f"{other.lower()}.csv" not in text and f"{other} Rep" not in text
        shoot(page, f"session-{team.lower()}")
        page.context.close()
