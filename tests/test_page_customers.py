"""Customers & market page and core.kpis.customers: the metrics' customer KPIs per level and period."""
from __future__ import annotations

import pytest

from core.kpis import customers, metrics
from core.sample.team import generate
from tests.apptest import chart_specs
from tests.test_page_team_competencies import CTX_KEY, run_page

PAGE = "pages/customers.py"


@pytest.fixture(scope="module")
def tables():
    return generate(n_reps=10, seed=5).tables


def test_page_shows_the_metrics_numbers_and_their_trend(tables):
    at = run_page(PAGE, tables)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    team = metrics.team_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    assert [m.label for m in at.metric][:4] == ["Market share (12 months)", "New accounts", "Account retention",
                                                 "Account churn"]
    assert at.metric[1].value == f"{team['new_accounts']:,.0f}"
    # why the team's retention can exceed every rep's is said next to the figure
    assert any("kept by the team" in c.value and "that same rep" in c.value for c in at.caption)
    trend = next(c for c in chart_specs(at) if "retention and churn" in c["layout"]["title"]["text"])
    assert trend["data"][0]["x"][-1] == ctx.period.label and len(trend["data"][0]["x"]) == customers.TREND_PERIODS
    shown = at.dataframe[0].value
    kpis = metrics.rep_kpis(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    assert shown["new_accounts"].sum() == kpis["new_accounts"].sum()


def test_territory_level_rolls_up_from_sums(tables):
    at = run_page(PAGE, tables)
    at.segmented_control(key="customers_level").set_value("Territory").run()
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    shown = at.dataframe[0].value
    assert "territory_id" in shown.columns
    roll = metrics.rollup(ctx.ds, ctx.period, ctx.settings, "territory", ctx.scope)
    # shares shown as percentages with one format (percent_column): 0.5875 → 58.75 shown "59%"
    assert shown["market_share"].tolist() == pytest.approx((roll["market_share"] * 100).tolist(), nan_ok=True)


def test_trend_chains_periods_backwards(tables):
    from core.dataset import Dataset
    from core.periods import quarter
    from core.settings import Settings

    ds = Dataset(tables=tables)
    trend = customers.customer_trend(ds, quarter(2026, 3), Settings(), periods=3)
    assert trend["period"].tolist() == ["2026-Q1", "2026-Q2", "2026-Q3"]
    q2 = metrics.team_kpis(ds, quarter(2026, 2), Settings())
    assert trend.loc[1, "retention_rate"] == pytest.approx(q2["retention_rate"])


def test_trend_starts_no_earlier_than_the_data(tables):
    """A CRM export that starts mid-history (Maven's starts in 2017) draws no periods before its
    first day: the trend keeps the periods that reach the data."""
    from datetime import timedelta

    from core.dataset import Dataset
    from core.periods import period_of
    from core.settings import Settings

    ds = Dataset(tables=tables)
    first = period_of("quarter", ds.date_span()[0])
    second = period_of("quarter", first.end + timedelta(days=1))
    trend = customers.customer_trend(ds, second, Settings(), periods=6)
    assert trend["period"].tolist() == [first.label, second.label]


def test_page_without_sales_says_what_to_upload(tables):
    at = run_page(PAGE, {k: v for k, v in tables.items() if k not in ("sales", "opportunities")})
    assert not at.exception
    assert any("**sales**" in i.value for i in at.info)


# --- By account segment and account type ---------------------------------------------------------

def test_segment_breakdown_shows_core_numbers_for_the_scope(tables):
    from core.dataset import Scope
    from core.kpis import segments

    scope = Scope(region=sorted(tables["reps"]["region"].unique())[0])
    at = run_page(PAGE, tables, scope)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    shown = at.dataframe[1].value
    expected = segments.segment_kpis(ctx.ds, ctx.period, "segment", scope)
    assert shown["segment"].tolist() == expected["segment"].tolist()
    assert shown["revenue"].tolist() == pytest.approx(expected["revenue"].tolist())
    team = metrics.team_kpis(ctx.ds, ctx.period, ctx.settings, scope)
    assert shown["revenue"].sum() == pytest.approx(team["revenue"])
    at.segmented_control(key="customers_segment_by").set_value("Account type").run()
    assert not at.exception
    assert set(at.dataframe[1].value["account_type"]) <= set(tables["accounts"]["account_type"]) | {segments.NOT_GIVEN}


def test_segment_breakdown_says_what_is_missing(tables):
    at = run_page(PAGE, {**tables, "accounts": tables["accounts"].assign(segment=None)})
    assert not at.exception
    assert any("Breakdown by segment: not available" in i.value for i in at.info)
    at = run_page(PAGE, {k: v for k, v in tables.items() if k != "accounts"})
    assert not at.exception
    assert any("Breakdown by account segment and type" in i.value and "**accounts**" in i.value for i in at.info)
