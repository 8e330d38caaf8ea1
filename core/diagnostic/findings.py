"""The diagnostic: why the team is missing goal, in money, per cause and per rep (diagnostics.md).

`diagnose` reads the rep-level signals (core.diagnostic.signals), turns the flagged ones into money with the
model of core.diagnostic.impact, and writes the findings a director can defend: the numbers beside their
targets and the reps at goal, the money with a range, how sure we are, and what to do next.
Findings describe associations in the data, not proof of cause.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope, members
from core.diagnostic import impact
from core.diagnostic.cause import Cause, Inputs, TeamView, at_goal, severity, team_finding
from core.diagnostic.causes import CAUSES, blamed, measures
from core.diagnostic.signals import gather, memo_key, signals
from core.fmt import fmt_money, fmt_pct, fmt_unit, is_missing
from core.kpis import metrics
from core.periods import Period
from core.settings import Settings

__all__ = ["CAUSES", "FINDING_COLUMNS", "MONTHLY_EVIDENCE", "REP_COLUMNS", "Cause", "Diagnosis",  # noqa: F822
           "MoneyModel", "cause_money", "diagnose", "money_model", "monthly_evidence", "rep_columns", "signals"]

FINDING_COLUMNS = ["rank", "cause", "scope", "who", "who_names", "severity", "evidence", "impact",
                   "impact_low", "impact_high", "confidence", "actions"]
REP_BASE_COLUMNS = ["rep_id", "rep_name", "region", "territory_id", "attainment", "gap", "primary_cause",
                    "causes", "unexplained"]
REGION_SHARE = 0.50                # one region carries at least half the shortfall ...
REGION_EXCESS = 1.5                # ... and 1.5× its share of the quota
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def rep_columns() -> list[str]:
    """The columns of Diagnosis.reps: the rep, its primary cause and causes, then the money of each
    registered cause."""
    return [*REP_BASE_COLUMNS, *CAUSES]


def monthly_charts() -> dict[str, tuple[str, str]]:
    """Per cause charted by month behind a rep's finding: (measure, settings.targets field)."""
    return {k: c.monthly for k, c in CAUSES.items() if c.monthly is not None}


def __getattr__(name: str) -> Any:
    """REP_COLUMNS and MONTHLY_EVIDENCE follow the registry (a cause registered later is in them)."""
    if name == "REP_COLUMNS":
        return rep_columns()
    if name == "MONTHLY_EVIDENCE":
        return monthly_charts()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Diagnosis:
    findings: pd.DataFrame         # FINDING_COLUMNS, ranked by money
    reps: pd.DataFrame             # REP_COLUMNS, one row per rep in scope
    waterfall: pd.DataFrame        # step, amount, measure (absolute | relative | total)
    not_assessed: dict[str, list[str]]
    method: str
    period: Period
    scope: Scope


@dataclass(frozen=True)
class Headline:
    """The diagnosis in four numbers: what the reps below goal miss together (Σ of their gaps), the
    part the causes explain, the part no cause explains, and how many reps are below goal of those
    with a quota. NaN money without quotas."""

    shortfall: float
    explained: float
    unexplained: float
    below: int
    rated: int


def reps_below(diagnosis: Diagnosis) -> pd.DataFrame:
    """The reps below goal (gap > 0), furthest below first."""
    reps = diagnosis.reps
    return reps[reps["gap"] > 0].sort_values(["gap", "rep_id"], ascending=[False, True])


def headline(diagnosis: Diagnosis) -> Headline:
    """The one home of the Diagnostic's headline sums (page, what-if, deck)."""
    below = reps_below(diagnosis)
    rated = int(diagnosis.reps["attainment"].notna().sum())
    if not diagnosis.reps["gap"].notna().any():     # no quota anywhere: no gap to speak of
        return Headline(np.nan, np.nan, np.nan, 0, rated)
    return Headline(float(below["gap"].sum()), float(below[list(CAUSES)].to_numpy().sum()),
                    float(below["unexplained"].sum()), len(below), rated)


# ---------------------------------------------------------------------------------------------
# Text

def _signal_text(table: pd.DataFrame) -> pd.Series:
    """'On-time follow-up 58% vs 100% target; reps at goal 96% (binomial, p=0.0012)' for each signal
    row: every flag says whether a test stands behind it (and its p-value) or it is a rule."""
    def fmt(col: str) -> pd.Series:
        """The column in words; each distinct (value, unit) formatted once (a target or the reps
        at goal repeat over every rep)."""
        words: dict[tuple[object, str], str] = {}
        return pd.Series([words.get((v, u)) or words.setdefault((v, u), fmt_unit(v, u))
                          for v, u in zip(table[col], table["unit"], strict=False)], index=table.index)

    how = pd.Series([" (rule)" if is_missing(p) else f" ({t}, p={p:.2g})"
                     for t, p in zip(table["test"], table["p_value"], strict=False)], index=table.index)
    return (table["label"] + " " + fmt("value") + " vs " + fmt("target") + " target; reps at goal "
            + fmt("benchmark") + how)


def _evidence(table: pd.DataFrame) -> pd.Series:
    """Per (rep_id, cause): the flagged signals in words, in the table's order. Joined in a dict:
    a group-by of a few hundred short texts costs some 40 ms in pandas, most of it in setting up."""
    flagged = table[table["flagged"]]
    joined: dict[tuple[str, str], list[str]] = {}
    for rep, cause, text in zip(flagged["rep_id"], flagged["cause"], _signal_text(flagged), strict=True):
        joined.setdefault((rep, cause), []).append(text)
    index = pd.MultiIndex.from_tuples(list(joined), names=["rep_id", "cause"]) if joined else \
        pd.MultiIndex.from_arrays([[], []], names=["rep_id", "cause"])
    return pd.Series(["; ".join(texts) for texts in joined.values()], index=index, dtype="str")


def _values_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Each signal's value per rep (rows: rep_id, columns: signal; the first known value of a
    rep's signal), as pivot_table(aggfunc="first") gives them but at a tenth of its cost."""
    value = table["value"].to_numpy(dtype="float64")
    known = ~np.isnan(value)
    r, reps = pd.factorize(table["rep_id"][known])
    s, names = pd.factorize(table["signal"][known])
    wide = np.full((len(reps), len(names)), np.nan)
    wide[r[::-1], s[::-1]] = value[known][::-1]                           # the first row written last
    return pd.DataFrame(wide, index=pd.Index(reps, name="rep_id"), columns=pd.Index(names, name="signal"))


def _actions(rows: pd.DataFrame, inp: Inputs, values: pd.DataFrame, settings: Settings) -> pd.Series:
    """Concrete next steps for each (rep_id, cause) finding row, from the rep's own numbers (each
    cause's own action builder)."""
    v = values.reindex(rows["rep_id"]).set_axis(rows.index)
    k = inp.kpis.set_index("rep_id").reindex(rows["rep_id"]).set_axis(rows.index)
    out = pd.Series("", index=rows.index, dtype="str")
    for key, cause in CAUSES.items():
        m = rows["cause"] == key
        if cause.actions is not None and m.any():
            out[m] = cause.actions(v[m], k[m], inp, settings.targets)
    return out


# ---------------------------------------------------------------------------------------------
# Pieces of the diagnosis

def _not_assessed(ds: Dataset, inp: Inputs) -> dict[str, list[str]]:
    """Causes with no signal value at all, and the tables that would enable them."""
    known = inp.table.loc[inp.table["value"].notna(), "cause"].unique()
    return {key: (ds.missing(*c.needs) or list(c.needs)) for key, c in CAUSES.items() if key not in known}


def _rep_table(inp: Inputs, alloc: dict[str, pd.DataFrame], flagged: pd.DataFrame) -> pd.DataFrame:
    k = inp.kpis.set_index("rep_id")
    money = alloc["money"].copy()
    below = k["gap"] > 0
    ramping = k["ramping"].astype(bool)
    money["ramping"] = np.where(ramping & below, k["gap"], 0.0)
    no_quota = k["quota"].isna() | ~(k["quota"] > 0)
    money[no_quota] = np.nan
    unexplained = alloc["unexplained"].where(~no_quota)
    top = money[list(blamed())].fillna(0.0)
    primary = pd.Series(np.where(top.max(axis=1) > 0, top.idxmax(axis=1), "unexplained"), index=k.index)
    primary = primary.where(below, "none").where(~(ramping & below), "ramping").where(~no_quota, "n/a")
    listed = (flagged.to_numpy() & below.to_numpy()[:, None] & (top > 0).to_numpy())
    order = np.argsort(-top.to_numpy(), axis=1, kind="stable")           # most money first
    names = np.asarray(blamed())[order]
    keep = np.take_along_axis(listed, order, axis=1)
    causes = pd.Series([", ".join(n[m]) for n, m in zip(names, keep, strict=False)], index=k.index)
    causes = causes.where(~(ramping & below), "ramping")
    out = pd.DataFrame({"rep_id": k.index, "rep_name": k["rep_name"], "region": k["region"],
                        "territory_id": k["territory_id"], "attainment": k["attainment"], "gap": k["gap"],
                        "primary_cause": primary, "causes": causes, "unexplained": unexplained})
    out = pd.concat([out, money[list(CAUSES)]], axis=1)
    return out[rep_columns()].reset_index(drop=True)


def _waterfall(reps: pd.DataFrame, kpis: pd.DataFrame) -> pd.DataFrame:
    """Quota → each cause, most money first → unexplained → reps ahead of goal → revenue (the steps
    add up)."""
    quota = kpis["quota"].where(kpis["quota"] > 0).sum()
    revenue = kpis["revenue"].sum()
    causes = reps[list(CAUSES)].sum().sort_values(ascending=False, kind="stable")
    unexplained = reps["unexplained"].sum()
    ahead = revenue - (quota - causes.sum() - unexplained)
    steps = (["Quota"] + [CAUSES[c].label for c in causes.index]
             + ["Unexplained", "Ahead of goal (other reps)", "Revenue"])
    amounts = [quota, *(-causes).tolist(), -unexplained, ahead, revenue]
    measure = ["absolute"] + ["relative"] * (len(CAUSES) + 2) + ["total"]
    return pd.DataFrame({"step": steps, "amount": np.asarray(amounts, dtype="float64"), "measure": measure})


def _rep_findings(reps: pd.DataFrame, alloc: dict[str, pd.DataFrame], flagged: pd.DataFrame, inp: Inputs,
                  model: impact.Model, settings: Settings) -> pd.DataFrame:
    """One finding per rep below goal (not ramping) and cause with money, and per flagged cause the
    model found no effect for (no money: its evidence and the words that say so)."""
    ids = reps["rep_id"]
    below = reps.set_index("rep_id")["gap"].gt(0) & ~reps.set_index("rep_id")["primary_cause"].isin(["ramping"])
    money = alloc["money"].reindex(ids)
    unsupported = [c for c in blamed() if not model.effects[c].supported]
    keep = (money > 0) | (flagged.reindex(index=ids, columns=list(blamed())).fillna(False)
                          & below.reindex(ids).to_numpy()[:, None] & money.columns.isin(unsupported))
    long = money.where(keep).stack().rename("impact").reset_index()
    long.columns = ["rep_id", "cause", "impact"]
    long = long[long["impact"].notna()].reset_index(drop=True)
    if long.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    key = pd.MultiIndex.from_frame(long[["rep_id", "cause"]])
    low = alloc["low"].stack().reindex(key).to_numpy()
    high = alloc["high"].stack().reindex(key).to_numpy()
    quota = inp.kpis.set_index("rep_id")["quota"].reindex(long["rep_id"]).to_numpy()
    names = reps.set_index("rep_id")["rep_name"]
    values = _values_wide(inp.table)
    return pd.DataFrame({
        "cause": long["cause"], "scope": "rep", "who": long["rep_id"],
        "who_names": long["rep_id"].map(names), "severity": severity(low, quota),
        "evidence": _evidence(inp.table).reindex(key).fillna("").to_numpy(),
        "impact": long["impact"], "impact_low": low, "impact_high": high,
        "confidence": long["cause"].map({c: model.effects[c].source for c in blamed()}),
        "actions": _actions(long, inp, values, settings),
    })


def _money_range(reps: pd.DataFrame, alloc: dict[str, pd.DataFrame], mask: pd.Series | None = None
                 ) -> dict[str, tuple[float, float, float]]:
    """Σ money, low and high per cause over the reps (where `mask`), and for "unexplained" the
    range left over: Σ gap − Σ high … Σ gap − Σ low per rep, clipped at 0."""
    sel = reps if mask is None else reps[mask.to_numpy()]
    ids = sel["rep_id"]
    low, high = alloc["low"].reindex(ids).fillna(0.0), alloc["high"].reindex(ids).fillna(0.0)
    out = {c: (float(sel[c].sum()), float(low[c].sum()), float(high[c].sum())) for c in blamed()}
    judged = sel["unexplained"].notna().to_numpy() & (sel["primary_cause"] != "ramping").to_numpy()
    gap = sel["gap"].clip(lower=0).where(judged, 0.0).to_numpy()
    un_low = np.clip(gap - high.sum(axis=1).to_numpy(), 0, None).sum()
    un_high = np.clip(gap - low.sum(axis=1).to_numpy(), 0, None).sum()
    out["unexplained"] = (float(sel["unexplained"].sum()), float(un_low), float(un_high))
    return out


def _team_findings(reps: pd.DataFrame, kpis: pd.DataFrame, inp: Inputs, alloc: dict[str, pd.DataFrame],
                   settings: Settings) -> list[dict[str, Any]]:
    """Many reps missing goal with money no cause explains, unbalanced territories, weak
    pay-for-performance and a gap concentrated in one region. Each names a cause only from that
    cause's own measure; money no cause explains stays "unexplained". Money and range are the
    sums of the reps' (severity from the low end against the scope's quota)."""
    th, out = settings.thresholds, []
    money = _money_range(reps, alloc)
    base = float(kpis["quota"].where(kpis["quota"] > 0).sum())
    judged = kpis[kpis["quota"].gt(0) & ~kpis["ramping"].astype(bool)]
    if len(judged) >= 3:
        share = float((judged["attainment"] >= 1).mean())
        if share < th.reps_at_goal_min and money["unexplained"][0] > 0:
            # Goals are only as unrealistic as the team's net miss: its severity reads the low end
            # of the unexplained money, at most what the whole team is short of its quota.
            net = max(0.0, float(judged["quota"].sum() - judged["revenue"].sum()))
            low = money["unexplained"][1]
            finding = team_finding(
                "unexplained", "team", money["unexplained"], base,
                f"Reps at goal {fmt_pct(share)} vs {fmt_pct(th.reps_at_goal_min)} minimum "
                f"({int((judged['attainment'] >= 1).sum())} of {len(judged)}); "
                f"{fmt_money(money['unexplained'][0])} of the gap is explained by no cause in the data",
                "check whether the goals are realistic for the market (quota against territory potential "
                "and last year's growth) and which data is missing, before the next plan")
            finding["severity"] = str(severity(np.array([min(low, net)]), np.array([base]))[0])
            out.append(finding)
    view = TeamView(kpis, inp, money, base, settings)
    for cause in CAUSES.values():
        if cause.team is not None:
            out.extend(cause.team(view))
    out.extend(_region_finding(reps, kpis, alloc))
    return out


def _region_finding(reps: pd.DataFrame, kpis: pd.DataFrame, alloc: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """One region carrying most of the shortfall: named by its largest cause, with that cause's
    money there (or its unexplained money when no cause has any)."""
    quota = kpis.set_index("rep_id")["quota"].reindex(reps["rep_id"]).to_numpy()
    shortfall = reps.assign(short=reps["gap"].clip(lower=0), quota=quota)
    by_region = shortfall.groupby("region")[["short", "quota"]].sum()
    if len(by_region) < 2 or not by_region["short"].sum() > 0:
        return []
    s = by_region["short"] / by_region["short"].sum()
    q = by_region["quota"] / by_region["quota"].sum()
    top = s.idxmax()
    if not (s[top] >= REGION_SHARE and s[top] >= REGION_EXCESS * q[top]):
        return []
    money = _money_range(reps, alloc, reps["region"] == top)
    region_money = pd.Series({c: money[c][0] for c in blamed()})
    main = region_money.idxmax() if region_money.max() > 0 else "unexplained"
    label = CAUSES[main].label.lower() if main in CAUSES else "explained by no cause in the data"
    return [team_finding(
        main, top, money[main], float(by_region.at[top, "quota"]),
        f"{top} carries {fmt_pct(s[top])} of the shortfall ({fmt_money(by_region.at[top, 'short'])}) with "
        f"{fmt_pct(q[top])} of the quota; its largest part: {label}",
        f"review {top} with its manager, starting with {label}")]


def _rank(findings: pd.DataFrame) -> pd.DataFrame:
    f = findings.assign(_sev=findings["severity"].map(SEVERITY_ORDER))
    f = f.sort_values(["impact", "_sev"], ascending=[False, True], na_position="last", kind="stable")
    f = f.drop(columns="_sev").reset_index(drop=True)
    f["rank"] = np.arange(1, len(f) + 1)
    for col in ("impact_low", "impact_high"):
        f[col] = f[col].astype("float64")
    return f[FINDING_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Public API

@dataclass(frozen=True)
class MoneyModel:
    """The signals, the fitted money model and the money per rep × cause of one period."""

    inputs: Inputs
    model: impact.Model
    alloc: dict[str, pd.DataFrame]
    flagged: pd.DataFrame


def money_model(ds: Dataset, period: Period, settings: Settings) -> MoneyModel:
    """Signals → drivers → model (or rules) → money per rep and cause, for the whole team: once per
    Dataset, period, settings and registered causes and KPIs (held on the Dataset's memo, so every
    scope of a period reuses it). Read-only."""
    return ds.memo(("diagnostic.money_model", *memo_key(period, settings)), lambda: _money_model(ds, period, settings))


def _money_model(ds: Dataset, period: Period, settings: Settings) -> MoneyModel:
    inp = gather(ds, period, settings)
    kpis = inp.kpis
    ids = pd.Index(kpis["rep_id"])
    rep_drivers, flagged = impact.drivers(inp.table, ids)
    data = impact.panel(ds, period, settings, impact.dose(rep_drivers),
                        ids[kpis["ramping"].astype(bool).to_numpy()])
    model = impact.fit(data)
    alloc = impact.allocate(kpis.set_index("rep_id")[["quota", "gap", "ramping"]], rep_drivers, flagged, model)
    return MoneyModel(inp, model, alloc, flagged)


def cause_money(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> pd.DataFrame:
    """Per rep in scope and blamed cause: money (point, low, high) the cause explains of the rep's
    gap, whether the model supports an effect for the cause, and the rep's unexplained money. One
    row per rep × cause (zero money included), for what-ifs built on the diagnostic."""
    mm = money_model(ds, period, settings)
    keep = scope.rep_ids(metrics.roster(ds))
    frames = {k: mm.alloc[k].stack().rename(k) for k in ("money", "low", "high")}
    out = pd.concat(frames.values(), axis=1).rename_axis(["rep_id", "cause"]).reset_index()
    out["supported"] = out["cause"].map({c: mm.model.effects[c].supported for c in blamed()}).astype(bool)
    out["flagged"] = mm.flagged.stack().reindex(pd.MultiIndex.from_frame(out[["rep_id", "cause"]])).to_numpy()
    out["unexplained"] = out["rep_id"].map(mm.alloc["unexplained"])
    return out[members(out["rep_id"], keep)].reset_index(drop=True)


def _method(model: impact.Model, table: pd.DataFrame, settings: Settings, no_quota: str) -> str:
    """What the statistics did, in words: model or rules, the effective sample in reps, how many
    tests the false-alarm control ran over and how many flags are rules."""
    tested = int(table["p_value"].notna().sum())
    rules = int((table["flagged"] & table["p_value"].isna()).sum())
    unsupported = [CAUSES[c].label.lower() for c in blamed() if not model.effects[c].supported
                   and table.loc[table["cause"] == c, "flagged"].any()]
    none = f"; {', '.join(unsupported)}: {impact.NO_EFFECT} (no money)" if unsupported else ""
    money = f"{model.confidence}{none}" if not no_quota else "no money is estimated without a gap to explain"
    return (f"{no_quota}{money}; signals against targets and the reps at goal: "
            f"{tested} tests over all reps and signals, false alarms controlled at "
            f"{fmt_pct(settings.thresholds.false_discovery_rate)} (Benjamini–Hochberg), {rules} flags from "
            "rules without a test (their value beyond the threshold and the reps at goal). "
            "Findings are associations in the data, not proof of cause.")


def rep_diagnosis(ds: Dataset, period: Period, settings: Settings) -> pd.DataFrame:
    """The diagnosis of every rep of the team (rep_columns(): primary cause, causes, the money of
    each cause), without the findings and their texts: what a page listing reps needs (the
    Overview's primary cause). Once per Dataset, period and settings, shared with `diagnose`;
    read-only."""
    def build() -> pd.DataFrame:
        mm = money_model(ds, period, settings)
        return _rep_table(mm.inputs, mm.alloc, mm.flagged)

    return ds.memo(("diagnostic.rep_table", *memo_key(period, settings)), build)


def diagnose(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope()) -> Diagnosis:
    """Findings ranked by money, the diagnosis of each rep, the gap waterfall and what could not
    be assessed, for the reps in `scope` (benchmarks and the model use the whole team)."""
    mm = money_model(ds, period, settings)
    inp, model, alloc = mm.inputs, mm.model, mm.alloc
    kpis = inp.kpis
    in_scope = set(scope.rep_ids(metrics.roster(ds)))
    every_rep = rep_diagnosis(ds, period, settings)
    # Each finding row is the rep's own: a scope keeps its reps' rows.
    every_finding = ds.memo(("diagnostic.rep_findings", *memo_key(period, settings)),
                            lambda: _rep_findings(every_rep, alloc, mm.flagged, inp, model, settings))
    reps = every_rep[members(every_rep["rep_id"], in_scope)].reset_index(drop=True)
    scoped_kpis = kpis[members(kpis["rep_id"], in_scope)]
    rep_findings = every_finding[members(every_finding["who"], in_scope)].reset_index(drop=True)
    team = pd.DataFrame(_team_findings(reps, scoped_kpis, inp, alloc, settings), columns=FINDING_COLUMNS)
    findings = _rank(pd.concat([f for f in (rep_findings, team) if len(f)], ignore_index=True)
                     if len(rep_findings) or len(team) else pd.DataFrame(columns=FINDING_COLUMNS))
    no_quota = "" if scoped_kpis["quota"].gt(0).any() else "no quotas: upload quotas to measure the gap; "
    return Diagnosis(findings=findings, reps=reps, waterfall=_waterfall(reps, scoped_kpis),
                     not_assessed=_not_assessed(ds, inp), method=_method(model, inp.table, settings, no_quota),
                     period=period, scope=scope)


def monthly_evidence(ds: Dataset, period: Period, settings: Settings, rep_id: str) -> pd.DataFrame:
    """The charts behind a rep's activity, plan and follow-up findings: per month of the last 12
    up to the period end and per signal — month, cause, signal, label, unit, rep (the rep's value),
    target and reps_at_goal (the median of the reps at goal in the period)."""
    cols = ["month", "cause", "signal", "label", "unit", "rep", "target", "reps_at_goal"]
    if not (ds.has("activities") or ds.has("follow_ups")):
        return pd.DataFrame(columns=cols)
    start = (period.end_ts - pd.DateOffset(months=impact.PANEL_MONTHS - 1)).replace(day=1)
    act = metrics.monthly_activity(ds, start.date(), period.end)
    kpis = metrics.rep_kpis(ds, period, settings)
    good = kpis.loc[at_goal(kpis), "rep_id"]
    charts = monthly_charts()
    sigs = [s for s, _ in charts.values()]
    bench = act[members(act["rep_id"], good)].groupby("month")[sigs].median()
    mine = act[act["rep_id"] == rep_id].set_index("month")[sigs]
    spec = measures()
    frames = [pd.DataFrame({"month": mine.index, "cause": cause, "signal": sig, "label": spec[sig].label,
                            "unit": spec[sig].unit, "rep": mine[sig].to_numpy(),
                            "target": getattr(settings.targets, target),
                            "reps_at_goal": bench[sig].reindex(mine.index).to_numpy()})
              for cause, (sig, target) in charts.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[out["rep"].notna() | out["reps_at_goal"].notna()].reset_index(drop=True)[cols]
