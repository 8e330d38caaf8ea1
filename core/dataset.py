"""The Dataset every computation reads: canonical tables plus the report of what ingest found.

A Dataset is frozen: its tables are a read-only mapping and `with_table()`, `without()` and
`replace()` return a new Dataset (with its own fingerprint and an empty cache). Its `fingerprint`
is a digest of every row of every table (not a sample), so caches keyed on it can never serve one
upload's results for another. Because it cannot change, results derived from it can be kept with
it: `memo(key, compute)` computes each once per Dataset (the app holds one Dataset per distinct
content, so once per content) in its `cache`, a `Memo` that is no part of its equality or hash.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from core.schema import UNASSIGNED, empty_table

T = TypeVar("T")
# A memoized result as a Memo key and the computation that gives it (core.report.beside).
Task = tuple[tuple[Hashable, ...], Callable[[], Any]]
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


class Memo:
    """The results derived from one Dataset, each computed once per key (thread-safe).

    A key is a tuple: the name of the computation ("metrics.period", ...) then everything the
    result depends on besides the tables (the period, the settings' digest...). At most
    MEMO_PER_NAME results of one name are kept (the least recently used goes first), so browsing
    many periods cannot grow memory without bound.
    """

    def __init__(self) -> None:
        self._results: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple[Hashable, ...], threading.Lock] = {}   # held while its key is computed

    def get(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """compute(), once per `key`; later calls return the same object. A thread asking for a
        key another thread is computing waits for that result (a page and the background work
        started on loading ask for the same KPI parts and signals at once); other keys never wait."""
        while True:
            with self._lock:
                if key in self._results:
                    self._results.move_to_end(key)                 # most recently used last
                    return self._results[key]  # type: ignore[no-any-return]
                flight = self._computing.get(key)
                if flight is None:
                    flight = self._computing[key] = threading.Lock()
                    flight.acquire()
                    break
            with flight:        # computed by another thread: wait, then read it (or compute it, if it failed)
                pass
        try:
            return self._store(key, compute())   # outside the memo's lock: a slow computation never blocks other keys
        finally:
            self._land(key, flight)

    def peek(self, key: tuple[Hashable, ...]) -> tuple[bool, Any]:
        """(True, the result) when `key`'s result is kept (it counts as used), else (False, None):
        for a caller that does something around a computation only when it has to compute."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return True, self._results[key]
            return False, None

    def _store(self, key: tuple[Hashable, ...], value: T) -> T:
        """Keep `value` for `key` (the first value kept wins), at most MEMO_PER_NAME of its name."""
        with self._lock:
            value = self._results.setdefault(key, value)
            same = [k for k in self._results if k[0] == key[0]]
            for old in same[:max(len(same) - MEMO_PER_NAME, 0)]:
                del self._results[old]
        return value

    def _land(self, key: tuple[Hashable, ...], flight: threading.Lock) -> None:
        """End `key`'s computation: whoever waits for it reads its result (or computes it)."""
        with self._lock:
            del self._computing[key]
        flight.release()

    def promise(self, keys: Sequence[tuple[Hashable, ...]]) -> Promise:
        """Reserve `keys` for results computed elsewhere (core.report.beside: another process):
        until each is kept or given up, get() of it waits, as for a key another thread computes.
        Keys already kept or being computed are left as they are."""
        flights = {}
        with self._lock:
            for key in keys:
                if key not in self._results and key not in self._computing and key not in flights:
                    flights[key] = self._computing[key] = threading.Lock()
                    flights[key].acquire()
        return Promise(self, flights)

    def clear(self, *names: str) -> None:
        """Forget the results of the computations `names` (the first element of their keys), or
        all of them when no name is given."""
        with self._lock:
            for key in [k for k in self._results if not names or k[0] in names]:
                del self._results[key]


class Promise:
    """Keys of a Memo reserved by Memo.promise: each is kept (its result stored) or given up (a
    get() waiting for it then computes it), once."""

    def __init__(self, memo: Memo, flights: dict[tuple[Hashable, ...], threading.Lock]) -> None:
        self._memo = memo
        self._flights = flights
        self._lock = threading.Lock()

    @property
    def open(self) -> list[tuple[Hashable, ...]]:
        """The keys neither kept nor given up yet."""
        with self._lock:
            return list(self._flights)

    def keep(self, key: tuple[Hashable, ...], value: Any) -> None:
        """Store `value` for the reserved `key`; a key not reserved (or no longer) is ignored."""
        flight = self._take(key)
        if flight is not None:
            try:
                self._memo._store(key, value)
            finally:
                self._memo._land(key, flight)

    def give_up(self) -> None:
        """Release every key still open: get() computes them as if never promised."""
        for key in self.open:
            flight = self._take(key)
            if flight is not None:
                self._memo._land(key, flight)

    def _take(self, key: tuple[Hashable, ...]) -> threading.Lock | None:
        with self._lock:
            return self._flights.pop(key, None)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Canonical tables (read-only), the issue report and the sources they came from.

    Two Datasets are equal when their tables, issues and sources are; the hash is the
    fingerprint's. The `cache` is derived, so it takes no part in either and is not pickled.
    """

    tables: Mapping[str, pd.DataFrame]
    issues: pd.DataFrame = field(default_factory=empty_issues)
    sources: Sequence[SourceInfo] = ()       # stored as a tuple
    cache: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A private copy of the mapping: the caller's dict can change later, this one cannot.
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
        object.__setattr__(self, "sources", tuple(self.sources))

    def memo(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """compute(), once per `key` for this Dataset (see Memo); results are read-only."""
        return self.cache.get(key, compute)

    def clear_memo(self, *names: str) -> None:
        """Forget memoized results (see Memo.clear); the benchmark times from scratch this way."""
        self.cache.clear(*names)

    def replace(self, **changes: Any) -> Dataset:
        """A new Dataset with `changes` (tables, issues, sources); its cache starts empty."""
        return dataclasses.replace(self, **changes)

    def with_table(self, name: str, frame: pd.DataFrame) -> Dataset:
        """A new Dataset with table `name` added or replaced by `frame`."""
        return self.replace(tables={**self.tables, name: frame})

    def without(self, *names: str) -> Dataset:
        """A new Dataset without the tables `names`."""
        return self.replace(tables={k: t for k, t in self.tables.items() if k not in names})

    def __reduce__(self) -> tuple[type[Dataset], tuple[dict[str, pd.DataFrame], pd.DataFrame,
                                                       Sequence[SourceInfo]]]:
        """Pickle the tables, issues and sources, not the cache (derived, and it holds a lock)."""
        return Dataset, (dict(self.tables), self.issues, self.sources)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (self.fingerprint == other.fingerprint and self.sources == other.sources
                and self.issues.equals(other.issues))

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def has(self, name: str) -> bool:
        """True when table `name` was given (or derived) and holds at least one row."""
        t = self.tables.get(name)
        return t is not None and len(t) > 0

    def table(self, name: str) -> pd.DataFrame:
        """Table `name`, or an empty frame with the canonical columns when it is absent."""
        t = self.tables.get(name)
        return t if t is not None else empty_table(name)

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 over every row of every table, in table order."""
        h = hashlib.sha256()
        for name in sorted(self.tables):
            t = self.tables[name]
            h.update(name.encode())
            h.update(",".join(map(str, t.columns)).encode())
            if len(t):
                h.update(pd.util.hash_pandas_object(t, index=False).values.tobytes())
        return h.hexdigest()[:24]

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


def members(values: pd.Series, ids: Iterable[Hashable]) -> np.ndarray:
    """values.isin(ids) as a bool array, by one hash lookup in an index of the ids. pandas' isin
    on Arrow-backed text (the str dtype of rep ids) first makes an Arrow scalar of every id, one
    at a time: 5 ms for 1,000 reps, on every scope filter of every page run, against ~1 ms."""
    unique = pd.unique(np.asarray(ids if isinstance(ids, (pd.Series, pd.Index, np.ndarray)) else list(ids),
                                  dtype=object))
    index = pd.Index(unique, dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):                 # look up the categories only
        codes = values.cat.codes.to_numpy()
        hit = np.append(index.get_indexer(values.cat.categories) >= 0, False)[codes]
    else:
        hit = index.get_indexer(values) >= 0
    return np.asarray(hit | values.isna().to_numpy() if pd.isna(unique).any() else hit)   # a missing id: as isin


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
        ids: list[str] = reps.loc[mask, "rep_id"].tolist()
        return ids
