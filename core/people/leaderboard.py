"""The points leaderboard (kpis.md "points"): an editable scheme that rewards the actions behind goals.

The points of each rep and component come from core.kpis.points, the scheme's one home (through
core.kpis.rollup.rep_points, the same numbers as the `points` KPI); this module adds the ranking
and the totals by region. A component whose table was not uploaded is NaN (n/a), not 0; a rep
with none of an uploaded kind scores a real 0.
"""
from __future__ import annotations

import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis import points
from core.kpis.inputs import roster
from core.kpis.rollup import rep_points
from core.periods import Period
from core.settings import Settings

COMPONENTS = list(points.COMPONENTS)      # the board's point columns, in order
BOARD_COLUMNS = ["rep_id", "rep_name", "region", *COMPONENTS, "points", "rank"]
TEAM_COLUMNS = ["region", "reps", *COMPONENTS, "points", "points_per_rep", "rank"]


def leaderboard(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """Points per rep in scope for `period`, best first (columns BOARD_COLUMNS).

    rank 1 = most points; ties share the best rank; reps whose points are n/a have no rank.
    """
    board = roster(ds, scope)[["rep_id", "rep_name", "region"]].merge(
        rep_points(ds, period, settings, scope), on="rep_id", how="left")
    board["rank"] = board["points"].rank(ascending=False, method="min").astype("Int64")
    return (board.sort_values(["points", "rep_name"], ascending=[False, True], na_position="last")
            [BOARD_COLUMNS].reset_index(drop=True))


def team_points(board: pd.DataFrame) -> pd.DataFrame:
    """Points by region from a leaderboard (columns TEAM_COLUMNS), best total first."""
    team = (board.groupby("region", as_index=False)
            .agg(reps=("rep_id", "size"),
                 **{c: (c, lambda s: s.sum(min_count=1)) for c in [*COMPONENTS, "points"]}))
    team["points_per_rep"] = team["points"] / team["reps"]
    team["rank"] = team["points"].rank(ascending=False, method="min").astype("Int64")
    return team.sort_values(["points", "region"], ascending=[False, True], na_position="last")[
        TEAM_COLUMNS].reset_index(drop=True)
