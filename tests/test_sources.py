"""core.ingest.sources: a DuckDB database file, a folder of Parquet / CSV files and a TOML table map as
input, validated by ingest's rules, giving the same KPIs as the same tables in a workbook."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import UserError
from core.ingest.pipeline import ingest_paths
from core.ingest.sources import TableMap, ingest_inputs
from core.kpis.metrics import rep_kpis
from core.periods import parse_period
from core.sample.team import generate, write_workbook
from core.settings import Settings
from tests.ingest_helpers import assert_rows_accounted

duckdb = pytest.importorskip("duckdb")

PERIOD = parse_period("2026-Q3")
COMPARED = ("revenue", "quota", "attainment", "win_rate", "meetings", "on_time_follow_up_rate",
            "active_accounts", "open_pipeline")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(n_reps=6, years=1.2, seed=5).tables


@pytest.fixture(scope="module")
def workbook_kpis(tables, tmp_path_factory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("book") / "team.xlsx"
    write_workbook(tables, path)
    return rep_kpis(ingest_paths([path]), PERIOD, Settings())


def _database(path, frames: dict[str, pd.DataFrame]) -> None:
    with duckdb.connect(str(path)) as con:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")


def _same_kpis(ours: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(ours["rep_id"]) == list(expected["rep_id"])
    for kpi in COMPARED:
        np.testing.assert_allclose(ours[kpi].to_numpy("float64"), expected[kpi].to_numpy("float64"),
                                   rtol=1e-9, err_msg=kpi)
    assert expected["revenue"].sum() > 0 and expected["quota"].notna().any()


def test_duckdb_file_gives_the_same_kpis_as_the_workbook(tables, workbook_kpis, tmp_path):
    """Tables named like the canonical ones in a DuckDB file: every row loaded or reported, and the
    per-rep revenue, quota, attainment, win rate (and more) equal the workbook's."""
    db = tmp_path / "team.duckdb"
    _database(db, tables)
    ds = ingest_inputs([db])
    assert_rows_accounted(ds)
    assert {s.source for s in ds.sources if s.table} >= {f"team.duckdb › {n}" for n in ("reps", "sales", "quotas")}
    _same_kpis(rep_kpis(ds, PERIOD, Settings()), workbook_kpis)


def test_table_map_names_tables_and_renames_columns(tables, workbook_kpis, tmp_path):
    """Warehouse names (fact_sales with net_amount, dim_rep) mapped in a TOML file give the same KPIs."""
    frames = dict(tables)
    frames["fact_sales"] = frames.pop("sales").rename(columns={"revenue": "net_amount", "date": "invoice_day"})
    frames["dim_rep"] = frames.pop("reps")
    db = tmp_path / "warehouse.duckdb"
    _database(db, frames)
    toml = tmp_path / "map.toml"
    toml.write_text('[tables]\nsales = "fact_sales"\nreps = "dim_rep"\n\n'
                    '[columns.sales]\nrevenue = "net_amount"\ndate = "invoice_day"\n')
    ds = ingest_inputs([db], TableMap.read(toml))
    assert_rows_accounted(ds)
    chosen = {s.source: s.table for s in ds.sources}
    assert chosen["warehouse.duckdb › fact_sales"] == "sales" and chosen["warehouse.duckdb › dim_rep"] == "reps"
    _same_kpis(rep_kpis(ds, PERIOD, Settings()), workbook_kpis)


def test_bad_rows_of_a_database_table_are_reported_by_their_position(tables, tmp_path):
    """The same validation as uploads: a sale without a rep and one with an unreadable date are
    rejected, each listed with its row's position in the table."""
    sales = tables["sales"].head(5).astype({"date": "str"})
    sales.loc[1, "rep_id"] = None
    sales.loc[3, "date"] = "not a date"
    db = tmp_path / "bad.duckdb"
    _database(db, {"reps": tables["reps"], "sales": sales})
    ds = ingest_inputs([db])
    assert len(ds.table("sales")) == 3
    rejected = ds.issues[(ds.issues["Source"] == "bad.duckdb › sales") & (ds.issues["Kind"] == "rejected")]
    assert sorted(rejected["Row"].tolist()) == [2, 4]
    assert_rows_accounted(ds)


def test_folder_of_parquet_and_csv_files(tables, workbook_kpis, tmp_path):
    """A folder mixing Parquet and CSV files is read like the workbook."""
    folder = tmp_path / "data"
    folder.mkdir()
    for i, (name, frame) in enumerate(tables.items()):
        if i % 2:
            frame.to_parquet(folder / f"{name}.parquet")
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    ds = ingest_inputs([folder])
    assert_rows_accounted(ds)
    _same_kpis(rep_kpis(ds, PERIOD, Settings()), workbook_kpis)


def test_cli_report_from_a_duckdb_file(tables, tmp_path):
    db, out = tmp_path / "team.duckdb", tmp_path / "summary.xlsx"
    _database(db, tables)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(db), "--out", str(out), "--period", "2026-Q3"])
    assert code == 0, err.getvalue()
    assert out.stat().st_size > 0 and "done:" in err.getvalue()


@pytest.mark.parametrize(("text", "says"), [
    ('[tables]\nsale = "x"\n', "'sale' is not a GoalGap table"),
    ('[columns.sales]\nturnover = "x"\n', "sales has no column 'turnover'"),
    ('[tabels]\nsales = "x"\n', "unknown section(s) tabels"),
    ("[tables\n", "not a valid TOML file"),
])
def test_a_wrong_map_says_what_is_wrong(tmp_path, text, says):
    toml = tmp_path / "map.toml"
    toml.write_text(text)
    with pytest.raises(UserError, match=None) as err:
        TableMap.read(toml)
    assert says in str(err.value)


def test_a_mapped_table_missing_from_the_input_is_named(tables, tmp_path):
    db = tmp_path / "team.duckdb"
    _database(db, {"reps": tables["reps"]})
    with pytest.raises(UserError) as err:
        ingest_inputs([db], TableMap.parse({"tables": {"sales": "fact_sales"}}))
    assert 'sales = "fact_sales"' in str(err.value) and "reps" in str(err.value)
