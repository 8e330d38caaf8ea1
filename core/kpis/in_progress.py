"""The first question, answered first: where the period in progress is heading, what costs the
most, and who is furthest from goal.

The period in progress is the quarter holding the last day of sales. Its projection, chance of
goal and needed run-rate are core.kpis.forecast's; the causes in money are those of the last complete
quarter's diagnosis (a period half-way through would count every unfinished quota as a gap);
"who" are the reps least likely to reach goal this quarter.
"""
from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from core import periods
from core.dataset import Dataset, Scope, members
from core.diagnostic import findings as diagnostics
from core.kpis import forecast
from core.kpis.inputs import roster
from core.periods import Period
from core.settings import Settings

TOP_CAUSES = 3
TOP_REPS = 5
WHO_COLUMNS = ["rep_id", "rep_name", "projected", "quota", "p_goal", "needed_per_day"]


def current_periods(ds: Dataset) -> tuple[Period, Period, str] | None:
    """The quarter in progress, the last complete quarter and the last day of data (ISO); None
    without dated sales."""
    span = ds.date_span()
    if span is None:
        return None
    return periods.period_of("quarter", span[1]), periods.latest_complete("quarter", span[1]), span[1].isoformat()


def outlook(ds: Dataset, period: Period, settings: Settings,
            scope: Scope = Scope()) -> tuple[forecast.Forecast, pd.DataFrame]:
    """The team's projection for `period` and the TOP_REPS reps least likely to reach goal."""
    team = forecast.team_forecast(ds, period, settings, scope)
    reps = forecast.rep_forecasts(ds, period, settings, scope)
    names = roster(ds, scope).set_index("rep_id")["rep_name"]
    who = reps[reps["quota"] > 0].sort_values(["p_goal", "rep_id"]).head(TOP_REPS)
    return team, who.assign(rep_name=who["rep_id"].map(names))[WHO_COLUMNS].reset_index(drop=True)


def top_causes(diagnosis: diagnostics.Diagnosis, rep_ids: Collection[str]) -> pd.DataFrame:
    """cause, label, money: the causes costing the reps `rep_ids` the most in `diagnosis`."""
    reps = diagnosis.reps[members(diagnosis.reps["rep_id"], rep_ids)]
    keys = [c for c in diagnostics.CAUSES if c in reps.columns]
    total = reps[keys].sum(min_count=1).dropna()
    total = total[total > 0].sort_values(ascending=False).head(TOP_CAUSES)
    return pd.DataFrame({"cause": total.index.astype("str"),
                         "label": [diagnostics.CAUSES[c].label for c in total.index],
                         "money": total.to_numpy(dtype="float64")})
