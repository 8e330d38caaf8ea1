"""bench.report_stages runs what the report command runs after ingest: same workbook, every stage."""
from __future__ import annotations

import pickle

from bench import report_stages
from core.dataset import Dataset, Scope
from core.periods import parse_period
from core.report.summary import collect
from core.report.workbook import build_workbook
from core.sample.team import generate
from core.settings import Settings


def test_stages_and_the_workbook_of_the_report(tmp_path, capsys):
    ds = Dataset(generate(n_reps=8, years=1.5, seed=3).tables)
    source, out = tmp_path / "ds.pkl", tmp_path / "report.xlsx"
    source.write_bytes(pickle.dumps(ds))
    assert report_stages.main([str(source), "--period", "2026-Q3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for stage in ("quotas and checks", "computing KPIs", "diagnosing", "measuring territories", "workbook"):
        assert stage in printed
    assert "report after ingest:" in printed and "peak" in printed
    expected = build_workbook(collect(ds, parse_period("2026-Q3"), Settings(), Scope()))
    assert out.read_bytes() == expected
