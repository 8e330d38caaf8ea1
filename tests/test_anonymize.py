"""Anonymisation: stable pseudonyms, ids kept, nothing real left anywhere in the workbook."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from core.anonymize import WITHHELD, anonymize, scan_for_names
from core.dataset import Dataset, empty_issues


def _reps() -> pd.DataFrame:
    return pd.DataFrame({"rep_id": ["R2", "R1", "Jane Roe"], "rep_name": ["Bob Smith", "Ann Lee", "Jane Roe"],
                         "region": ["East", "West", "East"], "territory_id": ["T1", "T2", "T3"],
                         "manager": ["Zed Boss", "Amy Chief", None]}).astype("str")


def _accounts() -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["A9", "A3"], "account_name": ["Mercy Hospital", "Hope Clinic"],
                         "territory_id": ["T1", "T2"]}).astype("str")


def _issues() -> pd.DataFrame:
    rows = pd.DataFrame({"Table": ["sales"] * 4, "Source": ["sales.csv"] * 4,
                         "Row": pd.array([2, 3, 4, 5], dtype="Int64"), "Column": ["Rep"] * 4,
                         "Problem": ["Bob Smith sold to Mercy Hospital twice", "amount unreadable",
                                     "unknown rep", "duplicate id"],
                         "Value": ["Ann Lee", "-12.5", "Peter Pan", "A9"], "Kind": ["warning"] * 4})
    return pd.concat([empty_issues(), rows.astype({c: "str" for c in rows if c != "Row"})],
                     ignore_index=True)


@pytest.fixture
def ds() -> Dataset:
    sales = pd.DataFrame({"rep_id": ["R1", "Jane Roe"], "account_id": ["A9", "A3"],
                          "revenue": [10.0, 20.0]}).astype({"rep_id": "str", "account_id": "str"})
    return Dataset(tables={"reps": _reps(), "accounts": _accounts(), "sales": sales}, issues=_issues())


def test_pseudonyms_follow_id_order_and_ids_stay(ds):
    """Rep 001… and Account 0001… are numbered in id order; proper ids are untouched."""
    a = anonymize(ds)
    reps = a.tables["reps"].set_index("rep_id")
    assert reps.loc["R1", "rep_name"] == "Rep 002"      # "Jane Roe" < "R1" < "R2"
    assert reps.loc["R2", "rep_name"] == "Rep 003"
    assert dict(zip(a.tables["accounts"]["account_id"], a.tables["accounts"]["account_name"])) == {
        "A9": "Account 0002", "A3": "Account 0001"}
    assert list(a.tables["sales"]["account_id"]) == ["A9", "A3"]


def test_managers_get_their_own_pseudonyms(ds):
    managers = anonymize(ds).tables["reps"].set_index("rep_id")["manager"]
    assert managers["R1"] == "Manager 01" and managers["R2"] == "Manager 02"   # Amy < Zed
    assert pd.isna(managers["R001"])


def test_an_id_that_spells_a_name_is_replaced_everywhere(ds):
    """A rep whose id is its name (CRM export without roster) gets an id like R001 in every table."""
    a = anonymize(ds)
    assert "Jane Roe" not in set(a.tables["reps"]["rep_id"]) | set(a.tables["sales"]["rep_id"])
    assert a.tables["reps"].set_index("rep_id").loc["R001", "rep_name"] == "Rep 001"
    assert list(a.tables["sales"]["rep_id"]) == ["R1", "R001"]


def test_pseudonyms_are_stable_across_runs(ds):
    first, second = anonymize(ds), anonymize(ds)
    assert first.fingerprint == second.fingerprint
    assert first.fingerprint != ds.fingerprint


def test_issue_texts_lose_names_but_keep_ids_and_numbers(ds):
    issues = anonymize(ds).issues
    assert list(issues["Problem"])[0] == "Rep 003 sold to Account 0002 twice"
    assert list(issues["Value"]) == ["Rep 002", "-12.5", WITHHELD, "A9"]


def test_original_dataset_is_not_changed(ds):
    anonymize(ds)
    assert list(ds.tables["reps"]["rep_name"]) == ["Bob Smith", "Ann Lee", "Jane Roe"]


def test_scan_finds_names_in_cells_chart_titles_and_sheet_names():
    """The scanner itself must see every place a name can hide."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Ann Lee"
    ws.append(["x", 1])
    ws.append(["Bob & Smith", 2])
    chart = BarChart()
    chart.title = "Quota of Hope Clinic"
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=2))
    ws.add_chart(chart, "D2")
    wb.properties.creator = "Zed Boss"
    buf = io.BytesIO()
    wb.save(buf)
    names = ["Ann Lee", "Bob & Smith", "hope clinic", "Zed Boss", "Nobody Here"]
    assert scan_for_names(buf.getvalue(), names) == names[:4]
