"""What if the flagged reps reached target? The money each cause would close, from the diagnosis.

The diagnostic's money model (core.diagnostic.impact) says, for each rep below goal and each flagged cause,
how much of the rep's gap goes with the shortfall on that cause's driver, with a low–high range.
In that model the money is proportional to the shortfall, so if the flagged reps closed a share
`s` of their shortfall on a driver, the gap would close by `s` × that money. This module reads
only the Diagnosis that core.diagnostic.findings returns (its rep findings and rep table), never the model
internals, so the what-if always says what the Findings sheet says.

The money never exceeds what is missing: per rep the causes together close at most the rep's gap,
so over all causes at most the shortfall of the reps below goal. These are associations in the
data, not proof of cause.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.diagnostic.findings import CAUSES, Diagnosis, headline

REP_COLUMNS = ["rep_id", "rep_name", "cause", "gap", "gap_closed", "low", "high"]
CAUSE_COLUMNS = ["cause", "label", "reps", "rep_ids", "gap_closed", "low", "high", "share_of_shortfall"]


def shortfall(diagnosis: Diagnosis) -> float:
    """What the reps below goal miss together (NaN without quotas): the headline's shortfall."""
    return headline(diagnosis).shortfall


def _shares(keys: pd.Series, given: Mapping[str, float] | None) -> np.ndarray:
    """The share of the shortfall closed per row: `given[key]` clipped to 0–1, 1 where not given."""
    if not given:
        return np.ones(len(keys))
    values = pd.Series(list(given.values()), index=pd.Index(list(given), dtype=object), dtype="float64")
    at = values.index.get_indexer(keys)                 # one lookup per row, not a Python call per row
    return np.clip(np.where(at >= 0, values.to_numpy()[at], 1.0), 0.0, 1.0)


def rep_what_if(diagnosis: Diagnosis, cause_share: Mapping[str, float] | None = None,
                rep_share: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per rep below goal and flagged cause: the money the gap closes if the rep closes
    `cause_share[cause]` × `rep_share[rep]` of the driver's shortfall (default: all of it).

    Columns REP_COLUMNS. A rep's causes together never close more than the rep's gap.
    """
    f = diagnosis.findings
    rows = f[(f["scope"] == "rep") & (f["impact"] > 0)]
    gaps = diagnosis.reps.set_index("rep_id")["gap"].clip(lower=0)
    out = pd.DataFrame({"rep_id": rows["who"].astype("str"), "rep_name": rows["who_names"],
                        "cause": rows["cause"].astype("str")}).reset_index(drop=True)
    out["gap"] = out["rep_id"].map(gaps).astype("float64").to_numpy()
    share = _shares(out["cause"], cause_share) * _shares(out["rep_id"], rep_share)
    point = rows["impact"].to_numpy(dtype="float64")
    low = rows["impact_low"].to_numpy(dtype="float64")
    high = rows["impact_high"].to_numpy(dtype="float64")
    rep, _ = pd.factorize(out["rep_id"])
    total = np.bincount(rep, weights=point)[rep] if len(rep) else point        # Σ money of the rep's causes
    scale = np.where(total > out["gap"].to_numpy(), out["gap"].to_numpy() / np.where(total > 0, total, 1.0), 1.0)
    out["gap_closed"] = point * scale * share
    out["low"] = np.minimum(low * scale, point * scale) * share
    out["high"] = np.minimum(np.maximum(high, point * scale), out["gap"].to_numpy()) * share
    return out[REP_COLUMNS]


def what_if(diagnosis: Diagnosis, cause_share: Mapping[str, float] | None = None,
            rep_share: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per cause with flagged reps, most money first: how many reps, which, and how much
    of the gap closes (low–high) if they reached target on the cause's driver (or closed the
    given shares of their shortfall). `share_of_shortfall` is gap_closed over the team's shortfall.

    Each cause's range is its own: the low and high ends of different causes are not reached
    together, so only the gap_closed column is meant to be added up (to at most the shortfall).
    """
    per_rep = rep_what_if(diagnosis, cause_share, rep_share)
    if per_rep.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("gap_closed", "low", "high",
                                                                      "share_of_shortfall")
                                          else "int64" if c == "reps" else "str") for c in CAUSE_COLUMNS})
    by = per_rep.groupby("cause", sort=False)
    out = pd.DataFrame({"reps": by["rep_id"].nunique(),
                        "rep_ids": by["rep_id"].agg(lambda s: ", ".join(sorted(s))),
                        "gap_closed": by["gap_closed"].sum(), "low": by["low"].sum(),
                        "high": by["high"].sum()}).reset_index()
    out["label"] = out["cause"].map({k: c.label for k, c in CAUSES.items()}).fillna(out["cause"])
    total = shortfall(diagnosis)
    out["share_of_shortfall"] = out["gap_closed"] / total if total > 0 else np.nan
    out = out.sort_values(["gap_closed", "cause"], ascending=[False, True], kind="stable")
    return out[CAUSE_COLUMNS].reset_index(drop=True)
