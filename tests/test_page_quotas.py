"""Quotas page: a rule previewed then applied becomes the settings' quotas and the data's quotas;
the fiscal year start changes the sidebar's periods; the Diagnostic links here without quotas."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.ingest import quota_rules
from tests.apptest import ROOT, open_page

pytestmark = pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                                reason="the bundled sample workbook is not built yet")


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


@pytest.fixture()
def at() -> AppTest:
    return open_page("quotas")


def test_growth_rule_is_previewed_then_applied_to_settings_and_data(at):
    assert not at.exception and not at.error
    period = at.session_state["ctx"].period
    at.radio(key="quota_rule").set_value("Last year's revenue + x %")
    at.number_input(key="quota_growth").set_value(20.0)
    _button(at, "Preview the quotas").click().run()
    assert not at.exception
    ds = at.session_state["ctx"].ds
    expected = quota_rules.preview(ds, period, "growth", 20.0)
    assert at.session_state["ctx"].settings.quotas == ()      # previewed, not applied yet
    _button(at, "Apply these quotas").click().run()
    at.run()
    kept = quota_rules.frame_of(at.session_state["settings"].quotas)
    want = expected.dropna(subset=["quota"])
    assert sorted(kept["rep_id"]) == sorted(want["rep_id"])
    assert set(kept["period"]) == {period.label}
    got = kept.set_index("rep_id")["quota"].sort_index()
    assert got.to_numpy() == pytest.approx(want.set_index("rep_id")["quota"].sort_index().to_numpy())
    # every page's data now carries these quotas (the uploaded ones replaced)
    quotas = at.session_state["ctx"].ds.table("quotas")
    assert len(quotas) >= len(kept) and set(quotas["rep_id"]) == set(kept["rep_id"])


def test_fiscal_start_makes_the_sidebar_offer_fiscal_quarters(at):
    form_select = next(s for s in at.selectbox if s.label == "Fiscal year starts in")
    form_select.set_value("July")
    next(b for b in at.button if b.label == "Apply").click().run()
    at.run()
    assert at.session_state["settings"].fiscal_start_month == 7
    assert at.session_state["ctx"].period.label.startswith("FY")
    assert not at.exception


def test_bad_currency_code_is_refused_in_words(at):
    at.text_input[0].set_value("XYZ")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert any("'XYZ' is not a currency code" in e.value for e in at.error)
    assert at.session_state["ctx"].settings.reporting_currency == "USD"
    at.text_input[0].set_value("eur")
    next(b for b in at.button if b.label == "Apply").click().run()
    at.run()
    assert at.session_state["ctx"].settings.reporting_currency == "EUR"


def test_diagnostic_without_quotas_links_to_this_page(tmp_path):
    """Upload a CRM export with no quotas: the Diagnostic says so and offers the Quotas page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["uploaded_files"] = [("opps.csv", _export())]
    at.run()
    at.radio(key="source").set_value("My files").run()
    at.switch_page("pages/diagnostic.py")
    at.run()
    assert not at.exception
    links = [e for e in at.get("page_link")]
    assert any("quotas" in e.proto.page for e in links)
    at.switch_page("pages/quotas.py")
    at.run()
    assert not at.exception and not at.error
    assert any("no quotas yet" in i.value for i in at.info)


def _export() -> bytes:
    rows = ["Opportunity Owner,Stage,Amount,Close Date,Created Date"]
    rows += [f"Rep {i % 3},{'Closed Won' if i % 2 else 'Closed Lost'},{1000 + i},2025-0{1 + i % 6}-15,2025-01-01"
             for i in range(30)]
    return ("\n".join(rows) + "\n").encode()


def test_salesforce_report_and_wide_quota_sheet_give_the_diagnosis_in_the_app():
    """Upload a Salesforce report and the director's wide quota sheet: the sidebar's context
    carries every rep's quota from the sheet and the Diagnostic ranks findings, no error box."""
    from core.periods import parse_period
    from core.territory.balance import period_quota
    from tests.quota_fixtures import quarterly_quotas, salesforce_csv, wide_quota_xlsx

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["uploaded_files"] = [("export.csv", salesforce_csv()), ("plan.xlsx", wide_quota_xlsx())]
    at.run()
    at.radio(key="source").set_value("My files").run()
    ds = at.session_state["ctx"].ds
    got = period_quota(ds, parse_period("2025-Q3")).to_dict()
    assert got == {rep: float(q[2]) for rep, q in quarterly_quotas().items()}
    at.switch_page("pages/diagnostic.py")
    at.run()
    assert not at.exception and not at.error
    assert not [e for e in at.get("page_link")]            # quotas are there: no "set quotas" link
    text = " ".join(str(m.value) for m in at.markdown)
    assert "Hal Hunt" in text or "Hal Hunt" in " ".join(str(d.value) for d in at.dataframe)


def test_overview_money_labels_are_in_the_reporting_currency():
    from core.settings import Settings

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["settings"] = Settings(reporting_currency="EUR")
    at.run()
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception
    revenue = next(m for m in at.metric if m.label == "Revenue")
    assert revenue.value.startswith("€")
    assert "amounts in EUR" in at.caption[0].value
