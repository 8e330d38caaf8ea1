"""The sheets of one table stacked into one frame: exact duplicate rows and repeated ids dropped
(each reported with the row it repeats), rows alike in every loaded column but not in the file
kept and warned."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from core.engine.rows import row_key
from core.ingest.report import issue_rows
from core.schema import TABLES

# The column load_sheet gives each sheet: row_hash of its loaded columns, hashed as they were read.
LOADED = "_loaded"


def combine(name: str, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Stack the sheets of one table; report and drop exact duplicates and repeated ids.

    Empties `frames` once stacked, and drops both kinds of row in one pass, so a big table is
    copied at most once.
    """
    table = TABLES[name]
    unmapped = {k: v for f in frames for k, v in f.attrs.get("unmapped", {}).items()}
    if not all(LOADED in f for f in frames):
        frames[:] = [f.drop(columns=LOADED, errors="ignore") for f in frames]
    for f in frames:                    # the row number on each row
        if "_row" not in f:
            f["_row"] = f.index.astype("int64")
    frame = stack(frames)
    cols = table.column_names
    issues = []
    drop = np.zeros(len(frame), dtype=bool)
    # Rows whose loaded values may repeat: the only ones that can be duplicates of either kind.
    hashed = frame.pop(LOADED) if LOADED in frame else row_hash(frame, cols)
    maybe = repeated(np.asarray(hashed))
    del hashed
    _give_back_memory()                 # the hash table of a big table's rows
    at, key = equal_rows(frame, maybe, [*cols, "_others"] if "_others" in frame else cols)
    if len(at):
        group = frame.iloc[at]
        first = group.groupby(key, sort=False)[["_source", "_row"]].transform("first")
        extra = pd.Series(key).duplicated(keep="first").to_numpy()
        for src, part in group[extra].groupby("_source", sort=False):
            f = first.loc[part.index]
            issues.append(issue_rows(name, src, part["_row"], "", "exact duplicate row (the same in every "
                                     "column of the file); kept once",
                                     "same as row " + f["_row"].astype("str") + " of " + f["_source"].astype("str"),
                                     "duplicate"))
        drop[at[extra]] = True
    issues.extend(_near_duplicates(name, frame, maybe[~drop[maybe]], unmapped))
    if table.key:
        # The first row of each id is never an exact duplicate (its twin would come before it).
        key = frame[table.key]
        repeat = key.duplicated(keep="first") & key.notna() & ~drop
        if repeat.any():
            first_src = frame.drop_duplicates(table.key).set_index(table.key)[["_source", "_row"]]
            for src, part in frame[repeat].groupby("_source", sort=False):
                f = first_src.loc[part[table.key]]
                issues.append(issue_rows(name, src, part["_row"], table.key,
                                         f"{table.key} appears more than once; the first is kept (row " +
                                         f["_row"].astype("str").values + " of " +
                                         f["_source"].astype("str").values + ")",
                                         part[table.key], "duplicate"))
            drop |= repeat.to_numpy()
    frame = frame.drop(columns="_others", errors="ignore")    # needed no more: the file's cells
    _give_back_memory()
    return keep_rows(frame, ~drop).reset_index(drop=True), issues


def repeated(values: np.ndarray) -> np.ndarray:
    """The positions of the values that occur more than once, in order. The repeated values are
    found by sorting (on 3 M row hashes 0.2 s against 0.4 s for pandas' duplicated(keep=False)),
    their positions by hashing the few found (np.isin sorts every value again: 0.37 s against
    0.05 s on 2.3 M sales lines with 68,000 repeated values)."""
    ordered = np.sort(values)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(twice):
        return np.flatnonzero(np.zeros(len(values), dtype=bool))
    return np.flatnonzero(pd.Index(np.unique(twice)).get_indexer(values) >= 0)


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under the other, a column at a time (each frame's column let go once stacked;
    `frames` is emptied). A column categorical in every frame stays categorical, over the union of
    their categories in sorted order, as one astype("category") gives: pd.concat would give one
    Python object per row (the batches of a big file are compacted as they load,
    core.ingest.pipeline.compact)."""
    if len(frames) == 1:
        return frames.pop().reset_index(drop=True)
    names = list(dict.fromkeys(c for f in frames for c in f.columns))
    if any(list(f.columns) != names for f in frames):
        frame = pd.concat(frames, ignore_index=True)
        frames.clear()
        return frame
    columns: dict[str, Any] = {}
    for name in names:
        parts = [f.pop(name) for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            columns[name] = union_categoricals([p.array for p in parts], sort_categories=True)
        else:
            columns[name] = pd.concat(parts, ignore_index=True).array
        del parts
    frames.clear()
    return pd.DataFrame(columns, copy=False)    # not consolidated: a 2-D copy of each dtype's columns


def _give_back_memory() -> None:
    from core.ingest.pipeline import give_back_memory  # pipeline imports this module

    give_back_memory()


def keep_rows(frame: pd.DataFrame, keep: np.ndarray | pd.Series) -> pd.DataFrame:
    """frame[keep], copied a column at a time, each column of `frame` let go as soon as it is copied:
    a big table is not held twice. Returns `frame` itself when every row is kept. `frame` is emptied
    of its columns when rows are dropped: the caller passes a frame it no longer needs."""
    mask = np.asarray(keep, dtype=bool)
    if mask.all():
        return frame
    index = frame.index[mask]
    columns: dict[str, Any] = {}
    for name in list(frame.columns):
        columns[name] = frame.pop(name).array[mask]
    return pd.DataFrame(columns, index=index, copy=False)


def _near_duplicates(name: str, frame: pd.DataFrame, maybe: np.ndarray,
                     unmapped: dict[str, tuple[str, ...]]) -> list[pd.DataFrame]:
    """Rows the same in every loaded column but not in the source (a column that is not loaded,
    such as an invoice number or a currency, or a label read into the same value, such as two
    attendee types both read as "user"): different rows, both kept; each one warned with the row
    it resembles, so a person can check. `maybe`: the positions of the kept rows that may be so."""
    if "_others" not in frame:
        return []
    at, key = equal_rows(frame, maybe, TABLES[name].column_names)
    if not len(at):
        return []
    group = frame.iloc[at]
    first = group.groupby(key, sort=False)[["_source", "_row"]].transform("first")
    later = pd.Series(key).duplicated(keep="first").to_numpy()
    issues = []
    for src, part in group[later].groupby("_source", sort=False):
        f = first.loc[part.index]
        extra = ", ".join(unmapped.get(src, ())[:6])
        where = f"a column not loaded ({extra}) or" if extra else ""
        issues.append(issue_rows(name, src, part["_row"], extra,
                                 f"same as another row in every column used, but the rows differ in {where} the "
                                 "way a value is written; both kept as different rows — check they are not one "
                                 "row entered twice",
                                 "same as row " + f["_row"].astype("str") + " of " + f["_source"].astype("str"),
                                 "warning"))
    return issues


def row_hash(frame: pd.DataFrame, cols: Sequence[str],
             known: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """A 64-bit hash of each row's values in `cols` (missing values equal to each other), folded from
    each column's `value_hash` (`known`: those already computed). It depends on the values only, so
    sheets hashed apart agree. Equal rows hash alike; unequal rows almost never do, and equal_rows
    compares the rows that share a hash value by value."""
    out = np.zeros(len(frame), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in cols:
            hashed = known.get(col) if known else None
            out = out * _GOLDEN + (value_hash(frame[col]) if hashed is None else hashed)
    return _mix(out)


def value_hash(s: pd.Series) -> np.ndarray:
    """One uint64 per cell that depends on its value alone (every missing value is one value, as is
    0.0 and -0.0): the bits of a number or a date, else `text_hash` of the value as text, computed
    once per distinct value."""
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else ""
    bits: np.ndarray
    if kind == "f":
        values = s.to_numpy(dtype="float64") + 0.0             # -0.0 + 0.0 is 0.0
        values[np.isnan(values)] = np.nan                       # one NaN, whatever its payload
        bits = values.view(np.uint64)
    elif kind in ("i", "u", "M"):
        bits = s.to_numpy().astype(np.int64, copy=False).view(np.uint64)   # NaT is one int64 value
    else:
        codes, uniq = pd.factorize(s, use_na_sentinel=False)
        bits = text_hash(pd.Series(uniq, dtype=s.dtype).astype("str"))[codes]
    return bits


def equal_rows(frame: pd.DataFrame, maybe: np.ndarray, cols: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Of the rows at positions `maybe` (ascending), those equal in `cols` to another of them, in
    order, and for each a key equal exactly when the rows are (compared value by value)."""
    if not len(maybe):
        return maybe, np.zeros(0, dtype=np.int64)
    key = row_key(frame.iloc[maybe], cols)
    equal = pd.Series(key).duplicated(keep=False).to_numpy()
    return maybe[equal], key[equal]


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the input spread over the output, element-wise."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def text_hash(s: pd.Series) -> np.ndarray:
    """A 64-bit polynomial hash of each text cell (missing and "" differ), computed over pyarrow's
    buffers with numpy: ten times faster than hashing a million strings one by one."""
    import pyarrow as pa

    arr = getattr(s.array, "_pa_array", None)
    arr = pa.array(s.astype(object), type=pa.large_string()) if arr is None else arr
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    arr = arr.fill_null("\x00").cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    starts, lengths = offsets[:-1] - offsets[0], np.diff(offsets)
    out = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    total = int(offsets[-1] - offsets[0])
    if total:
        body = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].astype(np.uint64) + 1
        position = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
        powers = np.cumprod(np.full(int(lengths.max()), 0x100000001B3, dtype=np.uint64))
        filled = lengths > 0
        out[filled] += np.add.reduceat(body * powers[position], starts[filled])
    return out
