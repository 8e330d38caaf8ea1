"""Results the summary, the diagnostic and the pages share (rep KPIs, territory balance,
competencies) are computed once per Dataset and handed out as copies: the same numbers on every
call, and a caller changing its copy changes nothing for the next one."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from core.dataset import Dataset, Scope
from core.kpis.rollup import rep_kpis
from core.people.competency import competency_table
from core.periods import parse_period
from core.sample.team import generate
from core.settings import Points, Settings
from core.territory.balance import territory_balance

PERIOD = parse_period("2026-Q2")
S = Settings()


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset(tables=generate(n_reps=10, years=1.5, seed=3).tables)


CALLS: dict[str, Callable[[Dataset], pd.DataFrame]] = {
    "rep_kpis": lambda d: rep_kpis(d, PERIOD, S),
    "territory_balance": lambda d: territory_balance(d, PERIOD, S),
    "competency_table": lambda d: competency_table(d, S, PERIOD.end),
}


@pytest.mark.parametrize("name", CALLS)
def test_a_shared_result_is_a_copy_with_the_same_numbers(ds, name):
    first = CALLS[name](ds)
    kept = first.copy()
    first.iloc[:, -1] = first.iloc[:, -1].where(first.index < 0)      # a caller scribbles on its copy
    again = CALLS[name](ds)
    pd.testing.assert_frame_equal(again, kept)
    fresh = CALLS[name](Dataset(tables=dict(ds.tables)))               # computed from scratch
    pd.testing.assert_frame_equal(again, fresh)


def test_rep_kpis_follow_scope_and_settings(ds):
    whole = rep_kpis(ds, PERIOD, S)
    region = whole["region"].iloc[0]
    scoped = rep_kpis(ds, PERIOD, S, Scope(region=region))
    assert set(scoped["rep_id"]) == set(whole.loc[whole["region"] == region, "rep_id"]) != set(whole["rep_id"])
    doubled = Settings(points=Points(meeting=2 * S.points.meeting))      # the points KPI reads the scheme
    meetings = rep_kpis(ds, PERIOD, doubled)["points"] - whole["points"]
    assert (meetings > 0).any() and (meetings >= 0).all()
    assert rep_kpis(ds, parse_period("2026-Q1"), S)["revenue"].sum() != whole["revenue"].sum()
