"""The rep-level signal table: values, benchmarks from the reps at goal, flags with false-alarm control."""
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.dataset import Dataset
from core.diagnostic.cause import habit_months, habit_window
from core.diagnostic.signals import CAUSES, SIGNAL_COLUMNS, _bh_cutoff, _peer_test, benchmark, signals
from core.periods import custom, parse_period
from core.schema import empty_table
from core.settings import Settings

Q3 = parse_period("2026-Q3")          # 92 days
WEEKS = 92 / 7


def _dates(start: str, n: int) -> pd.Series:
    return pd.Series(pd.date_range(start, periods=n, freq="D"))


def canonical(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Hand-made frames with every canonical column and dtype (missing columns empty)."""
    out = {}
    for name, frame in tables.items():
        empty = empty_table(name)
        out[name] = frame.reindex(columns=empty.columns).astype(empty.dtypes.to_dict())
    return out


def small_team(follow_ups: bool = True, incentives: bool = True) -> Dataset:
    """Six reps, quota 300 each in 2026-Q3. R1–R3 at goal; R4 meets customers once a week; R5
    misses follow-ups and does not plan; R6 was hired in June 2026 (ramping)."""
    reps = pd.DataFrame({
        "rep_id": [f"R{i}" for i in range(1, 7)], "rep_name": [f"Rep {i}" for i in range(1, 7)],
        "region": ["East"] * 3 + ["West"] * 3, "territory_id": [f"T{i}" for i in range(1, 7)],
        "hire_date": pd.to_datetime(["2020-01-01"] * 5 + ["2026-06-01"])})
    quotas = pd.DataFrame({"rep_id": reps["rep_id"], "period": "2026-Q3", "quota": 300.0})
    revenue = {"R1": 330.0, "R2": 330.0, "R3": 330.0, "R4": 210.0, "R5": 240.0, "R6": 150.0}
    sales = pd.DataFrame({"date": pd.Timestamp("2026-08-14"), "rep_id": list(revenue), "product": "Stent",
                          "revenue": list(revenue.values())})
    sales.loc[sales["rep_id"] == "R2", "date"] = pd.Timestamp("2026-09-25")   # quarter-end bunching
    meetings = {"R1": 66, "R2": 66, "R3": 66, "R4": 13, "R5": 66, "R6": 66}
    acts = pd.concat([pd.DataFrame({"date": _dates("2026-07-01", n), "rep_id": r, "activity_type": "meeting",
                                    "planned": True}) for r, n in meetings.items()], ignore_index=True)
    r5 = acts["rep_id"] == "R5"
    acts.loc[r5, "planned"] = np.arange(r5.sum()) % 10 < 3                  # 30 % planned
    acts["planned"] = acts["planned"].astype("boolean")
    tables = {"reps": reps, "quotas": quotas, "sales": sales, "activities": acts}
    if follow_ups:
        fu = []
        for r in reps["rep_id"]:
            due = _dates("2026-07-06", 20)
            done = due.copy()
            if r == "R5":
                done[8:] = due[8:] + pd.Timedelta(days=5)                # 8 of 20 on time, 5 days late
            fu.append(pd.DataFrame({"rep_id": r, "due_date": due, "completed_date": done}))
        fu.append(pd.DataFrame({"rep_id": "R3", "due_date": _dates("2026-08-01", 3),
                                "completed_date": _dates("2026-08-01", 3) + pd.to_timedelta([0, 0, 2], "D")}))
        tables["follow_ups"] = pd.concat(fu, ignore_index=True)
    if incentives:
        tables["incentives"] = pd.DataFrame({"rep_id": reps["rep_id"], "period": "2026-Q3",
                                             "payout": [10.0, 10.0, 10.0, 12.0, 5.0, 10.0],
                                             "component": "bonus"})
    return Dataset(tables=canonical(tables))


def _flagged(table: pd.DataFrame) -> set[tuple[str, str]]:
    return set(map(tuple, table.loc[table["flagged"], ["rep_id", "signal"]].to_numpy()))


def test_flags_exactly_the_planted_problems():
    t = signals(small_team(), Q3, Settings())
    assert list(t.columns) == SIGNAL_COLUMNS
    # R2's quarter-end bunching is a rule with nothing beside it: a rule alone flags no cause.
    assert _flagged(t) == {("R4", "meetings_per_week"), ("R5", "on_time_follow_up_rate"),
                           ("R5", "days_late"), ("R5", "call_plan_adherence"), ("R4", "payout_vs_goal")}


def test_values_targets_and_benchmark_of_reps_at_goal():
    t = signals(small_team(), Q3, Settings()).set_index(["rep_id", "signal"])
    meetings = t.loc[("R4", "meetings_per_week")]
    assert meetings["value"] == pytest.approx(13 / WEEKS)
    assert meetings["target"] == 5.0 and meetings["threshold"] == 4.0
    assert meetings["benchmark"] == pytest.approx(66 / WEEKS)             # median of R1–R3
    assert meetings["shortfall"] == pytest.approx((66 - 13) / 66)
    on_time = t.loc[("R5", "on_time_follow_up_rate")]
    assert on_time["value"] == pytest.approx(8 / 20)
    assert on_time["benchmark"] == pytest.approx(1.0)                     # R1 1, R2 1, R3 21/23
    assert on_time["p_value"] < 1e-4
    assert t.loc[("R5", "days_late"), "value"] == 5
    assert t.loc[("R2", "quarter_end_share"), "value"] == 1.0
    assert t.loc[("R1", "quarter_end_share"), "value"] == 0.0


def test_beyond_threshold_but_not_significant_is_not_flagged():
    """R3: 21 of 23 on time (91 %) is fine; a team where R3 is 2 of 3 on time is not a finding."""
    team = small_team()
    fu = team.tables["follow_ups"]
    ds = team.with_table("follow_ups", fu[(fu["rep_id"] != "R3") | (fu["due_date"] >= "2026-08-01")])
    t = signals(ds, Q3, Settings()).set_index(["rep_id", "signal"])
    row = t.loc[("R3", "on_time_follow_up_rate")]
    assert row["value"] == pytest.approx(2 / 3) and row["value"] < row["threshold"]
    assert row["p_value"] == pytest.approx(0.271, abs=1e-3)              # P(X ≤ 2 | 3, 0.9)
    assert not row["flagged"]


def test_missing_tables_give_no_signal_for_their_causes():
    t = signals(small_team(follow_ups=False, incentives=False), Q3, Settings())
    causes = set(t.loc[t["value"].notna(), "cause"])
    assert causes == {"activity_shortfall", "plan_adherence", "ramping"}
    assert not t.loc[t["cause"].isin(["follow_up_discipline", "incentive_misalignment"]), "flagged"].any()


def test_scope_keeps_its_reps_but_benchmarks_stay_team_wide():
    from core.dataset import Scope

    team = signals(small_team(), Q3, Settings())
    west = signals(small_team(), Q3, Settings(), Scope(region="West"))
    assert set(west["rep_id"]) == {"R4", "R5", "R6"}
    b = lambda t: t.loc[t["signal"] == "meetings_per_week", "benchmark"].iloc[0]  # noqa: E731
    assert b(west) == b(team)


def test_benjamini_hochberg_cutoff():
    """m = 4, level 0.1: steps 0.025, 0.05, 0.075, 0.1 → 0.001, 0.01, 0.03 pass; 0.2 does not."""
    assert _bh_cutoff(pd.Series([0.2, 0.001, 0.03, 0.01]), 0.10) == 0.03
    assert _bh_cutoff(pd.Series([0.5, 0.9]), 0.10) == -1.0
    assert _bh_cutoff(pd.Series([], dtype="float64"), 0.10) == -1.0


def test_benchmark_falls_back_to_target_with_few_reps_at_goal():
    values = pd.Series([1.0, 2.0, 3.0, 10.0])
    assert benchmark(values, pd.Series([True, True, True, False]), 99.0) == 2.0
    assert benchmark(values, pd.Series([True, True, False, False]), 99.0) == 99.0


def test_every_cause_is_described():
    assert list(CAUSES) == ["territory_imbalance", "training_gap", "incentive_misalignment",
                            "follow_up_discipline", "activity_shortfall", "plan_adherence", "pipeline",
                            "customer_retention", "ramping"]
    assert all(c.question.endswith("?") and c.needs for c in CAUSES.values())


def test_on_time_follow_up_is_read_over_the_last_six_months():
    """A quarter holds few follow-ups: R4's 10 late ones due in April–June 2026 count with its 20
    on time in Q3 (20 of 30); 10 more due in 2025, before the six months, do not."""
    ds = small_team()
    fu = ds.tables["follow_ups"]
    late = lambda start: pd.DataFrame({"rep_id": "R4", "due_date": _dates(start, 10),  # noqa: E731
                                       "completed_date": _dates(start, 10) + pd.Timedelta(days=9)})
    ds = ds.with_table("follow_ups", canonical({"follow_ups": pd.concat([fu, late("2026-05-01"), late("2025-06-01")],
                                                                       ignore_index=True)})["follow_ups"])
    t = signals(ds, Q3, Settings()).set_index(["rep_id", "signal"])
    row = t.loc[("R4", "on_time_follow_up_rate")]
    assert row["value"] == pytest.approx(20 / 30)
    assert row["p_value"] == pytest.approx(stats.binom.cdf(20, 30, 0.9))
    assert row["label"] == "On-time follow-up (last 6 months)"


def test_win_rate_is_read_over_the_last_six_months():
    """A quarter decides few deals: R4 wins 2 of 2 in Q3 but lost 6 in May 2026, so over the six
    months it won 2 of 8; a deal lost in 2025, before them, does not count. Every other rep wins
    4 of 5 in Q3."""
    ds = small_team()
    deal = lambda rep, day, status: {"rep_id": rep, "created_date": pd.Timestamp(day) - pd.Timedelta(days=40),  # noqa: E731
                                     "close_date": pd.Timestamp(day), "status": status, "amount": 10.0}
    rows = [deal("R4", "2026-08-01", "won")] * 2 + [deal("R4", "2026-05-10", "lost")] * 6
    rows += [deal("R4", "2025-09-10", "lost")]
    rows += [deal(r, "2026-08-01", "won" if i < 4 else "lost") for r in ("R1", "R2", "R3", "R5", "R6")
             for i in range(5)]
    opps = pd.DataFrame(rows).assign(opportunity_id=[f"O{i}" for i in range(len(rows))])
    ds = ds.with_table("opportunities", canonical({"opportunities": opps})["opportunities"])
    t = signals(ds, Q3, Settings()).set_index(["rep_id", "signal"])
    row = t.loc[("R4", "win_rate")]
    assert row["value"] == pytest.approx(2 / 8)
    assert row["target"] == pytest.approx(22 / 33)                       # the team: 20 + 2 won of 25 + 8
    assert row["label"] == "Win rate (last 6 months)"
    assert row["p_value"] == pytest.approx(stats.binom.cdf(2, 8, 22 / 33 - Settings().thresholds.win_rate_gap))


def test_deals_decided_are_the_won_and_lost_kpis():
    from core.kpis import metrics
    from core.kpis.parts import deals_decided

    ds = small_team()
    rows = [{"opportunity_id": f"O{i}", "rep_id": rep, "created_date": pd.Timestamp("2026-03-01"),
             "close_date": pd.Timestamp(day), "status": status, "amount": 10.0}
            for i, (rep, day, status) in enumerate([("R1", "2026-05-10", "won"), ("R1", "2026-08-01", "lost"),
                                                    ("R2", "2026-08-02", "won"), ("R2", "2025-08-02", "won")])]
    ds = ds.with_table("opportunities", canonical({"opportunities": pd.DataFrame(rows)})["opportunities"])
    window = habit_window(Q3)
    kpis = metrics.rep_kpis(ds, window, Settings()).set_index("rep_id")[["won", "lost"]]
    pd.testing.assert_frame_equal(deals_decided(ds, window).reindex(kpis.index), kpis, check_names=False)
    assert deals_decided(ds, window).loc["R1"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("period,start,words", [("2026-Q3", "2026-04-01", "last 6 months"),
                                                ("2026-02", "2025-09-01", "last 6 months"),
                                                ("2026-H1", "2026-01-01", None), ("2026", "2026-01-01", None)])
def test_habit_window_is_six_whole_months_or_the_period(period, start, words):
    p = parse_period(period)
    assert habit_window(p).start == pd.Timestamp(start).date() and habit_window(p).end == p.end
    assert habit_months(p) == words


def test_best_paid_lead_reads_over_there_under_elsewhere():
    """Product A pays 10 %, B and C 4 %: the mean rate weighted by quota is 6 %, so A alone is
    best-paid. Misaligned: A at 150 % of its goal, B and C at 60 % → lead 150/60 − 1 = 1.5. Weak on
    every product (a skills problem): 70 % everywhere → lead 0. A flat plan names no best-paid
    product → NaN."""
    from core.diagnostic.causes.incentive_misalignment import best_paid_lead
    quota = pd.DataFrame({"A": [100.0, 100.0], "B": [100.0, 100.0], "C": [100.0, 100.0]}, index=["mis", "weak"])
    rev = pd.DataFrame({"A": [150.0, 70.0], "B": [60.0, 70.0], "C": [60.0, 70.0]}, index=["mis", "weak"])
    rates = pd.Series({"A": 0.10, "B": 0.04, "C": 0.04})
    lead = best_paid_lead(rev, quota, rates)
    assert lead["mis"] == pytest.approx(1.5) and lead["weak"] == pytest.approx(0.0)
    assert best_paid_lead(rev, quota, pd.Series({"A": 0.05, "B": 0.05, "C": 0.05})).isna().all()


def test_a_quota_13_percent_above_a_fair_share_of_potential_flags_territory_imbalance():
    """Ten territories of equal potential (1,000 a year); quotas 290-310 except R10's 345: 13 %
    above the team's quota per potential (3,055 / 10,000), past the 10 % materiality bar, and far outside
    the peers' spread (peer z-test). R9 at 310 (2 % above) stays unflagged."""
    ids = [f"R{i}" for i in range(1, 11)]
    quota = [290.0, 295.0, 300.0, 305.0, 310.0, 300.0, 295.0, 305.0, 310.0, 345.0]
    tables = {
        "reps": pd.DataFrame({"rep_id": ids, "rep_name": ids, "region": "East",
                              "territory_id": [f"T{i}" for i in range(1, 11)],
                              "hire_date": pd.Timestamp("2020-01-01")}),
        "quotas": pd.DataFrame({"rep_id": ids, "period": "2026-Q3", "quota": quota}),
        "sales": pd.DataFrame({"date": pd.Timestamp("2026-08-14"), "rep_id": ids, "product": "Stent",
                               "revenue": [310.0] * 9 + [280.0]}),
        "accounts": pd.DataFrame({"account_id": [f"A{i}" for i in range(1, 11)],
                                  "territory_id": [f"T{i}" for i in range(1, 11)], "potential": 1000.0}),
    }
    t = signals(Dataset(tables=canonical(tables)), Q3, Settings()).set_index(["rep_id", "signal"])
    r10 = t.loc[("R10", "quota_per_potential")]
    assert r10["value"] == pytest.approx(0.345) and r10["threshold"] == pytest.approx(0.3055 * 1.10)
    assert r10["test"] == "peer z-test" and r10["flagged"]
    assert not t.loc[("R9", "quota_per_potential"), "flagged"]
    # shown as a share (%), tested as the ratio it is: on a log scale against the peers
    shares = t.xs("quota_per_potential", level="signal")
    assert shares["unit"].iloc[0] == "pct" and shares["p_value"].notna().all()
    assert shares["p_value"].to_numpy() == pytest.approx(
        _peer_test(shares["value"], higher_is_better=False, log=True).to_numpy())
    assert not np.allclose(shares["p_value"], _peer_test(shares["value"], higher_is_better=False))


def _monthly_sales(rep: str, account: str, first: str, last: str, every: int = 1,
                   amount: float = 100.0) -> pd.DataFrame:
    """`account` buys `amount` from `rep` on the 10th of every `every`-th month from `first` to `last`."""
    days = pd.date_range(first, last, freq=f"{every}MS") + pd.Timedelta(days=9)
    return pd.DataFrame({"date": days, "rep_id": rep, "account_id": account, "product": "Stent",
                         "revenue": amount})


def _retention_team() -> Dataset:
    """Ten reps in 2026-Q3, each with accounts buying 100 every month since July 2024 (27 months up
    to the period end). R10's accounts A and B stopped after December 2025 (nine quiet months); R9
    has one account C buying every third month whose last purchase was in June (quiet for the
    period, as its rhythm often is); the others keep all their accounts."""
    ids = [f"R{i}" for i in range(1, 11)]
    sales = [_monthly_sales(r, f"{r}-{a}", "2024-07-01", "2026-09-30") for r in ids for a in ("A", "B", "C", "D")
             if not (r == "R10" and a in ("A", "B")) and not (r == "R9" and a == "C")]
    sales += [_monthly_sales("R10", f"R10-{a}", "2024-07-01", "2025-12-31") for a in ("A", "B")]
    sales += [_monthly_sales("R9", "R9-C", "2024-09-01", "2026-06-30", every=3)]
    tables = {
        "reps": pd.DataFrame({"rep_id": ids, "rep_name": ids, "region": "East",
                              "territory_id": [f"T{i}" for i in range(1, 11)],
                              "hire_date": pd.Timestamp("2020-01-01")}),
        "quotas": pd.DataFrame({"rep_id": ids, "period": "2026-Q3", "quota": 1200.0}),
        "sales": pd.concat(sales, ignore_index=True),
    }
    return Dataset(tables=canonical(tables))


def test_lost_revenue_share_weighs_accounts_gone_by_their_rhythm_and_share_of_the_rep():
    from core.diagnostic.causes.customer_retention import PRIOR_LEFT, lost_revenue_share

    lost = lost_revenue_share(_retention_team(), Q3)
    assert lost["R1"] == pytest.approx(0.0)
    # R10: A and B each 1,800 of the rep's 7,200 over their 18 months (weight 0.25, gone for nine
    # months: left for certain); C and D each 2,700 of 9,000 over 27 months (weight 0.30).
    assert lost["R10"] == pytest.approx(0.5 / 1.1, rel=1e-6)
    # R9: C bought in 8 of the 22 months of its span and is quiet for 3; C weighs 800 of the rep's
    # 7,400 over those 22 months, A, B and D each 2,700 of 8,900 over 27 months.
    quiet = (1 - 8 / 22) ** 3
    left = PRIOR_LEFT / (PRIOR_LEFT + (1 - PRIOR_LEFT) * quiet)
    w_c, w_other = 800 / 7400, 2700 / 8900
    assert lost["R9"] == pytest.approx(w_c * left / (w_c + 3 * w_other), rel=1e-6)
    assert lost["R9"] < 0.01


def test_lost_revenue_share_reads_the_lines_in_any_order_and_each_period_alone():
    """The same team with its sales lines shuffled, plus a line without a rep and one without an
    account (neither is a rep's account), gives the same shares; and one Dataset asked for Q3, then
    Q2, then a custom range gives what a fresh Dataset gives for each (its lines are read once)."""
    from core.diagnostic.causes.customer_retention import lost_revenue_share

    ordered = _retention_team()
    extra = pd.DataFrame({"date": pd.Timestamp("2026-08-10"), "rep_id": [None, "R10"], "account_id": ["R1-A", None],
                          "product": "Stent", "revenue": 5000.0})
    sales = pd.concat([ordered.table("sales").sample(frac=1, random_state=7), canonical({"sales": extra})["sales"]],
                      ignore_index=True)
    shuffled = ordered.with_table("sales", sales)
    expected = lost_revenue_share(ordered, Q3)
    assert lost_revenue_share(shuffled, Q3).sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    for period in (Q3, parse_period("2026-Q2"), custom(date(2025, 11, 17), date(2026, 2, 3))):
        fresh = lost_revenue_share(_retention_team(), period)
        pd.testing.assert_series_equal(lost_revenue_share(ordered, period), fresh)


def test_a_window_of_whole_months_slices_the_cells_of_every_line_as_its_own_lines_sum_them():
    """The first window is summed from its own lines; from the second window of whole months on, the
    retention cells are cut from every line's cells (built once per Dataset). They equal the cells
    summed from the window's own lines, the window's first month included when only a line without
    a rep was sold in it."""
    from core.diagnostic.causes import customer_retention as cr

    team = _retention_team()
    no_rep = canonical({"sales": pd.DataFrame({"date": [pd.Timestamp("2024-05-20")], "rep_id": [None],
                                               "account_id": ["R1-A"], "product": "Stent", "revenue": 10.0})})
    ds = team.with_table("sales", pd.concat([team.table("sales"), no_rep["sales"]], ignore_index=True))
    rows = cr._bought(ds)
    cr._window(ds, rows, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31"))
    assert ds.cache.peek(("dataset.retention_cells",)) == (False, None)         # one period: its own lines
    for first, last in (("2024-04-01", "2026-09-30"), ("2025-01-01", "2025-03-31"), ("2019-01-01", "2019-12-31")):
        start, end = pd.Timestamp(first), pd.Timestamp(last)
        cut = cr._window(ds, rows, start, end)
        own = cr._cells(rows, (rows.day >= cr._ns(start)) & (rows.day <= cr._ns(end)))
        if own is None:
            assert cut is None
            continue
        assert cut is not None and cut.m0 == own.m0
        for field in ("pair", "month", "revenue", "rep_month"):
            np.testing.assert_array_equal(getattr(cut, field), getattr(own, field))
    assert ds.cache.peek(("dataset.retention_cells",))[0]
    assert cr._window(ds, rows, pd.Timestamp("2024-04-01"), pd.Timestamp("2026-09-30")).m0 == 2024 * 12 + 5


def test_incentive_sales_window_holds_the_lines_dated_in_it_in_date_order_or_not():
    from core.diagnostic.causes.incentive_misalignment import period_sales

    ordered = _retention_team()
    shuffled = ordered.with_table("sales", ordered.table("sales").sample(frac=1, random_state=3))
    start, end = pd.Timestamp("2025-02-10"), pd.Timestamp("2025-09-30")
    for ds in (ordered, shuffled):
        s = ds.table("sales")
        inside = s.loc[(s["date"] >= start) & (s["date"] <= end), ["date", "rep_id", "product", "revenue"]]
        pd.testing.assert_frame_equal(period_sales(ds, start, end)[inside.columns].sort_index(), inside.sort_index())
    assert len(inside) == 8 * 4 * 8 + (3 * 8 + 3) + 4 * 8       # Feb–Sep: R1–R8, R9 (C every third month), R10


def test_customer_retention_flags_the_rep_who_lost_customers_not_the_steady_ones():
    from core.diagnostic.impact import drivers

    table = signals(_retention_team(), Q3, Settings())
    t = table[table["cause"] == "customer_retention"].set_index(["rep_id", "signal"])
    r10 = t.loc[("R10", "lost_revenue_share")]
    assert r10["test"] == "peer z-test" and r10["flagged"]
    assert r10["value"] > r10["threshold"]
    lost = t.xs("lost_revenue_share", level="signal")
    assert set(lost.index[lost["flagged"]]) == {"R10"}
    # R9's now-and-then account quiet for the quarter counts in the period's account churn (a
    # signal beside the driver), but names no cause: only R10 has customer retention flagged.
    assert t.loc[("R9", "churn_rate"), "value"] == pytest.approx(0.25)
    _, cause_flagged = drivers(table, pd.Index([f"R{i}" for i in range(1, 11)]))
    assert set(cause_flagged.index[cause_flagged["customer_retention"]]) == {"R10"}


def test_incentive_revenue_per_rep_and_product_and_the_other_products():
    """Revenue per rep and goal product, summed through the labels' codes, is what a group-by
    gives (plain or categorical columns; reps without a line get 0), and "other" holds only the
    lines on other products or none: exactly 0 for a rep selling goal products only, where the
    rep's total minus its product sums would leave 4.4e-16."""
    from core.diagnostic.causes.incentive_misalignment import _product_revenue, _revenue_by

    sales = pd.DataFrame({"rep_id": ["R1", "R1", "R1", "R1", "R2", "R2", None, "R3"],
                          "product": ["A", "B", "A", "B", "A", None, "A", "C"],
                          "revenue": [0.5, 0.45, 0.65, 0.79, 0.3, 2.0, 5.0, 0.7]})
    reps, products = pd.Index(["R1", "R2", "R4"]), pd.Index(["A", "B"])
    assert sales.loc[:3, "revenue"].sum() - (0.5 + 0.65) - (0.45 + 0.79) > 0          # the residue
    for frame in (sales, sales.astype({"rep_id": "category", "product": "category"})):
        rev = _revenue_by(frame, reps, products)
        expected = sales[sales["rep_id"].isin(reps) & sales["product"].isin(products)].groupby(
            ["rep_id", "product"])["revenue"].sum().unstack().reindex(index=reps, columns=products).fillna(0.0)
        pd.testing.assert_frame_equal(rev[list(products)], expected, check_names=False)
        assert rev["other"].tolist() == [0.0, 2.0, 0.0]
        by_product = _product_revenue(frame)
        assert dict(zip(by_product.index, by_product, strict=True)) == pytest.approx({"A": 6.45, "B": 1.24, "C": 0.7})
