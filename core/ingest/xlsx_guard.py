"""How big a worksheet really is, measured from its XML as it streams, before any reader sees it.

A workbook reader lays a sheet out as a grid and allocates every cell of it. The grid's size is
not what the sheet's `<dimension>` tag claims (a writer may put anything there) nor only what the
row and cell references (`r="…"`) say: rows written without a row number and cells without a
reference are placed one after the other, so a 2 MB workbook can hold 13 million of them. This
module counts what is actually there, chunk by chunk, never holding the part whole, and stops as
soon as a limit is passed.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import IO

# Filled cells one sheet may hold. The reader keeps ~200 bytes a cell while it builds the grid,
# so 10 M cells is ~2 GB: within the parsing worker's memory budget (core.ingest.sandbox).
MAX_PRESENT_CELLS = 10_000_000
DEFAULT_COLUMNS = 26        # a sheet's area is counted at least this wide (A:Z)
CHUNK = 1 << 22
_ROOT = re.compile(rb"<(\w+:)?worksheet[\s>]")
_FIRST_TAG = 4096           # the root element sits within the first bytes of a sheet part


@dataclass(frozen=True)
class SheetSize:
    """Upper bounds of the grid a reader builds for one sheet, and the cells present in it."""

    rows: int
    columns: int
    cells: int          # cells holding a value (or a formula)

    @property
    def area(self) -> int:
        return self.rows * self.columns

    def fits(self, max_area: int, max_cells: int) -> bool:
        return self.area <= max_area and self.cells <= max_cells


def sheet_fits(book: zipfile.ZipFile, part: zipfile.ZipInfo, max_area: int) -> bool:
    """True when the sheet `part` of `book` lays out at most `max_area` cells (rows × columns)
    and holds at most MAX_PRESENT_CELLS filled cells. Reading with zipfile also checks that the
    part unpacks to its declared size (CRC and length)."""
    with book.open(part) as xml:
        return measure_sheet(xml, max_area, MAX_PRESENT_CELLS).fits(max_area, MAX_PRESENT_CELLS)


def measure_sheet(xml: IO[bytes], max_area: int, max_cells: int) -> SheetSize:
    """The SheetSize of one worksheet's XML stream; stops early (with the bounds so far, already
    past a limit) once the area passes `max_area` or the filled cells pass `max_cells`."""
    counter: _Counter | None = None
    tail = b""
    while chunk := xml.read(CHUNK):
        text = tail + chunk
        cut = text.rfind(b"<")
        body, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
        if counter is None:
            root = _ROOT.search(body[:_FIRST_TAG])
            counter = _Counter(root.group(1) or b"" if root else b"")
        counter.add(body)
        if not counter.size().fits(max_area, max_cells):
            break
    if counter is None:
        return SheetSize(0, DEFAULT_COLUMNS, 0)
    counter.add(tail)
    return counter.size()


class _Counter:
    """Running counts over a sheet's XML, fed in pieces that never split a tag.

    Plain substring counts, not a parser: they cost a few milliseconds a megabyte. Where they are
    not exact (`<rowBreaks>` counts as a row, `<cols>` after the last row as a cell of it) they
    over-count, so the bounds stay bounds.
    """

    def __init__(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        self._row_start = b"<" + prefix + b"row"
        self._cell_starts = tuple(b"<" + prefix + b"c" + end for end in (b" ", b">", b"/>"))
        self._tag_c = b"<" + prefix + b"c"     # inside a row, only cells start so
        self._numbered_row = b"<" + prefix + b'row r="'
        self._numbered_cell = b"<" + prefix + b'c r="'
        self._filled_end = b"</" + prefix + b"c>"
        self._row_split = re.compile(b"<" + p + rb"row[\s>/]")
        self._row_ref = re.compile(b"<" + p + rb'row r="(\d+)"')
        # Columns past Z: the common case is A:Z, so only the rarer two- and three-letter
        # references are collected; an empty styled cell (<c r="XFD1" s="2"/>) is not laid out.
        self._wide_ref = re.compile(b"<" + p + rb'c r="([A-Z]{2,3})\d+"[^>]*(?<!/)>')
        self.rows = self.numbered_rows = self.cell_starts = self.numbered_cells = self.filled = 0
        self.max_row_ref = 0
        self.max_col_ref = DEFAULT_COLUMNS
        self.widest_row = 0     # most cells in one row (a bound of where unnumbered cells reach)
        self._open_row_cells = 0

    def add(self, body: bytes) -> None:
        cell_starts = sum(body.count(start) for start in self._cell_starts)
        numbered_cells = body.count(self._numbered_cell)
        numbered_rows = body.count(self._numbered_row)
        self.rows += body.count(self._row_start)
        self.numbered_rows += numbered_rows
        self.cell_starts += cell_starts
        self.numbered_cells += numbered_cells
        self.filled += body.count(self._filled_end)
        if numbered_rows:
            self.max_row_ref = max(self.max_row_ref, max(map(int, self._row_ref.findall(body))))
        if numbered_cells:
            self._read_cell_references(body)
        if cell_starts > numbered_cells:
            self._count_cells_per_row(body)

    def _read_cell_references(self, body: bytes) -> None:
        # cells whose row lies past every row number so far (only a hand-made file has them)
        far = re.findall(rb'r="[A-Z]{1,3}(\d{%d,})"[^>]*(?<!/)>' % (len(str(self.max_row_ref)) + 1), body)
        if far:
            self.max_row_ref = max(self.max_row_ref, max(map(int, far)))
        wide = self._wide_ref.findall(body)
        if wide:
            self.max_col_ref = max(self.max_col_ref, max(map(column_number, set(wide))))

    def _count_cells_per_row(self, body: bytes) -> None:
        """Cells without a reference sit one after the other along their row: keep the most
        cells any row holds (a row may run over several pieces)."""
        counts = [piece.count(self._tag_c) for piece in self._row_split.split(body)]
        counts[0] += self._open_row_cells
        self.widest_row = max(self.widest_row, max(counts))
        self._open_row_cells = counts[-1]

    def size(self) -> SheetSize:
        unnumbered_rows = self.rows - self.numbered_rows
        referenced = self.max_col_ref if self.numbered_cells else 0
        unreferenced = self.widest_row if self.cell_starts > self.numbered_cells else 0
        columns = max(DEFAULT_COLUMNS, referenced + unreferenced)
        return SheetSize(rows=self.max_row_ref + unnumbered_rows, columns=columns, cells=self.filled)


def column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n
