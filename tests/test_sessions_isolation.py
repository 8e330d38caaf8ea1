"""Ten sessions with ten different uploads: each sees only its own data and results, and the caches
are keyed by content, never by a file name a user chooses.

The sessions are AppTest instances driven interleaved in one thread (upload in all ten, then check
all ten, then rerun and check again), so every session is checked after the others have filled the
shared caches.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.fmt import column_label
from core.ingest.pipeline import ingest
from core.kpis import metrics
from ui.charts import fmt_money
from ui.sidebar import MINE
from ui.state import UPLOAD_KEY, uploaded_dataset

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = 10
pytestmark = pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                                reason="the bundled sample workbook is not built yet")


def team_csv(k: int) -> bytes:
    """Session k's own team: reps named after k, revenue that differs from every other session."""
    lines = ["Date,Rep,Product,Revenue"]
    for month in range(1, 7):
        for r in range(3):
            lines.append(f"2024-{month:02d}-15,Team{k} Rep{r},GTX,{1000 * (k + 1) + 10 * r + month}")
    lines.append(f"2024-06-30,Team{k} Rep0,GTX,{k + 1}")
    return ("\n".join(lines) + "\n").encode()


def own_names(k: int) -> set[str]:
    return {f"Team{k} Rep{r}" for r in range(3)}


def _revenue_metric(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Revenue")


def test_ten_sessions_see_only_their_own_data():
    apps = []
    for k in range(SESSIONS):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.session_state[UPLOAD_KEY] = [("sales.csv", team_csv(k))]   # the same name in every session
        at.session_state["source"] = MINE
        apps.append(at)
    for at in apps:
        at.run()
    for _ in range(2):   # check every session, then again after all of them ran once more
        for k, at in enumerate(apps):
            assert not at.exception
            ctx = at.session_state["ctx"]
            assert set(ctx.ds.rep_names().values()) == own_names(k)
            mine = ingest([("sales.csv", team_csv(k))])
            assert ctx.ds.fingerprint == mine.fingerprint
            expected = metrics.team_kpis(mine, ctx.period, ctx.settings, ctx.scope)["revenue"]
            assert _revenue_metric(at) == fmt_money(expected)
            at.run()
    fingerprints = {at.session_state["ctx"].ds.fingerprint for at in apps}
    assert len(fingerprints) == SESSIONS


def test_pages_show_no_other_sessions_names():
    """The Data page's preview of reps in one session lists that session's reps and nobody else."""
    apps = []
    for k in (3, 7):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.session_state[UPLOAD_KEY] = [("sales.csv", team_csv(k))]
        at.session_state["source"] = MINE
        at.run()
        at.switch_page("pages/data.py")
        at.run()
        apps.append((k, at))
    for k, at in apps:
        at.selectbox(key="preview_table").set_value("reps").run()
        assert not at.exception
        preview = at.dataframe[-1].value
        assert set(preview[column_label("rep_name")]) == own_names(k)


def test_cache_is_keyed_by_content_not_by_file_name(session_state):
    """Same name, different content: different data. Same content, any name: the same numbers."""
    a = uploaded_dataset([("sales.csv", team_csv(1))], None)
    b = uploaded_dataset([("sales.csv", team_csv(2))], None)
    assert a.fingerprint != b.fingerprint
    assert a.tables["sales"]["revenue"].sum() != b.tables["sales"]["revenue"].sum()
    renamed = uploaded_dataset([("other name.csv", team_csv(1))], None)
    assert renamed.fingerprint == a.fingerprint          # results (cached by fingerprint) are shared
    assert uploaded_dataset([("sales.csv", team_csv(1))], None) is a   # parsed once per content
