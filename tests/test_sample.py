"""The sample generator: canonical, deterministic, and the planted causes leave their footprints."""
from pathlib import Path

import pandas as pd
import pytest

from core.sample import story
from core.sample.team import generate, main, write_csvs, write_workbook
from core.schema import TABLES, pandas_dtype

Q3 = (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30"))
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def team():
    return generate()


@pytest.fixture(scope="module")
def healthy():
    return generate(causes={}, seed=11)


def _in_q3(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[frame[column].between(*Q3)]


def _attainment(data) -> pd.Series:
    sales, quotas = data.tables["sales"], data.tables["quotas"]
    revenue = _in_q3(sales, "date").groupby("rep_id")["revenue"].sum()
    quota = quotas[(quotas["period"] == "2026-Q3") & quotas["product"].isna()].set_index("rep_id")["quota"]
    return (revenue / quota).dropna()


def _by_cause(data, values: pd.Series) -> pd.Series:
    """Median of a per-rep measure for each planted cause."""
    return values.groupby(values.index.map(data.planted)).median()


def test_same_seed_same_tables_other_seed_other_tables():
    """Generation is deterministic in its seed."""
    a, b, c = generate(n_reps=12, years=1.0, seed=3), generate(n_reps=12, years=1.0, seed=3), \
        generate(n_reps=12, years=1.0, seed=4)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert a.planted == b.planted
    assert not a.tables["sales"].equals(c.tables["sales"])


def test_every_table_is_canonical(team):
    """Every canonical table, with exactly the canonical columns and dtypes, none empty."""
    assert list(team.tables) == list(TABLES)
    for name, frame in team.tables.items():
        spec = TABLES[name]
        assert list(frame.columns) == spec.column_names, name
        for column in spec.columns:
            assert str(frame[column.name].dtype) == pandas_dtype(column), (name, column.name)
        assert len(frame) > 0, name
        assert frame[spec.required].notna().all().all(), name


def test_referential_integrity_and_keys(team):
    """Every rep, territory and account id used anywhere exists; keys are unique."""
    t = team.tables
    reps, accounts = set(t["reps"]["rep_id"]), set(t["accounts"]["account_id"])
    for name, frame in t.items():
        if "rep_id" in frame and name != "reps":
            assert set(frame["rep_id"]) <= reps, name
        if "account_id" in frame and name != "accounts":
            assert set(frame["account_id"].dropna()) <= accounts, name
    assert set(t["accounts"]["territory_id"]) == set(t["reps"]["territory_id"]) == set(t["territories"]["territory_id"])
    for name in ("reps", "territories", "accounts", "opportunities"):
        assert t[name][TABLES[name].key].is_unique, name
    assert set(t["reps"]["role"]) == set(t["expected_levels"]["role"])
    assert set(t["sales"]["product"]) == set(story.PRODUCTS) == set(t["products"]["product"])


def test_values_are_plausible(team):
    """Dates inside the history, ratings and scores in range, statuses canonical, real ZIPs."""
    t = team.tables
    end = pd.Timestamp("2026-11-20")
    assert t["sales"]["date"].max() <= end and t["activities"]["date"].max() <= end
    assert t["follow_ups"]["completed_date"].max() <= end
    assert t["assessments"]["rating"].between(1, 5).all()
    assert t["training"]["score"].between(0, 100).all()
    assert set(t["opportunities"]["status"]) == {"won", "lost", "open"}
    assert (t["incentives"]["payout"] > 0).all() and (t["quotas"]["quota"] > 0).all()
    zips = t["accounts"]["zip"]
    assert zips.str.fullmatch(r"\d{5}").all()
    assert t["accounts"]["latitude"].between(24, 50).all() and t["accounts"]["longitude"].between(-125, -66).all()
    assert (t["sales"]["revenue"] < 0).mean() < 0.01


def test_territories_are_compact(team):
    """Accounts sit in their region's states, and a territory covers a small part of its region."""
    acc = team.tables["accounts"].merge(team.tables["territories"][["territory_id", "region"]])
    assert all(set(g["state"]) <= set(story.REGIONS[r]) for r, g in acc.groupby("region"))
    def extent(keys):
        return acc.groupby(keys)[["latitude", "longitude"]].agg(lambda s: s.max() - s.min()).sum(axis=1)
    assert extent("territory_id").median() < extent("region").median() / 3


def test_default_story_counts(team):
    """40 reps, 4 regions, 9 planted causes of 2-3 reps each, the rest healthy."""
    counts = pd.Series(team.planted).value_counts()
    assert len(team.planted) == 40 and team.tables["reps"]["region"].nunique() == 4
    assert set(counts.index) == set(story.CAUSES) | {"none"}
    assert counts.drop("none").between(2, 3).all()


def test_about_half_the_team_at_goal_and_planted_reps_below(team):
    """2026-Q3: about half at goal; every planted rep misses, by 10-35 %; healthy reps make it."""
    att = _attainment(team)
    planted = att.index.map(team.planted) != "none"
    assert 0.4 <= (att >= 1).mean() <= 0.6
    assert att[planted].between(0.6, 0.95).all()
    assert (att[~planted] >= 0.95).mean() >= 0.9


def test_healthy_team_is_near_goal(healthy):
    """With no planted cause, nearly every rep is near or above goal."""
    att = _attainment(healthy)
    assert set(healthy.planted.values()) == {"none"}
    assert (att >= 0.95).mean() >= 0.9
    assert att.median() > 1.0


def test_footprint_territory_and_ramping(team):
    """Imbalanced territories have potential index < 85 (others 85-115); ramping reps are new hires."""
    t = team.tables
    potential = t["territories"].set_index("territory_id")["market_potential"]
    index = t["reps"].set_index("rep_id")["territory_id"].map(potential / potential.mean() * 100)
    cause = index.index.map(team.planted)
    assert (index[cause == "territory_imbalance"] < 85).all()
    assert index[cause != "territory_imbalance"].between(85, 115).all()
    hire = t["reps"].set_index("rep_id")["hire_date"]
    ramping = hire[hire.index.map(team.planted) == "ramping"]
    assert ((Q3[1] - ramping).dt.days < 275).all()
    assert ((Q3[1] - hire[hire.index.map(team.planted) != "ramping"]).dt.days > 365).all()


def test_footprint_follow_ups_and_activity(team):
    """Late follow-ups, few meetings, unplanned calls with users only: each on its own reps."""
    t = team.tables
    f = _in_q3(t["follow_ups"], "due_date")
    on_time = _by_cause(team, (f["completed_date"] <= f["due_date"]).groupby(f["rep_id"]).mean())
    assert 0.35 <= on_time["follow_up_discipline"] <= 0.7 and on_time["none"] >= 0.95
    a = _in_q3(t["activities"], "date")
    meetings = a[a["activity_type"].isin(["meeting", "presentation", "workshop", "demo", "case_support"])]
    per_week = _by_cause(team, meetings.groupby("rep_id").size() / 13)
    assert per_week["activity_shortfall"] < 2.5 and per_week["none"] > 5
    planned = _by_cause(team, a.groupby("rep_id")["planned"].mean())
    assert planned["plan_adherence"] < 0.5 and planned["none"] > 0.8
    buyers = _by_cause(team, a["contact_role"].isin(["buyer", "admin"]).groupby(a["rep_id"]).mean())
    assert buyers["plan_adherence"] < 0.15 < buyers["none"]


def test_footprint_pipeline_retention_incentives(team):
    """Thin pipeline, lost accounts, and quarter-end bunching with a neglected focus product."""
    t = team.tables
    o, quotas = t["opportunities"], t["quotas"]
    start = Q3[0]
    open_at_start = o[(o["created_date"] <= start) & ((o["close_date"] > start) | (o["status"] == "open"))]
    quota = quotas[(quotas["period"] == "2026-Q3") & quotas["product"].isna()].set_index("rep_id")["quota"]
    coverage = _by_cause(team, open_at_start.groupby("rep_id")["amount"].sum() / quota)
    assert coverage["pipeline"] < 1.6 and coverage["none"] > 2.5

    s = t["sales"]
    def active(lo, hi):
        return set(map(tuple, s[s["date"].between(lo, hi) & (s["revenue"] > 0)][["rep_id", "account_id"]]
                                        .drop_duplicates().to_numpy()))
    before, now = active(pd.Timestamp("2026-04-01"), pd.Timestamp("2026-06-30")), active(*Q3)
    lost = pd.Series([pair not in now for pair in before], index=[r for r, _ in before])
    churn = _by_cause(team, lost.groupby(level=0).mean())
    assert churn["customer_retention"] > 0.2 and churn["none"] < 0.08

    q3 = _in_q3(s, "date")
    last_weeks = (q3["revenue"] * (q3["date"] > Q3[1] - pd.Timedelta(days=21))).groupby(q3["rep_id"]).sum()
    bunched = _by_cause(team, last_weeks / q3.groupby("rep_id")["revenue"].sum())
    assert bunched["incentive_misalignment"] > 0.5 > bunched["none"]
    focus_quota = quotas[(quotas["period"] == "2026-Q3") & (quotas["product"] == story.FOCUS_PRODUCT)]
    focus = q3[q3["product"] == story.FOCUS_PRODUCT].groupby("rep_id")["revenue"].sum()
    focus_att = _by_cause(team, focus / focus_quota.set_index("rep_id")["quota"])
    assert focus_att["incentive_misalignment"] < 0.3 < 0.9 < focus_att["none"]
    pay = t["incentives"][t["incentives"]["period"] == "2026-Q3"].groupby("rep_id")["payout"].sum()
    pay_by_cause = _by_cause(team, pay)
    assert pay_by_cause["incentive_misalignment"] >= 0.9 * pay.median()


def test_footprint_training(team):
    """Training-gap reps: knowledge checks ~60-70, manager 1-1.5 below expected, self well above."""
    t = team.tables
    scores = _by_cause(team, _in_q3(t["training"], "date").groupby("rep_id")["score"].mean())
    assert 55 <= scores["training_gap"] <= 75 and scores["none"] >= 85
    a = t["assessments"]
    latest = a[a["date"] == a["date"].max()].merge(t["reps"][["rep_id", "role"]]).merge(
        t["expected_levels"], on=["role", "competency"])
    manager = latest[latest["assessor"] == "manager"]
    worst_gap = _by_cause(team, (manager["rating"] - manager["expected_rating"]).groupby(manager["rep_id"]).min())
    assert -1.5 <= worst_gap["training_gap"] <= -1.0 and worst_gap["none"] >= -0.5
    pairs = latest.pivot_table(index=["rep_id", "competency"], columns="assessor", values="rating")
    self_gap = _by_cause(team, (pairs["self"] - pairs["manager"]).groupby(level=0).max())
    assert self_gap["training_gap"] > 1.0 >= self_gap["none"]


def test_rows_scale_linearly_with_reps():
    """Twice the reps → about twice the rows in every transactional table."""
    small, large = generate(n_reps=30, years=1.0, seed=5), generate(n_reps=60, years=1.0, seed=5)
    for name in ("accounts", "sales", "activities", "follow_ups", "opportunities", "training", "assessments"):
        ratio = len(large.tables[name]) / len(small.tables[name])
        assert 1.7 < ratio < 2.3, (name, ratio)


def test_causes_are_validated():
    """Unknown causes and more causes than reps are refused in plain words."""
    with pytest.raises(ValueError, match="Unknown causes"):
        generate(n_reps=5, causes={"bad_luck": 1})
    with pytest.raises(ValueError, match="do not fit"):
        generate(n_reps=2, causes={"pipeline": 3})
    custom = generate(n_reps=10, years=1.0, causes={"pipeline": 4})
    assert sorted(custom.planted.values()).count("pipeline") == 4


def test_workbook_and_csvs_round_trip(tmp_path):
    """The workbook reads back with the same rows, text ZIPs/ids and real dates; CSVs likewise."""
    data = generate(n_reps=6, years=0.6, seed=2)
    path = tmp_path / "s.xlsx"
    write_workbook(data.tables, path)
    book = pd.read_excel(path, sheet_name=None, engine="calamine", dtype={"zip": str})
    assert list(book) == list(data.tables)
    for name, frame in data.tables.items():
        assert list(book[name].columns) == list(frame.columns)
        assert len(book[name]) == len(frame), name
    assert pd.api.types.is_datetime64_any_dtype(book["sales"]["date"])
    assert (book["sales"]["date"].dt.normalize() == data.tables["sales"]["date"].to_numpy()).all()
    assert book["accounts"]["zip"].tolist() == data.tables["accounts"]["zip"].tolist()
    assert book["follow_ups"]["completed_date"].isna().sum() == data.tables["follow_ups"]["completed_date"].isna().sum()
    from openpyxl import load_workbook
    sheet = load_workbook(path, read_only=True)["accounts"]
    header, first = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    assert isinstance(first[header.index("zip")], str)
    write_csvs(data.tables, tmp_path / "csv")
    sales = pd.read_csv(tmp_path / "csv" / "sales.csv")
    assert len(sales) == len(data.tables["sales"])


def test_main_writes_workbook_and_csvs(tmp_path, capsys):
    """`python -m core sample` writes the workbook (and CSVs when asked) and says what it wrote."""
    out = tmp_path / "x" / "sample.xlsx"
    assert main(["--out", str(out), "--reps", "5", "--years", "0.5", "--csv", str(tmp_path / "c")]) == 0
    assert out.exists() and (tmp_path / "c" / "reps.csv").exists()
    assert "sales" in capsys.readouterr().out
    assert main(["--out", str(out), "--reps", "0"]) == 2


def test_committed_workbook_is_small():
    """The bundled workbook is committed, so it must stay well under 5 MB."""
    path = REPO / "sample_data" / "goalgap_sample.xlsx"
    if not path.exists():
        pytest.skip("sample_data/goalgap_sample.xlsx not generated yet")
    assert path.stat().st_size < 5_000_000


def test_sample_ingests_without_a_single_issue(bundled_sample):
    """The bundled workbook is clean: no duplicate, orphan, rejected or far-future row to explain."""
    ds = bundled_sample
    assert ds.issues.empty, ds.issues.head(10).to_dict("records")
