"""Team competencies page: heatmap of gaps with trend arrows, sortable, movers lists, and a plain
message when assessments are missing. Runs the page with a context built from core.sample.team (fast,
no sidebar), and through app.py on the bundled workbook when it exists."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.dataset import Dataset, Scope
from core.people import competency
from core.periods import quarter
from core.sample.team import generate
from core.settings import Settings
from tests.apptest import chart_specs
from ui.state import CTX_KEY, Ctx

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/team_competencies.py"


def run_page(page: str, tables: dict, scope: Scope = Scope()) -> AppTest:
    """Run one page file with a session context over `tables` (2026-Q3, default settings)."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state[CTX_KEY] = Ctx(Dataset(tables), quarter(2026, 3), scope, Settings(), "test data")
    return at.run()


@pytest.fixture(scope="module")
def sample_tables() -> dict:
    return generate(n_reps=12, seed=5).tables


def _heatmap(at: AppTest) -> dict:
    charts = chart_specs(at)
    return next(c for c in charts if c["data"][0]["type"] == "heatmap")


def test_heatmap_shows_every_rated_rep_with_gap_and_arrows(sample_tables):
    at = run_page(PAGE, sample_tables)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    table = competency.competency_table(ctx.ds, ctx.settings, ctx.period.end)
    heat = _heatmap(at)["data"][0]
    assert len(heat["y"]) == table["rep_id"].nunique() and heat["zmid"] == 0
    assert sorted(heat["x"]) == sorted(table["competency"].unique())
    cells = [c for row in heat["text"] for c in row]
    assert any(c.endswith(("↑", "↓", "→")) for c in cells)
    assert not any("average" in m.label.lower() for m in at.metric)
    assert _heatmap(at)["layout"]["xaxis"]["side"] == "top"    # competency names above the first rows


def test_sort_by_name(sample_tables):
    at = run_page(PAGE, sample_tables)
    at.radio(key="team_comp_sort").set_value("Name").run()
    assert not at.exception
    names = _heatmap(at)["data"][0]["y"]
    assert names == sorted(names)


def test_missing_assessments_says_what_to_upload(sample_tables):
    tables = {k: v for k, v in sample_tables.items() if k != "assessments"}
    at = run_page(PAGE, tables)
    assert not at.exception
    assert any("upload **assessments**" in i.value for i in at.info)


@pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                    reason="the bundled sample workbook is not built yet")
def test_page_runs_from_app_on_bundled_sample():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception and at.get("plotly_chart")
