"""bench.generate writes a company chunk by chunk: one chunk is exactly the sample generator's
files, several chunks keep every id unique and every reference whole, and chunks generated at once
in several processes give the same files as one after the other."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench import generate as gen
from core.sample.team import generate, write_csvs


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 10 reps, so that a 25-rep team takes three (the last one of 5 reps)."""
    monkeypatch.setattr(gen, "CHUNK_REPS", 10)
    monkeypatch.setitem(gen.BLOCKS, "rep_id", 10)
    monkeypatch.setitem(gen.BLOCKS, "territory_id", 10)


def test_one_chunk_is_the_generators_own_files(tmp_path):
    data = gen.prepare(25, 1.0, 1.5, xlsx_rows=10, root=tmp_path / "chunked", log=lambda _: None)
    write_csvs(generate(n_reps=25, years=1.0, seed=7, density=1.5).tables, tmp_path / "whole")
    for csv in data.csvs:
        assert csv.read_bytes() == (tmp_path / "whole" / csv.name).read_bytes(), csv.name
    assert data.xlsx.exists() and not (data.folder / ".parts").exists()


def test_chunks_keep_ids_unique_and_references_whole(tmp_path, small_chunks):
    data = gen.prepare(25, 1.0, 1.5, xlsx_rows=10, root=tmp_path, log=lambda _: None)
    read = {csv.stem: pd.read_csv(csv, dtype=str) for csv in data.csvs}
    assert {name: len(t) for name, t in read.items()} == data.rows
    assert len(read["reps"]) == 25 and len(read["products"]) == len(read["products"].drop_duplicates())
    for table, column in [("reps", "rep_id"), ("territories", "territory_id"), ("accounts", "account_id"),
                          ("opportunities", "opportunity_id")]:
        assert read[table][column].is_unique, table
    for table in ("sales", "activities", "follow_ups", "opportunities"):
        assert read[table]["rep_id"].isin(read["reps"]["rep_id"]).all(), table
        assert read[table]["account_id"].isin(read["accounts"]["account_id"]).all(), table
    assert read["accounts"]["territory_id"].isin(read["territories"]["territory_id"]).all()
    # the third chunk's reps are numbered after the second's, and its accounts in a block of their own
    assert read["reps"]["rep_id"].iloc[-1] == "R025"
    assert read["accounts"]["account_id"].iloc[-1].startswith("A2")


def test_chunks_generated_at_once_give_the_same_files(tmp_path, small_chunks):
    one = gen.prepare(25, 1.0, 1.5, xlsx_rows=10, root=tmp_path / "one", log=lambda _: None)
    two = gen.prepare(25, 1.0, 1.5, xlsx_rows=10, root=tmp_path / "two", log=lambda _: None, workers=2)
    for csv in one.csvs:
        assert csv.read_bytes() == (two.folder / csv.name).read_bytes(), csv.name


def test_a_chunk_with_more_accounts_than_its_block_is_refused(tmp_path, small_chunks, monkeypatch):
    monkeypatch.setitem(gen.BLOCKS, "account_id", 50)
    with pytest.raises(ValueError, match="block of ids"):
        gen.prepare(25, 1.0, 1.5, xlsx_rows=10, root=tmp_path, log=lambda _: None)


def test_reading_back_needs_no_generation(tmp_path):
    first = gen.prepare(12, 1.0, 1.5, xlsx_rows=10, root=tmp_path, log=lambda _: None)
    again = gen.prepare(12, 1.0, 1.5, xlsx_rows=10, root=tmp_path, log=lambda _: None)
    assert again.seconds == 0.0 and again.rows == first.rows and Path(again.folder) == Path(first.folder)
