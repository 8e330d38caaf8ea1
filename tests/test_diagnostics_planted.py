"""The diagnostic finds the causes planted in generated teams, and stays quiet on a healthy team.

core.sample.generate plants one cause per struggling rep, with the cause's real footprint in the
data. These are the README figures at a smaller scale (bench/diagnostic_accuracy.py runs more seeds).
"""
import pandas as pd
import pytest

from core.dataset import Dataset
from core.diagnostics import diagnose
from core.periods import parse_period
from core.sample import generate
from core.settings import Settings

SEEDS = (1, 2, 3)
PERIOD = parse_period("2026-Q3")
MIN_ACCURACY = 0.85          # reached: 93–95 % of planted reps below goal over seeds 1–8
MAX_HIGH_ON_HEALTHY = 1      # reached: 0 on every seed tried


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        sample = generate(seed=seed)
        d = diagnose(Dataset(tables=sample.tables), PERIOD, Settings())
        reps = d.reps.assign(planted=d.reps["rep_id"].map(sample.planted), seed=seed)
        rows.append(reps[reps["planted"].notna() & (reps["planted"] != "none")])
    return pd.concat(rows, ignore_index=True)


def test_primary_cause_is_the_planted_one(planted):
    below = planted[planted["gap"] > 0]
    assert len(below) >= 0.8 * len(planted)           # the generator makes planted reps miss goal
    accuracy = (below["primary_cause"] == below["planted"]).mean()
    assert accuracy >= MIN_ACCURACY, below.loc[below["primary_cause"] != below["planted"],
                                               ["seed", "rep_id", "planted", "primary_cause"]]


def test_every_planted_cause_is_found_somewhere(planted):
    found = planted.groupby("planted").apply(lambda g: (g["primary_cause"] == g.name).any())
    assert found.all(), found[~found]


def test_a_healthy_team_raises_no_alarm():
    highs = 0
    for seed in SEEDS:
        d = diagnose(Dataset(tables=generate(seed=seed, causes={}).tables), PERIOD, Settings())
        highs += int((d.findings["severity"] == "high").sum())
    assert highs <= MAX_HIGH_ON_HEALTHY
