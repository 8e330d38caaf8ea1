"""core.report.beside: results computed in a forked child are the ones this process would have
computed, this process does not compute them again, and a child that fails or is not needed costs
nothing but its own time."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import periods
from core.dataset import Dataset
from core.diagnostic.causes import customer_retention
from core.report import beside
from core.report.beside import computed_beside
from core.report.summary import beside_tasks, collect
from core.report.workbook import build_workbook
from core.settings import Settings


@pytest.fixture
def may_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest has threads of its own; the command line, where this runs, has none."""
    monkeypatch.setattr(beside, "alone", lambda: True)


def _fresh(ds: Dataset) -> Dataset:
    return ds.replace()         # the same tables, nothing computed yet


def _quarter(ds: Dataset) -> periods.Period:
    span = ds.date_span()
    assert span is not None
    return periods.latest_complete("quarter", span[1], 1)


def _recording_pids(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Every computation of lost customers appends its process id to `log`."""
    real = customer_retention._lost_revenue_share

    def recorded(*args, **kwargs):
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)
    monkeypatch.setattr(customer_retention, "_lost_revenue_share", recorded)


def test_the_summary_built_beside_a_child_is_the_summary_built_alone(bundled_sample, may_fork, tmp_path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    period, settings = _quarter(bundled_sample), Settings()
    alone = build_workbook(collect(_fresh(bundled_sample), period, settings))
    log = tmp_path / "pids"
    _recording_pids(monkeypatch, log)
    ds = _fresh(bundled_sample)
    tasks = beside_tasks(ds, period)
    assert [key[0] for key, _ in tasks] == ["diagnostic.lost_revenue_share", "people.competency_table",
                                            "diagnostic.quarter_end_share"]
    with computed_beside(ds, tasks):
        together = build_workbook(collect(ds, period, settings))
    assert together == alone
    computed_in = {int(line) for line in log.read_text().split()}
    assert len(computed_in) == 1 and os.getpid() not in computed_in      # by the child only, once


def _fails(*args, **kwargs):
    raise RuntimeError("a bug in the child")


def test_what_the_child_could_not_compute_is_computed_here(bundled_sample, may_fork,
                                                            monkeypatch: pytest.MonkeyPatch):
    period = _quarter(bundled_sample)
    ds = _fresh(bundled_sample)
    expected = customer_retention.lost_revenue_share(_fresh(bundled_sample), period)
    real = customer_retention._lost_revenue_share
    parent = os.getpid()
    monkeypatch.setattr(customer_retention, "_lost_revenue_share",
                        lambda *a: real(*a) if os.getpid() == parent else _fails())
    with computed_beside(ds, beside_tasks(ds, period)):
        got = customer_retention.lost_revenue_share(ds, period)
    assert got.equals(expected)


def test_a_child_not_needed_is_stopped_and_leaves_nothing_behind(bundled_sample, may_fork):
    ds = _fresh(bundled_sample)
    never = (("test.never",), lambda: __import__("time").sleep(60))
    with computed_beside(ds, [never]):
        pass
    assert ("test.never",) not in ds.cache._results
    assert ds.memo(("test.never",), lambda: 1) == 1           # the promise was given up


def test_a_process_with_threads_computes_everything_itself(bundled_sample, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(beside, "alone", lambda: False)
    monkeypatch.setattr(os, "fork", _fails)
    ds = _fresh(bundled_sample)
    with computed_beside(ds, beside_tasks(ds, _quarter(bundled_sample))):
        assert not ds.cache._computing                       # nothing promised
