"""The KPI arrays and series built without whole-table copies give what the plain computations
give: categorical ids read through their own codes, the plan flag, opportunity statuses, the
forecast's monthly history, the rep x month cells of the monthly series, and the dates inside a
window."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.dataset import Dataset, Scope
from core.kpis import forecast
from core.kpis.arrays import dated_rows, positions, rows_of, source_rows
from core.kpis.grouping import group_reps
from core.kpis.inputs import day, opportunity_status, opportunity_statuses, within
from core.kpis.monthly import _rep_month_cells, monthly
from core.schema import TABLES, pandas_dtype
from core.settings import Settings


def _table(name: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=TABLES[name].column_names)
    return frame.astype({c.name: pandas_dtype(c) for c in TABLES[name].columns})


def _as_categories(frame: pd.DataFrame, *columns: str, unused: str = "ZZ-unused") -> pd.DataFrame:
    """`columns` as categoricals (as ingest leaves ids and labels), each with a category no row uses."""
    return frame.assign(**{c: pd.Categorical(frame[c], categories=[*frame[c].dropna().unique(), unused])
                           for c in columns})


REPS = _table("reps", [{"rep_id": "R1", "rep_name": "Ann", "region": "East", "territory_id": "T1"},
                       {"rep_id": "R2", "rep_name": "Bo", "region": "West", "territory_id": "T2"}])
ACCOUNTS = _table("accounts", [{"account_id": "A1", "territory_id": "T1"},
                               {"account_id": "A2", "territory_id": "T2"}])
ACTIVITIES = _table("activities", [
    {"date": pd.Timestamp("2025-01-03"), "rep_id": "R2", "activity_type": "meeting", "account_id": "A2",
     "planned": True, "contact_role": "buyer"},
    {"date": pd.Timestamp("2025-01-04"), "rep_id": "R1", "activity_type": "phone", "account_id": "A9",
     "planned": False, "contact_role": "user"},
    {"date": pd.Timestamp("2025-01-05"), "rep_id": None, "activity_type": "workshop", "account_id": None,
     "planned": None, "contact_role": None},
    {"date": pd.Timestamp("2025-01-06"), "rep_id": "RX", "activity_type": "demo", "account_id": "A1",
     "planned": True, "contact_role": "nurse"},
])


def test_positions_of_a_categorical_are_those_of_its_text():
    index = pd.Index(["R1", "R2"])
    text = pd.Series(["R2", "R1", None, "RX", "R2"], dtype="str")
    categorical = pd.Series(pd.Categorical(text, categories=["RX", "R2", "unused", "R1"]))
    assert positions(index, text).tolist() == [1, 0, -1, -1, 1]
    assert positions(index, categorical).tolist() == [1, 0, -1, -1, 1]
    assert positions(index, categorical, np.int32).dtype == np.int32


def test_activity_arrays_from_categoricals_equal_those_from_text():
    text = Dataset({"reps": REPS, "accounts": ACCOUNTS, "activities": ACTIVITIES})
    coded = Dataset({"reps": REPS, "accounts": ACCOUNTS,
                     "activities": _as_categories(ACTIVITIES, "rep_id", "activity_type", "account_id",
                                                  "contact_role")})
    a, b = rows_of(text, "activities"), rows_of(coded, "activities")
    assert a["r"].tolist() == [1, 0, -1, -1]
    assert a["acc"].tolist() == [1, -1, -1, 0]
    assert a["planned"].tolist() == [2, 1, 0, 2]              # yes, no, unknown, yes
    assert a["kind"][2] == 3 and a["kind"][1] == 6            # workshop; phone is no face-to-face type
    assert a["role"].tolist() == [2, 1, 0, 4]                 # buyer, user, missing, another role
    for key in ("r", "acc", "planned", "kind", "role"):
        assert a[key].dtype == b[key].dtype and a[key].tolist() == b[key].tolist(), key


def test_opportunity_statuses_share_three_strings_and_equal_the_status_column():
    opps = _table("opportunities", [
        {"opportunity_id": f"O{i}", "rep_id": "R1", "stage": stage, "status": status}
        for i, (stage, status) in enumerate([("Closed Won", None), ("Negotiation", "LOST"),
                                             ("Closed Lost", "bogus"), ("Closed Won", "won"), ("Demo", None),
                                             ("Closed Won", None)])])
    ds = Dataset({"reps": REPS, "opportunities": opps})
    statuses = opportunity_statuses(ds)
    assert statuses.tolist() == ["won", "lost", "lost", "won", "open", "won"]
    assert statuses.tolist() == opportunity_status(opps).tolist()
    assert statuses[0] is statuses[5]                          # one text object per stage, not per deal


def test_sales_revenue_with_a_missing_value_counts_as_zero_in_the_arrays():
    sales = _table("sales", [{"date": pd.Timestamp("2025-01-02"), "rep_id": "R1", "account_id": "A1", "revenue": 5.0},
                             {"date": pd.Timestamp("2025-01-03"), "rep_id": "R1", "account_id": "A1",
                              "revenue": None}])
    assert rows_of(Dataset({"reps": REPS, "sales": sales}), "sales")["revenue"].tolist() == [5.0, 0.0]


def test_monthly_history_is_the_groupby_of_the_complete_months():
    sales = pd.DataFrame({"date": pd.to_datetime(["2025-03-10", "2025-01-31", "2025-03-01", "2025-04-02",
                                                  "2025-01-01", None]),
                          "rep_id": "R1", "revenue": [0.1, 0.2, np.nan, 100.0, 0.3, 7.0]})
    history = forecast._monthly_history(sales, pd.Period("2025-03", "M"))
    assert history.index.tolist() == list(pd.period_range("2025-01", "2025-03", freq="M"))
    assert history.tolist() == [0.2 + 0.3, 0.0, 0.1]           # February has no sale: 0; April is after
    assert forecast._monthly_history(sales, pd.Period("2024-12", "M")).empty


def test_rep_month_cells_keep_reps_in_scope_inside_the_months():
    sales = _table("sales", [
        {"date": pd.Timestamp(d), "rep_id": r, "account_id": "A1", "revenue": v}
        for d, r, v in [("2025-01-15", "R1", 1.0), ("2025-02-01", "R2", 2.0), ("2025-03-31", "R1", 4.0),
                        ("2025-04-01", "R1", 8.0), ("2024-12-31", "R2", 16.0), ("2025-02-10", "RX", 32.0)]])
    ds = Dataset({"reps": REPS, "sales": sales})
    a = rows_of(ds, "sales")
    first = int(np.datetime64("2025-01", "M").astype(np.int64))
    west, _ = group_reps(ds, Scope(region="West"))
    rows, cells = _rep_month_cells(west, a["r"], None, a["date"], first, 3)
    # rows of the arrays (held in date order); source_rows gives the table's rows behind them
    assert source_rows(a, rows).tolist() == [1] and cells.tolist() == [1]     # R2 (the only rep in West), February
    everyone, _ = group_reps(ds, Scope())
    rows, cells = _rep_month_cells(everyone, a["r"], None, a["date"], first, 3)
    assert dict(zip(source_rows(a, rows).tolist(), cells.tolist(), strict=True)) == {0: 0, 1: 3 + 1, 2: 2}
    team = monthly(ds, date(2025, 1, 1), date(2025, 3, 31), Settings())
    assert team["revenue"].tolist() == [1.0, 2.0, 4.0]


_NS = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)        # every datetime64[ns] but NaT
_DAYS = st.dates(min_value=date(1678, 1, 1), max_value=date(2262, 4, 11))


@settings(max_examples=300, deadline=None)
@given(st.lists(_NS | st.sampled_from([-(2**63), -(2**63) + 1, 2**63 - 1, 0]), max_size=40), _DAYS, _DAYS)
def test_within_agrees_with_two_comparisons(values, start, end):
    """The one-comparison window (offsets modulo 2⁶⁴) keeps exactly the days start ≤ d ≤ end: never
    NaT (the smallest int64), whatever the days and the window, however far apart."""
    lo, hi = int(day(start).view(np.int64)), int(day(end).view(np.int64))
    edges = [v for v in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1) if -(2**63) < v < 2**63]
    days = np.array(values + edges, dtype=np.int64).view("datetime64[ns]")
    plain = (days >= day(start)) & (days <= day(end))
    assert within(days, start, end).tolist() == plain.tolist()


@settings(max_examples=80, deadline=None)
@given(st.lists(_NS | st.sampled_from([-(2**63), -(2**63) + 1, 2**63 - 1, 0]), max_size=40), _DAYS, _DAYS,
       st.booleans())
def test_dated_rows_are_the_rows_within_the_window(values, start, end, in_order):
    """Sales arrays are held in date order whatever the file's order: a window is one slice of
    them, and the table's rows behind it (source_rows) are exactly those `within` keeps."""
    days = np.array(sorted(values) if in_order else values, dtype=np.int64).view("datetime64[ns]")
    sales = _table("sales", [{"rep_id": "R1", "revenue": float(i)} for i in range(len(days))])
    ds = Dataset({"reps": REPS, "sales": sales.assign(date=days)})
    a = rows_of(ds, "sales")
    rows = dated_rows(ds, "sales", "date", start, end)
    assert isinstance(rows, slice)
    behind = np.sort(np.arange(len(days))[source_rows(a, rows)])
    assert behind.tolist() == np.flatnonzero(within(days, start, end)).tolist()
    keys = a["date"].view(np.int64)
    assert bool((keys[1:] >= keys[:-1]).all())
    assert a["revenue"].tolist() == [float(i) for i in np.arange(len(days))[source_rows(a, slice(None))]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=60))
def test_distinct_keys_are_numpys_unique(values):
    """The hashed distinct keys (and each key's position among them) equal np.unique's."""
    from core.kpis.grouping import distinct, distinct_inverse

    keys = np.array(values, dtype=np.int64)
    want, inverse = np.unique(keys, return_inverse=True)
    got, got_inverse = distinct_inverse(keys)
    assert distinct(keys).tolist() == want.tolist() == got.tolist()
    assert got_inverse.tolist() == inverse.tolist()
