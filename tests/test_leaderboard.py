"""Points leaderboard: the scheme by hand, n/a for missing tables, scope, ranks and region totals."""
from dataclasses import replace

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.rollup import rep_kpis
from core.people.leaderboard import leaderboard, team_points
from core.periods import quarter
from core.settings import Settings
from tests.test_competency import frame

Q3 = quarter(2025, 3)


def _reps():
    return frame("reps", rep_id=["R1", "R2", "R3"], rep_name=["Ann", "Bob", "Cy"],
                 region=["East", "East", "West"], territory_id=["T1", "T2", "T3"])


def _activities():
    return frame("activities", rep_id=["R1", "R1", "R1", "R1", "R2", "R2", "R3"],
                 date=pd.to_datetime(["2025-07-01", "2025-07-02", "2025-08-01", "2025-09-30",
                                      "2025-07-05", "2025-10-01", "2025-08-08"]),
                 activity_type=["meeting", "meeting", "presentation", "workshop", "demo", "meeting",
                                "phone"])


def _follow_ups():
    return frame("follow_ups", rep_id=["R1", "R1", "R2", "R2"],
                 due_date=pd.to_datetime(["2025-07-10", "2025-08-10", "2025-09-10", "2025-06-10"]),
                 completed_date=pd.to_datetime(["2025-07-10", "2025-08-12", "2025-09-01", "2025-06-01"]))


def _training():
    return frame("training", rep_id=["R1", "R3", "R3"], date=pd.to_datetime(["2025-07-15"] * 3),
                 topic=["Product"] * 3, score=[80.0, 90.0, 70.0])


def test_points_by_hand():
    ds = Dataset({"reps": _reps(), "activities": _activities(), "follow_ups": _follow_ups(),
                  "training": _training()})
    board = leaderboard(ds, Q3, Settings()).set_index("rep_id")
    # R1: 2 meetings 20 + presentation 20 + workshop 50 + 1 on-time follow-up 10 + 80/10 = 108
    assert board.loc["R1", ["meetings_pts", "presentations_pts", "workshops_pts", "follow_ups_pts",
                            "training_pts", "points"]].tolist() == [20.0, 20.0, 50.0, 10.0, 8.0, 108.0]
    # R2: demo and an October meeting do not count; one follow-up due in Q3 on time → 10
    assert board.loc["R2", "points"] == 10.0 and board.loc["R2", "meetings_pts"] == 0.0
    assert board.loc["R3", "points"] == 16.0
    assert list(board.index) == ["R1", "R3", "R2"] and board["rank"].tolist() == [1, 2, 3]


def test_scheme_is_editable():
    ds = Dataset({"reps": _reps(), "activities": _activities()})
    s = Settings()
    s = replace(s, points=replace(s.points, meeting=1.0, workshop=0.0))
    board = leaderboard(ds, Q3, s).set_index("rep_id")
    assert board.loc["R1", "points"] == 2.0 + 20.0


def test_missing_tables_are_na_not_zero():
    ds = Dataset({"reps": _reps(), "training": _training()})
    board = leaderboard(ds, Q3, Settings()).set_index("rep_id")
    assert board[["meetings_pts", "follow_ups_pts"]].isna().all().all()
    assert board.loc["R2", "training_pts"] == 0.0 and board.loc["R3", "points"] == 16.0
    empty = leaderboard(Dataset({"reps": _reps()}), Q3, Settings())
    assert empty["points"].isna().all() and empty["rank"].isna().all()


def test_scope_and_no_roster():
    ds = Dataset({"reps": _reps(), "activities": _activities()})
    east = leaderboard(ds, Q3, Settings(), Scope(region="East"))
    assert sorted(east["rep_id"]) == ["R1", "R2"]
    no_roster = leaderboard(Dataset({"activities": _activities()}), Q3, Settings()).set_index("rep_id")
    assert no_roster.loc["R1", "region"] == "Unassigned" and no_roster.loc["R1", "points"] == 90.0


def test_points_agree_with_metrics():
    ds = Dataset({"reps": _reps(), "activities": _activities(), "follow_ups": _follow_ups(),
                  "training": _training()})
    board = leaderboard(ds, Q3, Settings()).set_index("rep_id")["points"]
    kpis = rep_kpis(ds, Q3, Settings()).set_index("rep_id")["points"]
    pd.testing.assert_series_equal(board.sort_index(), kpis.sort_index(), check_names=False)


def test_team_points_sum_by_region():
    ds = Dataset({"reps": _reps(), "activities": _activities(), "training": _training()})
    team = team_points(leaderboard(ds, Q3, Settings())).set_index("region")
    assert team.loc["East", "points"] == 98.0 and team.loc["East", "reps"] == 2
    assert team.loc["East", "points_per_rep"] == 49.0
    assert team.loc["West", "points"] == 16.0 and team.loc["West", "rank"] == 2
    assert np.isnan(team.loc["East", "follow_ups_pts"])
