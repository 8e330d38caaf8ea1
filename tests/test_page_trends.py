"""Trends page: runs on the bundled sample, shows the forecast, and follows the sidebar's scope."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import chart_specs, open_page, plotly_values
from tests.test_pages_shapes import open_shape

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trends() -> AppTest:
    return open_page("trends")


def _traces(at: AppTest, i: int) -> list[dict]:
    return chart_specs(at)[i]["data"]


def _quota_trace(at: AppTest) -> dict:
    """The quota line of the revenue chart: one point per month shown."""
    return next(t for t in _traces(at, 0) if t.get("name") == "Quota")


def test_page_shows_forecast_andchart_specs(trends):
    """Four forecast figures, the revenue-vs-quota chart with its band, and the other charts."""
    at = trends
    assert not at.exception
    assert [m.label for m in at.metric] == ["Projected revenue at period end", "80 % range",
                                            "Chance of reaching quota", "Needed per working day"]
    assert at.metric[0].value != "n/a" and at.metric[2].value != "n/a"
    names = {t.get("name") for t in _traces(at, 0)}
    assert {"Revenue", "Quota", "Forecast", "80 % forecast range"} <= names
    titles = [c["layout"]["title"]["text"] for c in chart_specs(at)]
    assert any("by region" in t for t in titles) and any("by product" in t for t in titles)
    assert any("Year-on-year" in t for t in titles)


def test_shorter_history_shows_fewer_months(trends):
    """The history selector changes how many months the revenue chart spans."""
    at = trends
    before = len(_quota_trace(at)["x"])
    at.radio(key="trends_history").set_value("12 months").run()
    assert not at.exception
    assert len(_quota_trace(at)["x"]) == before - 12


def test_page_follows_a_rep_scope():
    """With one rep chosen in the sidebar the page forecasts that rep with its own model."""
    from ui.state import sample_dataset  # the Dataset the app shows (shared resource cache)

    rep_id = sample_dataset().table("reps")["rep_id"].iloc[0]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["scope_rep"] = rep_id
    at.run()
    at.switch_page("pages/trends.py")
    at.run()
    assert not at.exception
    assert at.subheader and rep_id in at.subheader[0].value
    titles = [c["layout"]["title"]["text"] for c in chart_specs(at)]
    assert titles and not any("by region" in t for t in titles)


def test_a_finished_period_forecasts_the_period_in_progress(trends):
    """The default period (2026-Q3) is over: the forecast is for 2026-Q4, with days still to sell."""
    at = trends
    assert "2026-Q4" in " ".join(h.value for h in at.subheader)
    assert any("2026-Q3 is over" in c.value for c in at.caption)
    assert at.metric[3].value != "period over"


def test_months_before_the_data_are_gaps_not_zero():
    """Maven's sales start in March 2017: the 24 months shown before it are not drawn as $0."""
    at = open_shape("maven", "trends")
    assert not at.exception
    team = next(c for c in chart_specs(at) if c["layout"]["title"]["text"].startswith("Monthly revenue vs quota"))
    revenue = next(t for t in team["data"] if t.get("name") == "Revenue")
    months = list(revenue["x"])
    assert months and min(months) >= "2017-03-01"
    assert all(v > 0 for v in plotly_values(revenue["y"]))
