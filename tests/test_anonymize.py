"""Anonymisation: stable pseudonyms, ids kept, nothing real left anywhere in the workbook."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference

from core.cli import main
from core.dataset import Dataset, SourceInfo, empty_issues
from core.report.anonymize import WITHHELD, anonymize, scan_for_names
from tests.ingest_helpers import xlsx


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
    assert dict(zip(a.tables["accounts"]["account_id"], a.tables["accounts"]["account_name"], strict=False)) == {
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


def test_a_rep_without_a_name_does_not_shift_the_others_pseudonyms_in_free_text():
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "rep_name": ["Ann Lee", None, "Bob Ray"]})
    issues = _issues().assign(Problem="Bob Ray sold twice", Value="Ann Lee")
    out = anonymize(Dataset(tables={"reps": reps}, issues=issues))
    bob = out.tables["reps"].set_index("rep_id").at["R3", "rep_name"]
    assert bob == "Rep 003"
    assert set(out.issues["Problem"]) == {"Rep 003 sold twice"} and set(out.issues["Value"]) == {"Rep 001"}


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


# ---------------------------------------------------------------------------------------------
# Names outside the roster, file and sheet names, free text — and a whole report scanned
# ---------------------------------------------------------------------------------------------

def test_reps_and_accounts_missing_from_the_roster_get_pseudonyms(ds):
    """An orphan id that reads like a name ("Ortiz, Sam", "Hope West") is replaced in every table
    and numbered after the roster; an orphan id that is a real id ("R9") stays."""
    sales = pd.DataFrame({"rep_id": ["R1", "Ortiz, Sam", "Kim Doe", "R9"],
                          "account_id": ["A9", "Hope West", "A3", "A3"], "revenue": [1.0, 2.0, 3.0, 4.0]})
    a = anonymize(Dataset(tables={**ds.tables, "sales": sales.astype({"rep_id": "str", "account_id": "str"})}))
    assert list(a.tables["sales"]["rep_id"]) == ["R1", "R005", "R004", "R9"]   # roster has 3 reps
    assert list(a.tables["sales"]["account_id"]) == ["A9", "A0003", "A3", "A3"]


def test_file_and_sheet_names_become_pseudonyms_in_sources_and_issues():
    sources = [SourceInfo("Mercy secrets.xlsx › Jane deals", "sales", 3, note="3 rows read, 3 loaded"),
               SourceInfo("Mercy secrets.xlsx › Roster", "reps", 1),
               SourceInfo("Jane Roe notes.CSV", None, 0, note="Jane Roe notes.CSV: no header row found"),
               SourceInfo("derived: reps from the rep columns of the other tables", "reps", 1)]
    issues = pd.concat([empty_issues(), pd.DataFrame({
        "Table": ["sales", ""], "Source": ["Mercy secrets.xlsx › Jane deals", "Jane Roe notes.CSV"],
        "Row": pd.array([2, None], dtype="Int64"), "Column": ["rep_id", ""],
        "Problem": ["rep 'Jane Roe' is not in reps; kept", "Jane Roe notes.CSV could not be read"],
        "Value": ["Jane Roe", None], "Kind": ["orphan", "rejected"]})], ignore_index=True)
    reps = pd.DataFrame({"rep_id": ["R1"], "rep_name": ["Ann Lee"]}).astype("str")
    sales = pd.DataFrame({"rep_id": ["Jane Roe"], "revenue": [1.0]}).astype({"rep_id": "str"})
    a = anonymize(Dataset(tables={"reps": reps, "sales": sales}, issues=issues, sources=sources))
    assert [s.source for s in a.sources] == ["File 1.xlsx › Sheet 1", "File 1.xlsx › Sheet 2", "File 2.csv",
                                             sources[3].source]
    assert a.sources[2].note == "File 2.csv: no header row found"
    assert list(a.issues["Source"]) == ["File 1.xlsx › Sheet 1", "File 2.csv"]
    assert list(a.issues["Problem"]) == ["rep 'Rep 002' is not in reps; kept", "File 2.csv could not be read"]
    assert a.issues["Value"].iloc[0] == "Rep 002" and pd.isna(a.issues["Value"].iloc[1])


ROSTER = [["Rep ID", "Rep name", "Region", "Territory", "Manager", "Role", "Hire date"],
          ["R1", "Dana Whitfield", "East", "T1", "Chris Parkinson", "Sales Rep", "2020-01-01"],
          ["R2", "Omar Quintero", "West", "T2", "Alexa Kimball", "Sales Rep", "2020-01-01"]]
TERRITORIES = [["territory_id", "territory_name", "region", "market_potential"],
               ["T1", "Boston Metro", "East", 1e6], ["T2", "Seattle Sound", "West", 1e6]]
ACCOUNTS = [["Account ID", "Account name", "Territory ID", "Potential"],
            ["A1", "Mercy Grace Hospital", "T1", 5e5], ["A2", "Lakeside Surgical", "T2", 5e5]]
# Every name the inputs hold: roster, managers, territories, accounts, reps and an account only
# in sales rows (orphans, reported in Data quality), a rejected row's rep, the file, the sheets.
REAL_NAMES = ["Dana Whitfield", "Omar Quintero", "Chris Parkinson", "Alexa Kimball", "Boston Metro",
              "Seattle Sound", "Mercy Grace Hospital", "Lakeside Surgical", "Jane Roe", "Ortiz, Sam",
              "Quimby Heart Institute", "Zelda Fitzgerald", "Quimby Partners confidential",
              "Dana roster", "Mercy book", "Whitfield deals", "Kimball goals"]


@pytest.fixture(scope="module")
def client_file(tmp_path_factory) -> Path:
    sales = [["Date", "Rep", "Account", "Product", "Revenue"]]
    for m in range(1, 13):
        sales += [[f"2025-{m:02d}-10", "R1", "A1", "GTX Pro", 1000 + m],
                  [f"2025-{m:02d}-11", "R2", "A2", "GTX Pro", 900 + m],
                  [f"2025-{m:02d}-12", "Jane Roe", "Quimby Heart Institute", "GTX Pro", 500],
                  [f"2025-{m:02d}-13", "Ortiz, Sam", "A1", "GTX Pro", 400]]
    sales.append(["2025-03-01", "Zelda Fitzgerald", "A1", "GTX Pro", "lots"])      # rejected row
    quotas = [["Rep", "Period", "Quota"]] + [[r, f"2025-Q{q}", 3500] for r in ("R1", "R2") for q in range(1, 5)]
    path = tmp_path_factory.mktemp("client") / "Quimby Partners confidential.xlsx"
    path.write_bytes(xlsx({"Dana roster": ROSTER, "territories": TERRITORIES, "Mercy book": ACCOUNTS,
                           "Whitfield deals": sales, "Kimball goals": quotas}))
    return path


def _report(path: Path, out: Path, *extra: str) -> bytes:
    assert main(["report", str(path), "--out", str(out), "--period", "2025-Q3", *extra]) == 0
    return out.read_bytes()


def test_anonymised_report_holds_no_name_in_any_part_of_the_file(client_file, tmp_path):
    """Every XML part of the .xlsx (cells, shared strings, charts, docProps) is searched for every
    name of the inputs, including those only in sales and data-quality rows; without
    --anonymize the same scan finds them, so the scan can fail."""
    plain = _report(client_file, tmp_path / "plain.xlsx")
    assert {"Jane Roe", "Ortiz, Sam", "Quimby Heart Institute", "Quimby Partners confidential",
            "Whitfield deals", "Dana Whitfield"} <= set(scan_for_names(plain, REAL_NAMES))
    assert scan_for_names(_report(client_file, tmp_path / "anon.xlsx", "--anonymize"), REAL_NAMES) == []


def test_anonymised_report_keeps_the_orphans_rows_and_reasons(client_file, tmp_path):
    """Anonymising removes names, not rows: the Data quality sheet still lists the orphan reps and
    account and the rejected row, with their reasons, under pseudonyms."""
    wb = load_workbook(io.BytesIO(_report(client_file, tmp_path / "anon.xlsx", "--anonymize")))
    rows = list(wb["Data quality"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[5] for r in rows) == ["(withheld)", "Account 0003", "Rep 003", "Rep 004"]
    assert {r[1] for r in rows} == {"File 1.xlsx › Sheet 4"}
    assert (wb["Summary"]["A4"].value, wb["Summary"]["B4"].value) == ("Data source", "File 1.xlsx")
