"""Ramping: is the rep new? A rep within the ramp is judged against a ramp and not blamed: the
tenure is shown, never flagged, and the findings carry a ramping rep's gap under this cause
(whether a rep is ramping is read from the KPIs)."""
from __future__ import annotations

from core.diagnostic.cause import Cause, Context, Measure, Reading, rep_series

KEY = "ramping"


def read(ctx: Context) -> list[Reading]:
    kpis = ctx.kpis
    if not kpis["hire_date"].notna().any():
        return []
    months = (ctx.period.end_ts - kpis["hire_date"]).dt.days / 30.44
    ramp = float(ctx.settings.thresholds.ramp_months)
    return [Reading("tenure_months", rep_series(ctx, months), ramp, ramp)]


CAUSE = Cause(KEY, "Ramping", "Is the rep new?", ("reps",),
              measures=(Measure("tenure_months", "Tenure (months)", "count", True),),
              read=read, blamed=False)
