"""The KPI engine computes each result once per Dataset and period (issue 8), and scoping or rolling
up the memoized per-rep parts gives what computing the scope on its own gives. Not timed: counts
calls on the small hand-computed team of test_metrics."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.dataset import Dataset, Scope
from core.kpis import arrays, parts
from core.kpis import metrics as m
from core.periods import quarter
from tests.test_metrics import ALL, Q1, S


@pytest.fixture
def counted(monkeypatch):
    """Counts of the sales rows being turned into arrays and of a period's parts being built."""
    calls = {"sales rows": 0, "periods": []}
    build_rows, build_parts = arrays.BUILDERS["sales"], parts._sales_parts

    def rows(ds, frame):
        calls["sales rows"] += 1
        return build_rows(ds, frame)

    def counted_parts(ds, period, n_all):
        calls["periods"].append(period.label)
        return build_parts(ds, period, n_all)

    monkeypatch.setitem(arrays.BUILDERS, "sales", rows)
    monkeypatch.setattr(parts, "_sales_parts", counted_parts)
    return calls


def test_each_period_is_computed_once_for_every_scope_and_level(counted, monkeypatch):
    ds = Dataset(dict(ALL))
    m.rep_kpis(ds, Q1, S)
    for scope in (Scope(), Scope(region="East"), Scope(territory_id="T3"), Scope(rep_id="R2")):
        m.rep_kpis(ds, Q1, S, scope)
        for level in ("territory", "region", "team"):
            m.rollup(ds, Q1, S, level, scope)
    m.team_kpis(ds, Q1, S, Scope(region="West"))
    assert counted == {"sales rows": 1, "periods": ["2025-Q1"]}
    windows = []
    real = parts.revenue_per_rep
    monkeypatch.setattr(parts, "revenue_per_rep",
                        lambda d, start, end, n: windows.append(start) or real(d, start, end, n))
    m.biggest_movers(ds, Q1, S, Scope(region="East"))              # needs 2024-Q4's attainment as well
    m.biggest_movers(ds, Q1, S, Scope(region="West"))
    # 2024-Q4's revenue and quota alone, once: not every part of it
    assert counted == {"sales rows": 1, "periods": ["2025-Q1"]} and windows == [quarter(2024, 4).start]


def test_another_dataset_computes_its_own(counted):
    m.rep_kpis(Dataset(dict(ALL)), Q1, S)
    m.rep_kpis(Dataset(dict(ALL)), Q1, S)
    assert counted["periods"] == ["2025-Q1", "2025-Q1"]


def test_settings_change_points_without_a_stale_result():
    """Parts do not depend on the settings; the points scheme is applied on every call."""
    ds = Dataset(dict(ALL))
    before = m.rep_kpis(ds, Q1, S).set_index("rep_id")["points"]
    doubled = replace(S, points=replace(S.points, **{k: 2 * v for k, v in vars(S.points).items()}))
    after = m.rep_kpis(ds, Q1, doubled).set_index("rep_id")["points"]
    assert after.tolist() == pytest.approx((2 * before).tolist())


def test_a_scope_is_its_reps_rows_of_the_whole_team():
    ds = Dataset(dict(ALL))
    whole = m.rep_kpis(ds, Q1, S).set_index("rep_id")
    east = m.rep_kpis(ds, Q1, S, Scope(region="East")).set_index("rep_id")
    assert list(east.index) == ["R1", "R2"]
    pd.testing.assert_frame_equal(east, whole.loc[["R1", "R2"]])


def test_nobody_paid_in_scope_is_not_known_even_when_others_were():
    """West's only rep (R3) has no payout row: for the whole team he got 0 (others were paid),
    for West alone the payout is unknown, as if West's data were the only data."""
    ds = Dataset(dict(ALL))
    assert m.rep_kpis(ds, Q1, S).set_index("rep_id").loc["R3", "payout"] == 0
    west = m.rep_kpis(ds, Q1, S, Scope(region="West"))
    assert np.isnan(west.loc[0, "payout"]) and np.isnan(west.loc[0, "cost_of_sales"])
    alone = {k: v[v["rep_id"] == "R3"] if "rep_id" in v.columns else v for k, v in ALL.items()}
    assert np.isnan(m.rep_kpis(Dataset(alone), Q1, S).loc[0, "payout"])


def test_rollups_add_up_the_reps_parts():
    """Region sums are the sums of their reps; the team's distinct active accounts are the union
    of the reps' (an account of two reps counts once)."""
    ds = Dataset(dict(ALL))
    reps = m.rep_kpis(ds, Q1, S).set_index("rep_id")
    region = m.rollup(ds, Q1, S, "region").set_index("region")
    for col in ("revenue", "won", "lost", "meetings", "follow_ups_due", "payout"):
        assert region.loc["East", col] == pytest.approx(reps.loc[["R1", "R2"], col].sum())
    assert region.loc["East", "attainment"] == pytest.approx((130 + 200) / (300 + 300))
    shared = {**ALL, "sales": pd.concat([ALL["sales"], ALL["sales"].iloc[[0]].assign(rep_id="R2")],
                                        ignore_index=True)}
    ds2 = Dataset(shared)                               # R2 now also sold to R1's account A1
    reps2 = m.rep_kpis(ds2, Q1, S).set_index("rep_id")
    team2 = m.team_kpis(ds2, Q1, S)
    assert reps2.loc["R2", "active_accounts"] == 2
    assert team2["active_accounts"] == reps2["active_accounts"].sum() - 1


def test_memoized_frames_handed_out_cannot_be_changed_by_a_caller():
    ds = Dataset(dict(ALL))
    roster = m.roster(ds)
    roster["extra"] = 1
    quotas = m.quota_by_month(ds)
    quotas["quota"] = 0.0
    assert "extra" not in m.roster(ds).columns
    assert m.quota_by_month(ds)["quota"].sum() > 0
    assert m.rep_kpis(ds, Q1, S).set_index("rep_id").loc["R1", "quota"] == 300


def test_periods_keep_their_own_results():
    ds = Dataset(dict(ALL))
    q1 = m.rep_kpis(ds, Q1, S)
    q4 = m.rep_kpis(ds, quarter(2024, 4), S)
    assert q1["revenue"].tolist() == [130.0, 200.0, 60.0]
    # R2 was hired in January 2025: not employed in 2024-Q4, so n/a there, never 0 (issue 13)
    np.testing.assert_array_equal(q4["revenue"].to_numpy(), [150.0, np.nan, 0.0])
    pd.testing.assert_frame_equal(m.rep_kpis(ds, Q1, S), q1)


def test_uploaded_files_are_hashed_once_per_upload_not_per_rerun(monkeypatch):
    """The sidebar asks for the uploaded Dataset on every rerun; the files (hundreds of MB at a
    large company) are hashed again only when a new upload replaces them."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import ui.state
    from tests.test_app import OPPORTUNITIES
    from ui.sidebar import MINE

    hashed = []
    digest = ui.state.files_digest
    monkeypatch.setattr(ui.state, "files_digest", lambda files: hashed.append(len(files)) or digest(files))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.session_state[ui.state.UPLOAD_KEY] = [("opportunities.csv", OPPORTUNITIES)]
    at.session_state["source"] = MINE
    at.run()
    at.run()
    assert not at.exception and hashed == [1]
    first = at.session_state["ctx"].ds
    renamed = OPPORTUNITIES.replace(b"Cy Park", b"Di Ross")
    at.session_state[ui.state.UPLOAD_KEY] = [("opportunities.csv", renamed)]    # a new upload
    at.run()
    assert hashed == [1, 1] and at.session_state["ctx"].ds.fingerprint != first.fingerprint
