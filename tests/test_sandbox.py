"""A bad file hurts only itself: the workbook guard counts what a sheet really holds, and uploads
are read in a worker process that is stopped at its memory or time budget with a plain message."""
from __future__ import annotations

import io
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

import pytest

from core.errors import UserError
from core.ingest import sandbox, xlsx_guard
from core.ingest.pipeline import ingest
from core.ingest.readers import ReadError, read_file
from core.ingest.sandbox import Budget, OutOfTime, ingest_isolated

ROOT = Path(__file__).resolve().parents[1]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SALES = (b"date,rep_id,product,revenue\n2025-07-03,R1,Stent,1000\n2025-08-15,R2,Stent,700\n"
         b"2025-09-30,R1,Plate,-100\n")


def workbook(sheet_xml_parts, name: str = "Sales") -> bytes:
    """A minimal .xlsx whose one sheet's XML is written from `sheet_xml_parts` (bytes pieces),
    streamed into the zip so that a sheet of hundreds of MB never sits in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
                   'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                   'worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                   f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/'
                   'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><dimension ref="A1"/><sheetData>'.encode())
            for part in sheet_xml_parts:
                f.write(part)
            f.write(b"</sheetData></worksheet>")
    return out.getvalue()


def unnumbered_cells_workbook(cells: int, per_row: int = 26) -> bytes:
    """The attack: rows without row numbers, cells without references, and a <dimension> tag
    saying "A1". 13 M cells pack into under 2 MB."""
    row = b"<row>" + b"<c><v>1</v></c>" * per_row + b"</row>"
    rows = cells // per_row

    def parts():
        block = row * 1000
        for _ in range(rows // 1000):
            yield block
        yield row * (rows % 1000)
    return workbook(parts())


def sheet_size(book: bytes, max_area: int = 30_000_000, max_cells: int = 10_000_000) -> xlsx_guard.SheetSize:
    with zipfile.ZipFile(io.BytesIO(book)) as z, z.open("xl/worksheets/sheet1.xml") as xml:
        return xlsx_guard.measure_sheet(xml, max_area, max_cells)


# ------------------------------------------------------------------------------------ the guard
def test_unnumbered_rows_and_cells_are_counted_not_the_dimension_tag():
    size = sheet_size(unnumbered_cells_workbook(26 * 500))
    assert size.rows == 500 and size.cells == 26 * 500 and size.columns == 26


def test_an_unnumbered_row_wider_than_the_alphabet_widens_the_sheet():
    size = sheet_size(workbook([b"<row>" + b"<c><v>1</v></c>" * 40 + b"</row>"]))
    assert size.columns == 40 and size.rows == 1


def test_unnumbered_cells_after_numbered_ones_extend_the_row():
    size = sheet_size(workbook([b'<row r="1"><c r="AD1"><v>1</v></c>' + b"<c><v>2</v></c>" * 5 + b"</row>"]))
    assert size.columns >= 30 + 5


def test_far_references_count_as_they_did():
    size = sheet_size(workbook([b'<row r="1"><c r="A1"><v>1</v></c></row>',
                                b'<row r="900000"><c r="ZZ900000"><v>1</v></c></row>']))
    assert size.rows == 900000 and size.columns == 702 and size.cells == 2


def test_empty_styled_cells_far_right_do_not_widen_the_sheet():
    """Excel writes formatted empty cells (<c r="XFD1" s="1"/>); the reader does not lay them out."""
    size = sheet_size(workbook([b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="1"/></row>']))
    assert size.columns == 26 and size.cells == 1


def test_namespace_prefixed_sheets_are_counted():
    xml = (f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'.encode()
           + b"<x:row>" + b"<x:c><x:v>1</x:v></x:c>" * 30 + b"</x:row>" * 1
           + b"</x:sheetData></x:worksheet>")
    size = xlsx_guard.measure_sheet(io.BytesIO(xml), 30_000_000, 10_000_000)
    assert size.cells == 30 and size.columns == 30 and size.rows == 1


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        chunk = super().read(n)
        self.bytes_read += len(chunk)
        return chunk


def test_measuring_stops_early_once_past_the_limit():
    xml = b"<worksheet><sheetData>" + (b"<row>" + b"<c><v>1</v></c>" * 26 + b"</row>") * 40_000 + b"</sheetData>"
    stream = CountingStream(xml)
    size = xlsx_guard.measure_sheet(stream, max_area=30_000_000, max_cells=1_000)
    assert size.cells > 1_000
    assert stream.bytes_read < len(xml)


def test_reader_refuses_a_sheet_with_too_many_cells_before_reading_it(monkeypatch):
    monkeypatch.setattr(xlsx_guard, "MAX_PRESENT_CELLS", 10_000)
    with pytest.raises(ReadError, match="too big to read"):
        read_file("export.xlsx", unnumbered_cells_workbook(26 * 1000), lambda _: False)


def test_reader_still_reads_a_sheet_within_the_limit():
    book = workbook([b'<row r="1"><c r="A1" t="inlineStr"><is><t>Amount</t></is></c></row>',
                     b'<row r="2"><c r="A2"><v>5</v></c></row>'])
    sheets = read_file("export.xlsx", book, lambda name: name == "amount")
    assert sheets[0].columns == ["Amount"] and len(sheets[0].data) == 1


# ---------------------------------------------------------------------------------- the worker
def test_worker_returns_the_same_dataset_as_reading_in_process():
    files = [("sales.csv", SALES)]
    assert ingest_isolated(files).fingerprint == ingest(files).fingerprint


def test_worker_sends_the_tables_one_by_one_and_they_come_back_whole():
    """The Dataset crosses as a shell and one table at a time: the same tables in the same order,
    with their dtypes, and the same issues and sources."""
    files = [("sales.csv", SALES), ("bad.csv", b"date,rep,revenue\n2024-01-05,Ann,lots\n")]
    got, want = ingest_isolated(files), ingest(files)
    assert list(got.tables) == list(want.tables) and len(got.tables) > 1
    for name, table in want.tables.items():
        assert got.tables[name].dtypes.equals(table.dtypes) and got.tables[name].equals(table)
    assert got.issues.equals(want.issues) and got.sources == want.sources


def test_a_readers_message_comes_back_unchanged():
    files = [("notes.csv", b"\x00\x01\x02" * 500)]
    with pytest.raises(UserError) as in_process:
        ingest(files)
    with pytest.raises(UserError) as isolated:
        ingest_isolated(files)
    assert str(isolated.value) == str(in_process.value)


def test_a_read_past_its_memory_budget_is_stopped_with_a_plain_message():
    book = unnumbered_cells_workbook(26 * 200_000)       # 5.2 M cells: ~1 GB to lay out
    with pytest.raises(UserError, match="memory one read may use, so it was stopped. Upload the data as CSV"):
        ingest_isolated([("big.xlsx", book)], budget=Budget(memory_bytes=40 << 20))


def test_the_machines_owner_reads_within_the_machines_memory_and_is_told_what_to_do(monkeypatch):
    """The command line and the administrator's source read the owner's data on the owner's machine:
    3/4 of its memory (a 3,000-rep CSV folder needed more than an upload's 4 GB), never less than an
    upload's budget, and advice that fits (not 'upload as CSV' for a folder of CSVs)."""
    monkeypatch.setattr(sandbox, "_machine_memory", lambda: 24 << 30)
    assert Budget.for_machine().memory_bytes == 18 << 30
    monkeypatch.setattr(sandbox, "_machine_memory", lambda: 2 << 30)
    assert Budget.for_machine().memory_bytes == sandbox.MEMORY_BUDGET
    own = Budget(memory_bytes=40 << 20, advice=Budget.for_machine().advice)
    with pytest.raises(UserError, match="machine with more memory") as stopped:
        ingest_isolated([("big.xlsx", unnumbered_cells_workbook(26 * 200_000))], budget=own)
    assert "Upload" not in str(stopped.value)


def test_a_resident_budget_is_watched_from_outside_and_stops_a_read_past_it():
    """The owner's budget counts what the worker occupies (no address-space cap inside it): a read
    that fits comes back whole, one that holds more than the budget is stopped with the same words."""
    assert Budget.for_machine().resident
    files = [("sales.csv", SALES)]
    assert ingest_isolated(files, budget=Budget(resident=True)).fingerprint == ingest(files).fingerprint
    book = unnumbered_cells_workbook(26 * 200_000)       # ~1 GB to lay out
    with pytest.raises(UserError, match="memory one read may use, so it was stopped"):
        ingest_isolated([("big.xlsx", book)], budget=Budget(memory_bytes=400 << 20, resident=True))


def test_a_read_past_its_time_budget_is_stopped_with_a_plain_message():
    book = unnumbered_cells_workbook(26 * 40_000)
    with pytest.raises(OutOfTime, match="took longer than"):
        ingest_isolated([("slow.xlsx", book)], budget=Budget(seconds=0.01))


def test_the_time_budget_counts_the_workers_own_cpu_seconds(monkeypatch):
    # The wall-clock backstop pushed far away: only the worker's CPU limit can stop this endless sum.
    monkeypatch.setattr(sandbox, "WALL_FACTOR", 1_000.0)
    with pytest.raises(OutOfTime, match="1 seconds of computing"):
        sandbox.run_isolated(sum, (range(10**12),), ["busy.csv"], 0, Budget(seconds=1))


def test_a_worker_never_runs_the_main_script(tmp_path, monkeypatch):
    # Under Streamlit, __main__ is the page script being run: a worker must not run it again.
    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    ds = ingest_isolated([("sales.csv", b"date,rep_id,product,revenue\n2025-01-05,R1,GTX,100\n")])
    assert list(ds.table("sales")["rep_id"]) == ["R1"]
    assert not marker.exists()
    assert sys.modules["__main__"] is page


def test_time_budget_grows_with_the_input():
    assert Budget().seconds_for(400_000_000) > Budget().seconds_for(1_000)
    assert Budget(seconds=5).seconds_for(400_000_000) == 5


@pytest.mark.slow
def test_command_line_ends_within_seconds_on_the_attack_workbook(tmp_path):
    bomb = tmp_path / "sales_export.xlsx"
    bomb.write_bytes(unnumbered_cells_workbook(13_000_000))
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "core", "report", str(bomb), "--out", str(tmp_path / "o.xlsx")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    took = time.time() - started
    print(f"\npython -m core report on the 13 M-cell workbook ({bomb.stat().st_size / 1e6:.1f} MB): "
          f"{took:.1f} s, exit {done.returncode}")
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1 and len(errors) == 1 and "too big to read" in errors[0]
    assert "Traceback" not in done.stderr
    assert took < 30


def test_stopping_the_readers_ends_their_server_and_a_later_read_starts_another():
    from multiprocessing import forkserver

    sandbox.start_readers()
    pid = forkserver._forkserver._forkserver_pid     # type: ignore[attr-defined]
    assert pid is not None and Path(f"/proc/{pid}").exists()
    sandbox.stop_readers()
    assert not Path(f"/proc/{pid}").exists()        # killed and reaped
    assert sandbox.run_isolated(sum, ([1, 2],), ["x.csv"], 0, Budget()) == 3
