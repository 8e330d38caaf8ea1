"""Two periods side by side: the numbers of each period on its own, lined up, and adding up."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.cli import main
from core.dataset import Dataset
from core.diagnostic.findings import diagnose
from core.kpis.compare import TEAM, _moves, against, band, compare
from core.kpis.metrics import rep_kpis
from core.periods import parse_period
from core.sample.team import generate, write_workbook
from core.settings import Settings

PERIOD = parse_period("2026-Q3")


def test_bands_are_left_closed_and_missing_stays_missing():
    got = band(pd.Series([0.49, 0.5, 0.99, 1.0, 1.2, np.nan]))
    assert got.tolist()[:5] == ["<50%", "50–80%", "80–100%", "100–120%", ">120%"]
    assert pd.isna(got.iloc[5])


def test_moves_between_bands():
    now = pd.DataFrame({"rep_id": ["A", "B", "C", "D"], "rep_name": ["a", "b", "c", "d"],
                        "attainment": [1.05, 0.7, 0.9, 0.9]})
    before = pd.DataFrame({"rep_id": ["D", "C", "B", "A"], "attainment": [np.nan, 0.85, 0.95, 0.95]})
    moves = _moves(now, before).set_index("rep_id")
    assert moves["band_move"].tolist()[:3] == ["up", "down", "same"]
    assert pd.isna(moves.at["D", "band_move"])
    assert (moves.at["A", "band_this"], moves.at["A", "band_compared"]) == ("100–120%", "80–100%")


def test_against_names_the_period_before_or_a_year_earlier():
    assert against(PERIOD, "previous").label == "2026-Q2"
    assert against(PERIOD, "year").label == "2025-Q3"


@pytest.fixture(scope="module")
def tables():
    return generate(n_reps=8, years=2.2, seed=3).tables


@pytest.fixture(scope="module")
def result(tables):
    ds = Dataset(tables=tables)
    return ds, compare(ds, PERIOD, PERIOD.previous(), Settings())


def test_change_is_this_minus_compared_and_team_money_adds_up(result):
    _, c = result
    rows = c.rows
    both = rows["this"].notna() & rows["compared"].notna()
    assert np.allclose(rows.loc[both, "change"], rows.loc[both, "this"] - rows.loc[both, "compared"])
    team = rows[(rows["scope"] == TEAM) & rows["rep_id"].isna()].set_index("kpi")
    reps = rows[rows["rep_id"].notna()]
    for kpi in ("revenue", "quota", "payout"):
        per_rep = reps[reps["kpi"] == kpi]
        assert team.at[kpi, "this"] == pytest.approx(per_rep["this"].sum())
        assert team.at[kpi, "compared"] == pytest.approx(per_rep["compared"].sum())
    # attainment of the team rolls up from sums, not an average of the reps' ratios
    rev, quota = team.at["revenue", "compared"], team.at["quota", "compared"]
    assert team.at["attainment", "compared"] == pytest.approx(rev / quota)


def test_each_period_shows_its_own_numbers(result):
    ds, c = result
    before = rep_kpis(ds, PERIOD.previous(), Settings()).set_index("rep_id")
    att = c.rows[c.rows["kpi"] == "attainment"].dropna(subset=["rep_id"]).set_index("rep_id")
    assert att["compared"].to_dict() == pytest.approx(before["attainment"].reindex(att.index).to_dict())
    causes = c.rows[c.rows["kpi"].str.startswith("cause:")].set_index("kpi")
    money = diagnose(ds, PERIOD.previous(), Settings()).reps
    for key in ("activity_shortfall", "pipeline"):
        assert causes.at[f"cause:{key}", "compared"] == pytest.approx(money[key].sum())
    moved = att["band_move"].dropna()
    assert len(moved) == len(att) and set(moved) <= {"up", "down", "same"}


def test_report_compare_adds_the_comparison_sheet(tables, tmp_path):
    path = tmp_path / "team.xlsx"
    write_workbook(tables, path)
    out = tmp_path / "summary.xlsx"
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["report", str(path), "--out", str(out), "--period", "2026-Q3", "--compare", "2025-Q3"])
    assert code == 0, err.getvalue()
    wb = openpyxl.load_workbook(out)
    values = list(wb["Comparison"].values)
    assert list(values[0][:5]) == ["Scope", "KPI", "This period", "Compared period", "Change"]
    sheet = pd.DataFrame(values[1:], columns=values[0])
    team = sheet[sheet["Scope"] == TEAM].set_index("KPI key")
    reps = sheet[sheet["Rep ID"].notna()]
    assert team.at["revenue", "This period"] == pytest.approx(reps.loc[reps["KPI key"] == "revenue",
                                                                       "This period"].sum())
    row = 2 + list(sheet["KPI key"]).index("attainment")
    assert wb["Comparison"].cell(row=row, column=3).number_format == "0.0%"
    assert "Comparison" not in openpyxl.load_workbook(_plain_report(path, tmp_path)).sheetnames


def _plain_report(path, tmp_path):
    out = tmp_path / "plain.xlsx"
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["report", str(path), "--out", str(out), "--period", "2026-Q3"]) == 0
    return out


def test_export_page_offers_the_comparison_sheet():
    from tests.apptest import open_page

    at = open_page("export")
    at.segmented_control(key="export_compare").set_value("The period before").run()
    assert not at.exception
    assert "Download the Excel summary (.xlsx)" in [b.label for b in at.get("download_button")]
