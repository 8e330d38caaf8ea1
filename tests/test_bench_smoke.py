"""The benchmark at a tiny scale, so it cannot rot; and the generator's density option it relies on.

The real benchmark (`python -m bench.run`) is not a test: it takes minutes and its numbers depend
on the machine. Here every step runs once on a few reps and must produce a measurement.
That run still takes minutes on a busy machine, so its tests are slow (`pytest -m slow`, .ci/run's
second step); the generator's density option is checked in the default run.
"""
from __future__ import annotations

import pandas as pd
import pytest

from bench import run as bench
from bench.generate import prepare
from core.sample.team import generate, write_workbook

pytest.importorskip("duckdb", reason="the benchmark's SQL reference needs requirements-dev.txt")

EVERY_STEP = ("ingest demo workbook", "ingest large CSVs", "engine=calamine", "engine=openpyxl",
              "core.ingest.readers", "all KPIs for one quarter", "per-rep KPIs", "all KPIs for every month",
              "DuckDB SQL", "full diagnostic", "Excel summary", "app first run",
              "region change, cold", "region change, warm", "peak memory run")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    demo = folder / "demo.xlsx"
    write_workbook(generate(n_reps=6, years=1.0, seed=3).tables, demo)
    args = bench.parse(["--reps", "12", "--years", "1", "--density", "1.5", "--repeat", "1",
                        "--xlsx-rows", "300", "--data", str(folder / "data"), "--out", str(folder / "RESULTS.md"),
                        "--demo", str(demo), "--no-demo-page"])
    report = bench.run(args)
    return report, bench.render(report)


@pytest.mark.slow
def test_every_step_is_measured(tiny):
    """No step fails or is skipped, and each one the issue asks for has a time."""
    report, _ = tiny
    assert not report.failures(), [t.note for t in report.failures()]
    measured = [t.step for t in report.timings if t.ok]
    for step in EVERY_STEP:
        assert any(step in m for m in measured), step
    assert all(t.median > 0 and len(t.cpu) == len(t.times) for t in report.timings if t.ok)


@pytest.mark.slow
def test_every_target_gets_a_verdict_and_the_results_file_shows_it(tiny):
    """Each target is judged PASS or MISS (none left unmeasured) and written to the results table."""
    report, text = tiny
    whats = {t.what.split(" (")[0] for t in report.targets}
    assert {"demo workbook ingest", "all KPIs for one quarter", "full diagnostic", "Excel summary",
            "Overview rerun after a filter change", "peak memory, large dataset end to end"} <= whats
    assert all(t.passed is not None for t in report.targets), [t for t in report.targets if t.passed is None]
    for t in report.targets:
        assert f"| {t.what} | {t.target} | {t.measured} | {'PASS' if t.passed else '**MISS**'} |" in text
    assert report.memory and 0 < max(report.memory.values()) < 4096


@pytest.mark.slow
def test_results_list_the_generated_rows(tiny):
    """The dataset table of the results holds the row counts of the CSVs the benchmark read."""
    report, text = tiny
    for name in ("sales", "activities", "follow_ups", "opportunities"):
        rows = len(pd.read_csv(report.data.folder / f"{name}.csv"))
        assert rows == report.data.rows[name] > 0
        assert f"| {name} | {rows:,} |" in text


@pytest.mark.slow
def test_duckdb_reference_computes_the_same_kpis_as_core(tiny):
    """The SQL reference is the same per-rep KPIs as core.kpis.metrics.rep_kpis, not a cheaper lookalike."""
    report, _ = tiny
    sql = next(t for t in report.timings if t.step.startswith("DuckDB SQL") and "2 threads" in t.step)
    assert sql.note == "same values as rep_kpis for the 6 KPIs of every rep"


@pytest.mark.slow
def test_prepared_data_is_reused(tiny):
    """A second run with the same parameters reads the folder it wrote instead of generating again."""
    report, _ = tiny
    again = prepare(12, 1.0, 1.5, xlsx_rows=300, root=report.data.folder.parent, log=lambda _: None)
    assert again.seconds == 0 and again.rows == report.data.rows


def test_density_multiplies_the_volumes_and_keeps_the_revenue():
    """density=2 doubles activities, follow-ups, deals and sales lines; each order's revenue is kept."""
    one, two = generate(n_reps=12, years=1.0, seed=5), generate(n_reps=12, years=1.0, seed=5, density=2.0)
    for name, low, high in (("activities", 1.85, 2.15), ("follow_ups", 1.7, 2.3), ("opportunities", 1.6, 2.4)):
        assert low < len(two.tables[name]) / len(one.tables[name]) < high, name
    assert len(two.tables["sales"]) == 2 * len(one.tables["sales"])

    def per_month(sales: pd.DataFrame) -> pd.Series:
        key = [sales["rep_id"], sales["account_id"], sales["product"], sales["date"].dt.to_period("M")]
        return sales.groupby(key)["revenue"].sum()

    diff = per_month(two.tables["sales"]) - per_month(one.tables["sales"])
    assert diff.notna().all() and diff.abs().max() <= 0.011
    opp_one, opp_two = one.tables["opportunities"], two.tables["opportunities"]
    assert 0.4 < opp_two["amount"].mean() / opp_one["amount"].mean() < 0.6
