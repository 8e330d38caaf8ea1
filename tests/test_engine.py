"""core.engine.rows: the packed-key duplicate finder gives exactly DataFrame.duplicated's answer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.engine import rows
from core.engine.rows import duplicated_rows, row_key


def _frame() -> pd.DataFrame:
    """Text with missing values, dates with NaT, floats with NaN, nullable booleans: twins that
    differ only where both are missing are twins; rows differing in one column are not."""
    return pd.DataFrame({
        "rep": pd.Series(["R1", "R1", "R2", None, None, "R1", "R1"], dtype="str"),
        "day": pd.to_datetime(["2025-01-02", "2025-01-02", "2025-01-02", None, None, "2025-01-02", "2025-01-03"]),
        "amount": [10.0, 10.0, 10.0, np.nan, np.nan, 10.5, 10.0],
        "planned": pd.array([True, True, True, None, None, True, True], dtype="boolean"),
    }, index=[5, 6, 7, 8, 9, 10, 11])


@pytest.mark.parametrize("keep", ["first", False])
def test_same_answer_as_pandas(keep):
    frame = _frame()
    got = duplicated_rows(frame, list(frame.columns), keep=keep)
    pd.testing.assert_series_equal(got, frame.duplicated(keep=keep))
    assert got.sum() == (2 if keep == "first" else 4)      # rows 6 and 9 (twins of 5 and 8)


def test_a_subset_of_columns():
    frame = _frame()
    pd.testing.assert_series_equal(duplicated_rows(frame, ["rep", "planned"], keep=False),
                                   frame.duplicated(["rep", "planned"], keep=False))


def test_packed_key_stays_exact_past_int64(monkeypatch):
    """Many columns of many distinct values overflow a naive packed key; the key is compacted on
    the way, so distinct rows keep distinct keys (also with the limit forced very low)."""
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame({f"c{i}": rng.integers(0, 3000, n).astype(str) for i in range(8)})
    frame = pd.concat([frame, frame.sample(300, random_state=1)], ignore_index=True)
    expected = frame.duplicated(keep=False)
    pd.testing.assert_series_equal(duplicated_rows(frame, list(frame.columns), keep=False), expected)
    monkeypatch.setattr(rows, "_LIMIT", 50)
    pd.testing.assert_series_equal(duplicated_rows(frame, list(frame.columns), keep=False), expected)
    assert expected.sum() >= 600


def test_row_key_is_equal_exactly_for_equal_rows():
    frame = _frame()
    key = row_key(frame, list(frame.columns))
    assert key[0] == key[1] and key[3] == key[4]
    assert len({key[0], key[2], key[3], key[5], key[6]}) == 5


def test_empty_frame():
    frame = _frame().iloc[:0]
    assert duplicated_rows(frame, list(frame.columns)).empty
