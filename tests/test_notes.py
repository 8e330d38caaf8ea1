"""Notes and the coaching log: validated, kept in the session file, printed in the workbook, and
"is the coaching working?" from the ratings before and after each coaching date."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest

from core.dataset import Dataset
from core.errors import UserError
from core.people.notes import Notebook, coaching_effect, finding_key, from_dict, notes_table
from core.periods import parse_period
from core.report.session import SessionError, _digest, open_session, save_session
from core.report.summary import collect
from core.report.workbook import build_workbook
from core.sample.team import generate
from core.settings import Settings

DAY = date(2026, 10, 1)


def _book() -> Notebook:
    return (Notebook().save_scenario("Half the pipeline", {"pipeline": 0.5}, {"R1": 0.0})
            .add_note("session", "", "Review again in January", DAY)
            .add_note("rep", "R1", "Budget freeze at the main hospital", DAY)
            .add_note("finding", finding_key("pipeline", "R1"), "=agreed with the manager", DAY)
            .add_coaching("R1", date(2025, 1, 15), "Discovery", "Two ride-alongs a month"))


def test_round_trip_and_lookup():
    book = _book()
    assert from_dict(json.loads(json.dumps(book.to_dict()))) == book
    assert [n.text for n in book.notes_about("rep", "R1")] == ["Budget freeze at the main hospital"]
    assert from_dict(None) == Notebook() == from_dict({})
    again = book.save_scenario("Half the pipeline", {"pipeline": 0.25}, {})
    assert [s.causes for s in again.scenarios] == [{"pipeline": 0.25}]          # same name: replaced


@pytest.mark.parametrize("raw, words", [
    ({"notes": [{"about": "weather", "key": "", "date": "2026-10-01", "text": "x"}]}, "about the session"),
    ({"notes": [{"about": "rep", "key": "R1", "date": "01/10/2026", "text": "x"}]}, "is not a date"),
    ({"notes": [{"about": "rep", "key": "R1", "date": "2026-10-01", "text": "  "}]}, "is empty"),
    ({"notes": [{"about": "rep", "key": "R1", "date": "2026-10-01", "text": "x" * 5001}]}, "longer than"),
    ({"notes": [{"about": "rep", "key": "R1", "date": "2026-10-01", "text": 3}]}, "must be text"),
    ({"notes": [], "macros": []}, "cannot be read"),
    ({"coaching": [{"rep_id": "R1", "date": "2026-10-01", "competency": "Pitch"}]}, "must be text"),
    ({"scenarios": [{"name": "x", "causes": {"pipeline": 1.5}, "reps": {}}]}, "outside 0–100%"),
    ({"scenarios": [{"name": "x", "causes": {"pipeline": "all"}, "reps": {}}]}, "outside 0–100%"),
])
def test_malformed_notes_are_refused_in_plain_words(raw, words):
    with pytest.raises(UserError, match=words):
        from_dict(raw)


def test_notes_survive_saving_and_reopening_a_session():
    book = _book()
    blob = save_session([("a.csv", b"x")], None, Settings(), {}, book.to_dict())
    assert from_dict(open_session(blob).notes) == book
    assert from_dict(open_session(save_session([], None, Settings(), {})).notes) == Notebook()


def test_a_session_with_bad_notes_is_not_opened():
    """A notes section that passes the checksum but not the validation is refused."""
    blob = save_session([], None, Settings(), {}, _book().to_dict())
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        body = json.loads(z.read("session.json"))
    body.pop("checksum")
    body["notes"]["notes"][0]["about"] = "<script>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("session.json", json.dumps({**body, "checksum": _digest(body)}))
    with pytest.raises(SessionError, match="notes and coaching log in this session file cannot be used"):
        open_session(out.getvalue())


def _ratings(rep: str, competency: str, points: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"rep_id": rep, "date": pd.to_datetime([d for d, _ in points]), "competency": competency,
                         "rating": [r for _, r in points], "assessor": "manager"})


def test_coaching_working_flat_and_too_few():
    before = [("2024-01-15", 3.0), ("2024-04-15", 3.1), ("2024-07-15", 2.9), ("2024-10-15", 3.0)]
    rising = [("2025-04-15", 3.3), ("2025-07-15", 3.6), ("2025-10-15", 3.8), ("2026-01-15", 4.2)]
    flat = [("2025-04-15", 3.1), ("2025-07-15", 2.9), ("2025-10-15", 3.0), ("2026-01-15", 3.05)]
    a = pd.concat([_ratings("R1", "Discovery", before + rising), _ratings("R2", "Pitch", before + flat),
                   _ratings("R3", "Pitch", before + rising[:1]),
                   _ratings("R1", "Discovery", [("2025-05-01", 1.0)]).assign(assessor="self")])
    ds = Dataset(tables={"assessments": a.reset_index(drop=True)})
    book = Notebook()
    for rep, skill in (("R1", "Discovery"), ("R2", "Pitch"), ("R3", "Pitch")):
        book = book.add_coaching(rep, date(2025, 1, 15), skill, "agreed")
    out = coaching_effect(ds, book).set_index("rep_id")
    assert out.at["R1", "verdict"].startswith("working")
    assert out.at["R1", "after"] == pytest.approx(0.29, abs=0.03)          # points per 90 days
    assert out.at["R1", "after_low"] < out.at["R1", "after"] < out.at["R1", "after_high"]
    assert out.at["R1", "ratings_after"] == 4                               # the self rating is not counted
    assert abs(out.at["R1", "before"]) < 0.05
    assert out.at["R2", "verdict"] == "no clear change yet"
    assert out.at["R3", "verdict"].startswith("too few")


def test_notes_sheet_in_the_workbook_keeps_formula_like_text_as_text():
    ds = Dataset(tables=generate(n_reps=6, years=2.2, seed=2).tables)
    rep = ds.table("reps")["rep_id"].iloc[0]
    book = (Notebook().add_note("rep", rep, "=HYPERLINK(\"http://x\",\"y\")", DAY)
            .add_coaching(rep, date(2025, 6, 1), "Discovery", "weekly role play"))
    data = collect(ds, parse_period("2026-Q3"), Settings(), book=book)
    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(data)))
    ws = wb["Notes"]
    assert [c.value for c in ws[1]][:4] == ["About", "Key", "Date", "Note"]
    rows = list(ws.values)[1:]
    assert [r[0] for r in rows] == ["rep", "coaching"]
    assert ws["D2"].data_type == "s" and ws["D2"].quotePrefix
    assert "Notes" not in collect(ds, parse_period("2026-Q3"), Settings()).sheets
    assert list(notes_table(Notebook()).columns)[:4] == ["About", "Key", "Date", "Note"]


def test_rep_profile_notes_box_and_session_restore():
    """A note typed on the Rep profile lands in the session's notebook; opening a session file on
    the Export page brings its notes and coaching log back."""
    from tests.apptest import open_page
    from ui.notes import NOTEBOOK_KEY

    at = open_page("rep_profile")
    rep = at.selectbox(key="profile_rep").value
    at.text_area(key=f"note_text_rep_{rep}").input("Budget freeze at the main hospital")
    next(b for b in at.button if b.label == "Add note").click().run()
    assert not at.exception
    assert [n.text for n in at.session_state[NOTEBOOK_KEY].notes_about("rep", rep)] == [
        "Budget freeze at the main hospital"]
    at.switch_page("pages/export.py").run()
    blob = save_session([], None, Settings(), {"source": None}, _book().to_dict())
    at.file_uploader(key="session_upload").upload("mine.goalgap", blob, "application/zip").run()
    assert not at.exception
    assert at.session_state[NOTEBOOK_KEY] == _book()
