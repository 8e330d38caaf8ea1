"""The administrator's data source (ui/source.py, core.ingest.sources.configured_source): the app
opens on a configured folder or DuckDB file instead of the sample, says where the data came from,
reads it once per content, lets uploads take precedence, and falls back to the sample with a plain
message when the source cannot be read — never showing a URL's password."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.errors import UserError
from core.ingest.sources import ENV_DATA, ENV_TABLE_MAP, ConfiguredSource, configured_source, source_signature
from core.sample.team import generate, write_csvs
from tests.apptest import ROOT, open_page
from tests.test_sources import _database
from ui import source as admin
from ui.sidebar import MINE
from ui.state import UPLOAD_KEY

pytestmark = pytest.mark.skipif(not (ROOT / "sample_data" / "goalgap_sample.xlsx").exists(),
                                reason="the bundled sample workbook is not built yet")
PASSWORD = "hunter2-secret"


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(n_reps=6, years=1.2, seed=5).tables


@pytest.fixture(scope="module")
def team_csv(tables, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("admin") / "team_csv"
    write_csvs(tables, folder)
    return folder


@pytest.fixture(scope="module")
def team_db(tables, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("admin_db") / "team.duckdb"
    _database(path, tables)
    return path


def _plain(text: object) -> str:
    """Markdown as read on screen: without ui.text.md's escapes and invisible word joiners."""
    return str(text).replace("\\", "").replace("\u2060", "")


def _said(at: AppTest, kind: str) -> list[str]:
    return [_plain(e.value) for e in at.get(kind)]


def _texts(at: AppTest) -> list[str]:
    """Every message, caption and markdown line on the page and in the sidebar, and the data choices."""
    out = [t for kind in ("info", "warning", "error", "success", "caption", "markdown") for t in _said(at, kind)]
    return out + [o for r in at.sidebar.radio for o in r.options]


def _reps(at: AppTest) -> list[str]:
    return sorted(at.session_state["ctx"].ds.table("reps")["rep_id"])


# ------------------------------------------------------------------------- reading the configuration
def test_the_environment_variable_wins_over_the_secrets():
    secrets = {"goalgap": {"data": "/srv/secret/team.duckdb", "table_map": "/srv/secret/map.toml"}}
    got = configured_source({ENV_DATA: " /srv/env/team ", ENV_TABLE_MAP: "/srv/env/map.toml"}, secrets)
    assert got == ConfiguredSource("/srv/env/team", "/srv/env/map.toml", ENV_DATA)
    assert configured_source({}, secrets) == ConfiguredSource("/srv/secret/team.duckdb", "/srv/secret/map.toml",
                                                              "secrets.toml")
    assert configured_source({ENV_DATA: "  "}, {"other": {"x": 1}}) is None


@pytest.mark.parametrize("section, says", [
    ({"data": "/x", "tablemap": "/m.toml"}, "unknown key(s) tablemap"),
    ({"table_map": "/m.toml"}, "no data"),
    ({"data": 3}, "data must be a path or URL"),
    ("team.duckdb", "must be a section"),
])
def test_a_wrong_secrets_section_says_what_is_wrong(section, says):
    with pytest.raises(UserError, match="secrets.toml") as err:
        configured_source({}, {"goalgap": section})
    assert says in str(err.value)


def test_a_url_is_named_without_its_password():
    src = ConfiguredSource(f"postgres://admin:{PASSWORD}@db.example.com:5432/sales")
    assert PASSWORD not in src.name and "***" in src.name
    assert src.masked(f"could not log in to {src.data}") == f"could not log in to {src.name}"
    assert ConfiguredSource("duckdb:///srv/data/team.duckdb").name == "team.duckdb"
    assert ConfiguredSource("/srv/data/team_csv/").name == "team_csv"


def test_the_signature_follows_the_files(tmp_path, tables):
    folder = tmp_path / "team"
    write_csvs({"reps": tables["reps"]}, folder)
    src = ConfiguredSource(str(folder))
    first = source_signature(src)
    assert source_signature(src) == first
    (folder / ".hidden").write_text("not read")          # ingest skips hidden files, and so does the signature
    assert source_signature(src) == first
    write_csvs({"reps": tables["reps"].head(3)}, folder)
    assert source_signature(src) != first
    assert source_signature(ConfiguredSource(str(tmp_path / "nowhere"))) != source_signature(
        ConfiguredSource(str(tmp_path / "elsewhere")))


# ------------------------------------------------------------------------- the app
def test_a_configured_folder_opens_instead_of_the_sample(monkeypatch, team_csv, tables):
    monkeypatch.setenv(ENV_DATA, str(team_csv))
    at = open_page("data")
    assert not at.exception
    assert _reps(at) == sorted(tables["reps"]["rep_id"])
    said = f"the administrator's source: team_csv ({len(tables)} tables)"
    assert at.session_state["ctx"].source_label == said
    assert any(f"Data from {said}" in t for t in _said(at, "info"))
    assert any(said in _plain(c.value) for c in at.sidebar.caption)
    assert admin.ADMIN_CHOICE in at.sidebar.radio(key="source").options


def test_a_configured_duckdb_file_opens(monkeypatch, team_db, tables):
    monkeypatch.setenv(ENV_DATA, str(team_db))
    at = open_page("data")
    assert not at.exception
    assert _reps(at) == sorted(tables["reps"]["rep_id"])
    assert any(f"team.duckdb ({len(tables)} tables)" in t for t in _said(at, "info"))


def test_the_secrets_file_is_read(monkeypatch, team_db, tables):
    monkeypatch.delenv(ENV_DATA, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["goalgap"] = {"data": f"duckdb://{team_db}"}
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    assert _reps(at) == sorted(tables["reps"]["rep_id"])
    assert any("Data from the administrator's source: team.duckdb" in t for t in _said(at, "info"))


def test_the_source_is_read_once_per_content(monkeypatch, tmp_path, tables):
    folder = tmp_path / "once"
    write_csvs(tables, folder)
    monkeypatch.setenv(ENV_DATA, str(folder))
    reads = []
    real = admin.ingest_inputs_isolated
    monkeypatch.setattr(admin, "ingest_inputs_isolated", lambda *a, **k: reads.append(a) or real(*a, **k))
    for _ in range(2):                   # two sessions
        assert not open_page("data").exception
    assert len(reads) == 1
    write_csvs({"reps": tables["reps"].head(4)}, folder)     # the administrator changes the data
    at = open_page("data")
    assert len(reads) == 2
    assert _reps(at) == sorted(tables["reps"]["rep_id"].head(4))


def test_uploads_take_precedence_for_the_session(monkeypatch, team_csv):
    monkeypatch.setenv(ENV_DATA, str(team_csv))
    other = generate(n_reps=3, years=1.0, seed=11).tables
    at = open_page("data")
    at.session_state[UPLOAD_KEY] = [(f"{name}.csv", other[name].to_csv(index=False).encode())
                                    for name in ("reps", "sales")]
    at.session_state["source"] = MINE
    at.run()
    assert not at.exception
    assert _reps(at) == sorted(other["reps"]["rep_id"])
    assert at.session_state["ctx"].source_label == "reps.csv, sales.csv"
    assert not any("administrator's source" in t for t in _texts(at))


def test_a_bad_path_falls_back_to_the_sample_with_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "no_such_folder"))
    at = open_page("data")
    assert not at.exception
    [warning] = _said(at, "warning")
    assert "could not be read: File or folder not found" in warning
    assert "Showing the bundled sample team instead." in warning
    assert at.session_state["ctx"].source_label.startswith("the bundled sample team")
    assert any("the administrator's source could not be read" in _plain(c.value) for c in at.sidebar.caption)
    assert len(_reps(at)) == 40                      # the sample team
    assert not at.error


def test_a_url_password_is_never_shown(monkeypatch):
    monkeypatch.setenv(ENV_DATA, f"postgres://admin:{PASSWORD}@127.0.0.1:1/sales")
    at = open_page("data")
    assert not at.exception
    texts = _texts(at)
    assert any("could not be read" in t and "admin:***@127.0.0.1" in t for t in texts)
    assert not any(PASSWORD in t for t in texts)


def test_a_source_that_failed_is_tried_again_later(monkeypatch, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# not data\n")
    monkeypatch.setenv(ENV_DATA, str(notes))
    reads = []
    real = admin.ingest_inputs_isolated
    monkeypatch.setattr(admin, "ingest_inputs_isolated", lambda *a, **k: reads.append(a) or real(*a, **k))
    for _ in range(2):
        at = open_page("data")
        assert "are not supported" in _said(at, "warning")[0]
    assert len(reads) == 1                       # the failure is remembered for a while, not read on every rerun
    for signature, (message, when) in list(admin._failures.items()):      # a minute later
        admin._failures[signature] = (message, when - admin.RETRY_FAILED_S)
    assert not open_page("data").exception
    assert len(reads) == 2
