"""The diagnostic finds the causes planted in generated teams, stays quiet on healthy teams, and
puts no money where its model found no effect.

Two generators: core.sample.team (the bundled story) and bench.planted_teams (written apart from it:
other effect sizes, noise, seasonality, product quotas for every product, a pay plan named
Commission / Bonus / SPIF, causes starting mid-year, two causes in some reps). The seeds here are
held out: the method is developed on seeds 101-110 (bench/diagnostic_eval.py). The big evaluation
and the three full-size sample teams are marked slow (`pytest -m slow`); bench/RESULTS.md has its
figures.
"""
import pandas as pd
import pytest

from bench import planted_teams
from bench.diagnostic_eval import recall_precision, score_team
from core.dataset import Dataset
from core.diagnostic import impact
from core.diagnostic.causes import blamed
from core.diagnostic.findings import cause_money, diagnose, money_model
from core.ingest.pipeline import ingest
from core.periods import parse_period
from core.sample.team import generate
from core.settings import Settings

SEEDS = (1, 2, 3)
PERIOD = parse_period("2026-Q3")
MIN_ACCURACY = 0.85          # reached: 90-95 % of planted reps below goal per seed over seeds 1-3
MAX_HIGH_ON_HEALTHY = 1      # reached: 0 on every seed tried
HELD_OUT = ((205, 36, 2), (206, 48, 3))     # (seed, reps, reps planted per cause)
MIN_PLANTED_RECALL = 0.90    # reached: 92.5 % (named among the rep's causes: 97.5 %) on HELD_OUT
RULES_VS_MODEL = 0.30        # team money of the supported causes: rules within ±30 % of the model


def _diagnose(team: planted_teams.PlantedTeam):
    return diagnose(Dataset(tables=team.tables), parse_period(team.period), Settings())


# ---------------------------------------------------------------------------------------------
# The bundled sample

@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        sample = generate(seed=seed)
        d = diagnose(Dataset(tables=sample.tables), PERIOD, Settings())
        reps = d.reps.assign(planted=d.reps["rep_id"].map(sample.planted), seed=seed)
        rows.append(reps[reps["planted"].notna() & (reps["planted"] != "none")])
    return pd.concat(rows, ignore_index=True)


@pytest.mark.slow   # three 40-rep sample teams: the held-out teams below keep it in the default run
def test_primary_cause_is_the_planted_one(planted):
    below = planted[planted["gap"] > 0]
    assert len(below) >= 0.8 * len(planted)           # the generator makes planted reps miss goal
    accuracy = (below["primary_cause"] == below["planted"]).mean()
    assert accuracy >= MIN_ACCURACY, below.loc[below["primary_cause"] != below["planted"],
                                               ["seed", "rep_id", "planted", "primary_cause"]]


@pytest.mark.slow   # three 40-rep sample teams: the held-out teams below keep it in the default run
def test_every_planted_cause_is_found_somewhere(planted):
    found = planted.groupby("planted").apply(lambda g: (g["primary_cause"] == g.name).any())
    assert found.all(), found[~found]


@pytest.mark.slow   # three 40-rep sample teams: the held-out teams below keep it in the default run
def test_a_healthy_team_raises_no_alarm():
    highs = 0
    for seed in SEEDS:
        d = diagnose(Dataset(tables=generate(seed=seed, causes={}).tables), PERIOD, Settings())
        highs += int((d.findings["severity"] == "high").sum())
    assert highs <= MAX_HIGH_ON_HEALTHY


# ---------------------------------------------------------------------------------------------
# Teams from the second generator

@pytest.fixture(scope="module")
def held_out() -> list[tuple[planted_teams.PlantedTeam, object]]:
    teams = [planted_teams.generate(n, seed, per_cause=k) for seed, n, k in HELD_OUT]
    return [(t, _diagnose(t)) for t in teams]


def test_planted_causes_are_named_on_teams_never_tuned_on(held_out):
    rows = pd.concat([score_team(t, d.reps) for t, d in held_out], ignore_index=True)
    planted = rows[rows["planted"] != "none"]
    assert planted["hit"].mean() >= MIN_PLANTED_RECALL, planted.loc[~planted["hit"],
                                                                    ["rep_id", "planted", "primary_cause"]]
    named = planted.groupby("planted")["named"].any()
    assert named.all(), named[~named]                 # every cause named for some planted rep
    assert recall_precision(rows)["precision"].dropna().min() >= 0.75


def test_incentive_misalignment_is_found_where_every_product_has_a_quota(held_out):
    """The plan pays per product but names its components Commission / Bonus / SPIF: the mix off
    the product goals, with the best-paid products sold further over their goals than the others,
    gives a finding for every planted rep below goal (with money where the model supports the
    cause, else saying it found no effect)."""
    for team, d in held_out:
        assert team.tables["quotas"]["product"].notna().all()
        assert not team.tables["incentives"]["component"].isin(team.tables["sales"]["product"]).any()
        gap = d.reps.set_index("rep_id")["gap"]
        planted = [r for r, c in team.primary.items() if c == "incentive_misalignment" and gap[r] > 0]
        f = d.findings
        found = set(f.loc[f["cause"] == "incentive_misalignment", "who"])
        assert set(planted) <= found, (team.period, planted, found)
        evidence = f.loc[(f["cause"] == "incentive_misalignment") & f["who"].isin(planted), "evidence"]
        assert evidence.str.contains("Product mix off the product goals").all()


def test_no_finding_carries_money_its_model_did_not_support(held_out):
    for team, d in held_out:
        ds, period = Dataset(tables=team.tables), parse_period(team.period)
        model = money_model(ds, period, Settings()).model
        unsupported = {c for c in blamed() if not model.effects[c].supported}
        f = d.findings
        assert (f.loc[f["cause"].isin(unsupported), ["impact", "impact_low", "impact_high"]].fillna(0) == 0).all().all()
        quiet = f[f["cause"].isin(unsupported) & (f["scope"] == "rep")]
        assert quiet["confidence"].str.contains(impact.NO_EFFECT).all()
        assert (d.reps[list(unsupported)].fillna(0) == 0).all().all()
        money = cause_money(ds, period, Settings())
        assert (money.loc[~money["supported"], ["money", "low", "high"]] == 0).all().all()
        assert (money["low"] <= money["money"] + 1e-6).all() and (money["money"] <= money["high"] + 1e-6).all()


def test_team_findings_name_a_cause_only_from_its_own_evidence(held_out):
    """No default label: the "fewer than half at goal" finding is "unexplained", and every team
    finding carries a money range."""
    for _, d in held_out:
        team = d.findings[d.findings["scope"] != "rep"]
        assert team["impact_low"].notna().all() and team["impact_high"].notna().all()
        assert (team["impact_low"] <= team["impact"] + 1e-6).all()
        at_goal = team[team["evidence"].str.startswith("Reps at goal")]
        assert (at_goal["cause"] == "unexplained").all()


def test_severity_reads_the_low_end_of_the_money(held_out):
    for team, d in held_out:
        quota = d.reps.set_index("rep_id")["gap"]        # only to align; quota from the KPIs below
        f = d.findings[d.findings["scope"] == "rep"]
        kpis = money_model(Dataset(tables=team.tables), parse_period(team.period), Settings()).inputs.kpis
        quota = kpis.set_index("rep_id")["quota"].reindex(f["who"]).to_numpy()
        high = f["impact_low"].to_numpy() / quota >= 0.10
        assert ((f["severity"] == "high").to_numpy() == high).all()


def test_rules_and_model_agree_within_30_percent(held_out):
    """On a team large enough for the model, the small-team rules explain about the same money
    for the causes the model supports."""
    team = held_out[-1][0]
    mm = money_model(Dataset(tables=team.tables), parse_period(team.period), Settings())
    assert mm.model.method == "model"
    reps = mm.inputs.kpis.set_index("rep_id")[["quota", "gap", "ramping"]]
    drivers, flagged = impact.drivers(mm.inputs.table, reps.index)
    rules = impact.allocate(reps, drivers, flagged, impact._rules("comparison", len(reps), 0, 6))
    supported = [c for c in blamed() if mm.model.effects[c].supported]
    model_money = mm.alloc["money"][supported].to_numpy().sum()
    rules_money = rules["money"][supported].to_numpy().sum()
    assert model_money > 0
    assert abs(rules_money / model_money - 1) <= RULES_VS_MODEL, (rules_money, model_money)


def test_a_planted_territory_carries_its_cut_in_its_quota():
    """An imbalanced territory is cut to 55-80 % of the potential its quota was set on: its quota per
    potential in the period sits above every other rep's. (Its quota was once drawn against the team's
    average potential instead: on seed 106 the territory's and the quota's own spread cancelled the
    cut and a planted rep's quota came out at 1.01x its fair share, a cause that cost nothing.)"""
    team = planted_teams.generate(48, 106)
    t = team.tables
    quotas = t["quotas"][t["quotas"]["period"] == team.period].groupby("rep_id")["quota"].sum()
    potential = t["accounts"].groupby("territory_id")["potential"].sum()
    ratio = quotas / t["reps"].set_index("rep_id")["territory_id"].map(potential).reindex(quotas.index)
    planted = [r for r, causes in team.causes.items() if "territory_imbalance" in causes]
    assert len(planted) == 3
    assert ratio[planted].min() > ratio.drop(planted).max()


def test_a_healthy_team_of_the_second_generator_raises_no_alarm():
    d = _diagnose(planted_teams.generate(36, 307, healthy=True))
    severity = d.findings["severity"].value_counts()
    assert severity.get("high", 0) == 0 and severity.get("medium", 0) <= 1, d.findings


# ---------------------------------------------------------------------------------------------
# The big evaluation (pytest -m slow)

@pytest.mark.slow
def test_held_out_teams_recall_per_cause():
    """Four held-out 48-rep teams, 12 planted reps per cause: the issue's bar, every cause the primary
    cause of at least 10 of its 12 reps and 90 % overall. Reached: 93.8 % (named 96.9 %), every
    cause 10-12 of 12 and named for 11-12 of 12 (bench/RESULTS.md)."""
    rows = []
    for seed in (201, 202, 203, 204):
        team = planted_teams.generate(48, seed)
        rows.append(score_team(team, _diagnose(team).reps))
    rows = pd.concat(rows, ignore_index=True)
    planted = rows[rows["planted"] != "none"]
    assert planted["hit"].mean() >= 0.90
    assert planted.groupby("planted")["hit"].sum().min() >= 10
    assert planted.groupby("planted")["named"].sum().min() >= 10


@pytest.mark.slow
def test_crm_shaped_export_gives_the_same_primary_causes():
    for seed in (201, 202):
        team = planted_teams.generate(48, seed)
        canonical = _diagnose(team).reps
        crm = diagnose(ingest(planted_teams.crm_files(team)), parse_period(team.period), Settings()).reps
        both = canonical.merge(crm, on="rep_id", suffixes=("", "_crm"))
        assert len(both) == len(canonical)
        assert (both["primary_cause"] == both["primary_cause_crm"]).mean() >= 0.95


@pytest.mark.slow
def test_three_healthy_teams_together_no_high_at_most_one_medium():
    severities = pd.concat([_diagnose(planted_teams.generate(48, s, healthy=True)).findings["severity"]
                            for s in (301, 302, 303)])
    assert (severities == "high").sum() == 0 and (severities == "medium").sum() <= 1
