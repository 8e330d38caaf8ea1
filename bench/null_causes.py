"""The null-cause guard of the money model (issue 13, item 3: no money without support).

A team from bench.planted_teams where one cause leaves its full footprint in the data (its
driver degraded on the reps planted with it) but costs no revenue: that cause's planted effect
size is set to none, everything else about the team is as generated (the same random draws). A
money model that gives the null cause money is putting money where the data have no effect: the
false-money rate is the share of teams where it does, over many teams.

Nullable causes are the ones whose revenue effect and footprint are separate in the generator:
the four behavioural ones (execution lost vs activity, follow-ups, training, call plans) and
incentive misalignment (the product mix shifts, the total stays). Territory imbalance, customer
retention (lost accounts are the revenue) and ramping cannot have a footprint without an effect.

    python -m bench.null_causes [--seeds 101 ... 120] [--reps 48] [--every-cause]
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import numpy as np
import pandas as pd

from bench import planted_teams
from core.dataset import Dataset
from core.diagnostic.findings import money_model
from core.periods import parse_period
from core.settings import Settings

NULLABLE = (*planted_teams.BEHAVIOURAL, "incentive_misalignment")
DEVELOPMENT_SEEDS = tuple(range(101, 121))


@dataclass(frozen=True)
class NullTeam:
    team: planted_teams.PlantedTeam
    cause: str                      # the cause with a footprint and no revenue effect


@contextmanager
def _without_effect(cause: str) -> Iterator[None]:
    """planted_teams.generate with `cause` planted at no revenue cost (strength 1 = no loss): its
    footprint in the tables is drawn as usual, from who has the cause and when it starts."""
    plan = planted_teams._plan

    def null_plan(*args: object, **kwargs: object) -> planted_teams._Rep:
        p = plan(*args, **kwargs)     # type: ignore[arg-type]
        p.strength[cause] = np.ones_like(p.strength[cause])
        return p

    with mock.patch.object(planted_teams, "_plan", null_plan):
        yield


def null_team(seed: int, n_reps: int = 48, cause: str | None = None) -> NullTeam:
    """The planted team of `seed` with one nullable cause (by default the seed's turn in
    NULLABLE) leaving its footprint without costing revenue."""
    cause = cause or NULLABLE[seed % len(NULLABLE)]
    with _without_effect(cause):
        team = planted_teams.generate(n_reps, seed)
    return NullTeam(team, cause)


def score(nt: NullTeam) -> dict[str, object]:
    """Whether the money model supports the null cause and the money it gives it (team total, and
    as a share of the team's gap), with how many reps carry its flag."""
    mm = money_model(Dataset(tables=nt.team.tables), parse_period(nt.team.period), Settings())
    money = float(mm.alloc["money"][nt.cause].sum())
    gap = float(mm.inputs.kpis["gap"].clip(lower=0).sum())
    return {"cause": nt.cause, "flagged_reps": int(mm.flagged[nt.cause].sum()),
            "supported": bool(mm.model.effects[nt.cause].supported), "money": money,
            "share_of_gap": money / gap if gap > 0 else float("nan"), "method": mm.model.method}


def run(seeds: Sequence[int], n_reps: int = 48, every_cause: bool = False) -> pd.DataFrame:
    """One row per seed (per seed and nullable cause with `every_cause`): the null cause, whether
    it was supported and its money."""
    causes: Sequence[str | None] = NULLABLE if every_cause else (None,)
    return pd.DataFrame([{"seed": s, **score(null_team(s, n_reps, c))} for s in seeds for c in causes])


def false_money_rate(rows: pd.DataFrame) -> float:
    """Share of the teams where the null cause carries money."""
    return float((rows["money"] > 0).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(DEVELOPMENT_SEEDS))
    ap.add_argument("--reps", type=int, default=48)
    ap.add_argument("--every-cause", action="store_true", help="each seed with each nullable cause in turn")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args.seeds, args.reps, args.every_cause)
    print(rows[rows["money"] > 0].to_string(index=False, float_format=lambda v: f"{v:,.3f}")
          if args.every_cause else rows.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if args.every_cause:
        print(rows.groupby("cause")[["supported"]].mean().assign(
            money=rows.groupby("cause")["money"].apply(lambda m: (m > 0).mean())).to_string())
    print(f"\nfalse-money rate: {false_money_rate(rows):.0%} of {len(rows)} teams "
          f"(supported: {rows['supported'].mean():.0%}); money when given: "
          f"median ${rows.loc[rows['money'] > 0, 'money'].median():,.0f}, "
          f"{rows.loc[rows['money'] > 0, 'share_of_gap'].median():.1%} of the team's gap")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
