"""Whatever a user uploads (workbooks, CSVs, CRM exports) into the canonical tables of a Dataset.

This module only orchestrates; each step has its own module:
1. read each file into raw sheets (core.ingest.readers: header found, footers and blank rows set
   apart), and load them (steps 2-3) before reading the next, so one file's raw cells are alive at a time
   (a big text file's, one batch of records at a time; each batch is compacted as it loads);
2. decide which table each sheet is and match its columns to canonical columns (core.ingest.recognise);
3. parse each column into its canonical type, reject the rows that cannot be used (core.ingest.loading,
   with core.ingest.cleaning);
4. stack the sheets of one table, drop exact duplicate rows and repeated ids (core.ingest.duplicates);
5. link the tables (core.ingest.linking): rep and account names to ids (core.ingest.matching), sales
   derived from won deals, reps taken from the other tables when no roster was given, orphans reported.

Every row that is read ends up either in a table or in `Dataset.issues` with its source and row
number as Excel shows it; every sheet gets a `SourceInfo` saying what it became (core.ingest.report).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.dataset import ColumnMatch, Dataset, empty_issues
from core.errors import UserError
from core.ingest import cleaning, currency
from core.ingest.duplicates import combine
from core.ingest.forked import load_each
from core.ingest.linking import DERIVED_REPS_SOURCE, DERIVED_SALES_SOURCE, has_rows, link
from core.ingest.loading import load_sheet
from core.ingest.readers import NotInBatches, RawSheet, ReadError, read_file, text_batches
from core.ingest.recognise import (
    Overrides,
    choose_table,
    is_known,
    match_columns,
    missing_required,
    quota_shapes,
    table_from_name,
)
from core.ingest.report import (
    SourceDraft,
    finish_sources,
    issue_rows,
    nothing_to_sell,
    sheet_labels,
    sheet_warnings,
)
from core.ingest.template import issues_workbook, template_workbook  # part of ingest's API
from core.schema import TABLE_ORDER, TABLES, pandas_dtype


def ingest(files: Sequence[tuple[str, bytes]], overrides: dict[str, Any] | None = None) -> Dataset:
    """Turn uploaded files (name, bytes) into a Dataset of canonical tables plus a full issue report.

    Raises UserError only when nothing usable is left (no sales and no opportunities).
    """
    if not files:
        raise UserError("No files were given. Upload a workbook or CSV files with your sales data.")
    return _ingest(files, overrides)


def ingest_paths(paths: Sequence[str | Path], overrides: dict[str, Any] | None = None) -> Dataset:
    """Read files from disk and ingest them, one file's bytes in memory at a time."""
    if not paths:
        raise UserError("No files were given. Upload a workbook or CSV files with your sales data.")
    return _ingest([(Path(p).name, Path(p)) for p in paths], overrides)


def ingest_sheets(files: Iterable[tuple[str, bytes | Path]], sheets: Iterable[RawSheet],
                  overrides: dict[str, Any] | None = None) -> Dataset:
    """As ingest, plus sheets that are read already (database tables, Parquet files: core.ingest.sources),
    taken one at a time from `sheets` and validated by the same rules as uploaded sheets."""
    return _ingest(files, overrides, sheets)


def _ingest(files: Iterable[tuple[str, bytes | Path]], overrides: dict[str, Any] | None,
            sheets: Iterable[RawSheet] = ()) -> Dataset:
    today = pd.Timestamp.today().normalize()
    pieces: dict[str, list[pd.DataFrame]] = {}
    chosen = Overrides.parse(overrides)
    drafts, issues = _load_files(files, chosen, today, pieces)
    drafts += [_load_one(sheet, chosen, today, pieces, issues)[0] for sheet in sheets]
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_ORDER:
        if name in pieces:
            tables[name], dup_issues = combine(name, pieces.pop(name))
            issues.extend(dup_issues)
            give_back_memory()
    extra_sources = link(tables, issues)
    if not has_rows(tables, "sales") and not has_rows(tables, "opportunities"):
        raise UserError(nothing_to_sell(drafts))
    sources = finish_sources(drafts, tables) + extra_sources
    issues_frame = pd.concat([empty_issues(), *issues], ignore_index=True) if issues else empty_issues()
    final = {name: compact(name, _canonical(name, tables.pop(name))) for name in list(tables)}
    give_back_memory()
    return Dataset(tables=final, issues=issues_frame.astype({"Row": "Int64"}), sources=sources)


def _load_files(files: Iterable[tuple[str, bytes | Path]], chosen: Overrides, today: pd.Timestamp,
                pieces: dict[str, list[pd.DataFrame]]) -> tuple[list[SourceDraft], list[pd.DataFrame]]:
    """Read and load each file (core.ingest.forked: in two processes where the read was given
    two), adding its rows to `pieces` in the files' order. Files that cannot be read come first in
    the drafts and issues, as they are listed first."""
    failed: list[SourceDraft] = []
    drafts: list[SourceDraft] = []
    failed_issues: list[pd.DataFrame] = []
    issues: list[pd.DataFrame] = []
    for loaded in load_each(list(files), lambda name, data: _load_file(name, data, chosen, today)):
        (failed if loaded.failed else drafts).extend(loaded.drafts)
        (failed_issues if loaded.failed else issues).extend(loaded.issues)
        for table, frames in loaded.pieces.items():
            pieces.setdefault(table, []).extend(frames)
    return failed + drafts, failed_issues + issues


@dataclass
class _Loaded:
    """What one file became: what each of its sheets became, its issues and its tables' rows;
    `failed` when the file could not be read at all."""

    failed: bool
    drafts: list[SourceDraft]
    issues: list[pd.DataFrame]
    pieces: dict[str, list[pd.DataFrame]]


def _load_file(name: str, data: bytes | Path, chosen: Overrides, today: pd.Timestamp) -> _Loaded:
    """Read one file and load its sheets one at a time, so only one sheet's raw cells are alive at
    once; a big text file one batch of records at a time (core.ingest.readers.text_batches). A file
    given as a path is read only now."""
    pieces: dict[str, list[pd.DataFrame]] = {}
    issues: list[pd.DataFrame] = []
    batches = text_batches(name, data, is_known)
    if batches is not None:
        try:
            return _Loaded(False, [_load_batches(batches, chosen, today, pieces, issues)], issues, pieces)
        except NotInBatches:            # not regular after all: read whole below, its batches dropped
            pieces, issues = {}, []
            give_back_memory()
    try:
        read = read_file(name, data if isinstance(data, bytes) else data.read_bytes(), is_known)
    except ReadError as err:
        return _Loaded(True, [SourceDraft(False, name, None, notes=[str(err)])],
                       [issue_rows(None, name, None, None, str(err), "", "rejected")], {})
    finally:
        del data                        # the sheets hold their own copy of the cells
    drafts = []
    count = len(read)
    while read:
        sheet = read.pop(0)
        sheet.sheet_count = count
        drafts.append(_load_one(sheet, chosen, today, pieces, issues)[0])
        del sheet                       # its raw cells: freed before the next sheet is loaded
    give_back_memory()
    return _Loaded(False, drafts, issues, pieces)


def _load_batches(batches: Iterator[RawSheet], chosen: Overrides, today: pd.Timestamp,
                  pieces: dict[str, list[pd.DataFrame]], issues: list[pd.DataFrame]) -> SourceDraft:
    """Load a big text file batch by batch into this file's `pieces` and `issues`, with the table,
    column matches and readings (day-first dates, decimal commas) its first batch settled, so every
    batch reads the same way. Raises NotInBatches when the file must be read whole: irregular, or
    not loaded as a table as it is (not recognised, or a wide quota sheet), where the message
    counts the whole file's rows; the caller then drops what the batches loaded."""
    batched = _Batched({}, [])
    first = next(batches)
    draft, fixed = _load_one(first, chosen, today, pieces, issues, batched)
    if fixed is None:
        raise NotInBatches(first.file_name)
    del first
    for sheet in batches:
        issues.append(_blank_rows(sheet, fixed[0]))
        draft.rows_read += sheet.rows_read
        _load_rows(sheet, fixed[0], fixed[1], chosen, today, pieces, issues, draft, batched)
        del sheet
        give_back_memory()
    issues[:0] = [c.note().assign(Table=fixed[0]) for c in currency.combined(batched.converted)]
    return draft


@dataclass(frozen=True)
class _Batched:
    """What the batches of one file share: each column's readings (day-first dates, decimal
    commas) and the currency conversions, said once for the file when its last batch is loaded."""

    readings: dict[str, cleaning.Reading]
    converted: list[currency.Conversion]


def _blank_rows(sheet: RawSheet, table_name: str | None) -> pd.DataFrame:
    """The rows the reader set apart (blank rows), as info issues."""
    return issue_rows(table_name, sheet.source, sheet.dropped["Row"], None, sheet.dropped["Problem"],
                      sheet.dropped["Value"], "info")


def give_back_memory() -> None:
    """Return the memory freed by the last file to the system: pyarrow's pool and the C heap keep it
    for later otherwise, so a big file's raw cells would still count in the process's size (at 1,000
    reps the worker held 1.3 GB for 0.8 GB of live data when it handed the Dataset over)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    """glibc, for malloc_trim (None elsewhere: musl, macOS, Windows)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def _load_one(sheet: RawSheet, chosen: Overrides, today: pd.Timestamp, pieces: dict[str, list[pd.DataFrame]],
              issues: list[pd.DataFrame], batched: _Batched | None = None
              ) -> tuple[SourceDraft, tuple[str, list[ColumnMatch]] | None]:
    """Recognise a sheet and load its rows. Returns what became of it and, when its rows were loaded
    as they are (not reshaped as a wide quota sheet), its table and column matches."""
    original = sheet
    table_name, matches, how = choose_table(sheet, chosen)
    sheet, table_name, matches, how = quota_shapes(sheet, table_name, matches, how, chosen, issues)
    draft = SourceDraft(True, sheet.source, table_name, tuple(matches), sheet.header_row,
                        sheet.rows_read, how, columns=tuple(sheet.columns))
    issues.append(_blank_rows(sheet, table_name))
    if sheet.duplicate_columns:
        issues.append(issue_rows(table_name, sheet.source, sheet.header_row, ", ".join(sheet.duplicate_columns),
                                 "column name appears more than once; later copies renamed "
                                 "'<name> (2)' and only the best match is used", "", "warning"))
    issues.extend(sheet_warnings(sheet, table_name, matches))
    if table_name is None:
        draft.labels = sheet_labels(sheet)
        if sheet.rows_read:
            kind = "info" if how.startswith("ignored") else "warning"
            issues.append(issue_rows(None, sheet.source, None, None,
                                     f"{how}: this sheet was not loaded ({sheet.rows_read:,} rows). "
                                     "Choose its table on the Data page if it should be used.",
                                     ", ".join(sheet.columns[:12]), kind))
        return draft, None
    missing = missing_required(TABLES[table_name], matches)
    if missing:
        issues.append(issue_rows(table_name, sheet.source, None, ", ".join(missing),
                                 f"required column(s) {', '.join(missing)} not found, so this sheet was not "
                                 f"loaded as {table_name}. Rename the column(s) or match them on the Data page.",
                                 ", ".join(sheet.columns[:12]), "rejected"))
        draft.notes.append(f"not loaded as {table_name}: required column(s) {', '.join(missing)} not found")
        return draft, None
    _load_rows(sheet, table_name, matches, chosen, today, pieces, issues, draft, batched)
    return draft, ((table_name, matches) if sheet is original else None)


def _load_rows(sheet: RawSheet, table_name: str, matches: Sequence[ColumnMatch], chosen: Overrides,
               today: pd.Timestamp, pieces: dict[str, list[pd.DataFrame]], issues: list[pd.DataFrame],
               draft: SourceDraft, batched: _Batched | None) -> None:
    """The rows of a recognised sheet in the reporting currency, parsed and checked (core.ingest.loading),
    compacted and added to the table's pieces. A batch of a big file keeps its conversions with the
    file's (`batched`), to be said once."""
    sheet, converted = currency.to_reporting(sheet, matches, chosen.currency.get("reporting", currency.DEFAULT),
                                             chosen.currency.get("rates"))
    if batched is None:
        issues.extend(c.note().assign(Table=table_name) for c in converted)
    else:
        batched.converted.extend(converted)
    loaded = load_sheet(sheet, TABLES[table_name], matches, today, None if batched is None else batched.readings)
    issues.extend(loaded.issues)
    draft.notes.extend(loaded.notes)
    frame = loaded.frame if table_name in _REWRITTEN else compact(table_name, loaded.frame)
    pieces.setdefault(table_name, []).append(frame)


# The row tables' ids and labels, held as pandas categoricals (small integer codes and each distinct
# value once): they repeat on millions of rows, where text costs ~13 bytes a cell (at 1,000 reps ×
# 3 years the activities table took 310 MB as text). Unique ids (opportunity_id) and the small
# tables that list each rep, territory or account once stay text.
COMPACT: dict[str, tuple[str, ...]] = {
    "sales": ("rep_id", "account_id", "product"),
    "quotas": ("rep_id", "period", "product"),
    "activities": ("rep_id", "activity_type", "account_id", "contact_role", "segment", "product"),
    "follow_ups": ("rep_id", "account_id"),
    "opportunities": ("rep_id", "stage", "status", "account_id", "product"),
    "training": ("rep_id", "topic"),
    "assessments": ("rep_id", "competency", "assessor"),
    "incentives": ("rep_id", "period", "component"),
}


# Compacted once linked, not as loaded: linking rewrites their rows (repeated quotas folded).
_REWRITTEN = ("quotas",)


def compact(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Table `name` with its COMPACT columns as categoricals, one column at a time (the text copy of
    each is freed before the next is converted); the same values, in less memory."""
    for column in COMPACT.get(name, ()):
        if column in frame:
            frame[column] = frame[column].astype("category")
    return frame


def _canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Exactly the canonical columns, in order, with their canonical dtypes."""
    table = TABLES[name]
    out = frame[table.column_names].reset_index(drop=True)
    return out.astype({c.name: pandas_dtype(c) for c in table.columns
                       if not isinstance(out[c.name].dtype, pd.CategoricalDtype)})


__all__ = ["ingest", "ingest_paths", "ingest_sheets", "template_workbook", "issues_workbook", "match_columns",
           "table_from_name", "DERIVED_SALES_SOURCE", "DERIVED_REPS_SOURCE"]
