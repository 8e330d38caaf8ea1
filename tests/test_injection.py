"""Injection: user text is shown as text on every page and written as text in every download.

A team whose every name is a payload (tests/injection_data.py: rep, region, territory id and
name, account, product, competency, manager, training topic, a rep missing from the roster,
file and sheet names) goes through ingest, every page (AppTest) and every download (openpyxl).
Rotation k puts payload k + i in field i; the default suite runs rotation 0 (twelve payloads in
twelve fields), the slow suite all twelve, so that every payload sits in every field once.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from google.protobuf.message import Message
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from core.dataset import Dataset
from core.ingest.pipeline import ingest
from core.ingest.template import issues_workbook, template_workbook
from core.periods import parse_period
from core.report.summary import collect
from core.report.workbook import FORMULA_START, build_workbook, safe_row
from core.settings import Settings
from core.territory.realign import MOVE_COLUMNS, SIDE_COLUMNS, Proposal, moves_workbook
from tests.injection_data import PAYLOADS, sheet_title, upload
from ui.sidebar import MINE
from ui.state import UPLOAD_KEY
from ui.text import html_text, md, plot_text

ROOT = Path(__file__).resolve().parents[1]
# Every page app.py navigates to (its SECTIONS entries), so a new page is covered from its first day.
PAGES = tuple(re.findall(r'\("(\w+)", "[^"]+", ":material/', (ROOT / "app.py").read_text()))
PERIOD = parse_period("2025-Q3")
ROTATIONS = [0] + [pytest.param(k, marks=pytest.mark.slow) for k in range(1, len(PAYLOADS))]
# Payloads whose characters mean something to Markdown or HTML: never shown unescaped.
MARKUP = [p for p in PAYLOADS if re.search(r"[\[<*$]|:\S|@|www\.", p)]


# ---------------------------------------------------------------------------------------------
# The escape helpers themselves
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_escapes_every_markdown_character(payload):
    """Every character Markdown reads as markup is backslash-escaped (CommonMark shows it
    literally); dropping the escapes (and the invisible word joiners) gives the text back."""
    escaped = md(payload)
    assert re.sub(r"\\(.)", r"\1", escaped).replace("\u2060", "") == payload
    assert not re.search(r"(?<!\\)[\[\]<>*$`~]|^[#+\-]|(?<!\\)(?<!\w)_", escaped.replace("\u2060", ""))
    assert not re.search(r":(?!\u2060|\s|$)", escaped)                  # no colon touches a word


def test_md_keeps_urls_and_addresses_from_becoming_links_and_flattens_lines():
    assert "http:\u2060//" in md("see http://host/x") and "www\u2060." in md("www.x.com")
    assert md("a@b.com") == "a@\u2060b.com" and md(":smile:") == ":\u2060smile:"
    assert md("1. Jane\n# Roe\r\n") == "1\\. Jane # Roe" and md("- x") == "\\- x" and md(None) == ""
    assert md("Dana Lee-Smith, St. Mary's (East): R&D") == "Dana Lee-Smith, St. Mary's (East): R&D"
    assert md("meetings_per_week _x_ &amp;") == "meetings_per_week \\_x\\_ \\&amp;"


def test_plot_and_html_text_escape_tags():
    assert plot_text("<a href='x'>y</a> &amp; <50% R&D") == "&lt;a href='x'>y&lt;/a> &amp;amp; <50% R&D"
    assert html_text("<b>\"Roe\"</b>") == "&lt;b&gt;&quot;Roe&quot;&lt;/b&gt;" and html_text(float("nan")) == ""


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------

def _strings(message: Message) -> list[str]:
    """Every string a protobuf message holds, nested messages included."""
    out: list[str] = []
    for _field, value in message.ListFields():
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        for v in values:
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, Message):
                out += _strings(v)
    return out


def _texts(at: AppTest) -> dict[str, list[str]]:
    """Element type → the texts Streamlit renders as Markdown (labels, bodies, values, help).
    Data frames, charts, st.text (drawn as preformatted plain text) and select box options (plain
    text) are left out; st.html bodies are HTML, not Markdown, and are judged by `_html_bodies`."""
    out: dict[str, list[str]] = {}
    for node in at._tree:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is None or kind in ("plotly_chart", "dataframe", "arrow_data_frame", "deck_gl_json_chart", "text",
                                     "html"):
            continue
        if kind in ("selectbox", "multiselect"):
            texts = [proto.label, proto.help]
        else:
            texts = [s for s in _strings(proto) if not s.startswith("$$ID") and len(s) < 5000]
        out.setdefault(kind, []).extend(texts)
    return out


def _unescaped(payload: str, text: str) -> bool:
    """The payload as typed: no backslash escape and no word joiner (after a colon or @) in it."""
    return payload in text


def _run(page: str, rotation: int) -> tuple[AppTest, dict[str, str]]:
    files, p = upload(rotation)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[UPLOAD_KEY] = files
    at.session_state["source"] = MINE
    at.session_state["scope_region"] = p["region"]
    at.session_state["scope_territory"] = p["territory id"]
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at, p


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("page", PAGES)
def test_pages_show_every_payload_as_text(page, rotation):
    """No page shows a payload as markup: every text Streamlit renders as Markdown holds the
    escaped form, never the raw one (so no image is fetched, no link or colour drawn); every
    plotly figure and map carries `<` only as an entity."""
    at, p = _run(page, rotation)
    assert not at.exception, at.exception
    texts = _texts(at)
    everything = [t for values in texts.values() for t in values]
    assert not [t for t in everything if "![" in t]
    raw = {(m, t) for m in MARKUP for t in everything if _unescaped(m, t)}
    assert not raw, raw
    sidebar = " ".join(t for t in everything if t.startswith("Showing"))
    assert md(f"{p['file name']}.xlsx") in sidebar and md(f"{p['region']} / {p['territory id']}") in sidebar
    charts = json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")]
                        + [_tooltip_values(c.proto) for c in at.get("deck_gl_json_chart")])
    assert not [m for m in PAYLOADS if "<" in m and m in charts]
    html = " ".join(_html_bodies(at))          # st.html: user text only HTML-escaped
    assert not [m for m in PAYLOADS if m != html_text(m) and m in html]


def _html_bodies(at: AppTest) -> list[str]:
    return [s for node in at._tree if getattr(node, "type", "") == "html" for s in _strings(node.proto)]


def _tooltip_values(proto: Message) -> list[Any]:
    """The values a pydeck map's HTML tooltip shows: its {fields} in the pickable layers' rows
    (other columns travel with the data but are never drawn as HTML)."""
    fields = re.findall(r"{(\w+)}", json.loads(proto.tooltip or "{}").get("html", ""))
    layers = [layer for layer in json.loads(proto.json)["layers"] if layer.get("pickable")]
    return [row.get(f) for layer in layers for row in layer.get("data", []) for f in fields]


def _page_text(page: str, kinds: tuple[str, ...]) -> tuple[str, dict[str, str], AppTest]:
    at, p = _run(page, 0)
    texts = _texts(at)
    return " ".join(t for k in kinds for t in texts.get(k, [])), p, at


def test_rep_profile_heading_and_coaching_show_the_names_escaped():
    text, p, at = _page_text("rep_profile", ("markdown", "subheader"))
    for field in ("rep name", "region", "territory id", "competency"):
        assert md(p[field]) in text, field
    charts = json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")])
    assert json.dumps(plot_text(p["competency"]))[1:-1] in charts


def test_data_page_names_files_and_sheets_escaped():
    text, p, _ = _page_text("data", ("expander",))
    assert md(p["file name"]) in text and md(sheet_title(p["sheet name"])) in text


def test_diagnostic_names_the_rep_below_goal_escaped():
    text, p, _ = _page_text("diagnostic", ("markdown", "expander"))
    assert md(p["rep name"]) in text


def test_trends_product_titles_are_plot_text():
    _, p, at = _page_text("trends", ())
    charts = json.dumps([json.loads(c.proto.spec) for c in at.get("plotly_chart")])
    assert json.dumps(plot_text(p["product"]))[1:-1] in charts


# ---------------------------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------------------------

def _cells(blob: bytes) -> list[Any]:
    """Every cell of every sheet; no cell may be a formula, and the file holds no <f> element."""
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        sheets = " ".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert not re.search(r"<f[ >]", sheets)
    wb = load_workbook(io.BytesIO(blob))
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    formulas = [c.coordinate for c in cells if c.data_type == "f"]
    assert not formulas, formulas
    risky = [c for c in cells if isinstance(c.value, str) and FORMULA_START.match(c.value)]
    assert all(c.quotePrefix for c in risky)
    return [c.value for c in cells]


def _dataset(rotation: int) -> tuple[Dataset, dict[str, str]]:
    files, p = upload(rotation)
    return ingest(files), p


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_excel_summary_writes_every_payload_as_text(rotation):
    ds, p = _dataset(rotation)
    values = set(_cells(build_workbook(collect(ds, PERIOD, Settings()))))
    shown = ("rep name", "region", "territory id", "territory name", "competency", "orphan rep")
    assert {p[f] for f in shown} <= values
    assert f"{p['file name']}.xlsx" in values                                      # Data source
    assert f"{p['file name']}.xlsx › sales" in values                              # Data quality


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_validation_report_writes_every_payload_as_text(rotation):
    ds, p = _dataset(rotation)
    values = set(_cells(issues_workbook(ds)))
    assert p["orphan rep"] in values                                          # Issues: Value
    assert f"{p['file name']}.xlsx › {sheet_title(p['sheet name'])}" in values   # Sources


def test_template_has_no_formula():
    assert len(_cells(template_workbook())) > 100


@pytest.mark.parametrize("payload", PAYLOADS)
def test_moves_workbook_writes_every_payload_as_text(payload):
    moves = pd.DataFrame([["A1", payload, payload, "T2", 1.0, 2.0, 3.0]], columns=MOVE_COLUMNS)
    side = pd.DataFrame([[payload, payload, payload, 1.0, 100.0, 1, 5.0, True]], columns=SIDE_COLUMNS)
    proposal = Proposal(moves, side, side, {"accounts_moved": 1, payload: payload}, payload)
    values = _cells(moves_workbook(proposal))
    assert values.count(payload) >= 7


def test_safe_row_keeps_numbers_and_strips_control_characters():
    from openpyxl import Workbook

    ws = Workbook().active
    ws.append(safe_row(ws, ["=1+1", 3, None, "a\x00b", "plain"]))
    assert [c.value for c in ws[1]] == ["=1+1", 3, None, "ab", "plain"]
    assert [c.data_type for c in ws[1]][:2] == ["s", "n"] and ws["A1"].quotePrefix


# ---------------------------------------------------------------------------------------------
# What a browser draws (the AppTest checks above read the Markdown source; this one renders it)
# ---------------------------------------------------------------------------------------------

# The payloads, and what else Markdown reads at the start of a line, in a shortcode or an entity.
BROWSER_CASES = PAYLOADS + (":smile:", ":+1:", ":material/home:", "1. one", "12) two", "- item", "# head",
                            "> quote", "~~gone~~", "`code`", "x_y_ *a*", "&lt;b&gt; &#60;i&#62;", "J & J",
                            "www.example.com", "a@b.com", "http://host/x", "back\\slash", "  <b>x</b>  ")
RENDER_SCRIPT = '''
import sys
sys.path.insert(0, {root!r})
import plotly.graph_objects as go
import streamlit as st
from ui.charts import style
from ui.text import md
PAYLOADS = {payloads!r}
for i, p in enumerate(PAYLOADS):
    st.markdown(f"MD{{i}}: " + md(p))
    st.caption(f"CAP{{i}}: " + md(p))
    st.subheader(f"SUB{{i}}: " + md(p))
    st.info(f"INF{{i}}: " + md(p))
    st.metric(f"MET{{i}}: " + md(p), md(p))
    with st.expander(f"EXP{{i}}: " + md(p)):
        st.write("x")
st.plotly_chart(style(go.Figure(go.Bar(x=list(PAYLOADS), y=list(range(len(PAYLOADS))), name=PAYLOADS[6])),
                      " ".join(PAYLOADS)))
st.markdown("END")
'''


@pytest.mark.browser
@pytest.mark.slow
def test_payloads_render_as_plain_text_in_chromium(tmp_path):
    """Streamlit's real front end draws every payload as its own characters: no image, link,
    colour or math element, and plotly draws no link or bold text from them."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    script = tmp_path / "render.py"
    script.write_text(RENDER_SCRIPT.format(root=str(ROOT), payloads=BROWSER_CASES))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health")
                break
            except OSError:
                time.sleep(1)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}")
            page.wait_for_selector("text=END", timeout=90_000)
            main = page.locator("[data-testid=stMain]").first
            html, text = main.inner_html(), main.inner_text().replace("\u2060", "")
            chart = page.locator(".js-plotly-plot").first.inner_html()
            browser.close()
    finally:
        server.terminate()
        server.wait()
    assert "katex" not in html
    assert not re.findall(r"<(?:img|em|strong|li|ol|ul|del|code|blockquote|h1|h2)[ >]", html)
    assert not re.findall(r'<a (?![^>]*aria-label="Link to heading")', html)     # only heading anchors
    for i, p in enumerate(BROWSER_CASES):
        for tag in ("MD", "CAP", "SUB", "INF", "EXP"):
            shown = next((line for line in text.splitlines() if f"{tag}{i}: " in line), "")
            assert shown.endswith(f"{tag}{i}: {p.strip()}"), (tag, p, shown)
    assert "<a" not in chart and "&lt;script&gt;" in chart
