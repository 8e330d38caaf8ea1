"""Session files: a faithful round trip, and a plain UserError for anything tampered or foreign."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pandas as pd
import pytest

from core.errors import UserError
from core.ingest import ingest
from core.metrics import rep_kpis
from core.periods import parse_period
from core.session import MANIFEST, open_session, save_session
from core.settings import Settings

REPS = b"rep_id,rep_name,region,territory_id\nR1,Ann Lee,East,T1\nR2,Bob Ray,West,T2\n"
SALES = (b"Order Date,Sales Rep,Product,Amount\n2025-07-03,R1,Stent,1000\n2025-08-15,R2,Stent,700\n"
         b"2025-09-30,R1,Plate,-100\n")
QUOTAS = b"rep_id,period,quota\nR1,2025-Q3,1200\nR2,2025-Q3,900\n"
FILES = [("reps.csv", REPS), ("sales.csv", SALES), ("quotas.csv", QUOTAS)]
UI = {"period": "2025-Q3", "scope": {"region": "East", "territory_id": None, "rep_id": None}}


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
    period = parse_period(s.ui_state["period"])
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
