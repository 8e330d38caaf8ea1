"""Dataset: absent tables, fingerprints over every row, scope filtering."""
import pandas as pd

from core.dataset import Dataset, Scope
from core.schema import empty_table


def _sales(revenues):
    n = len(revenues)
    return pd.DataFrame({"date": pd.to_datetime(["2025-01-05"] * n), "rep_id": ["R1"] * n,
                         "account_id": ["A1"] * n, "product": ["P"] * n,
                         "revenue": [float(r) for r in revenues], "units": [1.0] * n})


def test_absent_table_is_empty_canonical_frame():
    ds = Dataset({"sales": _sales([1])})
    assert not ds.has("reps") and list(ds.table("reps").columns) == list(empty_table("reps").columns)
    assert ds.missing("sales", "quotas") == ["quotas"]


def test_fingerprint_sees_every_row():
    """Two large tables differing in one late row get different fingerprints (no sampling)."""
    a = _sales(range(60_000))
    b = a.copy()
    b.loc[59_999, "revenue"] = -1.0
    assert Dataset({"sales": a}).fingerprint != Dataset({"sales": b}).fingerprint
    assert Dataset({"sales": a}).fingerprint == Dataset({"sales": a.copy()}).fingerprint


def test_scope_filters_reps():
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "rep_name": ["a", "b", "c"],
                         "region": ["East", "East", "West"], "territory_id": ["T1", "T2", "T3"]})
    assert Scope().rep_ids(reps) == ["R1", "R2", "R3"]
    assert Scope(region="East").rep_ids(reps) == ["R1", "R2"]
    assert Scope(region="East", territory_id="T2").rep_ids(reps) == ["R2"]
    assert Scope(rep_id="R3").label == "R3"


def test_date_span_prefers_sales():
    ds = Dataset({"sales": _sales([1, 2])})
    assert ds.date_span()[0].isoformat() == "2025-01-05"
    assert Dataset({}).date_span() is None
