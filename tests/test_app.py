"""The whole app: every page renders on the bundled sample and on a bare CRM opportunity export."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.sidebar import MINE
from ui.state import UPLOAD_KEY

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py"))

# A Salesforce opportunity report: no roster, no quotas, no activities, with its footer rows.
OPPORTUNITIES = (
    "Opportunity Owner,Account Name,Opportunity Name,Stage,Amount,Close Date,Created Date\n"
    + "".join(f"{owner},Acct {i % 7},Deal {i},{stage},\"USD {amount:,.2f}\",{close},{created}\n"
              for i, (owner, stage, amount, close, created) in enumerate(
                  [("Ann Lee", "Closed Won", 12000 + 150 * k, f"{1 + k % 9}/{1 + k % 27}/2025",
                    f"{1 + k % 6}/{1 + k % 20}/2025") for k in range(30)]
                  + [("Bob Stone", "Closed Lost", 9000, f"{2 + k % 8}/{3 + k % 20}/2025", "1/15/2025")
                     for k in range(12)]
                  + [("Bob Stone", "Closed Won", 8000 + 99 * k, f"{2 + k % 8}/{5 + k % 20}/2025", "1/20/2025")
                     for k in range(14)]
                  + [("Cy Park", "Negotiation", 20000, "12/15/2025", "8/1/2025") for _ in range(5)]))
    + "\nGrand Totals (61 records)\n\"Confidential Information - Do Not Distribute\"\n"
).encode()


def test_every_page_is_in_the_navigation():
    """A page file that app.py does not list would never be reachable (nor smoke-tested)."""
    listed = set(re.findall(r'\("(\w+)", "', (ROOT / "app.py").read_text()))
    assert set(PAGES) <= listed


@pytest.fixture(scope="module")
def sample_app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    return at


@pytest.fixture(scope="module")
def crm_app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state[UPLOAD_KEY] = [("opportunities.csv", OPPORTUNITIES)]
    at.session_state["source"] = MINE
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_the_sample(sample_app, page):
    sample_app.switch_page(f"pages/{page}.py")
    sample_app.run()
    assert not sample_app.exception, sample_app.exception
    assert not sample_app.error, [e.value for e in sample_app.error]
    assert sample_app.title


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_an_opportunity_export(crm_app, page):
    """Pages whose tables are missing say what to upload instead of failing or showing zeros."""
    crm_app.switch_page(f"pages/{page}.py")
    crm_app.run()
    assert not crm_app.exception, crm_app.exception
    assert "opportunities.csv" in " ".join(c.value for c in crm_app.sidebar.caption)


def test_opportunity_export_gives_sales_and_na(crm_app):
    """Won deals become revenue; KPIs without their table read n/a with the table to upload."""
    crm_app.switch_page("pages/activity.py")
    crm_app.run()
    shown = " ".join(i.value for i in crm_app.info) + " ".join(m.value for m in crm_app.metric)
    assert "activities" in shown
    crm_app.switch_page("pages/pipeline.py")
    crm_app.run()
    values = {m.label: m.value for m in crm_app.metric}
    assert values["Win rate"].endswith("%") and values["Pipeline coverage"] == "n/a", values
    crm_app.switch_page("pages/diagnostic.py")
    crm_app.run()
    assert not crm_app.metric and any("set quotas on the **Quotas" in i.value for i in crm_app.info)
