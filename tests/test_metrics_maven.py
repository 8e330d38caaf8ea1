"""KPIs on the public Maven CRM opportunity export, read by ingest as a user would upload it,
match the figures published for it."""
from datetime import date
from pathlib import Path

import pytest

from core.ingest.pipeline import ingest_paths
from core.kpis import metrics as m
from core.periods import custom
from core.settings import Settings

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "external" / "maven_crm"
WHOLE_RANGE = custom(date(2016, 10, 1), date(2017, 12, 31))
S = Settings()


@pytest.fixture(scope="module")
def dataset(maven_crm):
    """Its four CSVs ingested once per test process (tests/conftest.py)."""
    return maven_crm


def test_team_figures_match_the_published_ones(dataset):
    """Win rate is won / (won + lost), not won / all deals; revenue = won deals on close date."""
    team = m.team_kpis(dataset, WHOLE_RANGE, S)
    assert (team["won"], team["lost"]) == (4238, 2473)
    assert team["win_rate"] == pytest.approx(4238 / 6711) and round(team["win_rate"], 4) == 0.6315
    assert team["sales_cycle_days"] == 57
    assert team["revenue"] == 10_005_534
    assert team["reps"] == 35                                   # five agents have no deals


def test_open_pipeline_at_list_price(dataset):
    """Open deals have no value in the export: they are valued at the product's list price."""
    assert m.team_kpis(dataset, WHOLE_RANGE, S)["open_pipeline"] == 4_966_215


def test_top_agent(dataset):
    reps = m.rep_kpis(dataset, WHOLE_RANGE, S).sort_values("revenue", ascending=False)
    top = reps.iloc[0]
    assert top["rep_name"] == "Darcel Schlecht" and top["revenue"] == 1_153_214
    assert top["won"] == 349 and top["won"] + top["lost"] == 553
    assert reps["revenue"].notna().all() and (reps["revenue"] == 0).sum() == 5


def test_regions(dataset):
    """Regional win rates recomputed from counts (Central 1,629 / 2,604)."""
    region = m.rollup(dataset, WHOLE_RANGE, S, "region").set_index("region")
    assert region.loc["Central", "won"] == 1629
    assert region.loc["Central", "win_rate"] == pytest.approx(1629 / 2604)
    assert region.loc["West", "revenue"] == 3_568_647


def test_pipeline_export_alone(dataset):
    """The opportunity export on its own already gives the team's figures."""
    alone = ingest_paths([MAVEN / "sales_pipeline.csv"])
    team = m.team_kpis(alone, WHOLE_RANGE, S)
    assert team["reps"] == 30 and team["revenue"] == 10_005_534 and team["sales_cycle_days"] == 57
    assert m.missing_inputs(alone, "win_rate") == [] and m.missing_inputs(alone, "attainment") == ["quotas"]
