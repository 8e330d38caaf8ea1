"""The registry of causes: one module per cause, collected here in one place (diagnostics.md, "Causes").

Each module under this package exposes `CAUSE`, a core.diagnostic.cause.Cause. The signal table,
the money model, the findings and the what-if read the causes only through this registry, so a
new cause is one module (and its test): write it, then `register(CAUSE)` — the built-in ones are
registered below, in the order the diagnostic lists them.
"""
from __future__ import annotations

from core.diagnostic.cause import Cause, Measure
from core.diagnostic.causes import (
    activity_shortfall,
    customer_retention,
    follow_up_discipline,
    incentive_misalignment,
    pipeline,
    plan_adherence,
    ramping,
    territory_imbalance,
    training_gap,
)

CAUSES: dict[str, Cause] = {}


def register(cause: Cause) -> Cause:
    """Add a cause to the diagnostic (after the ones registered before it). Its key and its
    measures' keys must be new: two causes reading one signal would count its evidence twice."""
    if cause.key in CAUSES or cause.key in ("none", "unexplained", "n/a"):
        raise ValueError(f"cause {cause.key!r} is already registered or reserved")
    taken = measures()
    clash = [m.key for m in cause.measures if m.key in taken]
    if clash:
        raise ValueError(f"cause {cause.key!r}: measures {clash} belong to another cause")
    CAUSES[cause.key] = cause
    return cause


def unregister(key: str) -> Cause:
    """Take a cause out of the diagnostic (returns it)."""
    return CAUSES.pop(key)


def blamed() -> tuple[str, ...]:
    """The causes that can carry money (all but the informational ones, such as ramping), in order."""
    return tuple(k for k, c in CAUSES.items() if c.blamed)


def measures() -> dict[str, Measure]:
    """Every registered measure by key."""
    return {m.key: m for c in CAUSES.values() for m in c.measures}


for _module in (territory_imbalance, training_gap, incentive_misalignment, follow_up_discipline, activity_shortfall,
                plan_adherence, pipeline, customer_retention, ramping):
    register(_module.CAUSE)
