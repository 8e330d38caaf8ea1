"""The sheets of one table stacked into one frame: exact duplicate rows and repeated ids dropped
(each reported with the row it repeats), rows alike in every loaded column but not in the file
kept and warned."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.engine.rows import row_key
from core.ingest.report import issue_rows
from core.schema import TABLES


def combine(name: str, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Stack the sheets of one table; report and drop exact duplicates and repeated ids.

    Empties `frames` once stacked, and drops both kinds of row in one pass, so a big table is
    copied at most once.
    """
    table = TABLES[name]
    unmapped = {k: v for f in frames for k, v in f.attrs.get("unmapped", {}).items()}
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    frames.clear()
    cols = table.column_names
    issues = []
    drop = np.zeros(len(frame), dtype=bool)
    loaded = row_key(frame, cols) if len(frame) else np.zeros(0, dtype=np.int64)
    every = _with_source_key(loaded, frame)
    twins = pd.Series(every).duplicated(keep=False).to_numpy()
    if twins.any():
        group = frame[twins]
        first = group.groupby(every[twins], sort=False)[["_source", "_row"]].transform("first")
        extra = pd.Series(every[twins]).duplicated(keep="first").to_numpy()
        for src, part in group[extra].groupby("_source", sort=False):
            f = first.loc[part.index]
            issues.append(issue_rows(name, src, part["_row"], "", "exact duplicate row (the same in every "
                                     "column of the file); kept once",
                                     "same as row " + f["_row"].astype("str") + " of " + f["_source"],
                                     "duplicate"))
        drop[np.flatnonzero(twins)[extra]] = True
    issues.extend(_near_duplicates(name, frame, drop, unmapped, loaded))
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
                                         f["_row"].astype("str").values + " of " + f["_source"].values + ")",
                                         part[table.key], "duplicate"))
            drop |= repeat.to_numpy()
    kept = frame[~drop] if drop.any() else frame
    return kept.reset_index(drop=True), issues


def _near_duplicates(name: str, frame: pd.DataFrame, drop: np.ndarray,
                     unmapped: dict[str, tuple[str, ...]], loaded: np.ndarray) -> list[pd.DataFrame]:
    """Rows the same in every loaded column but not in the source (a column that is not loaded,
    such as an invoice number or a currency, or a label read into the same value, such as two
    attendee types both read as "user"): different rows, both kept; each one warned with the row
    it resembles, so a person can check. `loaded`: each row's key over the loaded columns."""
    if "_others" not in frame:
        return []
    kept, key = (frame[~drop], loaded[~drop]) if drop.any() else (frame, loaded)
    alike = pd.Series(key).duplicated(keep=False).to_numpy()
    if not alike.any():
        return []
    group = kept[alike]
    first = group.groupby(key[alike], sort=False)[["_source", "_row"]].transform("first")
    later = pd.Series(key[alike]).duplicated(keep="first").to_numpy()
    issues = []
    for src, part in group[later].groupby("_source", sort=False):
        f = first.loc[part.index]
        extra = ", ".join(unmapped.get(src, ())[:6])
        where = f"a column not loaded ({extra}) or" if extra else ""
        issues.append(issue_rows(name, src, part["_row"], extra,
                                 f"same as another row in every column used, but the rows differ in {where} the "
                                 "way a value is written; both kept as different rows — check they are not one "
                                 "row entered twice",
                                 "same as row " + f["_row"].astype("str") + " of " + f["_source"], "warning"))
    return issues


def _with_source_key(loaded: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """Each row's key over its loaded values and its source cells (`_others`, when the rows came
    from sheets): equal exactly when both are equal, so exact duplicates of the file share one."""
    if "_others" not in frame or not len(frame):
        return loaded
    return row_key(pd.DataFrame({"loaded": loaded, "others": frame["_others"].to_numpy()}), ["loaded", "others"])
