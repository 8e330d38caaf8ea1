"""One matched sheet into canonical columns: each cell parsed to its type, the rows that cannot
be used rejected with their reason.

Values no one can use (formulas without a saved value, a system's "no date", infinite or absurd
amounts, dates out of range, values out of their allowed range) are blanked or rejected; missing
required columns are filled from a sibling column or a default; Veeva calls that were not
submitted and trailing report footers are set apart. Each row also gets a key over every cell
of its source row (`_others`), so core.ingest.duplicates judges duplicates on every column.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dataset import ColumnMatch
from core.fmt import key_words
from core.ingest import cleaning
from core.ingest.duplicates import LOADED, keep_rows, row_hash, text_hash
from core.ingest.matching import namesakes_apart
from core.ingest.readers import RawSheet, footer_text
from core.ingest.recognise import DEFAULTABLE, FILLABLE, norm_label
from core.ingest.report import issue_rows, row_list
from core.schema import BOOL, DATE, DEFAULT_ROLE, FLOAT, STR, TABLES, UNASSIGNED, Column, Table, pandas_dtype

EARLIEST = pd.Timestamp("1990-01-01")
EARLIEST_HIRE = pd.Timestamp("1950-01-01")
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


@dataclass
class Loaded:
    """One sheet's kept rows in canonical columns, and what was found on the way."""

    frame: pd.DataFrame     # canonical columns, _source (categorical), _others, _loaded; index: row numbers
    issues: list[pd.DataFrame]
    notes: list[str]


def load_sheet(sheet: RawSheet, table: Table, matches: Sequence[ColumnMatch],
               today: pd.Timestamp, readings: dict[str, cleaning.Reading] | None = None) -> Loaded:
    """Parse a matched sheet into canonical columns; reject rows that cannot be used.

    `readings`: per canonical column, how the earlier batches of the same file read it (kept up to
    date here), so each batch of a big file reads its dates and numbers the same way."""
    data, src = sheet.data, sheet.source
    issues: list[pd.DataFrame] = []
    notes: list[str] = []
    mapping: dict[str, str] = {m.canonical: m.source_column for m in matches if m.canonical}
    frame = pd.DataFrame(index=data.index)
    reject = pd.Series(False, index=data.index)
    known = _Distincts(data)
    hashed: dict[str, tuple[object, np.ndarray]] = {}     # column -> (its values, value_hash of them)
    for col in table.columns:
        if col.name not in mapping:
            continue
        raw = data[mapping[col.name]]
        reading = None if readings is None else readings.setdefault(col.name, cleaning.Reading())
        parsed = _parse_column(col, raw, known, mapping[col.name], reading)
        values = parsed.values
        label = f"{mapping[col.name]} → {col.name}"
        if parsed.note:
            issues.append(issue_rows(table.name, src, None, mapping[col.name], parsed.note, "", "ambiguous"))
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
                issues.append(issue_rows(table.name, src, data.index[out_of_range], mapping[col.name],
                                         f"{col.name} {why}", shown[out_of_range]))
                reject |= out_of_range
        if bad.any():
            kind = "rejected" if col.required and (table.name, col.name) not in _BLANK_ALLOWED else "warning"
            why = f"cannot read as {_type_name(col)}" + ("" if kind == "rejected" else "; left blank")
            issues.append(issue_rows(table.name, src, data.index[bad], label, why, shown[bad], kind))
            if kind == "rejected":
                reject |= bad
        frame[col.name] = values
        if col.dtype == STR and parsed.distinct is not None and values is parsed.values:
            hashed[col.name] = (_arrow_of(frame[col.name]), text_hash(parsed.distinct.uniq)[parsed.distinct.codes])
    _fill_columns(table, frame, mapping, src, issues, notes)
    if table.name == "opportunities":
        frame["status"] = frame["status"].fillna(cleaning.status_from_stage(frame["stage"]))
    if table.name == "assessments":
        frame["assessor"] = frame["assessor"].str.lower().fillna("manager")
    if table.name == "reps":
        frame["role"] = frame["role"].fillna(DEFAULT_ROLE)
        if "rep_id" not in mapping:
            issues.extend(namesakes_apart(frame, src, reject))
    for name in table.required:
        blank = frame[name].isna() & ~reject
        if not blank.any():
            continue
        if (table.name, name) in _BLANK_ALLOWED:
            rows = data.index[blank]
            issues.append(issue_rows(table.name, src, rows[0], mapping.get(name, name),
                                     f"{int(blank.sum()):,} rows have no {key_words(name)} (rows {row_list(rows)}); "
                                     "kept, left out of measures that need it", "", "warning"))
            continue
        issues.append(issue_rows(table.name, src, data.index[blank], mapping.get(name, name),
                                 f"missing {name} (required)"))
        reject |= blank
    frame, dropped = _veeva_submitted(table, frame, sheet, matches, reject)
    issues.extend(dropped)
    issues = _set_footers_apart(sheet, table.name, mapping, reject, issues)
    unmapped = tuple(m.source_column for m in matches if not m.canonical)
    frame["_others"] = _source_key(data, matches, known)
    frame[LOADED] = row_hash(frame, table.column_names, _still(frame, hashed))
    del known
    frame = keep_rows(frame, ~reject)
    # One code per row until the sheets of the table are stacked (core.ingest.duplicates.combine
    # writes it out as text): a text column would repeat the name on every row of a big file.
    # Row numbers stay the frame's index (a range, for a file loaded whole) until then too.
    frame["_source"] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=[src])
    frame.attrs["unmapped"] = {src: unmapped}
    return Loaded(frame, issues, notes)


def _arrow_of(values: pd.Series) -> object:
    """The pyarrow array behind a text column (None for other columns): the same object as long as
    the column is not changed."""
    return getattr(values.array, "_pa_array", None)


def _still(frame: pd.DataFrame, hashed: dict[str, tuple[object, np.ndarray]]) -> dict[str, np.ndarray]:
    """The value hashes computed as the columns were parsed, for the columns not changed since."""
    return {name: h for name, (arr, h) in hashed.items()
            if arr is not None and _arrow_of(frame[name]) is arr}


def _type_name(col: Column) -> str:
    return {DATE: "a date", FLOAT: "a number", BOOL: "yes/no"}.get(col.dtype, "text")


class _Distincts:
    """The distinct values of each raw column of a sheet, computed on first use and shared by the
    parser and the source-row key, so a column of millions is factorized once."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data
        self.found: dict[str, cleaning.Distinct | None] = {}

    def __getitem__(self, column: str) -> cleaning.Distinct | None:
        if column not in self.found:
            self.found[column] = cleaning.distinct(self.data[column])
        return self.found[column]


def _parse_column(col: Column, raw: pd.Series, known: _Distincts, source: str,
                  reading: cleaning.Reading | None) -> cleaning.Parsed:
    if col.name == "zip":
        return cleaning.parse_zip(raw)
    if col.name == "period":
        return cleaning.parse_period_label(raw, known[source])
    if col.dtype == DATE:
        return cleaning.parse_date(raw, known[source], reading)
    if col.dtype == FLOAT:
        return cleaning.parse_number(raw, reading)
    if col.dtype == BOOL:
        return cleaning.parse_bool(raw, known[source])
    if col.name == "activity_type":
        return cleaning.parse_activity_type(raw, known[source])
    if col.name == "status":
        return cleaning.parse_status(raw, known[source])
    if col.name == "contact_role":
        return cleaning.parse_contact_role(raw, known[source])
    return cleaning.parse_text(raw, known[source])


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


def _screen(table: str, col: Column, mapping: dict[str, str], sheet: RawSheet, parsed: cleaning.Parsed,
            shown: _Shown, issues: list[pd.DataFrame], reject: pd.Series) -> pd.Series:
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


def _flag(issues: list[pd.DataFrame], table: str, src: str, col: Column, mapping: dict[str, str], bad: pd.Series,
          why: str, shown: _Shown, reject: pd.Series) -> None:
    if not bad.any():
        return
    hard = col.required and (table, col.name) not in _BLANK_ALLOWED
    issues.append(issue_rows(table, src, bad[bad].index, mapping[col.name],
                             why + ("" if hard else "; left blank"), shown[bad],
                             "rejected" if hard else "warning"))
    if hard:
        reject |= bad


class _Shown:
    """The cells of a raw column as text, converted only for the rows an issue reports."""

    def __init__(self, raw: pd.Series) -> None:
        self.raw = raw

    def __getitem__(self, mask: pd.Series) -> pd.Series:
        return cleaning.to_text(self.raw[mask])


def _fill_columns(table: Table, frame: pd.DataFrame, mapping: dict[str, str], src: str,
                  issues: list[pd.DataFrame], notes: list[str]) -> None:
    """Fill required columns the sheet lacks: from a sibling column, a default, or row numbers."""
    for name in table.required:
        if name in frame:
            continue
        sibling = FILLABLE.get((table.name, name))
        if sibling and sibling in frame:
            frame[name] = frame[sibling]
            notes.append(f"{name} taken from {sibling}")
        elif (table.name, name) in DEFAULTABLE:
            frame[name] = _default(table, name, frame, src)
            problem = (f"no {key_words(name)} column; " +
                       ("every row set to 'Unassigned'" if name in ("region", "territory_id")
                        else "ids made from the source and row number" if name == "opportunity_id"
                        else "left blank"))
            issues.append(issue_rows(table.name, src, None, name, problem, "", "warning"))
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
                       if m.canonical is None and norm_label(m.source_column) in _VEEVA_STATUS), None)
    if status_col is None:
        return frame, []
    status = cleaning.to_text(sheet.data[status_col])
    not_submitted = ~status.str.lower().eq("submitted").fillna(False) & ~reject
    if not not_submitted.any():
        return frame, []
    issue = issue_rows(table.name, sheet.source, sheet.data.index[not_submitted], status_col,
                       "call not submitted; only submitted calls count", status[not_submitted], "info")
    reject |= not_submitted
    return frame, [issue]


def _set_footers_apart(sheet: RawSheet, table: str, mapping: dict[str, str], reject: pd.Series,
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
        out.append(issue_rows(table, sheet.source, footers, None,
                              "report footer / total row with no data of its own; skipped", text[footers], "info"))
    kept = candidates.difference(footers)
    if len(kept):
        out.append(issue_rows(table, sheet.source, kept, None,
                              "reads like a report footer or total line but holds valid data, so it was "
                              "kept; remove it from the file if it is a total", text[kept], "warning"))
    return out


def _source_key(data: pd.DataFrame, matches: Sequence[ColumnMatch], known: _Distincts) -> np.ndarray:
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
    amounts = {m.source_column for m in matches if m.canonical in _NUMBERS}
    for _, _, src in ordered:
        cells = _cell_hash(data[src], None if src in amounts else known[src])
        key = key * np.uint64(0x9E3779B97F4A7C15) + cells
    return key


# Canonical number columns: amounts are nearly all distinct, so their cells are hashed one by one.
_NUMBERS = {c.name for t in TABLES.values() for c in t.columns if c.dtype == FLOAT}
_SLICE = 1 << 16


def _cell_hash(raw: pd.Series, known: cleaning.Distinct | None) -> np.ndarray:
    """text_hash of each cell as text; a text or typed column is hashed once per distinct value
    (dates, labels and ids repeat: a few thousand values in millions of cells); workbook cells
    (object columns, where 1, 1.0 and True are one value to a hash table) and amounts cell by
    cell, a slice of rows at a time (text_hash's work arrays are a few times the text's size)."""
    if known is not None:
        hashed: np.ndarray = text_hash(cleaning.to_text(known.uniq))[known.codes]
        return hashed
    if len(raw) <= _SLICE:
        return text_hash(cleaning.to_text(raw))
    plain = cleaning.as_written(raw)            # then each cell is its own text: no stripped copy
    parts = (raw.iloc[i:i + _SLICE] for i in range(0, len(raw), _SLICE))
    return np.concatenate([text_hash(part if plain else cleaning.to_text(part)) for part in parts])


def _kept_as_written(canonical: str | None) -> bool:
    """Does the loaded column hold its source text exactly (names, ids, free text), so that
    comparing the loaded value already compares the source cell? Labels read into a few values
    (activity type, status, contact role), numbers and dates do not."""
    if canonical is None or canonical in ("activity_type", "status", "contact_role", "zip", "period"):
        return False
    return all(c.dtype == STR for t in TABLES.values() for c in t.columns
               if c.name == canonical)
