"""A big text file read in batches (core.ingest.readers.text_batches) loads exactly what the same
file read whole loads: the same rows, the same issues on the same row numbers, one source; the
first batch's readings hold for the rest; an irregular file falls back to the whole read."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.ingest import readers
from core.ingest.pipeline import ingest, ingest_paths
from tests.ingest_helpers import assert_rows_accounted

HEADER = "date,rep_id,account_id,product,revenue"


def _sales(n: int, date: str = "2024-{m:02d}-{d:02d}") -> list[str]:
    """n plain sales rows; rep, account and amount vary, so rows are distinct."""
    return [",".join([date.format(m=1 + i % 12, d=1 + i % 28), f"R{i % 7}", f"A{i % 53}", "GTX",
                      f"{100 + i}.5"]) for i in range(n)]


def _text(lines: list[str]) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _in_batches(monkeypatch: pytest.MonkeyPatch, batch_bytes: int = 4096, block_bytes: int = 4096) -> None:
    """Read every text file over 1 KB in batches of about `batch_bytes`, gathered from pyarrow's
    blocks of `block_bytes`."""
    monkeypatch.setattr(readers, "STREAM_BYTES", 1024)
    monkeypatch.setattr(readers, "BATCH_BYTES", batch_bytes)
    monkeypatch.setattr(readers, "READ_BLOCK_BYTES", block_bytes)


def _issues(ds: object) -> pd.DataFrame:
    issues = ds.issues.drop(columns="Table")         # type: ignore[attr-defined]
    return issues.sort_values(list(issues.columns), ignore_index=True)


def _same(whole: object, batched: object) -> None:
    for name, table in whole.tables.items():         # type: ignore[attr-defined]
        pd.testing.assert_frame_equal(batched.tables[name].astype(str), table.astype(str),  # type: ignore[attr-defined]
                                      check_dtype=False, obj=name)
    pd.testing.assert_frame_equal(_issues(batched), _issues(whole))
    assert [(s.source, s.table, s.rows, s.note) for s in batched.sources] == \
        [(s.source, s.table, s.rows, s.note) for s in whole.sources]    # type: ignore[attr-defined]


def test_text_batches_split_a_big_file_and_keep_row_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    _in_batches(monkeypatch)
    data = _text(_sales(1000))
    sheets = list(readers.text_batches("sales.csv", data, lambda label: True) or [])
    assert len(sheets) > 5
    rows = pd.Index([r for s in sheets for r in s.data.index])
    assert rows.tolist() == list(range(2, 1002))     # row 1 is the header
    assert all(s.columns == HEADER.split(",") for s in sheets)


def test_small_or_encoded_files_are_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    assert readers.text_batches("sales.csv", _text(_sales(50)), lambda label: True) is None
    _in_batches(monkeypatch)
    data = _text(_sales(1000))
    utf16 = b"\xff\xfe" + data.decode().encode("utf-16-le")
    assert readers.text_batches("sales.csv", utf16, lambda label: True) is None
    assert readers.text_batches("sales.xlsx", data, lambda label: True) is None


@pytest.mark.parametrize("block_bytes", [4096, 1024], ids=["one block a batch", "blocks gathered"])
def test_a_file_in_batches_loads_what_the_whole_file_loads(monkeypatch: pytest.MonkeyPatch, block_bytes: int) -> None:
    """Bad cells in later batches, duplicates far apart, blank rows inside and at the end, a
    footer: the same tables, the same issues on the same rows, the same source line; whether a
    batch is one block of pyarrow's reader or several gathered."""
    lines = _sales(1500)
    lines[700] = "2024-13-45,R1,A1,GTX,10"            # not a date
    lines[1200] = "2024-02-03,R2,A2,GTX,n/a"          # not an amount
    lines[1300] = lines[40]                           # exact duplicate of a row in the first batch
    lines[900:900] = [",,,,", ",,,,"]                 # blank rows inside
    lines += ["Grand Totals,,,,", ",,,,"]             # footer, then a blank row at the end
    data = _text(lines)
    whole = ingest([("sales.csv", data)])
    _in_batches(monkeypatch, block_bytes=block_bytes)
    assert len(list(readers.text_batches("sales.csv", data, lambda label: True) or [])) > 5
    batched = ingest([("sales.csv", data)])
    _same(whole, batched)
    for column in ("rep_id", "account_id"):          # stacked over sorted categories, as one file's are
        categories = batched.tables["sales"][column].cat.categories.tolist()
        assert categories == sorted(categories) == whole.tables["sales"][column].cat.categories.tolist()
    problems = " ".join(batched.issues["Problem"])
    assert "exact duplicate" in problems and "blank row skipped" in problems and "footer" in problems
    assert_rows_accounted(batched, rows_in=len(lines) - 1)    # the blank row at the end is not data


def test_a_path_is_read_in_batches_like_its_bytes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _in_batches(monkeypatch)
    path = tmp_path / "sales.csv"
    path.write_bytes(_text(_sales(800)))
    _same(ingest([("sales.csv", path.read_bytes())]), ingest_paths([path]))


def test_day_first_dates_settled_by_the_first_batch_hold_for_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """"03/04/2024" in a later batch is 3 April when the first batch showed a day over 12,
    although nothing in its own batch says so."""
    first = _sales(300, "{d:02d}/{m:02d}/2024")       # days up to 28: day-first is clear
    later = [f"03/04/2024,R1,A{i},GTX,{i}.0" for i in range(700)]
    _in_batches(monkeypatch)
    batched = ingest([("sales.csv", _text(first + later))])
    sales = batched.tables["sales"]
    assert (sales["date"].iloc[300:] == pd.Timestamp("2024-04-03")).all()
    assert not batched.issues["Problem"].str.contains("day-first or month-first").any()


def test_an_unsettled_first_batch_reads_month_first_and_lists_what_does_not_fit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first batch cannot tell, the file is read month-first (said once); a later day
    over 12 that does not fit is listed with its row, not read another way or lost."""
    first = [f"03/04/2024,R1,A{i},GTX,{i}.0" for i in range(700)]
    later = ["25/04/2024,R1,A1,GTX,5.0"]
    _in_batches(monkeypatch)
    batched = ingest([("sales.csv", _text(first + later))])
    assert (batched.tables["sales"]["date"] == pd.Timestamp("2024-03-04")).all()
    note = batched.issues[batched.issues["Problem"].str.contains("day-first or month-first")]
    assert len(note) == 1
    bad = batched.issues[batched.issues["Kind"].eq("rejected")]
    assert bad["Row"].tolist() == [702] and bad["Value"].tolist() == ["25/04/2024"]
    assert_rows_accounted(batched, rows_in=701)


def test_decimal_commas_settled_by_the_first_batch_hold_for_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    first = [f'2024-01-05,R1,A{i},GTX,"1.234,50"' for i in range(400)]
    later = [f'2024-01-06,R1,A{i},GTX,"2,500"' for i in range(400)]      # 2.5 in a decimal-comma file
    _in_batches(monkeypatch)
    sales = ingest([("sales.csv", _text(first + later))]).tables["sales"]
    assert sales["revenue"].iloc[:400].eq(1234.5).all() and sales["revenue"].iloc[400:].eq(2.5).all()


def test_an_irregular_file_is_read_whole_after_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short record in a later batch: the batches are dropped and the careful reader keeps the
    row in its place, as without batches."""
    lines = _sales(900)
    lines[800] = "2024-01-05,R1,A1"                   # two fields short
    data = _text(lines)
    whole = ingest([("sales.csv", data)])
    _in_batches(monkeypatch)
    _same(whole, ingest([("sales.csv", data)]))


def test_currencies_converted_batch_by_batch_are_said_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-currency export read in batches: each batch converts its own rows, and the
    validation report says so once for the file, with every batch's rows counted."""
    lines = [f"2024-01-{1 + i % 28:02d},R{i % 7},A{i},GTX,{100 + i}.0,{'EUR' if i % 3 else 'GBP'}" for i in range(900)]
    data = ("\n".join([HEADER + ",currency", *lines]) + "\n").encode()
    whole = ingest([("sales.csv", data)])
    _in_batches(monkeypatch)
    batched = ingest([("sales.csv", data)])
    _same(whole, batched)
    note = batched.issues[batched.issues["Problem"].str.startswith("amounts converted to")]
    assert note["Value"].tolist() == ["EUR: 600 rows (ECB rate of the row's date); GBP: 300 rows (ECB rate of the "
                                      "row's date)"]


def test_a_utf8_file_with_excels_byte_order_mark_is_read_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark: the header still reads "date", as whole."""
    data = b"\xef\xbb\xbf" + _text(_sales(900))
    whole = ingest([("sales.csv", data)])
    _in_batches(monkeypatch, block_bytes=1024)
    assert len(list(readers.text_batches("sales.csv", data, lambda label: True) or [])) > 5
    batched = ingest([("sales.csv", data)])
    _same(whole, batched)
    assert len(batched.tables["sales"]) == 900


def test_blocks_are_gathered_into_batches_of_at_least_the_batch_size() -> None:
    class Block:
        def __init__(self, nbytes: int) -> None:
            self.nbytes = nbytes

    blocks = [Block(n) for n in (3, 3, 3, 5, 1, 1)]
    groups = [[b.nbytes for b in g] for g in readers._gathered(blocks, 6)]
    assert groups == [[3, 3], [3, 5], [1, 1]]
    assert list(readers._gathered([], 6)) == []
