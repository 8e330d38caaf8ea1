"""core.engine.spill: DuckDB connections GoalGap opens run within a memory limit, spill what does
not fit into a temporary folder of their own, and leave nothing on disk after — on error too."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb")

from core.engine.spill import duckdb_connection  # noqa: E402
from core.ingest.sources import ingest_inputs  # noqa: E402

# ~1 M rows with a 32-character text each: far more than a 20 MB limit holds
_BIG = "CREATE TABLE t AS SELECT i, md5(i::VARCHAR) AS s FROM range(1000000) AS r(i)"


@pytest.fixture
def tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder every tempfile call uses during the test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _everything(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def test_spills_into_its_own_folder_and_removes_it(tmp):
    with duckdb_connection(memory_limit="20MB") as con:
        spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert spill.parent == tmp and spill.name.startswith("goalgap-duckdb-")
        assert limit.replace(" ", "") in {"19.0MiB", "20.0MB", "19.0MB"}
        con.execute(_BIG)
        assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 1_000_000
        assert any(p.is_file() for p in spill.rglob("*"))          # the table did not fit: it spilled here
    assert _everything(tmp) == []


@pytest.mark.parametrize("failure", ["python", "sql"])
def test_nothing_left_after_an_error(tmp, failure):
    with pytest.raises((RuntimeError, duckdb.Error)), duckdb_connection(memory_limit="20MB") as con:
        con.execute(_BIG)
        if failure == "python":
            raise RuntimeError("stopped half-way")
        con.execute("SELECT no_such_column FROM t")
    assert _everything(tmp) == []


def test_ibis_connection_spills_and_cleans_up(tmp):
    pytest.importorskip("ibis")
    from core.engine.spill import ibis_duckdb

    with pytest.raises(RuntimeError), ibis_duckdb(memory_limit="20MB") as con:
        con.raw_sql(_BIG)
        spill = Path(con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0])
        assert spill.parent == tmp and any(p.is_file() for p in spill.rglob("*"))
        raise RuntimeError("stopped half-way")
    assert _everything(tmp) == []


def test_reading_a_database_file_and_parquet_leaves_nothing(tmp_path, tmp):
    data = tmp_path / "data"
    data.mkdir()
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "rep_name": ["Ann", "Bob"], "region": ["East", "West"],
                         "territory_id": ["T1", "T2"]})
    sales = pd.DataFrame({"date": pd.to_datetime(["2025-01-02", "2025-02-03"]), "rep_id": ["R1", "R2"],
                          "account_id": ["A1", "A2"], "product": ["P1", "P1"], "revenue": [10.0, 20.0]})
    with duckdb.connect(str(data / "team.duckdb")) as con:
        con.register("frame", reps)
        con.execute("CREATE TABLE reps AS SELECT * FROM frame")
    sales.to_parquet(data / "sales.parquet")
    ds = ingest_inputs([data / "team.duckdb", data / "sales.parquet", f"duckdb://{data / 'team.duckdb'}"])
    assert len(ds.table("sales")) == 2
    assert _everything(tmp) == []
