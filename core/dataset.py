"""The Dataset every computation reads: canonical tables plus the report of what ingest found.

A Dataset is treated as immutable once built. Its `fingerprint` is a digest of every row of every
table (not a sample), so caches keyed on it can never serve one upload's results for another.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from core.schema import UNASSIGNED, empty_table

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
        return dict(zip(reps["rep_id"], reps["rep_name"]))

    def date_span(self) -> tuple[date, date] | None:
        """First and last day with sales (or, without sales, with opportunities closing)."""
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

    @property
    def label(self) -> str:
        parts = [p for p in (self.region, self.territory_id, self.rep_id) if p]
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
        return reps.loc[mask, "rep_id"].tolist()
