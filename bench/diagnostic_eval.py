"""Per-cause recall and precision of the diagnostic on planted teams (issue 13, item 8).

Two generators: bench.planted_teams (written apart from core/sample/team.py) and the bundled
core.sample.team. Development seeds (DEVELOPMENT_SEEDS) and held-out seeds are kept apart: report the held-out ones.

- recall of a cause: share of the reps planted with it as primary cause whose primary cause found
  is that cause ("named": the cause is among the causes listed for the rep, for primary or second
  planted causes);
- precision of a cause: share of the reps given it as primary cause that were planted with it
  (as primary or second cause);
- healthy teams: findings by severity; CRM shape: share of reps with the same primary cause when
  the team is read from its CRM-shaped CSV export instead of the canonical tables.

    python -m bench.diagnostic_eval [--seeds 201 202 203] [--reps 48] [--crm] [--sample]
"""
from __future__ import annotations

import argparse
import time

import pandas as pd

from bench import planted_teams
from core.dataset import Dataset
from core.diagnostic.findings import Diagnosis, diagnose
from core.ingest.pipeline import ingest
from core.periods import parse_period
from core.settings import Settings

DEVELOPMENT_SEEDS = tuple(range(101, 111))   # healthy: 311-314, sample: 11-14
HELD_OUT_SEEDS = (201, 202, 203, 204)


def diagnosed(ds: Dataset, period: str) -> Diagnosis:
    return diagnose(ds, parse_period(period), Settings())


def score_team(team: planted_teams.PlantedTeam, reps: pd.DataFrame,
               findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per rep: planted primary, every planted cause, primary found, causes listed and,
    with the findings, why a planted rep was missed (`miss_kind`)."""
    out = reps[["rep_id", "primary_cause", "causes", "gap"]].copy()
    out["planted"] = out["rep_id"].map(team.primary)
    out["planted_all"] = out["rep_id"].map(team.causes)
    out["hit"] = out["primary_cause"] == out["planted"]
    listed = out["causes"].fillna("").str.split(", ")
    out["named"] = [p in set(found) | {prim} for p, found, prim in
                    zip(out["planted"], listed, out["primary_cause"], strict=True)]
    if findings is not None:
        out["miss_kind"] = miss_kinds(out, findings)
    return out


def miss_kinds(rows: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """Why each missed planted rep was missed: "at or above goal"; "not flagged" (no finding of the
    planted cause); "flagged, no money" (a finding the money model found no effect for); "less
    money than <cause>" (flagged with money, another cause has more). Empty for hits."""
    rep_f = findings[findings["scope"] == "rep"]
    money = rep_f.set_index(["who", "cause"])["impact"]
    kinds = []
    for rep, planted, found, hit in zip(rows["rep_id"], rows["planted"], rows["primary_cause"], rows["hit"],
                                        strict=False):
        key = (rep, planted)
        if hit or planted in ("none", "ramping") or pd.isna(planted):
            kinds.append("")
        elif found == "none":
            kinds.append("at or above goal")
        elif key not in money.index:
            kinds.append("not flagged")
        elif not money.loc[[key]].max() > 0:
            kinds.append("flagged, no money")
        else:
            kinds.append(f"less money than {found}")
    return pd.Series(kinds, index=rows.index)


def recall_precision(rows: pd.DataFrame) -> pd.DataFrame:
    planted = rows[rows["planted"] != "none"]
    rec = planted.groupby("planted").agg(reps=("hit", "size"), found=("hit", "sum"), named=("named", "sum"))
    rec["recall"] = rec["found"] / rec["reps"]
    blamed = rows[~rows["primary_cause"].isin(["none", "unexplained", "n/a"])]
    correct = [p in set(a) for p, a in zip(blamed["primary_cause"], blamed["planted_all"], strict=True)]
    prec = blamed.assign(ok=correct).groupby("primary_cause")["ok"].agg(["size", "sum"])
    rec["called"] = prec["size"].reindex(rec.index).fillna(0).astype(int)
    rec["precision"] = (prec["sum"] / prec["size"]).reindex(rec.index)
    extra = prec.index.difference(rec.index)
    for c in extra:   # causes never planted but called (e.g. pipeline): precision only
        size, ok = prec.at[c, "size"], prec.at[c, "sum"]
        rec.loc[c, ["reps", "found", "named", "recall", "called", "precision"]] = [0, 0, 0, float("nan"), size,
                                                                                     ok / size]
    return rec


def confusion(rows: pd.DataFrame) -> pd.DataFrame:
    planted = rows[rows["planted"] != "none"]
    return pd.crosstab(planted["planted"], planted["primary_cause"])


def run_planted(seeds, n_reps: int, crm: bool) -> tuple[pd.DataFrame, list[float]]:
    rows, agreement = [], []
    for seed in seeds:
        team = planted_teams.generate(n_reps, seed)
        d = diagnosed(Dataset(tables=team.tables), team.period)
        reps = d.reps
        rows.append(score_team(team, reps, d.findings).assign(seed=seed))
        if crm:
            crm_reps = diagnosed(ingest(planted_teams.crm_files(team)), team.period).reps
            both = reps.merge(crm_reps, on="rep_id", suffixes=("", "_crm"))
            agreement.append(float((both["primary_cause"] == both["primary_cause_crm"]).mean()))
    return pd.concat(rows, ignore_index=True), agreement


def run_sample(seeds, n_reps: int, period: str) -> pd.DataFrame:
    from core.sample.team import generate
    rows = []
    for seed in seeds:
        s = generate(n_reps=n_reps, seed=seed)
        d = diagnosed(Dataset(tables=s.tables), period)
        team = planted_teams.PlantedTeam(s.tables, s.planted, {k: (v,) for k, v in s.planted.items()}, period)
        rows.append(score_team(team, d.reps, d.findings).assign(seed=seed))
    return pd.concat(rows, ignore_index=True)


def healthy(seeds, n_reps: int) -> pd.DataFrame:
    out = []
    for seed in seeds:
        team = planted_teams.generate(n_reps, seed, healthy=True)
        f = diagnose(Dataset(tables=team.tables), parse_period(team.period), Settings()).findings
        out.append(f.assign(seed=seed)[["seed", "cause", "scope", "who", "severity", "impact", "impact_low"]])
    return pd.concat(out, ignore_index=True)


def report(title: str, rows: pd.DataFrame) -> None:
    planted = rows[rows["planted"] != "none"]
    print(f"\n## {title}: {planted['hit'].mean():.1%} of {len(planted)} planted reps "
          f"(named: {planted['named'].mean():.1%})")
    print(recall_precision(rows).to_string(float_format=lambda v: f"{v:.2f}"))
    print(confusion(rows).to_string())
    if "miss_kind" in rows:
        missed = planted[planted["miss_kind"] != ""]
        print("why planted reps were missed:\n" + pd.crosstab(missed["planted"], missed["miss_kind"]).to_string())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(HELD_OUT_SEEDS))
    ap.add_argument("--reps", type=int, default=48)
    ap.add_argument("--crm", action="store_true", help="also read each team from its CRM-shaped export")
    ap.add_argument("--healthy", type=int, nargs="*", default=None, help="seeds of healthy teams")
    ap.add_argument("--sample", type=int, nargs="*", default=None, help="seeds of core.sample.team teams")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows, agreement = run_planted(args.seeds, args.reps, args.crm)
    report(f"planted_teams seeds {args.seeds} × {args.reps} reps", rows)
    if agreement:
        print("CRM-shaped export, same primary cause: " + ", ".join(f"{a:.0%}" for a in agreement))
    if args.healthy is not None:
        h = healthy(args.healthy or [301, 302, 303], args.reps)
        print("\nhealthy teams, findings by severity:\n" + h["severity"].value_counts().to_string())
        print(h[h["severity"] != "low"].to_string(index=False))
    if args.sample is not None:
        report(f"core.sample.team seeds {args.sample or [11, 12, 13]} × 40 reps",
               run_sample(args.sample or [11, 12, 13], 40, "2026-Q3"))
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
