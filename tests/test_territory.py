"""Territory balance on three hand-made territories whose every measure is computed by hand."""
import math

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset
from core.periods import custom, month, parse_period
from core.schema import TABLES, empty_table, pandas_dtype
from core.settings import Settings
from core.territory.balance import (
    BALANCE_COLUMNS,
    COVERED,
    UNCOVERED_HIGH,
    account_map,
    balance_summary,
    gini,
    period_quota,
    territory_balance,
    underserved_pockets,
)

KM_PER_DEGREE = 6371.0088 * math.pi / 180
JAN = month(2025, 1)


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A canonical frame of `table` from a few dict rows (absent columns left empty)."""
    spec = TABLES[table]
    df = pd.DataFrame(rows).reindex(columns=spec.column_names)
    for c in spec.columns:
        df[c.name] = df[c.name].astype(pandas_dtype(c)) if c.dtype != "date" else pd.to_datetime(df[c.name])
    return df


def tables() -> dict[str, pd.DataFrame]:
    """T1 (East): 4 accounts, Σ potential 200; T2 (East): 2 accounts, 100; T3 (West): market 300."""
    return {
        "territories": frame("territories", [
            {"territory_id": "T1", "territory_name": "Boston", "region": "East"},
            {"territory_id": "T2", "region": "East"},
            {"territory_id": "T3", "territory_name": "Denver", "region": "West", "market_potential": 300.0},
        ]),
        "reps": frame("reps", [
            {"rep_id": "r1", "rep_name": "Ann", "region": "East", "territory_id": "T1"},
            {"rep_id": "r2", "rep_name": "Bob", "region": "East", "territory_id": "T2"},
            {"rep_id": "r3", "rep_name": "Cy", "region": "West", "territory_id": "T3"},
        ]),
        "accounts": frame("accounts", [
            {"account_id": "a1", "account_name": "A1", "territory_id": "T1", "potential": 100.0, "zip": "2138"},
            {"account_id": "a2", "account_name": "A2", "territory_id": "T1", "potential": 50.0,
             "zip": "02138-1234"},
            {"account_id": "a3", "account_name": "A3", "territory_id": "T1", "potential": 30.0, "zip": "99999"},
            {"account_id": "a4", "account_name": "A4", "territory_id": "T1", "potential": 20.0,
             "latitude": 42.377, "longitude": -71.1256},
            {"account_id": "b1", "account_name": "B1", "territory_id": "T2", "potential": 40.0,
             "latitude": 40.0, "longitude": -100.0},
            {"account_id": "b2", "account_name": "B2", "territory_id": "T2", "potential": 60.0,
             "latitude": 42.0, "longitude": -100.0, "account_type": "Hospital"},
            {"account_id": "c1", "account_name": "C1", "territory_id": "T3", "potential": 10.0},
        ]),
        "quotas": frame("quotas", [
            {"rep_id": "r1", "period": "2025-Q1", "quota": 300.0},
            {"rep_id": "r1", "period": "2025-Q1", "quota": 999.0, "product": "X"},  # r1 has a total
            {"rep_id": "r2", "period": "2025", "quota": 1200.0},
            {"rep_id": "r3", "period": "2025-01", "quota": 50.0, "product": "X"},
            {"rep_id": "r3", "period": "2025-01", "quota": 30.0, "product": "Y"},
        ]),
        "sales": frame("sales", [
            {"date": "2025-01-10", "rep_id": "r1", "product": "X", "revenue": 80.0},
            {"date": "2025-02-10", "rep_id": "r1", "product": "X", "revenue": 50.0},
            {"date": "2025-01-11", "rep_id": "r2", "product": "X", "revenue": 100.0},
            {"date": "2025-01-31", "rep_id": "r2", "product": "X", "revenue": 20.0},
        ]),
        "activities": frame("activities", [
            {"date": "2025-01-10", "rep_id": "r1", "activity_type": "meeting", "account_id": "a1"},
            {"date": "2025-01-12", "rep_id": "r1", "activity_type": "meeting", "account_id": "b1"},
            {"date": "2025-01-15", "rep_id": "r1", "activity_type": "meeting", "account_id": "a2"},
            {"date": "2025-02-03", "rep_id": "r1", "activity_type": "meeting", "account_id": "a3"},
            {"date": "2025-01-20", "rep_id": "r1", "activity_type": "phone"},
            {"date": "2024-10-01", "rep_id": "r2", "activity_type": "meeting", "account_id": "b2"},
            {"date": "2025-01-05", "rep_id": "r2", "activity_type": "meeting", "account_id": "b1"},
            {"date": "2024-12-01", "rep_id": "r3", "activity_type": "demo", "account_id": "c1"},
        ]),
    }


def balance(**drop) -> pd.DataFrame:
    t = {k: v for k, v in tables().items() if k not in drop}
    return territory_balance(Dataset(t), JAN, Settings()).set_index("territory_id")


def test_columns_and_one_row_per_territory():
    b = territory_balance(Dataset(tables()), JAN, Settings())
    assert list(b.columns) == BALANCE_COLUMNS
    assert b["territory_id"].tolist() == ["T1", "T2", "T3"]
    assert b["territory_name"].tolist() == ["Boston", "T2", "Denver"]
    assert b["rep_name"].tolist() == ["Ann", "Bob", "Cy"]


def test_potential_and_index():
    """Σ account potential (200, 100) unless market_potential is given (300); mean 200."""
    b = balance()
    assert b["potential"].tolist() == [200.0, 100.0, 300.0]
    assert b["potential_index"].tolist() == pytest.approx([100.0, 50.0, 150.0])


def test_quota_allocation_and_attainment():
    """Jan share of a Q1 quota (300/3), of a year quota (1200/12), and product quotas summed."""
    b = balance()
    assert b["quota"].tolist() == pytest.approx([100.0, 100.0, 80.0])
    assert b["quota_per_potential"].tolist() == pytest.approx([0.5, 1.0, 80 / 300])
    assert b["attainment"].tolist() == pytest.approx([0.8, 1.2, 0.0])


def test_quota_for_a_custom_range_is_prorated_by_day():
    """10 of January's 31 days of a 31-a-month quota = 10."""
    ds = Dataset({"quotas": frame("quotas", [{"rep_id": "r", "period": "2025-01", "quota": 31.0}])})
    assert period_quota(ds, custom("2025-01-22", "2025-01-31"))["r"] == pytest.approx(10.0)
    assert period_quota(ds, parse_period("2025-Q1"))["r"] == pytest.approx(31.0)


def test_workload():
    """T1: a1 monthly + 3 quarterly = 24; T2: 12 + 4 = 16; T3: 12 → mean 52/3."""
    b = balance()
    assert b["accounts"].tolist() == [4.0, 2.0, 1.0]
    assert b["activities_needed"].tolist() == [24.0, 16.0, 12.0]
    assert b["workload_index"].tolist() == pytest.approx([24 / (52 / 3) * 100, 16 / (52 / 3) * 100,
                                                          12 / (52 / 3) * 100])


def test_coverage_of_top_quartile_accounts_in_last_90_days():
    """T1's top account a1 seen in Jan; T2's b2 last seen 1 Oct (> 90 days); T3's c1 on 1 Dec."""
    assert balance()["coverage"].tolist() == [1.0, 0.0, 1.0]


def test_overlap_counts_activities_on_other_territories_accounts():
    """r1 in Jan: a1, b1 (T2's), a2 → 1/3 (the account-less call is not counted); r3 has none → NaN."""
    ov = balance()["overlap"]
    assert ov["T1"] == pytest.approx(1 / 3) and ov["T2"] == 0.0 and np.isnan(ov["T3"])


def test_each_period_slices_the_activities_read_once():
    """One Dataset asked for January, February and 11–14 January gives what a fresh Dataset gives
    for each (its activities, out of date order here, are sorted once per Dataset). February: r1's
    one visit is to its own a3 (overlap 0); coverage to 28 Feb reaches back to 1 Dec (a1 and c1
    seen, b2 not). 11–14 January: r1's only placed visit is T2's b1 (overlap 1)."""
    ds = Dataset(tables())
    periods = (JAN, month(2025, 2), custom("2025-01-11", "2025-01-14"))
    shared = [territory_balance(ds, p, Settings()) for p in periods]
    for period, b in zip(periods, shared, strict=True):
        pd.testing.assert_frame_equal(b, territory_balance(Dataset(tables()), period, Settings()))
    feb, narrow = shared[1].set_index("territory_id"), shared[2].set_index("territory_id")
    assert feb.loc["T1", "overlap"] == 0.0 and feb[["overlap"]].loc[["T2", "T3"]].isna().all().all()
    assert feb["coverage"].tolist() == [1.0, 0.0, 1.0]
    assert narrow.loc["T1", "overlap"] == 1.0


def test_geography_from_zip_and_coordinates():
    """T1: two Cambridge ZIPs + the same given point (bad ZIP ignored) → spread 0;
    T2: 40°N and 42°N on one meridian → centroid 41°N, each 1° away."""
    b = balance()
    assert b.loc["T1", "lat"] == pytest.approx(42.377) and b.loc["T1", "spread_km"] == pytest.approx(0, abs=1e-6)
    assert b.loc["T2", ["lat", "lon"]].tolist() == pytest.approx([41.0, -100.0])
    assert b.loc["T2", "spread_km"] == pytest.approx(KM_PER_DEGREE, rel=1e-6)
    assert np.isnan(b.loc["T3", "lat"]) and np.isnan(b.loc["T3", "spread_km"])


@pytest.mark.parametrize("missing, columns", [
    ("activities", ["coverage", "overlap"]),
    ("quotas", ["quota", "quota_per_potential", "attainment"]),
    ("accounts", ["accounts", "activities_needed", "workload_index", "coverage", "overlap", "lat"]),
])
def test_missing_table_gives_nan_not_zero(missing, columns):
    b = balance(**{missing: True})
    assert b[columns].isna().all().all()


def test_missing_sales_gives_nan_attainment_but_keeps_quota():
    b = balance(sales=True)
    assert b["attainment"].isna().all() and b["quota"].notna().all()


def test_without_accounts_potential_comes_from_market_potential_only():
    b = balance(accounts=True)
    assert b["potential"].isna().tolist() == [True, True, False]
    assert b.loc["T3", "potential_index"] == pytest.approx(100.0)


def test_balance_summary_by_hand():
    """Potentials 200, 100, 300: population std 81.65 / mean 200; Gini = Σ|xi−xj| / (2n²·mean) = 800/3600."""
    s = balance_summary(balance().reset_index(), Settings())
    assert s["cv"] == pytest.approx(math.sqrt(20000 / 3) / 200)
    assert s["gini"] == pytest.approx(800 / 3600)
    qpp = np.array([0.5, 1.0, 80 / 300])
    assert s["quota_fairness_cv"] == pytest.approx(qpp.std() / qpp.mean())
    assert s["share_in_band"] == pytest.approx(1 / 3)
    assert s["n"] == 3


def test_summary_band_follows_settings():
    wide = Settings().with_target("potential_index_low", 40.0).with_target("potential_index_high", 160.0)
    assert balance_summary(balance().reset_index(), wide)["share_in_band"] == 1.0


def test_gini_edge_cases():
    assert gini([5.0, 5.0, 5.0]) == 0.0
    assert gini([0.0, 0.0, 10.0]) == pytest.approx(2 / 3)
    assert np.isnan(gini([]))


def test_underserved_pockets():
    """Only b2 is top-quartile in its territory and unseen for 90 days."""
    p = underserved_pockets(Dataset(tables()), JAN, Settings())
    assert p["account_id"].tolist() == ["b2"]
    assert p.loc[0, "last_activity"] == pd.Timestamp("2024-10-01")
    assert p.loc[0, ["latitude", "longitude"]].tolist() == [42.0, -100.0]


def test_pockets_need_activities():
    t = tables()
    del t["activities"]
    assert underserved_pockets(Dataset(t), JAN, Settings()).empty


def test_empty_dataset_gives_empty_balance():
    b = territory_balance(Dataset({"accounts": empty_table("accounts")}), JAN, Settings())
    assert b.empty and list(b.columns) == BALANCE_COLUMNS


@pytest.mark.parametrize("activities", [None, "elsewhere"])
def test_account_map_without_activities_on_the_accounts(activities):
    """No activities table (the Maven files), or none on these accounts: last activity NaT, no crash."""
    t = tables()
    if activities is None:
        del t["activities"]
    else:
        t["activities"] = t["activities"].assign(account_id="zz")
    m = account_map(Dataset(t), JAN, Settings()).set_index("account_id")
    assert m["last_activity"].isna().all()
    if activities is None:
        assert set(m["status"]) == {"n/a"}
    else:   # nothing covered; a1 (100 of T1's 200) is a top-quartile account
        assert COVERED not in set(m["status"]) and m.loc["a1", "status"] == UNCOVERED_HIGH
