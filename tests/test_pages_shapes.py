"""Every page of app.py opens with no exception and no error box on five shapes of real data:
a Salesforce opportunity report, a HubSpot deals export (UTF-16 TSV, stage ids), a Veeva call
report beside a small opportunity export, the public Maven CRM files, and a day-first CSV."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ingest_helpers import xlsx
from ui.sidebar import MINE
from ui.state import UPLOAD_KEY

ROOT = Path(__file__).resolve().parents[1]
MAVEN = Path(__file__).resolve().parents[2] / "shared" / "external" / "maven_crm"
MAVEN_FILES = ["sales_pipeline.csv", "sales_teams.csv", "products.csv", "accounts.csv"]
OWNERS = ["Ann Lee", "Bob Roy", "Cara Diaz", "Dan Wu"]
ACCOUNTS = ["Mercy General", "Lakeside ASC", "St. Luke's", "Bayview Clinic", "Northside Hospital"]


def app_pages() -> list[str]:
    """The page files app.py navigates to (its SECTIONS entries)."""
    names = re.findall(r'\("(\w+)", "[^"]+", ":material/', (ROOT / "app.py").read_text())
    return [n for n in names if (ROOT / "pages" / f"{n}.py").exists()]


def _text(rows: list[list[object]], sep: str = ",", newline: str = "\n") -> str:
    def cell(v: object) -> str:
        s = str(v)
        return f'"{s}"' if sep == "," and ("," in s or '"' in s) else s
    return newline.join(sep.join(cell(c) for c in r) for r in rows) + newline


def _deals(n: int = 80) -> list[tuple[str, str, int, date, date, str]]:
    """(owner, account, amount, created, close, outcome) spread over 2024–2025: won, lost, open."""
    out = []
    for i in range(n):
        created = date(2024, 1, 3) + timedelta(days=(i * 9) % 540)
        close = created + timedelta(days=20 + (i * 7) % 90)
        outcome = ("won", "lost", "open")[i % 3] if close < date(2025, 6, 1) else "open"
        out.append((OWNERS[i % 4], ACCOUNTS[i % 5], 1000 + 250 * (i % 13), created, close, outcome))
    return out


def salesforce_report() -> list[tuple[str, bytes]]:
    stage = {"won": "Closed Won", "lost": "Closed Lost"}
    open_stages = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review"]
    rows = [["Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Amount", "Close Date", "Created Date"]]
    for i, (owner, acc, amount, created, close, outcome) in enumerate(_deals()):
        rows.append([owner, acc, f"{acc} - deal {i}", stage.get(outcome, open_stages[i % 5]), f"USD {amount:,.2f}",
                     f"{close.month}/{close.day}/{close.year}", f"{created.month}/{created.day}/{created.year}"])
    text = _text(rows, newline="\r\n") + ('\r\n"Grand Totals (80 records)","","","","","",""\r\n""\r\n'
                                          '"Confidential Information - Do Not Distribute"\r\n')
    return [("report1710000000000.csv", text.encode("utf-8"))]


def hubspot_export() -> list[tuple[str, bytes]]:
    open_ids = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
                "contractsent"]
    rows = [["Record ID", "Deal Name", "Deal owner", "Deal Stage", "Create Date", "Close Date", "Amount"]]
    for i, (owner, acc, amount, created, close, outcome) in enumerate(_deals()):
        stage = {"won": "closedwon", "lost": "closedlost"}.get(outcome, open_ids[i % 5])
        rows.append([str(1000 + i), acc, owner, stage, f"{created:%Y-%m-%d} 10:00",
                     "" if outcome == "open" else f"{close:%Y-%m-%d} 00:00", str(amount)])
    return [("hubspot-crm-exports-all-deals-2024.txt", _text(rows, sep="\t", newline="\r\n").encode("utf-16"))]


def veeva_calls() -> list[tuple[str, bytes]]:
    """A Veeva call report (submitted and saved calls) beside a small opportunity export."""
    rows = [["Call Date", "Call Type", "Status", "Account", "Owner"]]
    types = ["Detail Only", "Group Detail", "Detail with Sample"]
    for i in range(120):
        day = date(2024, 1, 2) + timedelta(days=(i * 5) % 500)
        rows.append([f"{day.month:02d}/{day.day:02d}/{day.year}", types[i % 3], "Saved" if i % 11 == 0 else "Submitted",
                     ACCOUNTS[i % 5], OWNERS[i % 4]])
    return [("calls.csv", _text(rows).encode("utf-8"))] + salesforce_report()


def maven_files() -> list[tuple[str, bytes]]:
    if not all((MAVEN / f).exists() for f in MAVEN_FILES):
        pytest.skip("public Maven CRM data not available")
    return [(f, (MAVEN / f).read_bytes()) for f in MAVEN_FILES]


def day_first_csv() -> list[tuple[str, bytes]]:
    """Sales with day-first dates (13/01/2024 …) and a quota workbook for half the reps."""
    rows = [["Date", "Rep", "Account", "Product", "Revenue"]]
    for i in range(150):
        day = date(2024, 1, 13) + timedelta(days=(i * 4) % 560)
        rows.append([f"{day.day:02d}/{day.month:02d}/{day.year}", OWNERS[i % 4], ACCOUNTS[i % 5],
                     ("GTX Pro", "MG Special")[i % 2], str(800 + 37 * (i % 17))])
    quotas = [["Rep", "Period", "Quota"]] + [[o, f"2025-Q{q}", 9000] for o in OWNERS[:2] for q in (1, 2)]
    return [("umsatz.csv", _text(rows).encode("utf-8")), ("quotas.xlsx", xlsx({"Quotas": quotas}))]


SHAPES = {"salesforce": salesforce_report, "hubspot": hubspot_export, "veeva": veeva_calls,
          "maven": maven_files, "day_first": day_first_csv}


def open_shape(shape: str, page: str | None = None) -> AppTest:
    """AppTest of app.py with the shape's files uploaded ("My files"), run, then on `page`."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state[UPLOAD_KEY] = SHAPES[shape]()
    at.session_state["source"] = MINE
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py")
        at.run()
    return at


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_page_opens_on_the_shape(shape):
    at = open_shape(shape)
    assert not at.exception, at.exception
    assert at.session_state["ctx"] is not None, [e.value for e in at.error]
    problems = {}
    for page in app_pages():
        at.switch_page(f"pages/{page}.py")
        at.run()
        shown = [str(e.value)[:300] for e in at.exception] + [str(e.value)[:300] for e in at.error]
        if shown:
            problems[page] = shown
    assert not problems, problems


def test_veeva_calls_alone_are_refused_in_plain_words():
    """Calls alone give nothing to sell: ingest refuses them with a message, not a traceback."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state[UPLOAD_KEY] = veeva_calls()[:1]
    at.session_state["source"] = MINE
    at.run()
    assert not at.exception
    assert any("something to sell" in e.value for e in at.error)
