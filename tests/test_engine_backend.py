"""core.engine.backend: a connection URL as INPUT. A DuckDB file given by its path or by a
duckdb:// URL gives the same KPIs as the same tables in a workbook (tables named like the canonical
ones, or mapped by the TOML table map); the parts computed on the backend equal the pandas
engine's; a URL that cannot connect, or a missing table, is one plain line."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ibis")
duckdb = pytest.importorskip("duckdb")

from core.cli import main  # noqa: E402
from core.engine.backend import backend_month_parts, is_url, shown  # noqa: E402
from core.engine.parts import MONTH_ADDITIVE, period_sums  # noqa: E402
from core.errors import UserError  # noqa: E402
from core.ingest.sources import TableMap, ingest_inputs  # noqa: E402
from core.kpis.inputs import whole_roster  # noqa: E402
from core.kpis.metrics import rep_kpis  # noqa: E402
from core.kpis.parts import period_parts  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests import test_sources as file_inputs  # noqa: E402
from tests.ingest_helpers import assert_rows_accounted  # noqa: E402
from tests.test_sources import PERIOD, _database, _same_kpis  # noqa: E402

# The same 6-rep team and its workbook's KPIs as the file-input tests (their fixtures, not a copy).
tables = file_inputs.tables
workbook_kpis = file_inputs.workbook_kpis


@pytest.fixture(scope="module")
def team_db(tables, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "team.duckdb"
    _database(db, tables)
    return db


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "url"])
def test_duckdb_input_gives_the_workbooks_kpis(team_db, workbook_kpis, as_url):
    source = f"duckdb://{team_db}" if as_url else team_db
    ds = ingest_inputs([source])
    assert_rows_accounted(ds)
    assert {s.source for s in ds.sources if s.table} >= {f"team.duckdb › {n}" for n in ("reps", "sales", "quotas")}
    _same_kpis(rep_kpis(ds, PERIOD, Settings()), workbook_kpis)


def test_url_with_a_table_map(tables, workbook_kpis, tmp_path):
    """Warehouse names mapped in TOML; a table neither canonical nor mapped is not read at all."""
    frames = dict(tables)
    frames["fact_sales"] = frames.pop("sales").rename(columns={"revenue": "net_amount"})
    frames["dim_rep"] = frames.pop("reps")
    frames["audit_log"] = pd.DataFrame({"who": ["x"]})
    db = tmp_path / "warehouse.duckdb"
    _database(db, frames)
    toml = tmp_path / "map.toml"
    toml.write_text('[tables]\nsales = "fact_sales"\nreps = "dim_rep"\n\n[columns.sales]\nrevenue = "net_amount"\n')
    table_map = TableMap.read(toml)
    ds = ingest_inputs([f"duckdb://{db}"], table_map)
    assert_rows_accounted(ds)
    read = {s.source: s.table for s in ds.sources}
    assert read["warehouse.duckdb › fact_sales"] == "sales" and read["warehouse.duckdb › dim_rep"] == "reps"
    assert not any("audit_log" in source for source in read)
    _same_kpis(rep_kpis(ds, PERIOD, Settings()), workbook_kpis)
    # the parts computed in the database itself, through the same map, equal the pandas engine's
    monthly = backend_month_parts(f"duckdb://{db}", table_map)
    reference = period_parts(ds, PERIOD)
    got = period_sums(monthly, PERIOD, whole_roster(ds)["rep_id"])
    for name in (n for n in MONTH_ADDITIVE if n in reference):
        np.testing.assert_allclose(got[name], reference[name], rtol=1e-9, equal_nan=True, err_msg=name)
    assert got["revenue"].sum() > 0 and np.nansum(got["rep_quota"]) > 0


def test_cli_report_from_a_url(team_db, tmp_path):
    out = tmp_path / "summary.xlsx"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", f"duckdb://{team_db}", "--out", str(out), "--period", "2026-Q3"])
    assert code == 0, err.getvalue()
    assert out.stat().st_size > 0 and "done:" in err.getvalue()


@pytest.mark.parametrize(("url", "says"), [
    ("duckdb:///no/such/team.duckdb", "No DuckDB database at"),
    ("nosuchengine://host/db", "Could not connect to nosuchengine://host/db"),
    ("postgres://ann:s3cret@127.0.0.1:1/sales", "Could not connect to postgres://ann:***@127.0.0.1:1/sales"),
])
def test_a_url_that_cannot_connect_is_one_plain_line(tmp_path, url, says):
    out = tmp_path / "summary.xlsx"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", url, "--out", str(out)])
    assert code == 1
    lines = err.getvalue().strip().splitlines()
    assert says in lines[-1] and lines[-1].startswith("error:") and "s3cret" not in err.getvalue()
    assert "Traceback" not in err.getvalue() and not out.exists()


def test_missing_tables_are_named(team_db, tmp_path):
    toml = tmp_path / "map.toml"
    toml.write_text('[tables]\nsales = "fact_sales"\n')
    with pytest.raises(UserError, match='sales = "fact_sales"'):
        ingest_inputs([f"duckdb://{team_db}"], TableMap.read(toml))
    empty = tmp_path / "empty.duckdb"
    _database(empty, {"audit_log": pd.DataFrame({"who": ["x"]})})
    with pytest.raises(UserError, match="holds no GoalGap table"):
        ingest_inputs([f"duckdb://{empty}"])


def test_urls_and_passwords():
    assert is_url("duckdb:///a/b.duckdb") and is_url("snowflake://u@acct/db") and not is_url("/a/b.duckdb")
    assert not is_url("C:/data/team.duckdb")
    assert shown("postgres://ann:pw@host/db") == "postgres://ann:***@host/db"
    assert shown("duckdb:///a.duckdb") == "duckdb:///a.duckdb"
