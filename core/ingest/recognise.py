"""Which table each sheet is, and which canonical column each of its columns fills.

A sheet's table comes from the user's choice, else its name, else its columns; each source
column is matched to at most one canonical column (user override, exact, synonym, fuzzy). Wide
quota sheets (reps down, periods across) are recognised here and turned into the long quotas
table by core.ingest.quota_sheet. `Overrides` holds the user's choices for the whole upload.
"""
from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.dataset import ColumnMatch
from core.ingest import cleaning, quota_sheet
from core.ingest.readers import RawSheet
from core.schema import TABLE_ORDER, TABLES, Column, Table

_GENERIC_NAMES = re.compile(r"^(?:sheet|tabelle|feuil|hoja|data|export|report|query|results?|table|"
                            r"page|untitled|book|workbook|download|file|list)\s*\d*$")
_DOC_NAMES = re.compile(r"^(?:read ?me|instructions?|notes?|about|help|(?:data )?dictionary|legend|"
                        r"info|documentation|cover|contents)$")
_FUZZY_CUTOFF = 0.88
# Required columns the loader can fill when the file has no such column.
FILLABLE = {
    ("reps", "rep_id"): "rep_name", ("reps", "rep_name"): "rep_id",
    ("accounts", "account_id"): "account_name", ("accounts", "account_name"): "account_id",
    ("opportunities", "stage"): "status",
}
DEFAULTABLE = {("reps", "region"), ("reps", "territory_id"), ("accounts", "territory_id"),
                ("opportunities", "opportunity_id"), ("opportunities", "created_date")}


def norm_label(text: object) -> str:
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cleaning.fold_lookalikes(str(text)))
    text = re.sub(r"(?i)\b__c\b|_c$", "", text)  # Salesforce custom-field suffix
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()


@functools.cache
def _names(col: Column) -> tuple[str, ...]:
    return (norm_label(col.name), *(norm_label(s) for s in col.synonyms))


_KNOWN = frozenset(n for t in TABLES.values() for c in t.columns for n in _names(c))
_KNOWN_COMPACT = frozenset(k.replace(" ", "") for k in _KNOWN)


def is_known(label: str) -> bool:
    """Is a header label (already loosened) one that some canonical column goes by?"""
    return label in _KNOWN or label.replace(" ", "") in _KNOWN_COMPACT


@functools.cache
def _tier(label: str, col: Column) -> tuple[int, float]:
    """How well a source column label fits a canonical column: (3 exact | 2 synonym | 1 fuzzy, rank)."""
    names = _names(col)
    compact = label.replace(" ", "")
    if label == names[0] or compact == names[0].replace(" ", ""):
        return 3, 0.0
    for i, name in enumerate(names[1:]):
        if label == name or compact == name.replace(" ", ""):
            return 2, -float(i)
    for name in names:
        longest = max(len(label), len(name))
        if abs(len(label) - len(name)) > (1 - _FUZZY_CUTOFF) * longest + 1:
            continue  # cannot reach the cutoff; skip the costly comparison
        ratio = difflib.SequenceMatcher(None, label, name).ratio()
        if ratio >= _FUZZY_CUTOFF:
            return 1, ratio
    words = label.split()
    for name in names:
        if len(name) >= 4 and re.search(rf"\b{re.escape(name)}\b", label) and len(words) - len(name.split()) <= 2:
            return 1, 0.5 + len(name) / 100
    return 0, 0.0


def match_columns(columns: Sequence[str], table: Table,
                  user: dict[str, str | None] | None = None) -> list[ColumnMatch]:
    """Each source column to at most one canonical column of `table`, best fits first."""
    user = {k: v for k, v in (user or {}).items() if k in columns}
    taken = {v for v in user.values() if v}
    candidates = []
    for pos, label in enumerate(columns):
        if label in user:
            continue
        loose = norm_label(label)
        for c_pos, col in enumerate(table.columns):
            tier, rank = _tier(loose, col)
            if tier:
                candidates.append((tier, rank, -pos, -c_pos, label, col.name))
    chosen: dict[str, tuple[str, str]] = {}
    hows = {3: "exact", 2: "synonym", 1: "fuzzy"}
    for tier, _, _, _, label, canonical in sorted(candidates, reverse=True):
        if label in chosen or canonical in taken:
            continue
        chosen[label] = (canonical, hows[tier])
        taken.add(canonical)
    out = []
    for label in columns:
        if label in user:
            target = user[label] if user[label] in table.column_names else None
            out.append(ColumnMatch(label, target, "user" if target else "unused"))
        elif label in chosen:
            out.append(ColumnMatch(label, *chosen[label]))
        else:
            out.append(ColumnMatch(label, None, "unused"))
    return out


def missing_required(table: Table, matches: Sequence[ColumnMatch]) -> list[str]:
    """Required columns neither matched nor fillable from another column or a default."""
    have = {m.canonical for m in matches if m.canonical}
    out = []
    for name in table.required:
        fill_from = FILLABLE.get((table.name, name))
        if name in have or (fill_from and fill_from in have) or (table.name, name) in DEFAULTABLE:
            continue
        out.append(name)
    return out


def table_from_name(name: str) -> str | None:
    """The table a sheet or file name points to ("Sales Reps", "reps", "Roster" -> reps), if any."""
    loose = norm_label(name)
    if not loose or _GENERIC_NAMES.match(loose):
        return None
    best, best_len = None, 0
    for table in TABLES.values():
        for syn in (table.name, *table.synonyms):
            s = norm_label(syn)
            if loose == s or loose.replace(" ", "") == s.replace(" ", ""):
                return table.name
            if re.search(rf"\b{re.escape(s)}\b", loose) and len(s) > best_len:
                best, best_len = table.name, len(s)
    return best


def _column_fit(sheet: RawSheet, table: Table,
                user: dict[str, str | None] | None) -> tuple[tuple[int, int], int, list[ColumnMatch]]:
    matches = match_columns(sheet.columns, table, user)
    used = [m for m in matches if m.canonical]
    feasible = not missing_required(table, matches) and len(used) >= 2
    n_required = sum(m.canonical in table.required for m in used)
    return (int(feasible), len(used) + n_required), n_required, matches


def choose_table(sheet: RawSheet, overrides: Overrides) -> tuple[str | None, list[ColumnMatch], str]:
    """The table a sheet becomes, its column matches, and how the table was chosen."""
    user_cols = overrides.columns.get(sheet.source)
    if sheet.source in overrides.tables:
        chosen = overrides.tables[sheet.source]
        if chosen not in TABLES:
            return None, [ColumnMatch(c, None, "unused") for c in sheet.columns], "ignored (your choice)"
        return chosen, match_columns(sheet.columns, TABLES[chosen], user_cols), "chosen by you"
    if _DOC_NAMES.match(norm_label(sheet.name)):
        return None, [ColumnMatch(c, None, "unused") for c in sheet.columns], "ignored (documentation sheet)"
    named = table_from_name(sheet.name)
    if named is None and sheet.sheet_count == 1 and sheet.name != Path(sheet.file_name).stem:
        named = table_from_name(Path(sheet.file_name).stem)
    if named:
        fit = _column_fit(sheet, TABLES[named], user_cols)
        if fit[0][0]:
            return named, fit[2], "by its name"
    fits = {name: _column_fit(sheet, t, user_cols) for name, t in TABLES.items()}
    by_columns = max(TABLE_ORDER, key=lambda n: (fits[n][0], -TABLE_ORDER.index(n)))
    if fits[by_columns][0][0]:
        return by_columns, fits[by_columns][2], "by its columns"
    if named:
        return named, fits[named][2], "by its name"
    return None, [ColumnMatch(c, None, "unused") for c in sheet.columns], "not recognised"


def quota_shapes(sheet: RawSheet, table_name: str | None, matches: list[ColumnMatch], how: str,
                 chosen: Overrides, issues: list[pd.DataFrame]) -> tuple[RawSheet, str | None, list[ColumnMatch], str]:
    """A quota sheet the way directors keep it (wide, fiscal labels, one number per rep) as the long
    quotas table (core.ingest.quota_sheet); any other sheet as it is."""
    forced = sheet.file_name in chosen.quota_files
    if sheet.source in chosen.tables and chosen.tables[sheet.source] != "quotas" and not forced:
        return sheet, table_name, matches, how
    if table_name not in (None, "quotas") and not forced:
        return sheet, table_name, matches, how
    wide_only = table_name is None and not forced
    user = chosen.columns.get(sheet.source)
    long, found = quota_sheet.to_long(sheet, match_columns(sheet.columns, TABLES["quotas"], user),
                                      chosen.fiscal_start, wide_only, chosen.seasonality)
    if long is None or long is sheet:
        return sheet, table_name, matches, how
    issues.extend(found)
    how = how if table_name == "quotas" else "read as a quota sheet (reps down, periods across)"
    return long, "quotas", match_columns(long.columns, TABLES["quotas"]), how


@dataclass
class Overrides:
    """The user's choices for one upload: tables and columns picked on the Data page, and the
    options the settings give ingest (JSON-able, so they survive a saved session)."""

    tables: dict[str, str | None] = field(default_factory=dict)
    columns: dict[str, dict[str, str | None]] = field(default_factory=dict)
    fiscal_start: int = 1                       # Settings.ingest_options(): the fiscal calendar,
    currency: dict[str, Any] = field(default_factory=dict)   # the reporting currency and the user's rates,
    quota_files: tuple[str, ...] = ()           # files read as quotas whatever their shape,
    seasonality: tuple[float, ...] = ()         # and the monthly weights of yearly quotas

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Overrides:
        raw = raw or {}
        return cls(dict(raw.get("tables") or {}), {k: dict(v) for k, v in (raw.get("columns") or {}).items()},
                   int(raw.get("fiscal_start") or 1), dict(raw.get("currency") or {}),
                   tuple(raw.get("quota_files") or ()), tuple(raw.get("seasonality") or ()))
