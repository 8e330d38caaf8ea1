"""The deal funnel: open deals per CRM stage in process order, then those won and lost."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.arrays import opportunity_value
from core.kpis.inputs import between, data_end, opportunity_statuses, roster
from core.kpis.stages import stage_labels, stage_order
from core.periods import Period


def stage_funnel(ds: Dataset, period: Period, scope: Scope = Scope(), by_rep: bool = False) -> pd.DataFrame:
    """stage, status, [rep_id], opportunities, amount: the deals open now per CRM stage in process
    order (core.kpis.stages.stage_order; stage ids shown as their CRM labels) followed by those won and
    lost with close_date in the period. An open deal's amount is its value as in open_pipeline
    (the amount, else the product's list price), so the stages add up to that KPI."""
    cols = ["stage", "status"] + (["rep_id"] if by_rep else []) + ["opportunities", "amount"]
    if not ds.has("opportunities"):
        return pd.DataFrame(columns=cols)
    opps = ds.table("opportunities")
    opps = opps.assign(status=opportunity_statuses(ds), value=opportunity_value(ds, opps))
    opps = opps[opps["rep_id"].isin(roster(ds, scope)["rep_id"])]
    is_open = opps["status"] == "open"
    closed = between(opps["close_date"], period.start, period.end) & opps["status"].isin(["won", "lost"])
    kept = opps[is_open | closed]
    is_open_kept = kept["status"] == "open"
    kept = kept.assign(stage=stage_labels(kept["stage"].astype("str")).where(is_open_kept,
                                                                            kept["status"].str.capitalize()),
                       amount=kept["value"].where(kept["status"] == "open", kept["amount"]))
    keys = ["stage", "status"] + (["rep_id"] if by_rep else [])
    out = kept.groupby(keys, sort=False).agg(opportunities=("opportunity_id", "size"),
                                             amount=("amount", lambda a: a.sum(min_count=1))).reset_index()
    open_ = kept[kept["status"] == "open"]
    end = data_end(ds)
    age = ((pd.Timestamp(end) - open_["created_date"]).dt.days if end is not None
           else open_["created_date"].dt.day * np.nan)
    order = {stage: i for i, stage in enumerate(stage_order(open_["stage"], age))}
    rank = np.where(out["status"] == "open", out["stage"].map(order).astype("float64"),
                    out["status"].map({"won": 1e9, "lost": 1e9 + 1}).astype("float64"))
    return (out.assign(_rank=rank).sort_values(["_rank"] + (["rep_id"] if by_rep else []), kind="stable")
            .drop(columns=["_rank"]).reset_index(drop=True)[cols])
