"""Long CSV columns (1,000 rows and more) take ingest's fast paths: pyarrow's reader, each column
read once per distinct value and shared by the parser and the source-row key, rows hashed as they
are read. Every refused cell keeps its row and reason there, and duplicates are found across sheets
read apart, as on short files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ingest import cleaning
from core.ingest.duplicates import keep_rows, row_hash, value_hash
from core.ingest.pipeline import ingest

HEADER = "Date,Rep,Product,Revenue\n"
N = 1_500


def _rows(n: int, start: int = 0) -> list[str]:
    """n distinct good sales rows with ISO dates (row i of the file is line i + 2)."""
    return [f"2024-{1 + (i % 12):02d}-{1 + (i % 28):02d},R{i % 40},GTX,{100 + i}" for i in range(start, start + n)]


def _csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def _issues(ds, kind: str | None = None) -> pd.DataFrame:
    issues = ds.issues
    return issues if kind is None else issues[issues["Kind"] == kind]


def test_a_bad_date_and_a_number_written_n_a_among_good_cells_keep_their_rows_and_reasons():
    rows = _rows(N)
    rows[10] = "2024-13-45,R1,GTX,5"          # file row 12: no such month
    rows[20] = "2024-02-03,R2,GTX,n/a"        # file row 22: not a number
    rows[30] = ",R3,GTX,7"                    # file row 32: no date at all
    rows[40] = "2024-02-03, R7 ,GTX,9"        # stray spaces: read as R7, not refused
    ds = ingest([("sales.csv", _csv(rows))])
    rejected = _issues(ds, "rejected")
    reasons = {int(r): p for r, p in zip(rejected["Row"], rejected["Problem"], strict=True)}
    assert set(reasons) == {12, 22, 32}
    assert "cannot read as a date" in reasons[12]
    assert "cannot read as a number" in reasons[22]
    assert "missing date" in reasons[32]
    assert rejected.set_index("Row").loc[22, "Value"] == "n/a"
    sales = ds.tables["sales"]
    assert len(sales) == N - 3
    assert sales["rep_id"].isin(["R7"]).sum() == 1 + sum(1 for i in range(N) if i % 40 == 7 and i != 40)
    assert sales["date"].notna().all() and sales["revenue"].notna().all()


def test_clean_long_columns_load_as_written():
    ds = ingest([("sales.csv", _csv(_rows(N)))])
    sales = ds.tables["sales"]
    assert len(sales) == N and not len(_issues(ds, "rejected"))
    assert sales["rep_id"].tolist() == [f"R{i % 40}" for i in range(N)]
    assert sales["date"].iloc[13] == pd.Timestamp("2024-02-14")
    assert sales["revenue"].sum() == sum(100 + i for i in range(N))


@pytest.mark.parametrize("second", [N, 50], ids=["long second sheet", "short second sheet"])
def test_duplicates_are_found_across_sheets_read_apart(second: int):
    """The second file repeats a row of the first exactly, and another with its revenue written
    differently (the same loaded values): one is an exact duplicate, the other a near one."""
    first = _rows(N)
    other = _rows(second, start=N)
    other[0] = first[5]                                   # exact copy of file row 7
    date, rep, product, revenue = first[6].split(",")
    other[1] = f"{date},{rep},{product},{revenue}.00"     # same values, written apart
    ds = ingest([("a.csv", _csv(first)), ("b.csv", _csv(other))])
    dups = _issues(ds, "duplicate")
    assert dups[["Source", "Row"]].values.tolist() == [["b.csv", 2]]
    assert dups["Value"].iat[0] == "same as row 7 of a.csv"
    near = _issues(ds, "warning")
    near = near[near["Problem"].str.contains("same as another row")]
    assert near[["Source", "Row"]].values.tolist() == [["b.csv", 3]]
    assert len(ds.tables["sales"]) == N + second - 1


def test_value_hash_depends_on_values_only():
    a = pd.Series([0.0, -0.0, np.nan, float("nan"), 1.5])
    h = value_hash(a)
    assert h[0] == h[1] and h[2] == h[3] and len({h[0], h[2], h[4]}) == 3
    text = pd.Series(["x", None, "y", "x", np.nan], dtype="str")
    t = value_hash(text)
    assert t[0] == t[3] and t[1] == t[4] and len({t[0], t[1], t[2]}) == 3
    # the same values in another order (another table of distinct values) hash the same
    assert value_hash(pd.Series(["y", "x"], dtype="str")).tolist() == [t[2], t[0]]
    dates = pd.Series(pd.to_datetime(["2024-01-01", None, "2024-01-01"]))
    d = value_hash(dates)
    assert d[0] == d[2] != d[1]


def test_row_hash_from_known_column_hashes_equals_the_computed_one():
    frame = pd.DataFrame({"a": pd.Series(["p", "q", "p"], dtype="str"), "b": [1.0, 2.0, 1.0]})
    assert (row_hash(frame, ["a", "b"], {"a": value_hash(frame["a"])}) == row_hash(frame, ["a", "b"])).all()


def test_keep_rows_keeps_values_types_and_row_labels():
    frame = pd.DataFrame({"s": pd.Series(["a", None, "c"], dtype="str"), "f": [1.0, 2.0, 3.0],
                          "b": pd.array([True, None, False], dtype="boolean"),
                          "d": pd.to_datetime(["2024-01-01", None, "2024-01-03"])}, index=[5, 6, 7])
    expected = frame[[True, False, True]].copy()
    kept = keep_rows(frame.copy(), np.array([True, False, True]))
    pd.testing.assert_frame_equal(kept, expected)
    assert keep_rows(frame, np.ones(3, dtype=bool)) is frame


def test_a_column_read_once_parses_as_when_read_by_itself():
    cells = pd.Series(["2024-01-05", " 2024-01-06", "", "9999-12-31", "bad", None] * 200, dtype="str")
    known = cleaning.distinct(cells)
    assert known is not None
    alone, shared = cleaning.parse_date(cells), cleaning.parse_date(cells, known)
    assert alone.values.equals(shared.values) and alone.bad.equals(shared.bad)
    assert alone.no_date is not None and shared.no_date is not None and alone.no_date.equals(shared.no_date)
    assert shared.bad.sum() == 200 and shared.no_date.sum() == 200
    labels = pd.Series(["R1", "R2 ", "R3"] * 400, dtype="str")
    assert cleaning.parse_text(labels, cleaning.distinct(labels)).values.equals(cleaning.parse_text(labels).values)


def test_a_column_its_parser_leaves_as_it_is_is_not_copied():
    ids = pd.Series([f"A{i % 70}" for i in range(2_000)], dtype="str")
    parsed = cleaning.parse_text(ids)
    assert parsed.values is ids and not parsed.bad.any()
    spaced = pd.Series([f" A{i % 70}" for i in range(2_000)], dtype="str")
    assert cleaning.parse_text(spaced).values.tolist() == ids.tolist()


@pytest.mark.parametrize("odd", [None, " 12.5", "12.5 ", "", "#N/A", "12\u00a0", "n/a"])
def test_amount_cells_are_keyed_as_their_text(odd: str | None):
    """An amount column's source key is the hash of each cell's text as to_text reads it, whether
    the column is written plainly (hashed as it is) or has a cell to strip or blank."""
    from core.ingest.duplicates import text_hash
    from core.ingest.loading import _cell_hash

    cells = [f"{i}.5" for i in range(70_000)]
    if odd is not None:
        cells[68_000] = odd
    raw = pd.Series(cells, dtype="str")
    assert cleaning.as_written(raw) == (odd is None or odd == "n/a")
    assert (_cell_hash(raw, None) == text_hash(cleaning.to_text(raw))).all()
