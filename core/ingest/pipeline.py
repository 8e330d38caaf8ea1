"""Whatever a user uploads (workbooks, CSVs, CRM exports) into the canonical tables of a Dataset.

The pipeline, one step a function:
1. read each file into raw sheets (core.ingest.readers: header found, footers and blank rows set apart),
   and load them (steps 2-3) before reading the next, so one file's raw cells are alive at a time;
2. decide which table each sheet is (user override, its name, else its columns) and match its
   columns to canonical columns (user override, exact, synonym, fuzzy);
3. parse each column into its canonical type (core.ingest.cleaning), reject the rows that cannot be used;
4. stack the sheets of one table, drop exact duplicate rows and repeated ids (keeping the first);
5. link the tables: rep names to roster ids, account names to ids, product spellings, reps taken
   from the other tables when no roster was given, sales derived from won deals, orphans reported.

Every row that is read ends up either in a table or in `Dataset.issues` with its source and row
number as Excel shows it; every sheet gets a `SourceInfo` saying what it became.
"""
from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.dataset import ISSUE_COLUMNS, ColumnMatch, Dataset, SourceInfo, empty_issues
from core.engine.rows import duplicated_rows
from core.errors import UserError
from core.fmt import key_words
from core.ingest import cleaning, currency, quota_sheet
from core.ingest.readers import RawSheet, ReadError, footer_text, read_file
from core.schema import (
    BOOL,
    DATE,
    DEFAULT_ROLE,
    FLOAT,
    STR,
    TABLE_ORDER,
    TABLES,
    UNASSIGNED,
    Column,
    Table,
    empty_table,
    pandas_dtype,
)

DERIVED_SALES_SOURCE = "derived: sales from won opportunities"
DERIVED_REPS_SOURCE = "derived: reps from the rep columns of the other tables"
REP_TABLES = ("sales", "quotas", "activities", "follow_ups", "opportunities", "training",
              "assessments", "incentives")
ACCOUNT_TABLES = ("sales", "activities", "follow_ups", "opportunities")
PRODUCT_TABLES = ("sales", "opportunities", "activities", "quotas")
EARLIEST = pd.Timestamp("1990-01-01")
EARLIEST_HIRE = pd.Timestamp("1950-01-01")
_GENERIC_NAMES = re.compile(r"^(?:sheet|tabelle|feuil|hoja|data|export|report|query|results?|table|"
                            r"page|untitled|book|workbook|download|file|list)\s*\d*$")
_DOC_NAMES = re.compile(r"^(?:read ?me|instructions?|notes?|about|help|(?:data )?dictionary|legend|"
                        r"info|documentation|cover|contents)$")
_FUZZY_CUTOFF = 0.88

# Required columns the loader can fill when the file has no such column.
_FILLABLE = {
    ("reps", "rep_id"): "rep_name", ("reps", "rep_name"): "rep_id",
    ("accounts", "account_id"): "account_name", ("accounts", "account_name"): "account_id",
    ("opportunities", "stage"): "status",
}
_DEFAULTABLE = {("reps", "region"), ("reps", "territory_id"), ("accounts", "territory_id"),
                ("opportunities", "opportunity_id"), ("opportunities", "created_date")}
# Required columns whose blank cells are allowed (warned once per sheet, not rejected):
# CRMs leave the created / engage date empty on early-stage deals.
_BLANK_ALLOWED = {("opportunities", "created_date")}
# Allowed ranges (low, high, low excluded?) and the reason a row outside them is rejected.
_RANGES = {("quotas", "quota"): (0, None, True, "must be greater than 0"),
           ("incentives", "payout"): (0, None, False, "must be 0 or more"),
           ("assessments", "rating"): (1, 5, False, "must be between 1 and 5"),
           ("expected_levels", "expected_rating"): (1, 5, False, "must be between 1 and 5"),
           ("training", "score"): (0, 100, False, "must be between 0 and 100")}
_VEEVA_STATUS = ("status", "call status", "status vod", "call status vod")
MAX_AMOUNT = 1e12   # a number this large (or infinite) in any numeric column is an error, not a value
_NO_VALUE = ("formula with no saved value: the workbook was saved without calculated values — "
             "open it in Excel and save it again, then upload it")


# --------------------------------------------------------------------------------------- issues
_SEQ = (pd.Series, pd.Index, np.ndarray, list, pd.api.extensions.ExtensionArray)


def _issues(table: str | None, source: str, rows: object, column: str | None, problem: object,
            value: object = "", kind: str = "rejected") -> pd.DataFrame:
    """Issue rows; `rows`, `problem` and `value` may be scalars or aligned sequences (rows None = n/a)."""
    n = max([len(x) for x in (rows, problem, value) if isinstance(x, _SEQ)], default=1)
    if n == 0:
        return empty_issues()
    if rows is None:
        row_values = [pd.NA] * n
    elif isinstance(rows, _SEQ):
        row_values = np.asarray(rows)
    else:
        row_values = [rows] * n
    frame = pd.DataFrame({
        "Table": table or "", "Source": source, "Row": pd.array(row_values, dtype="Int64"),
        "Column": column or "", "Problem": _strs(problem), "Value": _strs(value), "Kind": kind,
    }, index=range(n))
    return frame.astype({c: "str" for c in ISSUE_COLUMNS if c != "Row"})


def _strs(x: object) -> object:
    if isinstance(x, _SEQ):
        return pd.Series(np.asarray(x, dtype=object)).fillna("").astype("str").str.slice(0, 200).values
    return "" if x is None else str(x)


# --------------------------------------------------------------------------------------- matching
def _norm(text: object) -> str:
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cleaning.fold_lookalikes(str(text)))
    text = re.sub(r"(?i)\b__c\b|_c$", "", text)  # Salesforce custom-field suffix
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()


@functools.cache
def _names(col: Column) -> tuple[str, ...]:
    return (_norm(col.name), *(_norm(s) for s in col.synonyms))


_KNOWN = frozenset(n for t in TABLES.values() for c in t.columns for n in _names(c))


_KNOWN_COMPACT = frozenset(k.replace(" ", "") for k in _KNOWN)


def _is_known(label: str) -> bool:
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
        loose = _norm(label)
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
        fill_from = _FILLABLE.get((table.name, name))
        if name in have or (fill_from and fill_from in have) or (table.name, name) in _DEFAULTABLE:
            continue
        out.append(name)
    return out


def table_from_name(name: str) -> str | None:
    """The table a sheet or file name points to ("Sales Reps", "reps", "Roster" -> reps), if any."""
    loose = _norm(name)
    if not loose or _GENERIC_NAMES.match(loose):
        return None
    best, best_len = None, 0
    for table in TABLES.values():
        for syn in (table.name, *table.synonyms):
            s = _norm(syn)
            if loose == s or loose.replace(" ", "") == s.replace(" ", ""):
                return table.name
            if re.search(rf"\b{re.escape(s)}\b", loose) and len(s) > best_len:
                best, best_len = table.name, len(s)
    return best


def _column_fit(sheet: RawSheet, table: Table, user: dict | None) -> tuple[int, int, list[ColumnMatch]]:
    matches = match_columns(sheet.columns, table, user)
    used = [m for m in matches if m.canonical]
    feasible = not missing_required(table, matches) and len(used) >= 2
    n_required = sum(m.canonical in table.required for m in used)
    return (int(feasible), len(used) + n_required), n_required, matches


def choose_table(sheet: RawSheet, overrides: _Overrides) -> tuple[str | None, list[ColumnMatch], str]:
    """The table a sheet becomes, its column matches, and how the table was chosen."""
    user_cols = overrides.columns.get(sheet.source)
    if sheet.source in overrides.tables:
        chosen = overrides.tables[sheet.source]
        if chosen not in TABLES:
            return None, [ColumnMatch(c, None, "unused") for c in sheet.columns], "ignored (your choice)"
        return chosen, match_columns(sheet.columns, TABLES[chosen], user_cols), "chosen by you"
    if _DOC_NAMES.match(_norm(sheet.name)):
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


@dataclass
class _Overrides:
    tables: dict[str, str | None] = field(default_factory=dict)
    columns: dict[str, dict[str, str | None]] = field(default_factory=dict)
    fiscal_start: int = 1                       # Settings.ingest_options(): the fiscal calendar,
    currency: dict = field(default_factory=dict)   # the reporting currency and the user's rates,
    quota_files: tuple[str, ...] = ()           # files read as quotas whatever their shape,
    seasonality: tuple[float, ...] = ()         # and the monthly weights of yearly quotas

    @classmethod
    def parse(cls, raw: dict | None) -> _Overrides:
        raw = raw or {}
        return cls(dict(raw.get("tables") or {}), {k: dict(v) for k, v in (raw.get("columns") or {}).items()},
                   int(raw.get("fiscal_start") or 1), dict(raw.get("currency") or {}),
                   tuple(raw.get("quota_files") or ()), tuple(raw.get("seasonality") or ()))


# --------------------------------------------------------------------------------------- loading
@dataclass
class _Loaded:
    frame: pd.DataFrame                      # canonical columns + _source, _row
    issues: list[pd.DataFrame]
    notes: list[str]


def _type_name(col: Column) -> str:
    return {DATE: "a date", FLOAT: "a number", BOOL: "yes/no"}.get(col.dtype, "text")


def _parse_column(col: Column, raw: pd.Series) -> cleaning.Parsed:
    if col.name == "zip":
        return cleaning.parse_zip(raw)
    if col.name == "period":
        return cleaning.parse_period_label(raw)
    if col.dtype == DATE:
        return cleaning.parse_date(raw)
    if col.dtype == FLOAT:
        return cleaning.parse_number(raw)
    if col.dtype == BOOL:
        return cleaning.parse_bool(raw)
    text = cleaning.to_text(raw)
    if col.name == "activity_type":
        return cleaning.Parsed(cleaning.activity_type(text), pd.Series(False, index=raw.index))
    if col.name == "status":
        return cleaning.Parsed(cleaning.normalise_status(text), pd.Series(False, index=raw.index))
    if col.name == "contact_role":
        return cleaning.contact_role(text)
    return cleaning.Parsed(text, pd.Series(False, index=raw.index))


def _date_limits(col: Column, values: pd.Series, today: pd.Timestamp) -> tuple[pd.Series, str]:
    floor = EARLIEST_HIRE if col.name == "hire_date" else EARLIEST
    latest = today + pd.DateOffset(years=1)
    out = values.notna() & ((values < floor) | (values > latest))
    return out, f"date before {floor.year} or more than a year in the future"


def _range_check(table: str, col: Column, values: pd.Series) -> tuple[pd.Series, str]:
    if (table, col.name) not in _RANGES:
        return pd.Series(False, index=values.index), ""
    lo, hi, lo_excluded, reason = _RANGES[(table, col.name)]
    bad = (values <= lo) if lo_excluded else (values < lo)
    if hi is not None:
        bad |= values > hi
    return bad.fillna(False).astype(bool), reason


def load_sheet(sheet: RawSheet, table: Table, matches: Sequence[ColumnMatch],
               today: pd.Timestamp) -> _Loaded:
    """Parse a matched sheet into canonical columns; reject rows that cannot be used."""
    data, src, issues, notes = sheet.data, sheet.source, [], []
    mapping = {m.canonical: m.source_column for m in matches if m.canonical}
    frame = pd.DataFrame(index=data.index)
    reject = pd.Series(False, index=data.index)
    for col in table.columns:
        if col.name not in mapping:
            continue
        raw = data[mapping[col.name]]
        parsed = _parse_column(col, raw)
        values = parsed.values
        label = f"{mapping[col.name]} → {col.name}"
        if parsed.note:
            issues.append(_issues(table.name, src, None, mapping[col.name], parsed.note, "", "ambiguous"))
        shown = _Shown(raw)
        bad = parsed.bad.copy()
        values = _screen(table.name, col, mapping, sheet, parsed, shown, issues, reject)
        if col.dtype == DATE:
            out_of_range, why = _date_limits(col, values, today)
            _flag(issues, table.name, src, col, mapping, out_of_range, why, shown, reject)
            values = values.mask(out_of_range)
        if col.dtype == FLOAT:
            out_of_range, why = _range_check(table.name, col, values)
            if out_of_range.any():
                issues.append(_issues(table.name, src, data.index[out_of_range], mapping[col.name],
                                      f"{col.name} {why}", shown[out_of_range]))
                reject |= out_of_range
        if bad.any():
            kind = "rejected" if col.required and (table.name, col.name) not in _BLANK_ALLOWED else "warning"
            why = f"cannot read as {_type_name(col)}" + ("" if kind == "rejected" else "; left blank")
            issues.append(_issues(table.name, src, data.index[bad], label, why, shown[bad], kind))
            if kind == "rejected":
                reject |= bad
        frame[col.name] = values
    _fill_columns(table, frame, mapping, src, issues, notes)
    if table.name == "opportunities":
        frame["status"] = frame["status"].fillna(cleaning.status_from_stage(frame["stage"]))
    if table.name == "assessments":
        frame["assessor"] = frame["assessor"].str.lower().fillna("manager")
    if table.name == "reps":
        frame["role"] = frame["role"].fillna(DEFAULT_ROLE)
        if "rep_id" not in mapping:
            issues.extend(_namesakes_apart(frame, src, reject))
    for name in table.required:
        blank = frame[name].isna() & ~reject
        if not blank.any():
            continue
        if (table.name, name) in _BLANK_ALLOWED:
            rows = data.index[blank]
            issues.append(_issues(table.name, src, rows[0], mapping.get(name, name),
                                  f"{int(blank.sum()):,} rows have no {key_words(name)} (rows {_row_list(rows)}); "
                                  "kept, left out of measures that need it", "", "warning"))
            continue
        issues.append(_issues(table.name, src, data.index[blank], mapping.get(name, name),
                              f"missing {name} (required)"))
        reject |= blank
    frame, dropped = _veeva_submitted(table, frame, sheet, matches, reject)
    issues.extend(dropped)
    issues = _set_footers_apart(sheet, table.name, mapping, reject, issues)
    unmapped = tuple(m.source_column for m in matches if not m.canonical)
    frame["_others"] = _source_key(data, matches)
    frame = frame[~reject]
    frame["_source"] = src
    frame["_row"] = frame.index.astype("int64")
    frame.attrs["unmapped"] = {src: unmapped}
    return _Loaded(frame, issues, notes)


def _screen(table: str, col: Column, mapping: dict, sheet: RawSheet, parsed: cleaning.Parsed,
            shown: _Shown, issues: list, reject: pd.Series) -> pd.Series:
    """Values no one can use, each reported with what to do: formulas saved without their value,
    a system's "no date" (9999-12-31), and infinite or absurd numbers (|x| >= 1e12). Returns the
    values with those cells blank; rows missing a required value are rejected."""
    values = parsed.values
    source = mapping[col.name]
    formulas = sheet.no_value.get(source)
    if formulas is not None:
        uncached = pd.Series(values.index.isin(formulas), index=values.index) & values.isna()
        _flag(issues, table, sheet.source, col, mapping, uncached, _NO_VALUE, shown, reject)
    if parsed.no_date is not None and parsed.no_date.any():
        why = ("a system's 'no date' value (like the ERP 'end of time' 9999-12-31); read as no date" +
               (f" — this row needs a real {col.name}: fill it in" if col.required else ""))
        _flag(issues, table, sheet.source, col, mapping, parsed.no_date, why, shown, reject)
    if col.dtype == FLOAT:
        absurd = values.notna() & ~(values.abs() < MAX_AMOUNT)
        _flag(issues, table, sheet.source, col, mapping, absurd,
              f"not a usable {col.name}: infinite or 1,000,000,000,000 or more — check the cell "
              "(a formula error or a mistyped exponent?)", shown, reject)
        values = values.mask(absurd)
    return values


def _namesakes_apart(reps: pd.DataFrame, src: str, reject: pd.Series) -> list[pd.DataFrame]:
    """A roster without ids whose rep ids were made from names: two people of one name in two
    regions (or territories) are two reps, so their ids become "John Smith (East)" and
    "John Smith (West)" instead of one id for both; reported as ambiguous with their rows."""
    ok = reps[~reject & reps["rep_name"].notna()]
    key = cleaning.person_key(ok["rep_name"])
    places = ok.groupby(key)[["region", "territory_id"]].nunique()
    shared = places.index[(places > 1).any(axis=1)]
    issues = []
    for k in shared:
        rows = ok[key.eq(k)]
        by = "region" if rows["region"].nunique() > 1 else "territory_id"
        ids = rows["rep_name"] + " (" + rows[by].fillna("?") + ")"
        reps.loc[rows.index, "rep_id"] = ids
        issues.append(_issues("reps", src, rows.index, "rep_name",
                              f"{len(rows)} reps are named '{rows['rep_name'].iat[0]}' in different "
                              f"{'regions' if by == 'region' else 'territories'} and the roster has no rep id: "
                              "kept apart as " + ", ".join(f"'{i}'" for i in ids.unique()) +
                              ". Rows elsewhere that give only this name cannot be told apart — add a rep id "
                              "column to the roster and the files", ids, "ambiguous"))
    return issues


def _set_footers_apart(sheet: RawSheet, table: str, mapping: dict, reject: pd.Series,
                       issues: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Decide the rows at the end of a sheet that read like report footers ("Grand Totals",
    "Confidential Information"): one with no valid data (rejected, or nothing but its label where
    rows hold several cells) is skipped as a footer, its other problems unlisted; one with valid
    data is an account or rep that happens to be named so ("Copyright Clearance Center"): kept,
    with a warning. Marks the skipped rows in `reject`; returns the issues."""
    candidates = sheet.footer
    if not len(candidates):
        return issues
    cells = sheet.data[list(dict.fromkeys(mapping.values()))]
    filled = pd.DataFrame({c: ~cleaning.is_blank(cells[c].iloc[:2000]) for c in cells.columns}).sum(axis=1)
    typical = filled.drop(candidates, errors="ignore").median()
    mine = pd.DataFrame({c: ~cleaning.is_blank(cells.loc[candidates, c]) for c in cells.columns}).sum(axis=1)
    label_only = mine.le(1) & (typical > 1 if pd.notna(typical) else False)
    footers = candidates[(reject.loc[candidates] | label_only).to_numpy()]
    text = footer_text(sheet)
    out = [i[~i["Row"].isin(footers)] if len(footers) else i for i in issues]
    if len(footers):
        reject.loc[footers] = True
        out.append(_issues(table, sheet.source, footers, None,
                           "report footer / total row with no data of its own; skipped", text[footers], "info"))
    kept = candidates.difference(footers)
    if len(kept):
        out.append(_issues(table, sheet.source, kept, None,
                           "reads like a report footer or total line but holds valid data, so it was "
                           "kept; remove it from the file if it is a total", text[kept], "warning"))
    return out


def _source_key(data: pd.DataFrame, matches: Sequence[ColumnMatch]) -> np.ndarray:
    """Per row, one number for every cell of the source row as written, mapped columns or not:
    rows that agree on every loaded value but differ in the file (an invoice number, a currency,
    an attendee type both read as "user") are different rows, not duplicates.

    Loaded columns are keyed by the column they fill (so "Revenue" and "Amount" headers compare),
    the others by their header; numbers and dates of workbook cells are compared as text, so a
    CSV and a workbook of the same rows agree.
    """
    ordered = sorted((m.canonical or "", m.source_column if not m.canonical else "", m.source_column)
                     for m in matches if not _kept_as_written(m.canonical))
    names = "\x1f".join(f"{canonical}={other}" for canonical, other, _ in ordered)
    key = np.full(len(data), int.from_bytes(hashlib.blake2b(names.encode(), digest_size=8).digest(), "little"),
                  dtype=np.uint64)
    for *_, src in ordered:
        key = key * np.uint64(0x9E3779B97F4A7C15) + _text_hash(cleaning.to_text(data[src]))
    return key


def _kept_as_written(canonical: str | None) -> bool:
    """Does the loaded column hold its source text exactly (names, ids, free text), so that
    comparing the loaded value already compares the source cell? Labels read into a few values
    (activity type, status, contact role), numbers and dates do not."""
    if canonical is None or canonical in ("activity_type", "status", "contact_role", "zip", "period"):
        return False
    return all(c.dtype == STR for t in TABLES.values() for c in t.columns
               if c.name == canonical)


def _text_hash(s: pd.Series) -> np.ndarray:
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


class _Shown:
    """The cells of a raw column as text, converted only for the rows an issue reports."""

    def __init__(self, raw: pd.Series) -> None:
        self.raw = raw

    def __getitem__(self, mask: pd.Series) -> pd.Series:
        return cleaning.to_text(self.raw[mask])


def _flag(issues: list, table: str, src: str, col: Column, mapping: dict, bad: pd.Series, why: str,
          shown: pd.Series, reject: pd.Series) -> None:
    if not bad.any():
        return
    hard = col.required and (table, col.name) not in _BLANK_ALLOWED
    issues.append(_issues(table, src, bad[bad].index, mapping[col.name],
                          why + ("" if hard else "; left blank"), shown[bad],
                          "rejected" if hard else "warning"))
    if hard:
        reject |= bad


def _row_list(rows: pd.Index, limit: int = 5) -> str:
    head = ", ".join(str(r) for r in rows[:limit])
    return head + (", …" if len(rows) > limit else "")


def _fill_columns(table: Table, frame: pd.DataFrame, mapping: dict, src: str,
                  issues: list, notes: list) -> None:
    """Fill required columns the sheet lacks: from a sibling column, a default, or row numbers."""
    for name in table.required:
        if name in frame:
            continue
        sibling = _FILLABLE.get((table.name, name))
        if sibling and sibling in frame:
            frame[name] = frame[sibling]
            notes.append(f"{name} taken from {sibling}")
        elif (table.name, name) in _DEFAULTABLE:
            frame[name] = _default(table, name, frame, src)
            problem = (f"no {key_words(name)} column; " +
                       ("every row set to 'Unassigned'" if name in ("region", "territory_id")
                        else "ids made from the source and row number" if name == "opportunity_id"
                        else "left blank"))
            issues.append(_issues(table.name, src, None, name, problem, "", "warning"))
    for col in table.columns:
        if col.name not in frame:
            frame[col.name] = pd.Series(index=frame.index, dtype=pandas_dtype(col))


def _default(table: Table, name: str, frame: pd.DataFrame, src: str) -> pd.Series:
    if name in ("region", "territory_id"):
        return pd.Series(UNASSIGNED, index=frame.index, dtype="str")
    if name == "opportunity_id":
        return pd.Series(src + " #" + frame.index.astype("str"), index=frame.index, dtype="str")
    return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")


def _veeva_submitted(table: Table, frame: pd.DataFrame, sheet: RawSheet, matches: Sequence[ColumnMatch],
                     reject: pd.Series) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Veeva call exports: only submitted calls happened; saved / planned ones are set apart."""
    if table.name != "activities":
        return frame, []
    status_col = next((m.source_column for m in matches
                       if m.canonical is None and _norm(m.source_column) in _VEEVA_STATUS), None)
    if status_col is None:
        return frame, []
    status = cleaning.to_text(sheet.data[status_col])
    not_submitted = ~status.str.lower().eq("submitted").fillna(False) & ~reject
    if not not_submitted.any():
        return frame, []
    issue = _issues(table.name, sheet.source, sheet.data.index[not_submitted], status_col,
                    "call not submitted; only submitted calls count", status[not_submitted], "info")
    reject |= not_submitted
    return frame, [issue]


# --------------------------------------------------------------------------------------- combining
def _combine(name: str, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
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
    twins = duplicated_rows(frame, [*cols, "_others"] if "_others" in frame else cols, keep=False)
    if twins.any():
        every = [*cols, "_others"] if "_others" in frame else cols
        group = frame[twins]
        first = group.groupby(every, dropna=False, sort=False)[["_source", "_row"]].transform("first")
        extra = duplicated_rows(group, every, keep="first")
        for src, part in group[extra].groupby("_source", sort=False):
            f = first.loc[part.index]
            issues.append(_issues(name, src, part["_row"], "", "exact duplicate row (the same in every "
                                  "column of the file); kept once",
                                  "same as row " + f["_row"].astype("str") + " of " + f["_source"],
                                  "duplicate"))
        drop[np.flatnonzero(twins.to_numpy())[extra.to_numpy()]] = True
    issues.extend(_near_duplicates(name, frame, drop, unmapped))
    if table.key:
        # The first row of each id is never an exact duplicate (its twin would come before it).
        key = frame[table.key]
        repeat = key.duplicated(keep="first") & key.notna() & ~drop
        if repeat.any():
            first_src = frame.drop_duplicates(table.key).set_index(table.key)[["_source", "_row"]]
            for src, part in frame[repeat].groupby("_source", sort=False):
                f = first_src.loc[part[table.key]]
                issues.append(_issues(name, src, part["_row"], table.key,
                                      f"{table.key} appears more than once; the first is kept (row " +
                                      f["_row"].astype("str").values + " of " + f["_source"].values + ")",
                                      part[table.key], "duplicate"))
            drop |= repeat.to_numpy()
    kept = frame[~drop] if drop.any() else frame
    return kept.reset_index(drop=True), issues


def _near_duplicates(name: str, frame: pd.DataFrame, drop: np.ndarray,
                     unmapped: dict[str, tuple[str, ...]]) -> list[pd.DataFrame]:
    """Rows the same in every loaded column but not in the source (a column that is not loaded,
    such as an invoice number or a currency, or a label read into the same value, such as two
    attendee types both read as "user"): different rows, both kept; each one warned with the row
    it resembles, so a person can check."""
    if "_others" not in frame:
        return []
    cols = TABLES[name].column_names
    kept = frame[~drop] if drop.any() else frame
    alike = kept.duplicated(cols, keep=False)
    if not alike.any():
        return []
    group = kept[alike]
    first = group.groupby(cols, dropna=False, sort=False)[["_source", "_row"]].transform("first")
    later = group.duplicated(cols, keep="first")
    issues = []
    for src, part in group[later].groupby("_source", sort=False):
        f = first.loc[part.index]
        extra = ", ".join(unmapped.get(src, ())[:6])
        where = f"a column not loaded ({extra}) or" if extra else ""
        issues.append(_issues(name, src, part["_row"], extra,
                              f"same as another row in every column used, but the rows differ in {where} the "
                              "way a value is written; both kept as different rows — check they are not one "
                              "row entered twice",
                              "same as row " + f["_row"].astype("str") + " of " + f["_source"], "warning"))
    return issues


# --------------------------------------------------------------------------------------- linking
def _isin(col: pd.Series, values: set[str]) -> pd.Series:
    """col.isin(values) for a text column against many ids, in one pyarrow hash lookup (pandas
    converts each of the values to a pyarrow scalar first, which dominates for 20,000 accounts)."""
    arr = getattr(col.array, "_pa_array", None)
    if arr is None or not all(isinstance(v, str) for v in values):
        return col.isin(values)
    import pyarrow as pa
    import pyarrow.compute as pc

    hit = pc.is_in(arr, value_set=pa.array(list(values), type=arr.type)).fill_null(False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=col.index)


def _loose_key(s: pd.Series) -> pd.Series:
    return s.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()


def _map_names_to_ids(tables: dict[str, pd.DataFrame], ref: pd.DataFrame, id_col: str, name_col: str,
                      targets: Sequence[str], what: str,
                      key: Callable[[pd.Series], pd.Series] | None = None,
                      where: str = "") -> tuple[list[pd.DataFrame], set[str]]:
    """Replace names used as ids (e.g. "Opportunity Owner" = a rep's name) by the roster's ids,
    matched through `key` (for people: case, spacing, accents, "Last, First").

    A name that `key` finds under two or more ids (two "John Smith"s, in two regions) is never
    matched to either: its rows are reported as ambiguous and kept as they are. Returns the
    issues and the ambiguous values (so they are not reported again as orphans).
    """
    key = key or _loose_key
    ids = set(ref[id_col].dropna())
    lookup = pd.concat([pd.Series(ref[id_col].values, index=key(ref[name_col]).values),
                        pd.Series(ref[id_col].values, index=key(ref[id_col]).values)]).dropna()
    lookup = lookup[lookup.index.notna()]
    owners = lookup.groupby(level=0).nunique()
    shared = set(owners.index[owners > 1])
    lookup = lookup[~lookup.index.duplicated() & ~lookup.index.isin(shared)]
    issues, ambiguous = [], set()
    for name in targets:
        t = tables.get(name)
        if t is None or id_col not in t:
            continue
        unknown = t[id_col].notna() & ~_isin(t[id_col], ids)
        keys = key(t.loc[unknown, id_col])
        mapped = keys.map(lookup)
        hit = mapped.notna()
        if hit.any():
            t.loc[hit[hit].index, id_col] = mapped[hit]
            issues.append(_issues(name, "", None, id_col,
                                  f"{int(hit.sum()):,} rows name the {what} instead of giving its id; "
                                  f"matched to the {what} list", "", "info"))
        unclear = keys.isin(shared)
        if unclear.any():
            part = t.loc[unclear[unclear].index]
            ambiguous |= set(part[id_col])
            issues.extend(_ambiguous_names(name, part, id_col, ref, key, where, what))
    return issues, ambiguous


def _ambiguous_names(name: str, part: pd.DataFrame, id_col: str, ref: pd.DataFrame,
                     key: Callable[[pd.Series], pd.Series], where: str, what: str) -> list[pd.DataFrame]:
    """One issue per source and name: the rows naming a person the list has more than once."""
    name_col = f"{what}_name"
    who = ref.assign(_key=key(ref[name_col]) if name_col in ref else key(ref[id_col]))
    out = []
    for (src, value), rows in part.groupby(["_source", id_col], sort=False)["_row"]:
        same = who[who["_key"].eq(key(pd.Series([value])).iat[0])]
        options = ", ".join(i if not p or i.endswith(f"({p})") else f"{i} ({p})" for i, p in
                            zip(same[id_col].astype("str"), same[where].astype("str") if where in same else
                                [""] * len(same), strict=False))
        out.append(_issues(name, src, rows.iat[0], id_col,
                           f"'{value}' is the name of more than one {what} in the {what} list ({options}); "
                           f"{len(rows):,} row(s) (rows {_row_list(pd.Index(rows))}) were given to none "
                           f"of them — put the {what}'s id in the file to tell them apart", value, "ambiguous"))
    return out


def _canonical_reps(tables: dict[str, pd.DataFrame], unclear: set[str]) -> list[pd.DataFrame]:
    """One spelling per person among the rep values the roster does not hold (all of them when
    there is no roster): "Smith, John", "JOHN SMITH" and "John  Smith" become the most used plain
    spelling; "JosÃ© MÃ¼ller" becomes "José Müller". Each change is a warning with its rows."""
    present = [n for n in REP_TABLES if n in tables and len(tables[n])]
    if not present:
        return []
    ids = set(tables["reps"]["rep_id"].dropna()) if _has_rows(tables, "reps") else set()
    values = pd.concat([tables[n]["rep_id"] for n in present], ignore_index=True)
    values = values[values.notna() & ~_isin(values, ids | unclear)]
    mapping = cleaning.canonical_spellings(values, key=cleaning.person_key)
    if not mapping:
        return []
    issues = []
    for name in present:
        t = tables[name]
        hit = _isin(t["rep_id"], set(mapping))
        if not hit.any():
            continue
        for (src, value), rows in t[hit].groupby(["_source", "rep_id"], sort=False)["_row"]:
            issues.append(_issues(name, src, rows.iat[0], "rep_id",
                                  f"rep written '{value}' read as '{mapping[value]}', the same name written "
                                  f"another way ({len(rows):,} rows: {_row_list(pd.Index(rows))})",
                                  f"{value} → {mapping[value]}", "warning"))
        t.loc[hit, "rep_id"] = t.loc[hit, "rep_id"].map(mapping)
    return issues


def _derive_reps(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    columns = [tables[n]["rep_id"] for n in REP_TABLES if n in tables]
    if not columns:
        return empty_table("reps")
    ids = pd.concat(columns, ignore_index=True)
    ids = pd.Series(ids.dropna().unique(), dtype="str").sort_values(ignore_index=True)
    reps = empty_table("reps").reindex(range(len(ids)))
    reps["rep_id"] = ids
    reps["rep_name"] = ids
    reps["region"] = UNASSIGNED
    reps["territory_id"] = UNASSIGNED
    reps["role"] = DEFAULT_ROLE
    return reps


def _canonical_products(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Match product spellings that differ only in spacing, case or punctuation ("GTXPro" -> "GTX Pro")."""
    present = [n for n in PRODUCT_TABLES if n in tables]
    if not present:
        return []
    values = pd.concat([tables[n]["product"] for n in present], ignore_index=True)
    reference = tables["products"]["product"] if "products" in tables else None
    mapping = cleaning.canonical_spellings(values, reference)
    issues = []
    if not mapping:
        return issues
    for name in present:
        col = tables[name]["product"]
        hit = col.isin(list(mapping))
        if not hit.any():
            continue
        counts = col[hit].value_counts()
        issues.append(_issues(name, "", None, "product",
                              [f"product spelled '{v}' matched to '{mapping[v]}'" for v in counts.index],
                              [f"{v} → {mapping[v]}, {n:,} rows" for v, n in counts.items()], "info"))
        tables[name]["product"] = col.replace(mapping)
    return issues


def _sales_from_won(opps: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    won = opps[opps["status"].eq("won")]
    usable = won["close_date"].notna() & won["amount"].notna()
    issues = []
    for src, part in won[~usable].groupby("_source", sort=False):
        issues.append(_issues("sales", src, part["_row"], "close_date / amount",
                              "won deal without close date or amount; not counted as a sale",
                              part["opportunity_id"], "warning"))
    won = won[usable]
    sales = pd.DataFrame({"date": won["close_date"], "rep_id": won["rep_id"], "account_id": won["account_id"],
                          "product": won["product"], "revenue": won["amount"],
                          "units": np.nan, "_source": DERIVED_SALES_SOURCE, "_row": won["_row"]})
    return sales.reset_index(drop=True), issues


def _orphans(tables: dict[str, pd.DataFrame], ref_table: str, column: str, targets: Sequence[str],
             what: str, reported: Iterable[str] = ()) -> list[pd.DataFrame]:
    """Rows that refer to ids missing from a table the user uploaded: reported, kept (except the
    `reported` values, already listed as ambiguous)."""
    known = set(tables[ref_table][column].dropna()) | set(reported)
    issues = []
    for name in targets:
        t = tables.get(name)
        if t is None or column not in t:
            continue
        orphan = t[column].notna() & ~_isin(t[column], known)
        if not orphan.any():
            continue
        part = t[orphan]
        summary = part.groupby(["_source", column], sort=False)["_row"].agg(["first", "size"]).reset_index()
        for src, group in summary.groupby("_source", sort=False):
            issues.append(_issues(name, src, group["first"], column,
                                  what + " '" + group[column] + "' is not in " + ref_table + " (" +
                                  group["size"].map("{:,}".format) + " rows); kept",
                                  group[column], "orphan"))
    return issues


# --------------------------------------------------------------------------------------- entry points
@dataclass
class _SourceDraft:
    """What became of one file or sheet; holds no rows, so the raw cells are freed once loaded."""

    read: bool                  # False: the file could not be read at all
    source: str
    table: str | None
    matches: tuple[ColumnMatch, ...] = ()
    header_row: int = 1
    rows_read: int = 0
    how: str = ""
    notes: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    labels: str = ""            # header, first cells and footers of a sheet that was not loaded


def _load_files(files: Iterable[tuple[str, bytes]], chosen: _Overrides, today: pd.Timestamp,
                pieces: dict[str, list[pd.DataFrame]]) -> tuple[list[_SourceDraft], list]:
    """Read and load one file at a time, so only one file's raw cells are alive at once.

    Files that cannot be read come first in the drafts and issues, as they are listed first.
    """
    failed, drafts, failed_issues, issues = [], [], [], []
    for name, data in files:
        try:
            read = read_file(name, data, _is_known)
        except ReadError as err:
            failed_issues.append(_issues(None, name, None, None, str(err), "", "rejected"))
            failed.append(_SourceDraft(False, name, None, notes=[str(err)]))
            continue
        count = len(read)
        while read:
            sheet = read.pop(0)
            sheet.sheet_count = count
            drafts.append(_load_one(sheet, chosen, today, pieces, issues))
    return failed + drafts, failed_issues + issues


def ingest(files: Sequence[tuple[str, bytes]], overrides: dict | None = None) -> Dataset:
    """Turn uploaded files (name, bytes) into a Dataset of canonical tables plus a full issue report.

    Raises UserError only when nothing usable is left (no sales and no opportunities).
    """
    if not files:
        raise UserError("No files were given. Upload a workbook or CSV files with your sales data.")
    return _ingest(files, overrides)


def _ingest(files: Iterable[tuple[str, bytes]], overrides: dict | None,
            sheets: Iterable[RawSheet] = ()) -> Dataset:
    today = pd.Timestamp.today().normalize()
    pieces: dict[str, list[pd.DataFrame]] = {}
    chosen = _Overrides.parse(overrides)
    drafts, issues = _load_files(files, chosen, today, pieces)
    drafts += [_load_one(sheet, chosen, today, pieces, issues) for sheet in sheets]
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_ORDER:
        if name in pieces:
            tables[name], dup_issues = _combine(name, pieces.pop(name))
            issues.extend(dup_issues)
    extra_sources = _link(tables, issues)
    if not _has_rows(tables, "sales") and not _has_rows(tables, "opportunities"):
        raise UserError(_nothing_to_sell(drafts))
    sources = _finish_sources(drafts, tables) + extra_sources
    issues_frame = pd.concat([empty_issues(), *issues], ignore_index=True) if issues else empty_issues()
    final = {name: _canonical(name, tables.pop(name)) for name in list(tables)}
    return Dataset(tables=final, issues=issues_frame.astype({"Row": "Int64"}), sources=sources)


def ingest_paths(paths: Sequence[str | Path], overrides: dict | None = None) -> Dataset:
    """Read files from disk and ingest them, one file's bytes in memory at a time."""
    if not paths:
        raise UserError("No files were given. Upload a workbook or CSV files with your sales data.")
    return _ingest(((Path(p).name, Path(p).read_bytes()) for p in paths), overrides)


def ingest_sheets(files: Iterable[tuple[str, bytes]], sheets: Iterable[RawSheet],
                  overrides: dict | None = None) -> Dataset:
    """As ingest, plus sheets that are read already (database tables, Parquet files: core.ingest.sources),
    taken one at a time from `sheets` and validated by the same rules as uploaded sheets."""
    return _ingest(files, overrides, sheets)


def _has_rows(tables: dict[str, pd.DataFrame], name: str) -> bool:
    return name in tables and len(tables[name]) > 0


def _load_one(sheet: RawSheet, chosen: _Overrides, today: pd.Timestamp,
              pieces: dict[str, list[pd.DataFrame]], issues: list) -> _SourceDraft:
    table_name, matches, how = choose_table(sheet, chosen)
    sheet, table_name, matches, how = _quota_shapes(sheet, table_name, matches, how, chosen, issues)
    draft = _SourceDraft(True, sheet.source, table_name, tuple(matches), sheet.header_row,
                         sheet.rows_read, how, columns=tuple(sheet.columns))
    issues.append(_issues(table_name, sheet.source, sheet.dropped["Row"], None, sheet.dropped["Problem"],
                          sheet.dropped["Value"], "info"))
    if sheet.duplicate_columns:
        issues.append(_issues(table_name, sheet.source, sheet.header_row, ", ".join(sheet.duplicate_columns),
                              "column name appears more than once; later copies renamed "
                              "'<name> (2)' and only the best match is used", "", "warning"))
    issues.extend(_sheet_warnings(sheet, table_name, matches))
    if table_name is None:
        draft.labels = _labels(sheet)
        if sheet.rows_read:
            kind = "info" if how.startswith("ignored") else "warning"
            issues.append(_issues(None, sheet.source, None, None,
                                  f"{how}: this sheet was not loaded ({sheet.rows_read:,} rows). "
                                  "Choose its table on the Data page if it should be used.",
                                  ", ".join(sheet.columns[:12]), kind))
        return draft
    table = TABLES[table_name]
    missing = missing_required(table, matches)
    if missing:
        issues.append(_issues(table_name, sheet.source, None, ", ".join(missing),
                              f"required column(s) {', '.join(missing)} not found, so this sheet was not "
                              f"loaded as {table_name}. Rename the column(s) or match them on the Data page.",
                              ", ".join(sheet.columns[:12]), "rejected"))
        draft.notes.append(f"not loaded as {table_name}: required column(s) {', '.join(missing)} not found")
        return draft
    sheet, notes = currency.to_reporting(sheet, matches, chosen.currency.get("reporting", currency.DEFAULT),
                                         chosen.currency.get("rates"))
    issues.extend(n.assign(Table=table_name) for n in notes)
    loaded = load_sheet(sheet, table, matches, today)
    issues.extend(loaded.issues)
    draft.notes.extend(loaded.notes)
    pieces.setdefault(table_name, []).append(loaded.frame)
    return draft


def _sheet_warnings(sheet: RawSheet, table: str | None, matches: Sequence[ColumnMatch]) -> list[pd.DataFrame]:
    """What a person should know about a whole sheet: it was hidden in the workbook, its text
    mixed encodings, a header holds letters of another alphabet that only look Latin."""
    out = [_issues(table, sheet.source, None, None, note, "", "warning") for note in sheet.notes]
    if sheet.hidden:
        fate = f"loaded as {table}" if table else "not loaded"
        out.append(_issues(table, sheet.source, None, None,
                           f"this sheet is {sheet.hidden} in the workbook; its {sheet.rows_read:,} rows were "
                           f"read ({fate}). If it is an old copy or a helper sheet, choose 'ignore' for it "
                           "on the Data page.", sheet.name, "warning"))
    for m in matches:
        odd = cleaning.lookalike_letters(m.source_column)
        if odd:
            read = f"read as '{cleaning.fold_lookalikes(m.source_column)}'" + \
                (f" and matched to {m.canonical}" if m.canonical else ", which matches no known column")
            out.append(_issues(table, sheet.source, sheet.header_row, m.source_column,
                               f"the header holds letters of another alphabet that look like Latin ones "
                               f"({', '.join(repr(c) for c in odd)}); {read}. Retype the header to be sure.",
                               m.source_column, "warning"))
    return out


def _quota_shapes(sheet: RawSheet, table_name: str | None, matches: list[ColumnMatch], how: str,
                  chosen: _Overrides, issues: list) -> tuple[RawSheet, str | None, list[ColumnMatch], str]:
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


def _link(tables: dict[str, pd.DataFrame], issues: list) -> list[SourceInfo]:
    """Cross-table steps; returns SourceInfo rows for derived tables."""
    extra = []
    roster = _has_rows(tables, "reps")
    unclear_reps: set[str] = set()
    if roster:
        found, unclear_reps = _map_names_to_ids(tables, tables["reps"], "rep_id", "rep_name", REP_TABLES,
                                                "rep", cleaning.person_key, "region")
        issues.extend(found)
    issues.extend(_canonical_reps(tables, unclear_reps))
    if _has_rows(tables, "accounts"):
        found, unclear_accounts = _map_names_to_ids(tables, tables["accounts"], "account_id", "account_name",
                                                    ACCOUNT_TABLES, "account", where="territory_id")
        issues.extend(found)
    issues.extend(_canonical_products(tables))
    named = [tables[n]["rep_id"] for n in REP_TABLES if n in tables and n != "quotas"]
    if not roster and named and _has_rows(tables, "quotas"):     # quota sheets name reps as the export does
        owners = pd.DataFrame({"rep_id": pd.concat(named).dropna().unique()}).astype("str")
        found, _ = _map_names_to_ids(tables, owners.assign(rep_name=owners["rep_id"]), "rep_id", "rep_name",
                                     ("quotas",), "rep", cleaning.person_key)
        issues.extend(found)
    if _has_rows(tables, "quotas"):
        tables["quotas"], repeated = quota_sheet.repeated_quotas(tables["quotas"])
        issues.extend(repeated)
    if not _has_rows(tables, "sales") and _has_rows(tables, "opportunities"):
        tables["sales"], sale_issues = _sales_from_won(tables["opportunities"])
        issues.extend(sale_issues)
        extra.append(SourceInfo(DERIVED_SALES_SOURCE, "sales", len(tables["sales"]),
                                note="No sales table was uploaded: each won opportunity counts as a sale "
                                     "of its amount on its close date (rep, account and product kept)."))
    if not roster:
        reps = _derive_reps(tables)
        if len(reps):
            tables["reps"] = reps.assign(_source=DERIVED_REPS_SOURCE, _row=0)
            extra.append(SourceInfo(DERIVED_REPS_SOURCE, "reps", len(reps),
                                    note="No reps roster was uploaded: reps are the people named in the rep "
                                         "columns of the other tables, with region and territory "
                                         f"'{UNASSIGNED}'."))
    else:
        issues.extend(_orphans(tables, "reps", "rep_id", REP_TABLES, "rep", unclear_reps))
    if _has_rows(tables, "accounts"):
        issues.extend(_orphans(tables, "accounts", "account_id", ACCOUNT_TABLES, "account", unclear_accounts))
    if _has_rows(tables, "territories"):
        issues.extend(_orphans(tables, "territories", "territory_id", ("reps", "accounts"), "territory"))
    return extra


def _nothing_to_sell(drafts: list[_SourceDraft]) -> str:
    """Why nothing could be loaded: each file's own problem first, then what is expected."""
    found = sorted({d.table for d in drafts if d.table and d.rows_read
                    and not any(n.startswith("not loaded") for n in d.notes)})
    recognised = any(d.table for d in drafts)
    seen = f" Found: {', '.join(found)}." if found else "" if recognised else " No sheet was recognised."
    problems = [_draft_problem(d) for d in drafts]
    problems = [p for p in problems if p]
    more = f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""
    return (" ".join(problems[:6]) + more + (" " if problems else "") +
            "There must be something to sell: upload a sales table (date, rep, product, revenue) or an "
            "opportunity export (owner, stage, amount, close date)." + seen +
            " The template on the Data page shows every sheet and column that is recognised.")


_PIVOT_WORDS = re.compile(r"(?i)\b(?:row labels|column labels|grand total|(?:sum|count|average) of)\b")


def _draft_problem(d: _SourceDraft) -> str:
    """One sentence on what became of a file or sheet that gave no rows ("" when it gave some)."""
    if not d.read:
        return d.notes[0] if d.notes else ""
    not_loaded = [n for n in d.notes if n.startswith("not loaded")]
    if d.table and not_loaded:
        return f"{d.source} was {not_loaded[0]}."
    if d.table and d.rows_read == 0:
        return f"{d.source} has column headers but no rows of data."
    if d.table:
        return ""
    if _PIVOT_WORDS.search(d.labels):
        return (f"{d.source} looks like a pivot table (a summary with row labels and totals), not the rows "
                "behind it: upload the data the pivot is built from.")
    columns = ", ".join(d.columns[:8]) + (" …" if len(d.columns) > 8 else "")
    return f"{d.source} was not recognised (its columns: {columns or 'none'})."


def _labels(sheet: RawSheet) -> str:
    """The header, the first cells and the footers of a sheet, to tell a pivot table by its words."""
    first = sheet.data.iloc[:50, 0].astype("str") if sheet.data.shape[1] else pd.Series(dtype="str")
    return " | ".join([*sheet.columns, *first, *footer_text(sheet)])


def _finish_sources(drafts: list[_SourceDraft], tables: dict[str, pd.DataFrame]) -> list[SourceInfo]:
    loaded = pd.concat([t["_source"] for t in tables.values() if "_source" in t], ignore_index=True) \
        .value_counts() if tables else pd.Series(dtype="int64")
    out = []
    for d in drafts:
        n = int(loaded.get(d.source, 0)) if d.table else 0
        parts = [f"table {d.how}" if d.table else d.how] if d.how else []
        if d.read:
            parts.append(f"{d.rows_read:,} rows read, {n:,} loaded")
        parts.extend(d.notes)
        out.append(SourceInfo(d.source, d.table, d.rows_read, d.matches, d.header_row, "; ".join(parts)))
    return out


def _canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Exactly the canonical columns, in order, with their canonical dtypes."""
    table = TABLES[name]
    out = frame[table.column_names].reset_index(drop=True)
    return out.astype({c.name: pandas_dtype(c) for c in table.columns})


# The template and the validation report are part of ingest's public API; they live in
# core.ingest.template to keep this module about reading.
from core.ingest.template import issues_workbook, template_workbook  # noqa: E402

__all__ = ["ingest", "ingest_paths", "ingest_sheets", "template_workbook", "issues_workbook", "match_columns",
           "table_from_name", "DERIVED_SALES_SOURCE", "DERIVED_REPS_SOURCE"]
