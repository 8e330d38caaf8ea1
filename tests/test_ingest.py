"""Ingest: CRM exports and spreadsheets in, canonical tables and an honest issue report out."""
import json
import time

import numpy as np
import pandas as pd
import pytest

from core.dataset import ISSUE_COLUMNS
from core.errors import UserError
from core.ingest.pipeline import (
    COMPACT,
    DERIVED_REPS_SOURCE,
    DERIVED_SALES_SOURCE,
    ingest,
    match_columns,
    table_from_name,
)
from core.schema import TABLES, UNASSIGNED, empty_table
from tests.ingest_helpers import xlsx


def csv_bytes(rows, sep=",", encoding="utf-8", newline="\n"):
    return newline.join(sep.join(str(c) for c in r) for r in rows).encode(encoding) + newline.encode(encoding)




ROSTER = [["Rep ID", "Rep Name", "Region", "Territory"],
          ["R1", "Ann Lee", "East", "T1"], ["R2", "Bob Roy", "West", "T2"]]
SALES = [["Date", "Rep", "Product", "Revenue"],
         ["2024-01-05", "R1", "GTX Pro", "100"], ["2024-01-06", "R2", "GTX Pro", "200"]]


def issues_of(ds, kind=None, table=None):
    out = ds.issues
    if kind:
        out = out[out["Kind"] == kind]
    if table:
        out = out[out["Table"] == table]
    return out


# --------------------------------------------------------------------------------------- CRM exports
def salesforce_report_csv():
    return (b'"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date","Created Date"\r\n'
            b'"Ann Lee","Mercy General","Mercy - GTX","Closed Won","USD 1,054.00","3/14/2024","1/2/2024"\r\n'
            b'"bob  roy","Lakeside ASC","Lakeside - MG","Closed Lost","USD 0.00","3/20/2024","1/15/2024"\r\n'
            b'"Ann Lee","Lakeside ASC","Lakeside - GTX","Negotiation/Review","USD 12,000.00",'
            b'"5/30/2024","2/10/2024"\r\n'
            b'\r\n"Grand Totals (3 records)","","","","USD 13,054.00","",""\r\n""\r\n'
            b'"Confidential Information - Do Not Distribute"\r\n'
            b'"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\r\n')


def test_salesforce_report_export_with_roster():
    """Footers are info, 'USD 1,054.00' is read, owner names are mapped to roster ids, sales derived."""
    ds = ingest([("report1710000000000.csv", salesforce_report_csv()), ("Sales Reps.csv", csv_bytes(ROSTER))])
    opps = ds.tables["opportunities"]
    assert opps["amount"].tolist() == [1054.0, 0.0, 12000.0]
    assert opps["rep_id"].tolist() == ["R1", "R2", "R1"]
    assert opps["status"].tolist() == ["won", "lost", "open"]
    assert opps["close_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-14", "2024-03-20", "2024-05-30"]
    footers = issues_of(ds, "info")
    assert sorted(footers["Row"].dropna().astype(int)) == [5, 6, 7, 8, 9]
    assert issues_of(ds, "rejected").empty
    sales = ds.tables["sales"]
    assert sales[["rep_id", "revenue"]].values.tolist() == [["R1", 1054.0]]
    derived = [s for s in ds.sources if s.source == DERIVED_SALES_SOURCE]
    assert derived and "won opportunit" in derived[0].note
    assert ds.tables["reps"]["rep_id"].tolist() == ["R1", "R2"]


def test_salesforce_api_names():
    """OwnerId, StageName, CloseDate, CreatedDate, Amount, Id are recognised."""
    rows = [["Id", "OwnerId", "AccountId", "StageName", "Amount", "CloseDate", "CreatedDate"],
            ["0061", "0051", "0011", "Closed Won", "500", "2024-03-01", "2024-01-01T09:00:00.000Z"],
            ["0062", "0052", "0012", "Prospecting", "700", "2024-06-01", "2024-02-01T09:00:00.000Z"]]
    ds = ingest([("opportunity_export.csv", csv_bytes(rows))])
    src = ds.sources[0]
    got = {m.source_column: m.canonical for m in src.matches}
    assert got == {"Id": "opportunity_id", "OwnerId": "rep_id", "AccountId": "account_id", "StageName": "stage",
                   "Amount": "amount", "CloseDate": "close_date", "CreatedDate": "created_date"}
    opps = ds.tables["opportunities"]
    assert opps["created_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01"]
    assert opps["status"].tolist() == ["won", "open"]


def test_veeva_calls_only_submitted_count():
    """Saved / planned calls are reported as info, not loaded, not silently dropped."""
    rows = [["Call Date", "Call Type", "Status", "Account", "Owner"],
            ["03/01/2024", "Detail Only", "Submitted", "A1", "R1"],
            ["03/02/2024", "Group Detail", "Saved", "A1", "R1"],
            ["03/04/2024", "Detail with Sample", "Submitted", "A2", "R2"]]
    ds = ingest([("calls.csv", csv_bytes(rows)), ("sales.csv", csv_bytes(SALES))])
    acts = ds.tables["activities"]
    assert acts["activity_type"].tolist() == ["meeting", "meeting"]
    note = issues_of(ds, "info", "activities")
    assert note["Row"].tolist() == [3] and note["Value"].tolist() == ["Saved"]


def test_hubspot_utf16_tab_separated():
    """A HubSpot deal export saved as UTF-16 tab-separated text, with HubSpot stage ids."""
    rows = [["Record ID", "Deal Name", "Deal owner", "Deal Stage", "Create Date", "Close Date", "Amount"],
            ["101", "Mercy", "Ann Lee", "closedwon", "2024-01-02 10:00", "2024-02-01 00:00", "1500"],
            ["102", "Lakeside", "Bob Roy", "appointmentscheduled", "2024-01-05 10:00", "", "900"],
            ["103", "Other", "Bob Roy", "closedlost", "2024-01-06 10:00", "2024-02-03 00:00", "0"]]
    data = csv_bytes(rows, sep="\t", encoding="utf-16", newline="\r\n")
    ds = ingest([("hubspot-crm-exports-all-deals-2024.txt", data)])
    opps = ds.tables["opportunities"]
    assert opps["opportunity_id"].tolist() == ["101", "102", "103"]
    assert opps["status"].tolist() == ["won", "open", "lost"]
    assert ds.tables["sales"]["revenue"].tolist() == [1500.0]
    reps = ds.tables["reps"]
    assert sorted(reps["rep_id"]) == ["Ann Lee", "Bob Roy"]
    assert set(reps["region"]) == {UNASSIGNED} and set(reps["territory_id"]) == {UNASSIGNED}
    assert any(s.source == DERIVED_REPS_SOURCE for s in ds.sources)


# --------------------------------------------------------------------------------------- matching
@pytest.mark.parametrize("name, table", [("Sales Reps", "reps"), ("reps", "reps"), ("Roster", "reps"),
                                         ("sales_pipeline", "opportunities"), ("Quota 2025", "quotas"),
                                         ("Call log", "activities"), ("Sheet1", None), ("report17", None)])
def test_table_from_name(name, table):
    assert table_from_name(name) == table


def test_table_by_columns_when_name_says_nothing():
    ds = ingest([("Sheet1.csv", csv_bytes(SALES))])
    assert ds.sources[0].table == "sales"
    assert "columns" in ds.sources[0].note


@pytest.mark.parametrize("label, canonical, how", [
    ("Opportunity Owner", "rep_id", "synonym"), ("OWNER_ID", "rep_id", "synonym"),
    ("close  date", "close_date", "exact"), ("Close_Date", "close_date", "exact"),
    ("Amount (converted)", "amount", "fuzzy"), ("Stage", "stage", "exact"),
])
def test_column_matching_is_lenient(label, canonical, how):
    [match] = match_columns([label], TABLES["opportunities"])
    assert (match.canonical, match.how) == (canonical, how)


def test_missing_required_column_means_table_not_loaded():
    rows = [["Quota", "Period"], ["100", "2025"]]
    ds = ingest([("quotas.csv", csv_bytes(rows)), ("sales.csv", csv_bytes(SALES))])
    assert "quotas" not in ds.tables
    problem = issues_of(ds, "rejected", "quotas")
    assert len(problem) == 1 and "rep_id" in problem["Problem"].iloc[0]


def test_unreadable_file_reported_others_load():
    ds = ingest([("notes.pdf", b"%PDF"), ("sales.csv", csv_bytes(SALES))])
    assert len(ds.tables["sales"]) == 2
    bad = ds.issues[ds.issues["Source"] == "notes.pdf"]
    assert bad["Kind"].tolist() == ["rejected"] and "not supported" in bad["Problem"].iloc[0]


def test_nothing_to_sell_is_a_plain_error():
    with pytest.raises(UserError, match="something to sell"):
        ingest([("reps.csv", csv_bytes(ROSTER))])


# --------------------------------------------------------------------------------------- validation
def test_row_rejects_and_warnings():
    """Unreadable required values reject the row; unreadable optional values are blanked with a warning."""
    rows = [["Date", "Rep", "Product", "Revenue", "Units"],
            ["2024-01-05", "R1", "GTX Pro", "n/a", "2"],
            ["2024-01-06", "R1", "GTX Pro", "50", "lots"],
            ["not a date", "R1", "GTX Pro", "60", "1"],
            ["2024-01-08", "", "GTX Pro", "70", "1"]]
    ds = ingest([("sales.csv", csv_bytes(rows))])
    sales = ds.tables["sales"]
    assert sales["revenue"].tolist() == [50.0] and sales["units"].isna().all()
    rejected = issues_of(ds, "rejected")
    assert sorted(rejected["Row"].tolist()) == [2, 4, 5]
    assert set(rejected["Value"]) >= {"n/a", "not a date"}
    warning = issues_of(ds, "warning")
    assert warning["Row"].tolist() == [3] and warning["Value"].tolist() == ["lots"]


def test_ranges_and_date_limits():
    quotas = [["Rep", "Period", "Quota"], ["R1", "2024-Q1", "0"], ["R1", "2024-Q2", "-5"], ["R1", "2024-Q3", "100"]]
    pay = [["Rep", "Period", "Payout"], ["R1", "2024-Q1", "-1"], ["R1", "2024-Q2", "0"]]
    ratings = [["Rep", "Date", "Competency", "Rating"], ["R1", "2024-01-01", "Pitch", "6"],
               ["R1", "2024-01-01", "Discovery", "3"]]
    scores = [["Rep", "Date", "Topic", "Score"], ["R1", "2024-01-01", "GTX", "101"], ["R1", "2024-01-01", "MG", "0"]]
    old_sales = SALES + [["1989-12-31", "R1", "GTX Pro", "5"], ["2099-01-01", "R1", "GTX Pro", "5"]]
    ds = ingest([("quotas.csv", csv_bytes(quotas)), ("incentives.csv", csv_bytes(pay)),
                 ("assessments.csv", csv_bytes(ratings)), ("training.csv", csv_bytes(scores)),
                 ("sales.csv", csv_bytes(old_sales)), ("reps.csv", csv_bytes(ROSTER))])
    assert ds.tables["quotas"]["quota"].tolist() == [100.0]
    assert ds.tables["incentives"]["payout"].tolist() == [0.0]
    assert ds.tables["assessments"]["rating"].tolist() == [3.0]
    assert ds.tables["assessments"]["assessor"].tolist() == ["manager"]
    assert ds.tables["training"]["score"].tolist() == [0.0]
    assert len(ds.tables["sales"]) == 2
    rejected = issues_of(ds, "rejected")
    assert rejected.groupby("Table")["Row"].apply(sorted).to_dict() == {
        "quotas": [2, 3], "incentives": [2], "assessments": [2], "training": [2], "sales": [4, 5]}
    assert rejected["Problem"].str.contains("greater than 0|0 or more|between|1990").all()


def test_duplicates_and_orphans():
    """Exact duplicate rows kept once; repeated ids keep the first; unknown reps/accounts kept as orphans."""
    accounts = [["Account ID", "Account Name", "Territory"], ["A1", "Mercy", "T1"], ["A1", "Mercy 2", "T1"]]
    sales = [["Date", "Rep", "Account", "Product", "Revenue"],
             ["2024-01-05", "R1", "A1", "GTX", "100"], ["2024-01-05", "R1", "A1", "GTX", "100"],
             ["2024-01-06", "R9", "Mercy", "GTX", "5"], ["2024-01-07", "R2", "A7", "GTX", "6"]]
    ds = ingest([("accounts.csv", csv_bytes(accounts)), ("sales.csv", csv_bytes(sales)),
                 ("reps.csv", csv_bytes(ROSTER))])
    assert ds.tables["accounts"]["account_name"].tolist() == ["Mercy"]
    sales_out = ds.tables["sales"]
    assert len(sales_out) == 3
    assert sales_out["account_id"].tolist() == ["A1", "A1", "A7"]  # "Mercy" named, mapped to its id
    dups = issues_of(ds, "duplicate")
    assert dups.set_index("Table")["Row"].to_dict() == {"accounts": 3, "sales": 3}
    orphans = issues_of(ds, "orphan")
    assert sorted(orphans["Value"]) == ["A7", "R9"]


def test_no_territory_column_means_unassigned_with_warning():
    accounts = [["Account ID", "Account Name"], ["A1", "Mercy"]]
    ds = ingest([("accounts.csv", csv_bytes(accounts)), ("sales.csv", csv_bytes(SALES))])
    assert ds.tables["accounts"]["territory_id"].tolist() == [UNASSIGNED]
    assert "no territory ID column" in issues_of(ds, "warning", "accounts")["Problem"].iloc[0]   # words, not a key


def test_product_spellings_matched_and_recorded():
    products = [["Product", "List Price"], ["GTX Pro", "4821"]]
    sales = SALES + [["2024-01-07", "R1", "GTXPro", "300"], ["2024-01-08", "R1", "gtx-pro", "300"]]
    ds = ingest([("products.csv", csv_bytes(products)), ("sales.csv", csv_bytes(sales))])
    assert set(ds.tables["sales"]["product"]) == {"GTX Pro"}
    info = issues_of(ds, "info", "sales")
    assert sorted(info["Value"]) == ["GTXPro → GTX Pro, 1 rows", "gtx-pro → GTX Pro, 1 rows"]


def test_ambiguous_dates_reported():
    rows = [["Date", "Rep", "Product", "Revenue"], ["01/02/2024", "R1", "A", "1"], ["02/03/2024", "R1", "A", "1"]]
    ds = ingest([("sales.csv", csv_bytes(rows))])
    amb = issues_of(ds, "ambiguous")
    assert len(amb) == 1 and "month-first" in amb["Problem"].iloc[0]
    assert ds.tables["sales"]["date"].dt.month.tolist() == [1, 2]


def test_planned_booleans_and_activity_types():
    rows = [["Date", "Rep", "Activity Type", "Planned"], ["2024-01-02", "R1", "In-service", "yes"],
            ["2024-01-03", "R1", "OR case", "0"], ["2024-01-04", "R1", "Phone call", "x"]]
    ds = ingest([("activities.csv", csv_bytes(rows)), ("sales.csv", csv_bytes(SALES))])
    acts = ds.tables["activities"]
    assert acts["activity_type"].tolist() == ["workshop", "case_support", "phone"]
    assert acts["planned"].tolist() == [True, False, True] and acts["planned"].dtype == "boolean"


def test_nothing_lost_silently():
    """For every source: rows read = rows loaded + rows set apart (each with its own issue row)."""
    sales = [["Sales report"], [], ["Date", "Rep", "Product", "Revenue"],
             ["2024-01-05", "R1", "GTX", "100"], ["2024-01-05", "R1", "GTX", "100"], [],
             ["2024-01-06", "R1", "GTX", "abc"], ["2024-01-07", "R2", "GTX", "5"], ["Grand Totals (4 records)"]]
    calls = [["Call Date", "Call Type", "Status", "Owner"], ["2024-01-02", "Detail", "Submitted", "R1"],
             ["2024-01-03", "Detail", "Planned", "R1"]]
    book = xlsx({"Sales": sales, "Calls": calls})
    ds = ingest([("book.xlsx", book), ("report.csv", salesforce_report_csv())])
    for src in ds.sources:
        if src.table is None or src.source.startswith("derived"):
            continue
        loaded = int(src.note.split(" rows read, ")[1].split(" loaded")[0].replace(",", ""))
        set_apart = ds.issues[(ds.issues["Source"] == src.source) & ds.issues["Row"].notna() &
                              ds.issues["Kind"].isin(["rejected", "duplicate", "info"])]["Row"].nunique()
        assert src.rows == loaded + set_apart, src.source
    sheet = next(s for s in ds.sources if s.source == "book.xlsx › Sales")
    assert (sheet.header_row, sheet.rows) == (3, 6)


def test_issue_frame_shape_and_dtypes():
    ds = ingest([("sales.csv", csv_bytes(SALES))])
    assert list(ds.issues.columns) == ISSUE_COLUMNS
    assert ds.issues["Row"].dtype == "Int64"
    for name, table in ds.tables.items():
        assert list(table.columns) == list(empty_table(name).columns)
        for column, want in empty_table(name).dtypes.items():      # ids and labels of the row tables
            got = table[column].dtype                               # are held as categoricals
            assert (isinstance(got, pd.CategoricalDtype) if column in COMPACT.get(name, ()) else got == want), \
                (name, column)


def test_overrides_choose_table_and_columns_and_survive_json():
    """A user's choices (table per source, column per source column) are applied and JSON round-trips."""
    rows = [["When", "Who", "What", "Money", "Memo"], ["2024-01-05", "R1", "GTX", "100", "x"]]
    overrides = json.loads(json.dumps({"tables": {"misc.csv": "sales", "ignore.csv": None},
                                       "columns": {"misc.csv": {"When": "date", "Who": "rep_id", "What": "product",
                                                                "Money": "revenue", "Memo": None}}}))
    ds = ingest([("misc.csv", csv_bytes(rows)), ("ignore.csv", csv_bytes(SALES))], overrides)
    assert ds.tables["sales"]["revenue"].tolist() == [100.0]
    src = {s.source: s for s in ds.sources}
    assert {m.how for m in src["misc.csv"].matches} == {"user", "unused"}
    assert src["ignore.csv"].table is None


def test_template_rows_round_trip():
    """Every example row of the template workbook loads into its table without a rejection."""
    from core.ingest.template import template_workbook
    ds = ingest([("goalgap_template.xlsx", template_workbook())])
    assert {n: len(t) for n, t in ds.tables.items()} == {n: 2 for n in TABLES}
    assert issues_of(ds, "rejected").empty and issues_of(ds, "warning").empty


@pytest.mark.slow   # a timing check: out of the default run, run by .ci/run's slow step
def test_big_csv_is_fast():
    """100k sales lines with US dates and money ingest in well under a second on an idle machine.

    The bound is loose (other work shares the CI cores); a per-cell Python loop would blow it.
    """
    n = 100_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Date": (pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
                                   ).strftime("%m/%d/%Y"),
                          "Rep": rng.integers(0, 200, n).astype(str), "Product": rng.choice(["A", "B"], n),
                          "Revenue": rng.normal(1000, 300, n).round(2)})
    data = frame.to_csv(index=False).encode()
    start = time.perf_counter()
    ds = ingest([("sales.csv", data)])
    assert time.perf_counter() - start < 3.0
    assert len(ds.tables["sales"]) + len(issues_of(ds, "duplicate")) == n


def test_nothing_recognised_is_a_plain_error():
    """A file nobody can place gives the plain 'something to sell' message, not a traceback."""
    with pytest.raises(UserError, match="something to sell"):
        ingest([("misc.csv", b"When,Who\n2024-01-01,R1\n")])


def test_exact_duplicates_and_repeated_ids_of_one_table_together():
    """One pass drops both: the exact copy (row 3) and the other row reusing an id (row 4); every
    row read is loaded or reported, and a file that cannot be read is still listed first."""
    opps = [["Opportunity ID", "Owner", "Stage", "Close Date", "Amount"],
            ["O1", "R1", "Closed Won", "2024-02-01", "100"], ["O1", "R1", "Closed Won", "2024-02-01", "100"],
            ["O1", "R2", "Closed Lost", "2024-03-01", "7"], ["O2", "R2", "Closed Won", "2024-03-02", "50"]]
    ds = ingest([("opportunities.csv", csv_bytes(opps)), ("notes.pdf", b"%PDF-1.4 not a table")])
    assert ds.tables["opportunities"][["opportunity_id", "rep_id", "amount"]].values.tolist() == [
        ["O1", "R1", 100.0], ["O2", "R2", 50.0]]
    dups = issues_of(ds, "duplicate").sort_values("Row")
    assert dups["Row"].tolist() == [3, 4]
    assert dups["Problem"].str.contains("exact duplicate").tolist() == [True, False]
    assert "first is kept (row 2 of opportunities.csv)" in dups["Problem"].iloc[1]
    assert [s.source for s in ds.sources][:2] == ["notes.pdf", "opportunities.csv"]
    assert "4 rows read, 2 loaded" in ds.sources[1].note
    assert issues_of(ds, "rejected")["Source"].tolist() == ["notes.pdf"]
    assert ds.tables["sales"]["revenue"].tolist() == [100.0, 50.0]   # from the won deals
