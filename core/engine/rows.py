"""Exact duplicate rows of a wide frame, found through one integer key per row.

`DataFrame.duplicated` over many text columns spends most of its time combining the columns'
codes; here each column is factorized once (fast on Arrow-backed text), the codes are packed into
one int64 key per row (re-factorized whenever the packed range would overflow), and duplicates are
found on that single key. Codes are exact, so this is the same answer as `DataFrame.duplicated`
(missing values are equal to each other, as there), not a probabilistic hash.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

_LIMIT = np.iinfo(np.int64).max // 2


def row_key(frame: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """One int64 per row, equal for two rows exactly when their values in `cols` are equal."""
    key = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for col in cols:
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
        n = max(len(uniques), 1)
        if size * n > _LIMIT:                       # keep the packed key inside int64
            key, compact = pd.factorize(key)
            size = max(len(compact), 1)
        key = key * n + codes
        size *= n
    return key


def duplicated_rows(frame: pd.DataFrame, cols: Sequence[str],
                    keep: Literal["first", False] = "first") -> pd.Series:
    """frame.duplicated(cols, keep=keep), computed on one packed key per row."""
    if not len(frame) or not len(cols):
        return frame.duplicated(list(cols), keep=keep)
    return pd.Series(pd.Series(row_key(frame, cols)).duplicated(keep=keep).to_numpy(), index=frame.index)
