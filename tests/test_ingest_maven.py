"""Acceptance: the public Maven CRM opportunity dataset, uploaded as it is, gives the published figures."""
from pathlib import Path

import pytest

from core.ingest.pipeline import DERIVED_SALES_SOURCE, ingest_paths

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "external" / "maven_crm"


@pytest.fixture(scope="module")
def ds(maven_crm):
    """Its four CSVs ingested once per test process (tests/conftest.py)."""
    return maven_crm


def test_counts(ds):
    """35 reps (five without deals), 8,800 opportunities, 85 accounts, 7 products."""
    assert len(ds.tables["reps"]) == 35
    assert len(ds.tables["opportunities"]) == 8800
    assert len(ds.tables["accounts"]) == 85
    assert len(ds.tables["products"]) == 7


def test_status_from_deal_stage(ds):
    assert ds.tables["opportunities"]["status"].value_counts().to_dict() == {"won": 4238, "lost": 2473,
                                                                             "open": 2089}


def test_sales_derived_from_won_deals(ds):
    sales = ds.tables["sales"]
    assert len(sales) == 4238
    assert sales["revenue"].sum() == pytest.approx(10_005_534)
    assert any(s.source == DERIVED_SALES_SOURCE for s in ds.sources)


def test_gtxpro_matched_to_products_list(ds):
    opps = ds.tables["opportunities"]
    assert "GTXPro" not in set(opps["product"])
    assert (opps["product"] == "GTX Pro").sum() == 1480
    info = ds.issues[(ds.issues["Kind"] == "info") & ds.issues["Value"].str.startswith("GTXPro → GTX Pro")]
    assert info["Value"].tolist() == ["GTXPro → GTX Pro, 1,480 rows"]


def test_reps_and_accounts_link(ds):
    """Agents come from sales_teams.csv with their regional office; no orphans, nothing rejected."""
    reps = ds.tables["reps"].set_index("rep_id")
    assert reps.loc["Darcel Schlecht", "region"] == "Central"
    assert reps.loc["Darcel Schlecht", "manager"] == "Melvin Marxen"
    assert ds.issues[ds.issues["Kind"].isin(["orphan", "rejected"])].empty
    assert ds.tables["opportunities"]["account_id"].isna().sum() == 1425
    won_by_darcel = ds.tables["sales"].query("rep_id == 'Darcel Schlecht'")["revenue"].sum()
    assert won_by_darcel == pytest.approx(1_153_214)


def test_blank_engage_dates_kept_and_reported(ds):
    """500 Prospecting deals have no engage date: kept (8,800 in total) and reported once."""
    opps = ds.tables["opportunities"]
    assert opps["created_date"].isna().sum() == 500
    warning = ds.issues[ds.issues["Problem"].str.contains("no created date")]
    assert len(warning) == 1 and warning["Problem"].iloc[0].startswith("500 rows")


def test_pipeline_alone_still_works():
    """The pipeline on its own: reps come from sales_agent (30 with deals), sales from won deals."""
    if not (MAVEN / "sales_pipeline.csv").exists():
        pytest.skip("public Maven CRM data not available")
    alone = ingest_paths([MAVEN / "sales_pipeline.csv"])
    assert len(alone.tables["reps"]) == 30
    assert alone.tables["sales"]["revenue"].sum() == pytest.approx(10_005_534)
