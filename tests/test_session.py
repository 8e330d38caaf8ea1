"""Session files: a faithful round trip, and a plain UserError for anything tampered or foreign."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pandas as pd
import pytest

from core.errors import UserError
from core.ingest.pipeline import ingest
from core.kpis.metrics import rep_kpis
from core.periods import parse_period
from core.report.session import MANIFEST, open_session, save_session
from core.settings import Settings

REPS = b"rep_id,rep_name,region,territory_id\nR1,Ann Lee,East,T1\nR2,Bob Ray,West,T2\n"
SALES = (b"Order Date,Sales Rep,Product,Amount\n2025-07-03,R1,Stent,1000\n2025-08-15,R2,Stent,700\n"
         b"2025-09-30,R1,Plate,-100\n")
QUOTAS = b"rep_id,period,quota\nR1,2025-Q3,1200\nR2,2025-Q3,900\n"
FILES = [("reps.csv", REPS), ("sales.csv", SALES), ("quotas.csv", QUOTAS)]
UI = {"source": "My files", "period_kind": "Quarter", "scope_region": "East", "scope_territory": None,
      "scope_rep": None,
      "period": {"kind": "quarter", "label": "2025-Q3", "start": "2025-07-01", "end": "2025-09-30"}}


def _rezip(blob: bytes, change: dict[str, bytes]) -> bytes:
    """The same zip with some entries' content replaced (what a tamperer would do)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, change.get(name, src.read(name)))
    return out.getvalue()


def _manifest(blob: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return json.loads(z.read(MANIFEST))


@pytest.fixture(scope="module")
def saved() -> bytes:
    settings = Settings().with_target("attainment", 0.95)
    return save_session(FILES, {"tables": {}, "columns": {}}, settings, UI)


def test_round_trip_restores_files_settings_and_view(saved):
    """Everything saved comes back exactly."""
    s = open_session(saved)
    assert s.files == FILES
    assert s.overrides == {"tables": {}, "columns": {}}
    assert s.settings == Settings().with_target("attainment", 0.95)
    assert s.ui_state == UI


def test_reopened_session_gives_identical_kpis(saved):
    """The KPIs computed from the reopened files equal those from the originals."""
    s = open_session(saved)
    period = parse_period(s.ui_state["period"]["label"])
    before = rep_kpis(ingest(FILES), period, Settings())
    after = rep_kpis(ingest(s.files, s.overrides), period, s.settings)
    pd.testing.assert_frame_equal(before, after)
    assert after.set_index("rep_id").loc["R1", "revenue"] == 900.0


def test_saving_twice_gives_the_same_bytes(saved):
    assert save_session(FILES, {"tables": {}, "columns": {}},
                        Settings().with_target("attainment", 0.95), UI) == saved


def test_changed_data_file_is_refused(saved):
    tampered = _rezip(saved, {"files/001": SALES.replace(b"1000", b"9000")})
    with pytest.raises(UserError, match="changed since it was saved"):
        open_session(tampered)


def test_changed_settings_are_refused(saved):
    body = _manifest(saved)
    body["settings"]["targets"]["attainment"] = 0.5
    with pytest.raises(UserError, match="checksum"):
        open_session(_rezip(saved, {MANIFEST: json.dumps(body).encode()}))


def test_newer_version_is_refused_in_plain_words(saved):
    body = _manifest(saved)
    body.pop("checksum")
    body["version"] = 2
    body["checksum"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    with pytest.raises(UserError, match="newer version of GoalGap"):
        open_session(_rezip(saved, {MANIFEST: json.dumps(body).encode()}))


@pytest.mark.parametrize("blob, message", [
    (b"not a zip at all", "damaged or incomplete"),
    (b"", "damaged or incomplete"),
])
def test_garbage_is_refused(blob, message):
    with pytest.raises(UserError, match=message):
        open_session(blob)


def test_truncated_file_is_refused(saved):
    with pytest.raises(UserError, match="damaged or incomplete"):
        open_session(saved[: len(saved) // 2])


def test_other_zip_is_not_a_session():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("data.pkl", b"\x80\x04K\x01.")
    with pytest.raises(UserError, match="not a GoalGap session"):
        open_session(out.getvalue())


def _resigned(blob: bytes, change: dict) -> bytes:
    """The session with manifest fields replaced and its checksum recomputed, as a crafted file
    would be (the checksum catches accidents, not someone who recomputes it)."""
    from core.report.session import _digest

    body = _manifest(blob)
    body.pop("checksum")
    body.update(change)
    body["checksum"] = _digest(body)
    return _rezip(blob, {MANIFEST: json.dumps(body).encode()})


@pytest.mark.parametrize("change, message", [
    ({"overrides": {"tables": {}, "columns": {"sales.csv": "not a mapping"}}}, "column matches"),
    ({"overrides": {"tables": {}, "columns": {"sales.csv": {"Amount": "no_such_column"}}}}, "column matches"),
    ({"overrides": {"tables": {"sales.csv": "no_such_table"}}}, "column matches"),
    ({"overrides": {"tables": {}, "columns": {}, "eval": "x"}}, "column matches"),
    ({"overrides": ["tables"]}, "column matches"),
    ({"files": [{"name": "sales.csv", "entry": "../../etc/passwd", "size": 1, "sha256": "0" * 64}]},
     "list of files"),
    ({"files": [{"name": "sales.csv", "entry": "files/009", "size": 1, "sha256": "0" * 64}]}, "list of files"),
    ({"files": "files/000"}, "list of files"),
    ({"files": [{"name": "a.csv", "entry": "files/000", "size": -5, "sha256": "0" * 64}]}, "list of files"),
    ({"settings": {"targets": "high"}}, "settings"),
    ({"settings": ["x"]}, "settings"),
    ({"ui_state": {"period": {"kind": "quarter", "label": "soon", "start": "2025-07-01", "end": "2025-09-30"}}},
     "period and scope"),
    ({"ui_state": {"period": {"kind": "decade", "label": "2020s", "start": "2020-01-01", "end": "2029-12-31"}}},
     "period and scope"),
    ({"ui_state": {"period": {"kind": "custom", "label": "x", "start": "yesterday", "end": "2025-09-30"}}},
     "period and scope"),
    ({"ui_state": {"scope_region": {"nested": ["x"]}}}, "period and scope"),
    ({"ui_state": "East"}, "period and scope"),
])
def test_crafted_manifest_fields_give_a_plain_message(saved, change, message):
    """A session whose checksum is right but whose fields are not what GoalGap writes is refused
    with a message naming the part, before any page uses it."""
    with pytest.raises(UserError, match=message):
        open_session(_resigned(saved, change))


def test_known_overrides_are_kept(saved):
    overrides = {"tables": {"sales.csv": "sales", "notes.csv": None},
                 "columns": {"sales.csv": {"Amount": "revenue", "Memo": None}}}
    assert open_session(_resigned(saved, {"overrides": overrides})).overrides == overrides


def _bomb_session(size: int) -> bytes:
    """A session whose one file is `size` zero bytes: a few kB packed."""
    zeros = bytes(size)
    return save_session([("big.csv", zeros)], None, Settings(), {})


def test_session_that_unpacks_far_beyond_its_size_is_refused():
    blob = _bomb_session(20 << 20)           # 20 MB of zeros pack to ~20 kB (1000 : 1)
    assert len(blob) < 100_000
    with pytest.raises(UserError, match="unpacks to more than"):
        open_session(blob)


def test_session_over_the_total_size_is_refused(monkeypatch):
    from core.report import session

    blob = save_session(FILES, None, Settings(), {})
    monkeypatch.setattr(session, "MAX_SESSION_BYTES", 100)
    with pytest.raises(UserError, match="unpacks to more than"):
        open_session(blob)


def test_member_that_unpacks_past_its_declared_size_is_refused(saved):
    """The headers say 3 bytes; the data holds more: reading stops at what was declared."""
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        info = z.getinfo("files/001")
    raw = bytearray(saved)
    # the central directory record of files/001 (its uncompressed size sits 24 bytes in)
    at = saved.rfind(b"PK\x01\x02", 0, saved.rfind(b"files/001"))
    assert int.from_bytes(raw[at + 24:at + 28], "little") == info.file_size
    raw[at + 24:at + 28] = (3).to_bytes(4, "little")
    with pytest.raises(UserError):
        open_session(bytes(raw))


def test_passphrase_encrypts_and_reopens():
    blob = save_session(FILES, None, Settings(), UI, passphrase="correct horse")
    assert b"Ann Lee" not in blob and b"session.json" not in blob     # nothing readable inside
    s = open_session(blob, passphrase="correct horse")
    assert s.files == FILES and s.ui_state == UI


def test_wrong_or_missing_passphrase_gives_a_plain_message():
    blob = save_session(FILES, None, Settings(), UI, passphrase="correct horse")
    with pytest.raises(UserError, match="passphrase does not open"):
        open_session(blob, passphrase="wrong horse")
    with pytest.raises(UserError, match="protected by a passphrase"):
        open_session(blob)


def test_changed_encrypted_file_is_refused():
    blob = bytearray(save_session(FILES, None, Settings(), UI, passphrase="pw"))
    blob[-40] ^= 1
    with pytest.raises(UserError, match="passphrase does not open"):
        open_session(bytes(blob), passphrase="pw")


def test_two_encryptions_of_one_session_differ():
    """A random salt per file: the same session and passphrase never give the same bytes."""
    a = save_session(FILES, None, Settings(), UI, passphrase="pw")
    b = save_session(FILES, None, Settings(), UI, passphrase="pw")
    assert a != b


def test_registered_extra_section_round_trips_and_is_validated(monkeypatch):
    from core.report import session

    def notes(value):
        if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
            raise ValueError("notes must be a list of texts")
        return value

    monkeypatch.setattr(session, "SECTIONS", {})
    session.register_section("notes", notes)
    blob = save_session(FILES, None, Settings(), UI, extra={"notes": ["call Ann"], "unknown": {"x": 1}})
    assert open_session(blob).extra == {"notes": ["call Ann"]}      # unregistered sections not read
    bad = save_session(FILES, None, Settings(), UI, extra={"notes": [1, 2]})
    with pytest.raises(UserError, match="extra sections"):
        open_session(bad)


def test_session_view_gives_its_period_and_scope(saved):
    from core.dataset import Scope
    from core.report.session import session_period, session_scope

    session = open_session(saved)
    assert session_period(session) == parse_period("2025-Q3")
    assert session_scope(session) == Scope(region="East")                  # None and absent keys: no filter


def test_session_view_custom_period_manager_and_all():
    from datetime import date

    from core.dataset import Scope
    from core.report.session import ALL_CHOICE, session_period, session_scope

    ui = {"scope_region": ALL_CHOICE, "scope_manager": "Kim Ray", "scope_rep": ALL_CHOICE,
          "period": {"kind": "custom", "label": "2025-07-03 – 2025-08-15", "start": "2025-07-03", "end": "2025-08-15"}}
    session = open_session(save_session(FILES, None, Settings(), ui))
    assert session_scope(session) == Scope(manager="Kim Ray")
    p = session_period(session)
    assert (p.start, p.end, p.kind) == (date(2025, 7, 3), date(2025, 8, 15), "custom")
    bare = open_session(save_session(FILES, None, Settings(), {}))
    assert session_period(bare) is None and session_scope(bare) == Scope()
