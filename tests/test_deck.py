"""The deck: a slide per rep below goal, native charts holding the summary's numbers, no names
when anonymised (every XML part, embedded chart workbooks included)."""
from __future__ import annotations

import contextlib
import html
import io
import zipfile
from datetime import date

import pytest
from pptx import Presentation

from core.cli import main
from core.dataset import Dataset
from core.fmt import fmt_money
from core.people import competency
from core.people.notes import Notebook, finding_key
from core.periods import parse_period
from core.report.anonymize import anonymize
from core.report.deck import anonymized_notebook, build_deck
from core.report.summary import collect
from core.sample.team import generate, write_workbook
from core.settings import Settings

PERIOD = parse_period("2026-Q3")
FIXED_SLIDES = 8            # title, headline, waterfall, findings, territories, what-if, scenarios, notes


def all_text(blob: bytes) -> str:
    """Every XML part of the .pptx, with the embedded chart workbooks unzipped too."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for n in z.namelist():
            raw = z.read(n)
            if n.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(raw)) as inner:
                    raw = b"\n".join(inner.read(m) for m in inner.namelist() if m.endswith((".xml", ".rels")))
            elif not n.endswith((".xml", ".rels")):
                continue
            parts.append(html.unescape(raw.decode("utf-8", "replace")))
    return "\n".join(parts).casefold()


@pytest.fixture(scope="module")
def tables():
    return generate(n_reps=8, years=2.2, seed=3).tables


@pytest.fixture(scope="module")
def built(tables):
    ds = Dataset(tables=tables)
    data = collect(ds, PERIOD, Settings())
    below = data.sheets["Rep diagnosis"]
    rep_id, name = below["Rep ID"].iloc[0], below["Rep"].iloc[0]
    finding = data.sheets["Findings"].iloc[0]
    book = (Notebook()
            .add_note("session", "", "Director asks for a quarterly review", date(2026, 10, 2))
            .add_note("rep", rep_id, f"{name} says the hospital froze budgets", date(2026, 10, 2))
            .add_note("finding", finding_key(finding["Cause"], finding["Who"]), "agreed with managers",
                      date(2026, 10, 2))
            .add_coaching(rep_id, date(2025, 6, 1), "Discovery", f"{name} practises discovery calls")
            .save_scenario("Pipeline half fixed", {"pipeline": 0.5}, {}))
    return ds, data, book, build_deck(ds, PERIOD, Settings(), book=book, data=data)


def test_one_slide_per_rep_below_goal_with_its_notes(built):
    _, data, _, blob = built
    prs = Presentation(io.BytesIO(blob))
    below = data.sheets["Rep diagnosis"]
    assert len(below) > 0
    assert len(prs.slides) == FIXED_SLIDES + len(below)
    rep_slides = list(prs.slides)[FIXED_SLIDES:]
    titles = [next(s.text for s in slide.shapes if s.has_text_frame) for slide in rep_slides]
    assert all(f"({rep})" in t for rep, t in zip(below["Rep ID"], titles, strict=False))
    first = "\n".join(s.text for s in rep_slides[0].shapes if s.has_text_frame)
    assert "froze budgets" in first and "practises discovery calls" in first
    notes_slide = "\n".join(s.text for s in list(prs.slides)[7].shapes if s.has_text_frame)
    assert "quarterly review" in notes_slide and "agreed with managers" in notes_slide
    scenario = "\n".join(s.text for s in list(prs.slides)[6].shapes if s.has_text_frame)
    money = data.sheets["What if"].set_index("Cause")["Gap closed"]
    expected = money.sum() - 0.5 * money.get("pipeline", 0.0)
    assert f"Pipeline half fixed: closes {fmt_money(expected)}" in scenario


def test_charts_are_native_and_hold_the_summarys_numbers(built):
    _, data, _, blob = built
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        names = z.namelist()
    assert sum(n.startswith("ppt/charts/chart") for n in names) >= 5
    assert not any(n.startswith("ppt/media/") for n in names)            # no pictures of charts
    prs = Presentation(io.BytesIO(blob))
    what_if = next(s for s in list(prs.slides)[5].shapes if s.has_chart).chart
    values = list(what_if.plots[0].series[0].values)[::-1]
    assert values == pytest.approx(data.sheets["What if"]["Gap closed"].tolist())
    waterfall = next(s for s in list(prs.slides)[2].shapes if s.has_chart).chart
    visible = list(waterfall.plots[0].series[1].values)
    assert visible[0] == pytest.approx(data.waterfall["Amount"].iloc[0])      # quota
    assert visible[-1] == pytest.approx(data.waterfall["Amount"].iloc[-1])    # revenue


def test_anonymised_deck_names_nobody(tables, built):
    ds, _, book, _ = built
    anon = anonymize(ds)
    blob = build_deck(anon, PERIOD, Settings(), book=anonymized_notebook(book, ds, anon))
    text = all_text(blob)
    real = (set(tables["reps"]["rep_name"]) | set(tables["reps"]["manager"].dropna())
            | set(tables["accounts"]["account_name"]))
    assert [n for n in real if n.casefold() in text] == []
    noted = book.notes_about("rep", book.coaching[0].rep_id)[0]
    pseudonym = anon.table("reps").set_index("rep_id").at[noted.key, "rep_name"]
    assert f"{pseudonym} says the hospital froze budgets".casefold() in text


def test_deck_command_writes_an_anonymised_pptx(tables, tmp_path):
    path = tmp_path / "team.xlsx"
    write_workbook(tables, path)
    out = tmp_path / "deck.pptx"
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["deck", str(path), "--out", str(out), "--period", "2026-Q3", "--anonymize"])
    assert code == 0, err.getvalue()
    text = all_text(out.read_bytes())
    assert [n for n in tables["reps"]["rep_name"] if n.casefold() in text] == []
    assert len(Presentation(str(out)).slides) >= 6


def test_deck_from_a_protected_session_carries_its_notebook_and_names_nobody(tmp_path, monkeypatch):
    """`deck --session FILE --anonymize` with the passphrase in the environment: the session's
    notes, coaching log and scenario are in the deck, under pseudonyms, for its scope's reps."""
    from core.cli import PASSPHRASE_ENV
    from tests.test_cli import SESSION_NOTE, kims, session_team, write_session

    team = session_team()
    path = write_session(team, tmp_path, passphrase="correct horse")
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    out = tmp_path / "deck.pptx"
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["deck", "--session", str(path), "--out", str(out), "--anonymize"])
    assert code == 0, err.getvalue()
    text = all_text(out.read_bytes())
    assert SESSION_NOTE.casefold() in text and "pipeline half fixed" in text
    assert "says the hospital froze budgets" in text and "practises discovery calls" in text
    real = set(team["reps"]["rep_name"]) | set(team["reps"]["manager"].dropna()) | set(team["accounts"]["account_name"])
    assert [n for n in real if n.casefold() in text] == []
    titles = [s.shapes[0].text_frame.text for s in Presentation(str(out)).slides][FIXED_SLIDES:]
    assert titles and all(any(f"({rep})" in t for rep in kims(team)) for t in titles)   # Kim Ray's reps only


def test_anonymised_scope_finds_the_same_reps_and_names_nobody(tables):
    from core.dataset import Scope
    from core.kpis.metrics import roster
    from core.report.deck import anonymized_scope

    ds = Dataset(tables=tables)
    anon = anonymize(ds)
    manager, region = tables["reps"][["manager", "region"]].dropna().iloc[0]
    real = Scope(region=region, manager=manager)
    scope = anonymized_scope(real, ds, anon)
    assert scope.region == region and scope.manager != manager and manager not in scope.label
    assert roster(anon, scope)["rep_id"].tolist() == roster(ds, real)["rep_id"].tolist() != []
    assert anonymized_scope(Scope(rep_id="R001"), ds, anon) == Scope(rep_id="R001")      # ids stay


def test_rep_slide_shows_absolute_ratings_named_with_the_expected_level(built):
    """Each rep's own manager ratings (not a gap, not a team average), each competency's series
    named with the level the role expects."""
    ds, data, _, blob = built
    rep_id = data.sheets["Rep diagnosis"]["Rep ID"].iloc[0]
    slide = list(Presentation(io.BytesIO(blob)).slides)[FIXED_SLIDES]
    chart = next(s for s in slide.shapes if s.has_chart).chart
    history = competency.rating_history(ds, rep_id, PERIOD.end)
    history = history[history["assessor"] == "manager"]
    expected = competency.competency_table(ds, Settings(), PERIOD.end).query("rep_id == @rep_id") \
        .set_index("competency")["expected"]
    for series in chart.plots[0].series:
        name, _, level = series.name.partition(" (expected ")
        assert float(level.rstrip(")")) == pytest.approx(expected[name], abs=0.05)
        shown = sorted(v for v in series.values if v is not None)
        ratings = history[history["competency"] == name].groupby("date")["rating"].mean()
        assert shown == pytest.approx(sorted(ratings))


def test_headline_chart_marks_the_month_in_progress(built):
    """The month holding its revenue to date beside a whole-month forecast is labelled 'to date'
    (its revenue would otherwise read as a fall); whole months are not."""
    _, data, _, blob = built
    trends = data.sheets["Trends"].tail(15)
    in_progress = trends["Revenue"].notna() & trends["Forecast"].notna()
    chart = next(s for s in list(Presentation(io.BytesIO(blob)).slides)[1].shapes if s.has_chart).chart
    labels = list(chart.plots[0].categories)
    assert len(labels) == len(trends)
    assert [label.endswith("(to date)") for label in labels] == in_progress.tolist()
    assert in_progress.sum() == 1
