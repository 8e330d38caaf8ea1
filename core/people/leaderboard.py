"""The points leaderboard (kpis.md "points"): an editable scheme that rewards the actions behind goals.

Points per rep for a period: settings.points.meeting per activity of type meeting, .presentation per
presentation, .workshop per workshop, .follow_up_on_time per follow-up due in the period (up to the
last day of the data, as metrics counts them) and done on or before its due date, and
.training_per_score_point × score per training record in the period. A component whose table was
not uploaded is NaN (n/a), not 0; a rep with none of an uploaded kind scores a real 0. The total
equals metrics' `points` KPI (tests check both agree); this module adds the parts and the ranking.
"""
from __future__ import annotations

import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.metrics import data_end, roster
from core.periods import Period
from core.settings import Settings

COMPONENTS = ["meetings_pts", "presentations_pts", "workshops_pts", "follow_ups_pts", "training_pts"]
BOARD_COLUMNS = ["rep_id", "rep_name", "region", *COMPONENTS, "points", "rank"]
TEAM_COLUMNS = ["region", "reps", *COMPONENTS, "points", "points_per_rep", "rank"]


def points_components(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    """Points per component, indexed by rep_id (reps with any counted row); NaN for absent tables."""
    p = settings.points
    parts = []
    if ds.has("activities"):
        act = ds.table("activities")
        act = act[period.contains(act["date"])]
        counts = pd.crosstab(act["rep_id"], act["activity_type"]).reindex(
            columns=["meeting", "presentation", "workshop"], fill_value=0)
        parts.append(pd.DataFrame({"meetings_pts": counts["meeting"] * p.meeting,
                                   "presentations_pts": counts["presentation"] * p.presentation,
                                   "workshops_pts": counts["workshop"] * p.workshop}).astype(float))
    if ds.has("follow_ups"):
        fu = ds.table("follow_ups")
        end = data_end(ds)
        as_of = period.end_ts if end is None else min(period.end_ts, end)
        fu = fu[(fu["due_date"] >= period.start_ts) & (fu["due_date"] <= as_of)]
        on_time = fu["completed_date"].notna() & (fu["completed_date"] <= fu["due_date"])
        parts.append((on_time.groupby(fu["rep_id"]).sum() * p.follow_up_on_time)
                     .astype(float).rename("follow_ups_pts").to_frame())
    if ds.has("training"):
        tr = ds.table("training")
        tr = tr[period.contains(tr["date"]) & tr["score"].notna()]
        parts.append((tr.groupby("rep_id")["score"].sum() * p.training_per_score_point)
                     .rename("training_pts").to_frame())
    out = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=pd.Index([], dtype="str"))
    out.index.name = "rep_id"
    return out.reindex(columns=COMPONENTS)


def leaderboard(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """Points per rep in scope for `period`, best first (columns BOARD_COLUMNS).

    rank 1 = most points; ties share the best rank; reps whose points are n/a have no rank.
    """
    comp = points_components(ds, period, settings)
    board = roster(ds, scope)[["rep_id", "rep_name", "region"]].join(comp, on="rep_id")
    uploaded = {"meetings_pts": "activities", "presentations_pts": "activities",
                "workshops_pts": "activities", "follow_ups_pts": "follow_ups", "training_pts": "training"}
    for col, table in uploaded.items():
        if ds.has(table):
            board[col] = board[col].fillna(0.0)
    board["points"] = board[COMPONENTS].sum(axis=1, min_count=1)
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
