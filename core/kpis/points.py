"""Points (kpis.md "points"): the one home of the editable scheme that rewards the actions behind goals.

settings.points.meeting per activity of type meeting, .presentation per presentation, .workshop
per workshop, .follow_up_on_time per follow-up due in the period (up to the last day of the data)
and done on or before its due date, and .training_per_score_point × score per training record.
A component whose table was not uploaded is NaN (n/a), not 0; the total is NaN only when every
component is. The `points` KPI and the leaderboard both take their numbers from here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.settings import Points

# Leaderboard column of each component, in the order the board shows them.
COMPONENTS = ("meetings_pts", "presentations_pts", "workshops_pts", "follow_ups_pts", "training_pts")


@dataclass(frozen=True)
class PointCounts:
    """What earns points, per rep or group (NaN where the table is missing)."""

    meetings: np.ndarray             # activities of type meeting (not every face-to-face kind)
    presentations: np.ndarray
    workshops: np.ndarray
    follow_ups_on_time: np.ndarray
    training_score: np.ndarray       # Σ training scores


def point_components(counts: PointCounts, scheme: Points) -> dict[str, np.ndarray]:
    """Points of each component (COMPONENTS order): each count times its weight in the scheme."""
    return {"meetings_pts": counts.meetings * scheme.meeting,
            "presentations_pts": counts.presentations * scheme.presentation,
            "workshops_pts": counts.workshops * scheme.workshop,
            "follow_ups_pts": counts.follow_ups_on_time * scheme.follow_up_on_time,
            "training_pts": counts.training_score * scheme.training_per_score_point}


def total_points(components: dict[str, np.ndarray]) -> np.ndarray:
    """Σ of the components; a missing component adds nothing, all missing = NaN."""
    terms = np.vstack([np.asarray(components[c], dtype="float64") for c in COMPONENTS])
    return np.where(np.isnan(terms).all(axis=0), np.nan, np.nansum(terms, axis=0))
