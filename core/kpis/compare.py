"""Two periods side by side: each KPI for the team and per rep, the causes that grew or shrank,
and the reps who moved between attainment bands.

Every number is the one the rest of GoalGap shows for each period on its own (core.kpis.metrics for
KPIs, core.diagnostic.findings for the money per cause); this module only lines them up. Change is
"this period minus the compared period" (for ratios: in percentage points).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.diagnostic import findings as diagnostics
from core.kpis.analysis import BAND_EDGES, BANDS
from core.kpis.registry import KPIS
from core.kpis.rollup import rep_kpis, team_kpis
from core.periods import Period
from core.settings import Settings

COMPARED_KPIS = ("revenue", "quota", "attainment", "gap", "growth", "market_share", "new_accounts",
                 "retention_rate", "churn_rate", "win_rate", "pipeline_coverage", "meetings_per_week",
                 "call_plan_adherence", "on_time_follow_up_rate", "knowledge_quotient", "payout")
COLUMNS = ["scope", "rep_id", "kpi", "label", "unit", "this", "compared", "change",
           "band_this", "band_compared", "band_move"]
TEAM = "Team"
BAND_ORDER = {b: i for i, b in enumerate(BANDS)}


@dataclass(frozen=True)
class Comparison:
    period: Period
    compared: Period
    rows: pd.DataFrame            # COLUMNS: team KPIs, team causes (money), then per rep and KPI
    moves: pd.DataFrame           # rep_id, rep_name, band_this, band_compared, band_move


def against(period: Period, how: str) -> Period:
    """The period to compare with: "previous" (the one before) or "year" (a year earlier)."""
    return period.year_earlier() if how == "year" else period.previous()


def band(attainment: pd.Series) -> pd.Series:
    """The attainment band of each value (BANDS, left-closed like the distribution);
    missing attainment → missing band."""
    cut = pd.cut(attainment.astype("float64"), BAND_EDGES, right=False, labels=list(BANDS))
    return cut.astype("object").where(cut.notna()).astype("str").where(cut.notna())


def _rows(scope: str, rep_id: object, this: pd.Series, before: pd.Series) -> pd.DataFrame:
    keys = [k for k in COMPARED_KPIS if k in this.index]
    now = this.reindex(keys).astype("float64").to_numpy()
    then = before.reindex(keys).astype("float64").to_numpy()
    return pd.DataFrame({"scope": scope, "rep_id": rep_id, "kpi": keys,
                         "label": [KPIS[k].label for k in keys],
                         "unit": [KPIS[k].unit for k in keys],
                         "this": now, "compared": then, "change": now - then})


def _cause_rows(this: diagnostics.Diagnosis, before: diagnostics.Diagnosis) -> pd.DataFrame:
    """The money each cause explains for the team in each period (grew: change > 0)."""
    keys = [c for c in diagnostics.CAUSES if c in this.reps.columns]
    now = this.reps[keys].sum(min_count=1).reindex(keys).astype("float64").to_numpy()
    then = before.reps.reindex(columns=keys).sum(min_count=1).reindex(keys).astype("float64").to_numpy()
    return pd.DataFrame({"scope": TEAM, "rep_id": None, "kpi": [f"cause:{k}" for k in keys],
                         "label": [f"Gap explained by {diagnostics.CAUSES[k].label.lower()}" for k in keys],
                         "unit": "money", "this": now, "compared": then, "change": now - then})


def _rep_rows(now: pd.DataFrame, before: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """One row per rep and KPI (reps in `now`'s order); the attainment rows carry the bands."""
    keys = [k for k in COMPARED_KPIS if k in now.columns]
    a = now.set_index("rep_id")[keys].astype("float64")
    b = before.reindex(index=a.index, columns=keys).astype("float64")
    rep_ids = np.repeat(a.index.to_numpy(), len(keys))
    names = now.set_index("rep_id")["rep_name"].fillna(pd.Series(a.index, index=a.index))
    out = pd.DataFrame({"scope": names.reindex(rep_ids).to_numpy(), "rep_id": rep_ids,
                        "kpi": np.tile(keys, len(a)), "this": a.to_numpy().ravel(),
                        "compared": b.to_numpy().ravel()})
    out["label"] = out["kpi"].map({k: KPIS[k].label for k in keys})
    out["unit"] = out["kpi"].map({k: KPIS[k].unit for k in keys})
    out["change"] = out["this"] - out["compared"]
    bands = moves.set_index("rep_id")
    attainment = out["kpi"] == "attainment"
    for col in ("band_this", "band_compared", "band_move"):
        out[col] = out["rep_id"].map(bands[col]).where(attainment)
    return out


def _moves(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    b = before.set_index("rep_id")["attainment"].reindex(now["rep_id"])
    out = pd.DataFrame({"rep_id": now["rep_id"].to_numpy(), "rep_name": now["rep_name"].to_numpy(),
                        "band_this": band(now["attainment"]).to_numpy(),
                        "band_compared": band(b).to_numpy()})
    step = out["band_this"].map(BAND_ORDER) - out["band_compared"].map(BAND_ORDER)
    out["band_move"] = np.select([step > 0, step < 0, step == 0], ["up", "down", "same"], "")
    out["band_move"] = out["band_move"].where(step.notna())
    return out


def compare(ds: Dataset, period: Period, other: Period, settings: Settings,
            scope: Scope = Scope()) -> Comparison:
    """`period` against `other` for the reps in `scope`: team KPIs, team money per cause, then
    each rep's KPIs with its attainment band in both periods."""
    team = _rows(TEAM, None, team_kpis(ds, period, settings, scope),
                 team_kpis(ds, other, settings, scope))
    causes = _cause_rows(diagnostics.diagnose(ds, period, settings, scope),
                         diagnostics.diagnose(ds, other, settings, scope))
    now = rep_kpis(ds, period, settings, scope)
    before = rep_kpis(ds, other, settings, scope).set_index("rep_id").reindex(now["rep_id"])
    moves = _moves(now, before.reset_index())
    reps = _rep_rows(now, before, moves)
    rows = pd.concat([team, causes, reps], ignore_index=True).reindex(columns=COLUMNS)
    return Comparison(period=period, compared=other, rows=rows, moves=moves)
