"""The Dataset every computation reads: canonical tables plus the report of what ingest found.

A Dataset is treated as immutable once built. Its `fingerprint` is a digest of every row of every
table (not a sample), so caches keyed on it can never serve one upload's results for another.
Because it is immutable, results derived from it can live on it: `memo(key, compute)` computes
each once per Dataset (the app holds one Dataset per distinct content, so once per content).
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import pandas as pd

from core.schema import UNASSIGNED, empty_table

T = TypeVar("T")
MEMO_PER_NAME = 32       # results kept per memoized computation (e.g. 32 periods)
ISSUE_COLUMNS = ["Table", "Source", "Row", "Column", "Problem", "Value", "Kind"]
# Kind: rejected (row not used) | orphan | duplicate | ambiguous | warning | info


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "Row" else "str") for c in ISSUE_COLUMNS})


@dataclass(frozen=True)
class ColumnMatch:
    """How one source column was matched to a canonical column (or left unused)."""

    source_column: str
    canonical: str | None      # None = not used
    how: str                   # exact | synonym | fuzzy | user | unused


@dataclass(frozen=True)
class SourceInfo:
    """One file or sheet the user gave, and which table it became."""

    source: str                # "file.xlsx › Sheet1" or "file.csv"
    table: str | None          # canonical table, None = not recognised
    rows: int
    matches: tuple[ColumnMatch, ...] = ()
    header_row: int = 1        # 1-based row of the header in the source
    note: str = ""


@dataclass
class Dataset:
    tables: dict[str, pd.DataFrame]
    issues: pd.DataFrame = field(default_factory=empty_issues)
    sources: list[SourceInfo] = field(default_factory=list)
    _fingerprint: str | None = field(default=None, repr=False, compare=False)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _memo_tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _memo_lock: Any = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def memo(self, key: tuple, compute: Callable[[], T]) -> T:
        """compute(), once per `key` for this Dataset; later calls return the same object.

        `key` is a tuple: the name of the computation ("metrics.period", ...) then everything the
        result depends on besides the tables (the period, the settings' digest...). Results must be
        treated as read-only. At most MEMO_PER_NAME results of one name are kept (the least
        recently used goes first), so browsing many periods cannot grow memory without bound.
        The memo empties itself if a table is replaced (only tests do that), so it never serves
        results of tables that are gone.
        """
        with self._memo_lock:
            if self._memo_tables.keys() != self.tables.keys() or any(
                    self._memo_tables[k] is not t for k, t in self.tables.items()):
                self._memo.clear()
                self._memo_tables = dict(self.tables)
            if key in self._memo:
                self._memo[key] = self._memo.pop(key)           # most recently used last
                return self._memo[key]
        value = compute()       # outside the lock: a slow computation never blocks other keys
        with self._memo_lock:
            value = self._memo.setdefault(key, value)
            same = [k for k in self._memo if k[0] == key[0]]
            for old in same[:max(len(same) - MEMO_PER_NAME, 0)]:
                del self._memo[old]
            return value

    def clear_memo(self, *names: str) -> None:
        """Forget the memoized results of the computations `names` (the first element of their
        keys), or all of them when no name is given; the benchmark times from scratch this way."""
        with self._memo_lock:
            for key in [k for k in self._memo if not names or k[0] in names]:
                del self._memo[key]

    def __getstate__(self) -> dict:
        """Pickle the tables and report, not the memo (derived, and it holds a lock)."""
        state = dict(self.__dict__)
        state.update(_memo={}, _memo_tables={}, _memo_lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _memo_lock=threading.Lock())

    def has(self, name: str) -> bool:
        """True when table `name` was given (or derived) and holds at least one row."""
        t = self.tables.get(name)
        return t is not None and len(t) > 0

    def table(self, name: str) -> pd.DataFrame:
        """Table `name`, or an empty frame with the canonical columns when it is absent."""
        t = self.tables.get(name)
        return t if t is not None else empty_table(name)

    @property
    def fingerprint(self) -> str:
        """sha256 over every row of every table, in table order."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for name in sorted(self.tables):
                t = self.tables[name]
                h.update(name.encode())
                h.update(",".join(map(str, t.columns)).encode())
                if len(t):
                    h.update(pd.util.hash_pandas_object(t, index=False).values.tobytes())
            self._fingerprint = h.hexdigest()[:24]
        return self._fingerprint

    def rep_names(self) -> dict[str, str]:
        reps = self.table("reps")
        return dict(zip(reps["rep_id"], reps["rep_name"], strict=False))

    def date_span(self) -> tuple[date, date] | None:
        """First and last day with sales (or, without sales, with opportunities closing)."""
        return self.memo(("dataset.date_span",), self._date_span)

    def _date_span(self) -> tuple[date, date] | None:
        for name, col in (("sales", "date"), ("opportunities", "close_date")):
            if self.has(name):
                d = self.tables[name][col].dropna()
                if len(d):
                    return d.min().date(), d.max().date()
        return None

    def missing(self, *names: str) -> list[str]:
        """The tables among `names` that are absent or empty."""
        return [n for n in names if not self.has(n)]


@dataclass(frozen=True)
class Scope:
    """Which part of the team a view covers; None = everything at that level."""

    region: str | None = None
    territory_id: str | None = None
    rep_id: str | None = None
    manager: str | None = None     # reps.manager: the first-line manager's reps ("Unassigned": none)

    @property
    def label(self) -> str:
        team = f"Team of {self.manager}" if self.manager else None
        parts = [p for p in (self.region, team, self.territory_id, self.rep_id) if p]
        return " / ".join(parts) if parts else "Whole team"

    def rep_ids(self, reps: pd.DataFrame) -> list[str]:
        """The ids of the reps inside the scope, from the reps table."""
        mask = pd.Series(True, index=reps.index)
        if self.region:
            mask &= reps["region"].fillna(UNASSIGNED) == self.region
        if self.territory_id:
            mask &= reps["territory_id"].fillna(UNASSIGNED) == self.territory_id
        if self.rep_id:
            mask &= reps["rep_id"] == self.rep_id
        if self.manager:
            managers = reps["manager"] if "manager" in reps.columns else pd.Series(None, index=reps.index, dtype="str")
            mask &= managers.fillna(UNASSIGNED) == self.manager
        return reps.loc[mask, "rep_id"].tolist()
