"""Leaderboard page: points by region and by rep from core.people.leaderboard, region colours, and what is
not counted when a table is missing."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from core.people.leaderboard import leaderboard
from core.sample.team import generate
from tests.apptest import chart_specs
from tests.test_page_team_competencies import CTX_KEY, run_page

PAGE = "pages/leaderboard.py"


@pytest.fixture(scope="module")
def tables():
    return generate(n_reps=12, seed=5).tables


def values(array) -> list:
    """Plotly's JSON holds numeric arrays as base64 typed arrays ({"dtype", "bdata"})."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_points_by_rep_and_region(tables):
    at = run_page(PAGE, tables)
    assert not at.exception
    ctx = at.session_state[CTX_KEY]
    board = leaderboard(ctx.ds, ctx.period, ctx.settings, ctx.scope)
    charts = chart_specs(at)
    by_rep = next(c for c in charts if "reps by points" in c["layout"]["title"]["text"])
    shown = {y: x for trace in by_rep["data"] for x, y in zip(values(trace["x"]), trace["y"], strict=False)}
    expected = dict(zip(board["rep_name"] + " (" + board["rep_id"] + ")", board["points"], strict=False))
    assert shown == pytest.approx(expected) and len(shown) == len(board)
    assert {t["name"] for t in by_rep["data"]} == set(board["region"])
    assert at.dataframe[1].value["Points"].tolist() == board["points"].tolist()


def test_missing_training_is_named(tables):
    at = run_page(PAGE, {k: v for k, v in tables.items() if k != "training"})
    assert not at.exception
    assert any("training scores" in i.value and "**training**" in i.value for i in at.info)
