"""The null-cause guard: a cause whose driver is degraded on its planted reps without costing any
revenue must (almost) never carry money (issue 13, item 3). bench/null_causes.py builds the teams."""
import numpy as np
import pytest

from bench import null_causes, planted_teams

# Measured on development seeds 101-120 (python -m bench.null_causes): the null cause carried money
# in none of the 20 teams, with the method kept (OLS of attainment on the dose, one-sided p < 0.10)
# as with the one before it (on the 0/1 exposure); the bar leaves room for one team in 20. With every
# nullable cause on each seed (--every-cause, 100 teams): 1 of 100 (exposure model: 4 of 100).
FALSE_MONEY_REACHED = 0.0
MAX_FALSE_MONEY = FALSE_MONEY_REACHED + 0.05


def test_a_null_cause_leaves_its_footprint_but_costs_no_revenue():
    """Same seed: the null team's reps planted with the cause sell more than in the real team and
    the others the same, and the tables still carry the cause's footprint (lower training scores
    since the cause started)."""
    seed, cause = 102, "training_gap"
    real = planted_teams.generate(36, seed)
    null = null_causes.null_team(seed, 36, cause).team
    reps = [r for r, c in real.causes.items() if cause in c]
    assert reps and null.causes == real.causes
    revenue = {name: t.tables["sales"].groupby("rep_id")["revenue"].sum() for name, t in
               (("real", real), ("null", null))}
    assert (revenue["null"][reps] > revenue["real"][reps]).all()
    others = [r for r in revenue["real"].index if r not in reps]
    assert np.allclose(revenue["null"][others], revenue["real"][others])
    t = null.tables["training"]
    recent = t[t["date"] >= t["date"].max() - np.timedelta64(90, "D")]
    mine = recent["rep_id"].isin(reps)
    assert recent.loc[mine, "score"].mean() < recent.loc[~mine, "score"].mean() - 5


def test_one_null_team_gives_a_rate():
    rows = null_causes.run([101], 36)
    assert list(rows["cause"]) == [null_causes.NULLABLE[101 % len(null_causes.NULLABLE)]]
    assert 0.0 <= null_causes.false_money_rate(rows) <= 1.0
    assert (rows["money"] >= 0).all()


@pytest.mark.slow
def test_a_cause_without_revenue_effect_rarely_gets_money():
    rows = null_causes.run(null_causes.DEVELOPMENT_SEEDS)
    assert null_causes.false_money_rate(rows) <= MAX_FALSE_MONEY, rows
