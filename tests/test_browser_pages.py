"""Every page as a new user sees it (issue 16): headless Chromium at 1366×768, on the sample and on a
CRM export (Maven's sales_pipeline.csv + sales_teams.csv, uploaded on the Data page). A page fails on
an exception or error box, on program words in its text (snake_case keys, None/nan/inf/NaT, raw
timestamps) and on taking over 10 s to settle. The first screen and the whole page of each visit are
saved under test-artifacts/pages/ (not committed). Skipped where Chromium, Playwright or the Maven
files are missing."""
from __future__ import annotations

import csv
import hashlib
import re
import time
from pathlib import Path

import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, ROOT, server, upload  # noqa: F401

playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")]

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "external" / "maven_crm"
VIEWPORT = {"width": 1366, "height": 768}
SETTLE_LIMIT_S = 10.0
# Pages that draw WebGL maps (pydeck): headless Chromium here draws WebGL in software (SwiftShader),
# which takes seconds a person's GPU does not; the script itself runs in ~1.2 s (AppTest). They get
# a wider limit so the test measures the app, not the software renderer.
MAP_PAGES = {"Territories"}
MAP_SETTLE_LIMIT_S = 25.0
QUIET_S = 3.0   # as ../shared/tools/shoot.py: settled = nothing busy and the text unchanged this long
BUSY = "[data-testid='stSpinner'], [data-testid='stSkeleton'], [data-testid='stStatusWidget']"
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
# What a person reads: the main block and the sidebar, plus chart texts (SVG) and table cells and
# headers (Streamlit's data grid draws on a canvas and keeps its cells in an accessible table).
TEXT = """() => {
  const parts = ['stMain', 'stSidebar'].map(t => (document.querySelector(`[data-testid="${t}"]`)
                                                  || document.body).innerText);
  document.querySelectorAll('[data-testid="stMain"] svg text').forEach(e => parts.push(e.textContent));
  document.querySelectorAll('[data-testid="stMain"] [role="gridcell"], [data-testid="stMain"] [role="columnheader"]')
    .forEach(e => parts.push(e.textContent));
  return parts.join('\\n');
}"""
ICONS = """() => [...document.querySelectorAll('[data-testid="stIconMaterial"]')].map(e => e.textContent.trim())"""
HEIGHT = """() => Math.max(document.body.scrollHeight, ...['stMain', 'stAppViewContainer', 'stMainBlockContainer']
            .map(t => document.querySelector(`[data-testid="${t}"]`)).filter(Boolean).map(e => e.scrollHeight))"""

SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/]|\.[a-z])")   # not in file names
NULLS = re.compile(r"(?<![\w.-])(?:None(?! of\b)|nan|NaN|-?inf|NaT)(?![\w-])")   # "None of the reps" is English
TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\b")


def program_words(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """Words of the program, not of the user, in a page's text: snake_case keys (except the user's
    own column names, `allowed`), None/nan/inf/NaT as whole words, raw timestamps."""
    found = [w for w in SNAKE.findall(text) if w not in allowed]
    return sorted(set(found + NULLS.findall(text) + TIMESTAMP.findall(text)))


def settle(page, timeout_s: float = 120) -> float | None:
    """Seconds until no spinner/skeleton shows and the page's text stayed the same for QUIET_S (the
    rule of shoot.py); None if it never settled within timeout_s."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_s * 1000)
    t0, last, since = time.time(), None, None
    while time.time() - t0 < timeout_s:
        busy = page.locator(BUSY).count() > 0
        try:
            digest = hashlib.md5(page.evaluate(TEXT).encode()).hexdigest()
        except playwright_sync.Error:  # the page is being replaced
            digest = None
        if busy or digest != last:
            since, last = None, digest
        elif since is None:
            since = time.time()
        elif time.time() - since > QUIET_S:
            return time.time() - t0 - QUIET_S
        page.wait_for_timeout(250)
    return None


def shoot(page, path: Path) -> None:
    """The first screen, then the whole page (Streamlit scrolls inside its main block, so the viewport
    grows to the content's height first)."""
    page.screenshot(path=str(path.with_name(path.name + "-fold.png")))
    height = int(page.evaluate(HEIGHT))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(height + 40, 16000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path.with_name(path.name + "-full.png")), full_page=True)
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(300)


def show_all_pages(page) -> None:
    """The navigation lists ten pages until asked for the rest ("View 3 more")."""
    more = page.locator("[data-testid='stSidebarNavViewButton']")
    if more.count() and "more" in more.inner_text().lower():
        more.click()
        page.wait_for_timeout(300)


def check_every_page(page, name: str, allowed: set[str]) -> list[str]:
    """Visit each page of the navigation in this session; the problems found, one line per page."""
    out = ARTIFACTS / "pages"
    out.mkdir(parents=True, exist_ok=True)
    links = page.locator("[data-testid='stSidebarNav'] a")
    show_all_pages(page)
    titles = [t.strip().splitlines()[-1] for t in links.all_inner_texts()]
    assert len(titles) >= 5, titles
    problems = []
    for i, title in enumerate(titles):
        show_all_pages(page)
        links.nth(i).click()
        took = settle(page)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        shoot(page, out / f"{name}-{i + 1:02d}-{slug}")
        boxes = page.locator(ERRORS)
        errors = [boxes.nth(k).inner_text()[:200] for k in range(boxes.count())]
        icons = set(page.evaluate(ICONS))   # Material icons are drawn from their names ("upload_file")
        words = program_words(page.evaluate(TEXT), allowed | icons)
        limit = MAP_SETTLE_LIMIT_S if title in MAP_PAGES else SETTLE_LIMIT_S
        if took is None or took > limit:
            problems.append(f"{name} / {title}: " + ("never settled" if took is None else f"settled in {took:.1f} s"))
        if errors:
            problems.append(f"{name} / {title}: error boxes {errors}")
        if words:
            problems.append(f"{name} / {title}: program words {words}")
    return problems


@pytest.fixture()
def page(browser_instance):
    context = browser_instance.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def browser_instance():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def test_program_words_are_found_and_user_words_are_not():
    """The checker itself, on hand-written text."""
    text = ("Causes: customer_retention, pipeline\nAttainment None · n/a\nvalue nan and inf\n"
            "Closed 2016-01-10 00:00:00\nFile sales_pipeline.csv read; None of the reps; information")
    assert program_words(text) == ["2016-01-10 00:00:00", "None", "customer_retention", "inf", "nan"]
    assert program_words("column close_value read as amount", {"close_value"}) == []


def test_every_page_on_the_sample(server, page):  # noqa: F811
    from openpyxl import load_workbook

    workbook = load_workbook(ROOT / "sample_data" / "goalgap_sample.xlsx", read_only=True)
    sheets = set(workbook.sheetnames)   # the file's own words: the Data page names its sheets
    workbook.close()
    page.goto(server)
    settle(page)
    problems = check_every_page(page, "sample", sheets)
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not (MAVEN / "sales_pipeline.csv").exists(), reason="the Maven CRM export is not in ../shared")
def test_every_page_on_a_crm_export(server, page):  # noqa: F811
    files = [MAVEN / "sales_pipeline.csv", MAVEN / "sales_teams.csv"]
    headers = {h for f in files for h in next(csv.reader(f.open(encoding="utf-8")))}   # the user's own words
    page.goto(server)
    settle(page)
    upload(page, server, files)
    problems = check_every_page(page, "crm", headers)
    assert not problems, "\n".join(problems)
