"""The validation report: the issue rows every step writes, and what became of each file and sheet.

Every row that is read ends up either in a table or in an issue row made by `issue_rows` (its
table, source, row number as Excel shows it, column, problem, value and kind); every file or
sheet gets a `SourceDraft` while it is loaded and a `SourceInfo` at the end (`finish_sources`).
When nothing usable is left, `nothing_to_sell` says why in plain words.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.dataset import ISSUE_COLUMNS, ColumnMatch, SourceInfo, empty_issues
from core.ingest import cleaning
from core.ingest.readers import RawSheet, footer_text

_SEQ = (pd.Series, pd.Index, np.ndarray, list, pd.api.extensions.ExtensionArray)


def issue_rows(table: str | None, source: str, rows: object, column: str | None, problem: object,
               value: object = "", kind: str = "rejected") -> pd.DataFrame:
    """Issue rows; `rows`, `problem` and `value` may be scalars or aligned sequences (rows None = n/a)."""
    n = max([len(x) for x in (rows, problem, value) if isinstance(x, _SEQ)], default=1)
    if n == 0:
        return empty_issues()
    row_values: object
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


def row_list(rows: pd.Index, limit: int = 5) -> str:
    head = ", ".join(str(r) for r in rows[:limit])
    return head + (", …" if len(rows) > limit else "")


@dataclass
class SourceDraft:
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


def sheet_warnings(sheet: RawSheet, table: str | None, matches: Sequence[ColumnMatch]) -> list[pd.DataFrame]:
    """What a person should know about a whole sheet: it was hidden in the workbook, its text
    mixed encodings, a header holds letters of another alphabet that only look Latin."""
    out = [issue_rows(table, sheet.source, None, None, note, "", "warning") for note in sheet.notes]
    if sheet.hidden:
        fate = f"loaded as {table}" if table else "not loaded"
        out.append(issue_rows(table, sheet.source, None, None,
                              f"this sheet is {sheet.hidden} in the workbook; its {sheet.rows_read:,} rows were "
                              f"read ({fate}). If it is an old copy or a helper sheet, choose 'ignore' for it "
                              "on the Data page.", sheet.name, "warning"))
    for m in matches:
        odd = cleaning.lookalike_letters(m.source_column)
        if odd:
            read = f"read as '{cleaning.fold_lookalikes(m.source_column)}'" + \
                (f" and matched to {m.canonical}" if m.canonical else ", which matches no known column")
            out.append(issue_rows(table, sheet.source, sheet.header_row, m.source_column,
                                  f"the header holds letters of another alphabet that look like Latin ones "
                                  f"({', '.join(repr(c) for c in odd)}); {read}. Retype the header to be sure.",
                                  m.source_column, "warning"))
    return out


def finish_sources(drafts: list[SourceDraft], tables: dict[str, pd.DataFrame]) -> list[SourceInfo]:
    # Counted table by table: no stacked copy of a big table's sources.
    counts = [t["_source"].value_counts() for t in tables.values() if "_source" in t]
    loaded = pd.concat(counts).groupby(level=0).sum() if counts else pd.Series(dtype="int64")
    out = []
    for d in drafts:
        n = int(loaded.get(d.source, 0)) if d.table else 0
        parts = [f"table {d.how}" if d.table else d.how] if d.how else []
        if d.read:
            parts.append(f"{d.rows_read:,} rows read, {n:,} loaded")
        parts.extend(d.notes)
        out.append(SourceInfo(d.source, d.table, d.rows_read, d.matches, d.header_row, "; ".join(parts)))
    return out


def nothing_to_sell(drafts: list[SourceDraft]) -> str:
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


def _draft_problem(d: SourceDraft) -> str:
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


def sheet_labels(sheet: RawSheet) -> str:
    """The header, the first cells and the footers of a sheet, to tell a pivot table by its words."""
    first = sheet.data.iloc[:50, 0].astype("str") if sheet.data.shape[1] else pd.Series(dtype="str")
    return " | ".join([*sheet.columns, *first, *footer_text(sheet)])
