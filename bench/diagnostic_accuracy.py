"""How well the diagnostic finds planted causes (README figures).

For several seeds of core.sample.team.generate: the share of planted reps whose primary cause is the
planted one — over the planted reps below goal (a rep at goal has primary cause `none` by
definition) and over all planted reps — and the number of high-severity findings on a healthy
team (no planted cause).

    .venv/bin/python -m bench.diagnostic_accuracy [--seeds 1 2 3 4 5] [--reps 40] [--period 2026-Q3]
"""
from __future__ import annotations

import argparse
import time

import pandas as pd

from core.dataset import Dataset
from core.diagnostic.findings import diagnose
from core.periods import parse_period
from core.sample.team import generate
from core.settings import Settings


def planted_accuracy(seed: int, n_reps: int, period: str) -> pd.DataFrame:
    """One row per planted rep: planted cause, primary cause found, whether they agree."""
    sample = generate(n_reps=n_reps, seed=seed)
    d = diagnose(Dataset(tables=sample.tables), parse_period(period), Settings())
    reps = d.reps.assign(planted=d.reps["rep_id"].map(sample.planted))
    reps = reps[reps["planted"].notna() & (reps["planted"] != "none")]
    return reps[["rep_id", "planted", "primary_cause"]].assign(
        seed=seed, hit=reps["primary_cause"] == reps["planted"], below=reps["gap"] > 0)


def healthy_high_findings(seed: int, n_reps: int, period: str) -> int:
    sample = generate(n_reps=n_reps, seed=seed, causes={})
    d = diagnose(Dataset(tables=sample.tables), parse_period(period), Settings())
    return int((d.findings["severity"] == "high").sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--period", default="2026-Q3")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = pd.concat([planted_accuracy(s, args.reps, args.period) for s in args.seeds], ignore_index=True)
    highs = {s: healthy_high_findings(s, args.reps, args.period) for s in args.seeds}
    below = rows[rows["below"]]
    per_seed = below.groupby("seed")["hit"].mean()
    per_cause = below.groupby("planted")["hit"].agg(["mean", "size"])
    misses = rows[~rows["hit"]]
    print(f"Planted-cause accuracy over {len(args.seeds)} seeds × {args.reps} reps ({args.period}): "
          f"{below['hit'].mean():.1%} of {len(below)} planted reps below goal; "
          f"{rows['hit'].mean():.1%} of all {len(rows)} planted reps "
          f"({int((~rows['below']).sum())} planted reps ended at or above goal)")
    print("per seed: " + ", ".join(f"{s}: {v:.0%}" for s, v in per_seed.items()))
    print("per cause:\n" + per_cause.to_string(float_format=lambda v: f"{v:.0%}"))
    if len(misses):
        print("misses:\n" + misses[["seed", "rep_id", "planted", "primary_cause", "below"]].to_string(index=False))
    print("high-severity findings on a healthy team: " + ", ".join(f"seed {s}: {n}" for s, n in highs.items()))
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
