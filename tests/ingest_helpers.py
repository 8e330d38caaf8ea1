"""Shared by the ingest tests: workbooks built in code, and the "nothing lost silently" check."""
from __future__ import annotations

import io

import openpyxl

from core.dataset import Dataset


def xlsx(sheets: dict[str, list[list[object]]], merges: tuple[str, ...] = ()) -> bytes:
    """A workbook with one sheet per entry (rows appended as given); `merges` applied to each."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        for m in merges:
            ws.merge_cells(m)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def assert_rows_accounted(ds: Dataset, empty_unused_may_be_silent: bool = False,
                          rows_in: int | None = None) -> None:
    """rows read = rows loaded + rows set apart (each with a row-numbered issue); a source that
    was not used is reported (unless it had no rows and `empty_unused_may_be_silent`).

    `rows_in`: the data rows the test put in its files (under the headers, blank ones included);
    all of them must have been read by some source, so none vanished before reading (a hidden
    sheet). Every row set apart is a data row of its source (below its header)."""
    sources = [s for s in ds.sources if not s.source.startswith("derived")]
    if rows_in is not None:
        assert sum(s.rows for s in sources) == rows_in, ([(s.source, s.rows) for s in sources], rows_in)
    headers = {s.source: s.header_row for s in sources}
    apart = ds.issues[ds.issues["Row"].notna() & ds.issues["Kind"].isin(["rejected", "duplicate", "info"])]
    for source, rows in apart.groupby("Source")["Row"]:
        if source in headers:
            assert (rows > headers[source]).all(), (source, rows.tolist())
    for src in ds.sources:
        if src.source.startswith("derived"):
            continue
        mine = ds.issues[ds.issues["Source"] == src.source]
        if src.table is None or "not loaded" in src.note:
            assert len(mine) or (empty_unused_may_be_silent and src.rows == 0), \
                f"{src.source} was not used and nothing says so"
            continue
        loaded = int(src.note.split(" rows read, ")[1].split(" loaded")[0].replace(",", ""))
        set_apart = mine[mine["Row"].notna() & mine["Kind"].isin(["rejected", "duplicate", "info"])]["Row"].nunique()
        assert src.rows == loaded + set_apart, (src.source, src.rows, loaded, set_apart)
