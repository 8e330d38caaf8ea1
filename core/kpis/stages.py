"""CRM pipeline stages: the label to show for a stage id and the order of a funnel.

A funnel follows the sales process, never the number of deals: the order comes from the CRM's
own vocabulary where the stages are known (HubSpot's and Salesforce's default stages with their
default win probabilities, and common generic names), from a number the stages start with
("1 - Prospecting", "Stage 2: Demo"), and otherwise from how old the open deals of each stage
are on average (deals move forward as they age, so younger stages come first).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

# HubSpot's default deal-stage ids (what its exports carry) and their labels.
HUBSPOT_LABELS = {
    "appointmentscheduled": "Appointment scheduled", "qualifiedtobuy": "Qualified to buy",
    "presentationscheduled": "Presentation scheduled", "decisionmakerboughtin": "Decision maker bought-in",
    "contractsent": "Contract sent", "closedwon": "Closed won", "closedlost": "Closed lost",
}

# Default win probability (%) of known stage names (lower case, spaces and punctuation removed):
# HubSpot's and Salesforce's defaults, then common generic names placed among them.
STAGE_PROBABILITY = {
    "appointmentscheduled": 20, "qualifiedtobuy": 40, "presentationscheduled": 60,
    "decisionmakerboughtin": 80, "contractsent": 90,
    "prospecting": 10, "qualification": 10, "needsanalysis": 20, "valueproposition": 50,
    "iddecisionmakers": 60, "perceptionanalysis": 70, "proposalpricequote": 75, "negotiationreview": 90,
    "lead": 5, "new": 5, "engaging": 15, "discovery": 20, "qualified": 30, "demo": 40, "evaluation": 50,
    "trial": 55, "proposal": 70, "quote": 70, "negotiation": 85, "contract": 90, "commit": 95,
    "closedwon": 100, "won": 100, "closedlost": 0, "lost": 0,
}


def _key(stage: str) -> str:
    return re.sub(r"[^a-z]", "", stage.lower())


def stage_label(stage: object) -> object:
    """The label to show: HubSpot stage ids as HubSpot names them, anything else unchanged."""
    return HUBSPOT_LABELS.get(_key(stage), stage) if isinstance(stage, str) else stage


def stage_labels(stages: pd.Series) -> pd.Series:
    """stage_label of each value (computed once per distinct stage)."""
    distinct = pd.Series(stages.dropna().unique())
    return stages.map(dict(zip(distinct, distinct.map(stage_label), strict=False))).where(stages.notna(), stages)


def _leading_number(stage: str) -> float:
    found = re.match(r"\s*(?:stage\s*)?(\d+(?:\.\d+)?)", stage, flags=re.IGNORECASE)
    return float(found.group(1)) if found else np.nan


def stage_order(stages: pd.Series, age_days: pd.Series) -> list[str]:
    """The distinct `stages` of open deals in process order, first stage first. `age_days` is the
    age of each deal (same index); it orders stages no vocabulary or number places."""
    distinct = pd.Index(stages.dropna().unique())
    if distinct.empty:
        return []
    probability = pd.Series([STAGE_PROBABILITY.get(_key(str(s)), np.nan) for s in distinct], index=distinct)
    if probability.notna().all():
        return list(probability.sort_values(kind="stable").index)
    numbers = pd.Series([_leading_number(str(s)) for s in distinct], index=distinct)
    if numbers.notna().all():
        return list(numbers.sort_values(kind="stable").index)
    mean_age = age_days.groupby(stages).mean().reindex(distinct)
    frame = pd.DataFrame({"age": mean_age, "name": distinct.astype(str)}, index=distinct)
    return list(frame.sort_values(["age", "name"], na_position="last").index)
