"""core.ingest.duplicates' row hash and its exact check: a shared hash is never taken as equal rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ingest.duplicates import equal_rows, row_hash


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"a": pd.Series(["x", "y", "x", None, None, "x"], dtype="str"),
                         "b": [1.0, 2.0, 1.0, np.nan, np.nan, 2.0],
                         "d": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", None, None, "2024-01-01"])})


def test_equal_rows_hash_alike_and_missing_values_are_equal():
    frame = _frame()
    h = row_hash(frame, ["a", "b", "d"])
    assert h[0] == h[2] and h[3] == h[4]
    assert len(set(h[[0, 1, 3, 5]].tolist())) == 4


def test_swapped_values_in_two_columns_hash_apart():
    frame = pd.DataFrame({"a": ["p", "q", "p"], "b": ["q", "p", "q"]}, dtype="str")
    h = row_hash(frame, ["a", "b"])
    assert h[0] == h[2] != h[1]


def test_equal_rows_compares_the_candidates_value_by_value():
    """Every row a candidate (as if all shared one hash): only the truly equal rows come back, in
    order, with a key shared exactly by equal rows."""
    frame = _frame()
    at, key = equal_rows(frame, np.arange(len(frame)), ["a", "b", "d"])
    assert at.tolist() == [0, 2, 3, 4]
    assert key[0] == key[1] and key[2] == key[3] and key[0] != key[2]


def test_equal_rows_looks_only_at_the_candidates():
    frame = _frame()
    at, _ = equal_rows(frame, np.array([0, 1, 3]), ["a", "b", "d"])
    assert len(at) == 0
    at, _ = equal_rows(frame, np.array([], dtype=np.int64), ["a", "b", "d"])
    assert len(at) == 0


def test_repeated_gives_every_position_of_a_value_seen_twice_or_more():
    from core.ingest.duplicates import repeated

    values = np.array([5, 1, 5, 7, 1, 1, 9], dtype=np.uint64)
    assert repeated(values).tolist() == [0, 1, 2, 4, 5]
    assert repeated(np.array([3, 2, 1], dtype=np.uint64)).tolist() == []
    assert repeated(np.array([], dtype=np.uint64)).tolist() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1) | st.sampled_from([0, 2**63, 2**64 - 1]), max_size=60))
def test_repeated_agrees_with_pandas_duplicated(values):
    from core.ingest.duplicates import repeated

    array = np.array(values, dtype=np.uint64)
    expected = np.flatnonzero(pd.Series(array).duplicated(keep=False).to_numpy())
    assert repeated(array).tolist() == expected.tolist()
