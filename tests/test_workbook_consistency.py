"""The numbers of the workbook `python -m core report` writes agree with each other (issue 17, "Done
when"): the team is the sum of its reps, each territory the sum of its reps, and each month of
Trends its revenue over its quota. Attainment counts the revenue of reps with a quota only, and a
rep without a quota has no quota, attainment or gap (n/a, an empty cell), never 0.

Read back with openpyxl, on a small hand-built team (numbers by hand) and on the sample team."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core.cli import main
from core.dataset import Dataset
from core.kpis.quota import quota_by_month
from core.sample.team import generate, write_workbook
from core.schema import TABLES, pandas_dtype

PERIOD = "2026-Q3"


def _table(name: str, rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=TABLES[name].column_names)
    return frame.astype({c.name: pandas_dtype(c) for c in TABLES[name].columns})


def _hand_built() -> dict[str, pd.DataFrame]:
    """Four reps in two territories, 2026-Q3. R1 has a quarterly quota, R2 monthly quotas for July
    and August only, R3 product-only quotas (their sum is the total), R4 none."""
    reps = _table("reps", [
        {"rep_id": r, "rep_name": n, "region": g, "territory_id": t, "role": "Sales Rep",
         "hire_date": pd.Timestamp("2020-01-01")}
        for r, n, g, t in [("R1", "Ann", "East", "T1"), ("R2", "Bob", "East", "T1"),
                           ("R3", "Cy", "West", "T2"), ("R4", "Dee", "West", "T2")]])
    territories = _table("territories", [{"territory_id": "T1", "territory_name": "North", "market_potential": 5000.0},
                                         {"territory_id": "T2", "territory_name": "South", "market_potential": 4000.0}])
    accounts = _table("accounts", [{"account_id": a, "account_name": a, "territory_id": t, "potential": 1000.0}
                                   for a, t in [("A1", "T1"), ("A2", "T1"), ("A3", "T2"), ("A4", "T2")]])
    sales = _table("sales", [
        {"date": pd.Timestamp(d), "rep_id": r, "account_id": a, "product": p, "revenue": v}
        for d, r, a, p, v in [
            ("2026-07-05", "R1", "A1", "P1", 100.0), ("2026-08-10", "R1", "A1", "P1", 50.0),
            ("2026-09-12", "R1", "A2", "P2", 90.0),
            ("2026-07-20", "R2", "A2", "P1", 60.0), ("2026-09-03", "R2", "A1", "P1", 40.0),
            ("2026-07-15", "R3", "A3", "P1", 120.0), ("2026-08-15", "R3", "A3", "P2", 90.0),
            ("2026-09-15", "R3", "A3", "P1", 60.0),
            ("2026-08-20", "R4", "A4", "P1", 80.0), ("2026-09-25", "R4", "A4", "P2", 50.0)]])
    quotas = _table("quotas", [
        {"rep_id": r, "period": p, "quota": q, "product": prod}
        for r, p, q, prod in [("R1", "2026-Q3", 300.0, None), ("R2", "2026-07", 100.0, None),
                              ("R2", "2026-08", 100.0, None), ("R3", "2026-Q3", 150.0, "P1"),
                              ("R3", "2026-Q3", 150.0, "P2")]])
    return {"reps": reps, "territories": territories, "accounts": accounts, "sales": sales, "quotas": quotas}


def _report(tables: dict[str, pd.DataFrame], folder: Path) -> openpyxl.Workbook:
    source, out = folder / "team.xlsx", folder / "summary.xlsx"
    write_workbook(tables, source)
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["report", str(source), "--out", str(out), "--period", PERIOD]) == 0
    return openpyxl.load_workbook(out)


def _sheet(wb: openpyxl.Workbook, name: str) -> pd.DataFrame:
    values = list(wb[name].values)
    return pd.DataFrame(values[1:], columns=values[0]).astype(object).where(lambda f: f.notna(), None)


def _headline(wb: openpyxl.Workbook) -> dict[str, float | None]:
    """KPI label → value of the Summary's headline block."""
    rows = list(wb["Summary"].iter_rows(min_col=1, max_col=2, values_only=True))
    start = next(i for i, (a, _) in enumerate(rows) if a == "Headline KPIs (team in scope)") + 2
    block = {}
    for label, value in rows[start:]:
        if label is None:
            break
        block[label] = value
    return block


def _num(v: object) -> float:
    return float("nan") if v is None else float(v)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hand_built(tmp_path_factory) -> openpyxl.Workbook:
    return _report(_hand_built(), tmp_path_factory.mktemp("hand"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[openpyxl.Workbook, dict[str, pd.DataFrame]]:
    tables = generate(n_reps=8, years=1.5, seed=3).tables
    return _report(tables, tmp_path_factory.mktemp("sample")), tables


def _assert_team_is_sum_of_reps(wb: openpyxl.Workbook) -> None:
    card, head = _sheet(wb, "Rep scorecard"), _headline(wb)
    revenue, quota = card["Revenue"].map(_num), card["Quota"].map(_num)
    with_quota = quota > 0
    assert _num(head["Revenue"]) == pytest.approx(revenue.sum())
    assert _num(head["Quota"]) == pytest.approx(quota.sum())
    assert _num(head["Attainment"]) == pytest.approx(revenue[with_quota].sum() / quota[with_quota].sum())
    assert _num(head["Gap to goal"]) == pytest.approx(quota[with_quota].sum() - revenue[with_quota].sum())
    # each rep's attainment and gap from its own revenue and quota; none without a quota
    assert (card.loc[with_quota, "Attainment"].map(_num).tolist()
            == pytest.approx((revenue / quota)[with_quota].tolist()))
    assert card.loc[~with_quota, ["Quota", "Attainment", "Gap to goal"]].isna().all().all()


def _assert_territories_are_sums_of_reps(wb: openpyxl.Workbook) -> None:
    card, terr = _sheet(wb, "Rep scorecard"), _sheet(wb, "Territories")
    card = card.assign(revenue=card["Revenue"].map(_num), quota=card["Quota"].map(_num))
    card["revenue_q"] = card["revenue"].where(card["quota"] > 0)
    by_territory = card.groupby("Territory")[["quota", "revenue_q"]].sum(min_count=1)
    checked = 0
    for row in terr.itertuples(index=False):
        reps = card[card["Territory"] == row.Territory]
        assert sorted(str(row._2).split("; ")) == sorted(reps["Rep ID"]) or (row._2 is None and reps.empty)
        expected = by_territory.reindex([row.Territory]).iloc[0]
        if pd.isna(expected["quota"]):
            assert row.Quota is None and row.Attainment is None
            continue
        assert _num(row.Quota) == pytest.approx(expected["quota"])
        assert _num(row.Attainment) == pytest.approx(expected["revenue_q"] / expected["quota"])
        checked += 1
    assert checked > 0


def test_hand_built_team_is_the_sum_of_its_reps(hand_built):
    _assert_team_is_sum_of_reps(hand_built)
    card = _sheet(hand_built, "Rep scorecard").set_index("Rep ID")
    # by hand: R1 240 / 300, R2 100 / 200 (no September quota), R3 270 / 300 (product-only quotas),
    # R4 130 and no quota
    assert card["Revenue"].map(_num).to_dict() == {"R1": 240.0, "R2": 100.0, "R3": 270.0, "R4": 130.0}
    assert card.loc[["R1", "R2", "R3"], "Quota"].map(_num).tolist() == pytest.approx([300.0, 200.0, 300.0])
    assert card.loc[["R1", "R2", "R3"], "Attainment"].map(_num).tolist() == pytest.approx([0.8, 0.5, 0.9])
    head = _headline(hand_built)
    assert [_num(head[k]) for k in ("Revenue", "Quota", "Attainment", "Gap to goal")] == pytest.approx(
        [740.0, 800.0, 610 / 800, 190.0])


def test_hand_built_territories_are_the_sums_of_their_reps(hand_built):
    _assert_territories_are_sums_of_reps(hand_built)
    terr = _sheet(hand_built, "Territories").set_index("Territory")
    # T2: R3's 270 against its 300; R4's 130 without a quota does not count
    assert [_num(terr.loc["T1", "Quota"]), _num(terr.loc["T2", "Quota"])] == pytest.approx([500.0, 300.0])
    assert [_num(terr.loc["T1", "Attainment"]), _num(terr.loc["T2", "Attainment"])] == pytest.approx(
        [340 / 500, 270 / 300])


def test_hand_built_trends_months_are_their_revenue_over_their_quota(hand_built):
    trends = _sheet(hand_built, "Trends")
    trends = trends[trends["Revenue"].notna()]
    trends = trends.set_index(trends["Month"].map(lambda d: d.strftime("%Y-%m")))
    # July: 280 of 300, everyone with sales has a quota; August: R4's 80 has none → 140 / 300;
    # September: R2 has no quota → its 40 and R4's 50 stay out: (90 + 60) / (100 + 100)
    assert trends["Revenue"].map(_num).to_dict() == {"2026-07": 280.0, "2026-08": 220.0, "2026-09": 240.0}
    assert trends["Quota"].map(_num).tolist() == pytest.approx([300.0, 300.0, 200.0])
    assert trends["Attainment"].map(_num).tolist() == pytest.approx([280 / 300, 140 / 300, 150 / 200])


def test_sample_team_and_territories_are_sums_of_their_reps(sample):
    wb, _ = sample
    _assert_team_is_sum_of_reps(wb)
    _assert_territories_are_sums_of_reps(wb)


def test_sample_trends_months_are_their_revenue_over_their_quota(sample):
    """Each month with sales: attainment = revenue of the reps with a quota that month / quota,
    recomputed here from the sample's own sales and quota rows."""
    wb, tables = sample
    trends = _sheet(wb, "Trends")
    trends = trends[trends["Revenue"].notna() & trends["Quota"].notna()]
    quotas = quota_by_month(Dataset(dict(tables)))
    sales = tables["sales"].assign(month=tables["sales"]["date"].dt.to_period("M").dt.to_timestamp())
    assert len(trends) >= 6
    for row in trends.itertuples(index=False):
        month = pd.Timestamp(row.Month)
        with_quota = set(quotas.loc[(quotas["month"] == month) & (quotas["quota"] > 0), "rep_id"])
        in_month = sales[sales["month"] == month]
        assert _num(row.Revenue) == pytest.approx(in_month["revenue"].sum())
        counted = in_month.loc[in_month["rep_id"].isin(with_quota), "revenue"].sum()
        assert _num(row.Attainment) == pytest.approx(counted / _num(row.Quota))
