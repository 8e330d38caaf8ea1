"""Groupings of the roster: the reps of a scope, each rep on its own, territories, regions,
managers or the whole team, and the array helpers that sum per-rep parts into groups."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.inputs import in_scope, whole_roster
from core.schema import UNASSIGNED

# ---------------------------------------------------------------------------------------------
# One period, every rep: per-rep sums and counts, plus the few rows that medians and distinct
# counts need, computed once per Dataset and period. Any grouping of the roster (the reps of a
# scope, territories, regions, the team) sums these per-rep parts, so a scope change or a roll-up
# never goes back to the millions of raw rows, and ratios roll up from summed parts.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grouping:
    """The reps in scope, where they sit on the whole roster, and the group each belongs to."""

    reps: pd.DataFrame        # ROSTER_COLUMNS of the reps in scope
    pos: np.ndarray           # position of each on the whole roster
    group: np.ndarray         # group code of each
    n: int                    # number of groups
    n_all: int                # reps on the whole roster

    @cached_property
    def of_rep(self) -> np.ndarray:
        """Group of each whole-roster position, -1 out of scope; one extra -1 at the end, so a
        row whose rep is not on the roster (r = -1) maps to -1 too."""
        out = np.full(self.n_all + 1, -1, dtype=np.int64)
        out[self.pos] = self.group
        return out

    def sum(self, per_rep: np.ndarray) -> np.ndarray:
        """Σ per group of a per-rep (whole roster) count or sum."""
        return np.bincount(self.group, weights=per_rep[self.pos], minlength=self.n).astype("float64")

    def to_groups(self, per_rep: np.ndarray) -> np.ndarray:
        """Σ per group of a per-rep (whole roster) value, NaN where no rep of the group has one."""
        v = per_rep[self.pos]
        known = ~np.isnan(v)
        total = np.bincount(self.group, weights=np.where(known, v, 0.0), minlength=self.n)
        return np.where(np.bincount(self.group, weights=known, minlength=self.n) > 0, total, np.nan)

    def median(self, rows: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Median per group of (rep position, value) rows."""
        r, values = rows
        g = self.of_rep[r]
        inside = g >= 0
        medians = pd.Series(values[inside]).groupby(g[inside]).median().reindex(range(self.n))
        return np.asarray(medians.to_numpy(dtype="float64"))

    @property
    def reps_per_group(self) -> np.ndarray:
        return np.bincount(self.group, minlength=self.n).astype("float64")


def group_reps(ds: Dataset, scope: Scope, key: str | None = None) -> tuple[Grouping, pd.Index]:
    """The reps in scope grouped by roster column `key` (sorted keys), all together (key "team",
    labelled with the scope), or each rep its own group (key None)."""
    whole = whole_roster(ds)
    inside = in_scope(whole, scope)
    reps = whole[inside].reset_index(drop=True)
    if key is None:
        codes, keys = np.arange(len(reps)), pd.Index(reps["rep_id"])
    elif key == "team":
        codes, keys = np.zeros(len(reps), dtype=np.int64), pd.Index([scope.label] if len(reps) else [])
    else:
        codes, keys = pd.factorize(reps[key].fillna(UNASSIGNED), sort=True)   # reps with no manager
    return Grouping(reps, np.flatnonzero(inside), codes.astype(np.int64), len(keys), len(whole)), pd.Index(keys)


def per_rep(r: np.ndarray, where: np.ndarray, n_all: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Count (or Σ weights) of the rows `where` per whole-roster rep."""
    return np.bincount(r[where], weights=None if weights is None else weights[where],
                       minlength=n_all).astype("float64")


def count_by(g: np.ndarray, n: int, where: np.ndarray | None = None) -> np.ndarray:
    w = None if where is None else np.asarray(where, dtype="float64")
    return np.bincount(g, weights=w, minlength=n).astype("float64")


def sum_by(g: np.ndarray, n: int, values: pd.Series | np.ndarray) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, dtype="float64"))
    return np.bincount(g, weights=v, minlength=n)


def ratio(num: pd.Series | np.ndarray, den: pd.Series | np.ndarray) -> np.ndarray:
    """num / den where den > 0, else NaN: the one rule for every ratio of sums."""
    num, den = np.asarray(num, dtype="float64"), np.asarray(den, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def nan_array(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def distinct(keys: np.ndarray) -> np.ndarray:
    """np.unique(keys): the distinct keys hashed first, then only they sorted (2.5 × faster on the
    60,000 (rep, account) keys of a month at 1,000 reps)."""
    return np.sort(pd.unique(keys))


def distinct_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True) by hashing (pd.factorize with sorted uniques)."""
    inverse, uniques = pd.factorize(keys, sort=True)
    return np.asarray(uniques), inverse


def pair_keys(g: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    return np.asarray(g.astype(np.int64) * k + codes)

