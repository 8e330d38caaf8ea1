"""What the room said: notes on the session, a finding or a rep, a coaching log per rep, and the
what-if scenarios saved during the session.

A Notebook is plain data kept in the session file (one JSON section, validated on the way in:
`from_dict` refuses anything but the expected fields, types and sizes) and printed in the
workbook's Notes sheet and in the deck. `coaching_effect` answers "is the coaching working?":
for each coaching entry, the competency's manager-rating trend before and after the coaching
date, each with its 80 % interval (core.people.competency's per-group least squares).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.errors import UserError
from core.people import competency

ABOUT = ("session", "finding", "rep")
MAX_TEXT = 5_000                 # characters of one note or agreement
MAX_ENTRIES = 2_000              # notes or coaching entries in one session
NOTE_COLUMNS = ["About", "Key", "Date", "Note"]
COACHING_COLUMNS = ["rep_id", "date", "competency", "agreed", "before", "before_low", "before_high",
                    "after", "after_low", "after_high", "ratings_before", "ratings_after", "verdict"]


@dataclass(frozen=True)
class Note:
    about: str                   # session | finding | rep
    key: str                     # "" for the session, the rep id, or "cause|who" for a finding
    date: str                    # ISO day the note was written
    text: str


@dataclass(frozen=True)
class Coaching:
    rep_id: str
    date: str                    # ISO day of the coaching conversation
    competency: str
    agreed: str                  # what was agreed


@dataclass(frozen=True)
class Scenario:
    """A saved what-if: the share of the shortfall closed per cause and per rep (0–1; a cause or
    rep not listed closes all of it), as core.diagnostic.whatif.what_if takes them."""

    name: str
    causes: dict[str, float]
    reps: dict[str, float]


@dataclass(frozen=True)
class Notebook:
    notes: tuple[Note, ...] = ()
    coaching: tuple[Coaching, ...] = ()
    scenarios: tuple[Scenario, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"notes": [asdict(n) for n in self.notes], "coaching": [asdict(c) for c in self.coaching],
                "scenarios": [asdict(s) for s in self.scenarios]}

    def save_scenario(self, name: str, causes: dict[str, float], reps: dict[str, float]) -> Notebook:
        """Add the scenario, replacing a saved one of the same name."""
        new = _scenario({"name": name, "causes": causes, "reps": reps})
        return replace(self, scenarios=(*(s for s in self.scenarios if s.name != new.name), new))

    def add_note(self, about: str, key: str, text: str, day: date) -> Notebook:
        return replace(self, notes=(*self.notes, _note({"about": about, "key": key, "date": day.isoformat(),
                                                         "text": text})))

    def add_coaching(self, rep_id: str, day: date, competency_name: str, agreed: str) -> Notebook:
        entry = _coaching({"rep_id": rep_id, "date": day.isoformat(), "competency": competency_name,
                           "agreed": agreed})
        return replace(self, coaching=(*self.coaching, entry))

    def notes_about(self, about: str, key: str = "") -> list[Note]:
        return [n for n in self.notes if n.about == about and n.key == key]

    def rename(self, names: dict[str, str], ids: dict[str, str]) -> Notebook:
        """The notebook with people's names in the text and keys replaced (for anonymised output):
        `names` maps real names to pseudonyms, `ids` maps rep ids that changed."""
        from core.report.anonymize import _substitute

        def text(values: list[str]) -> list[str]:
            return _substitute(pd.Series(values, dtype="object"), names).tolist() if values else []

        def key(k: str) -> str:
            return "|".join(ids.get(part, part) for part in k.split("|"))

        notes = tuple(replace(n, key=key(n.key), text=t)
                      for n, t in zip(self.notes, text([n.text for n in self.notes]), strict=True))
        coaching = tuple(replace(c, rep_id=ids.get(c.rep_id, c.rep_id), agreed=t)
                         for c, t in zip(self.coaching, text([c.agreed for c in self.coaching]), strict=True))
        scenarios = tuple(replace(s, reps={ids.get(r, r): v for r, v in s.reps.items()}) for s in self.scenarios)
        return Notebook(notes=notes, coaching=coaching, scenarios=scenarios)


def finding_key(cause: str, who: str) -> str:
    """The key of a note on a finding: its cause and who it is about."""
    return f"{cause}|{who}"


def _text(value: Any, field: str, limit: int = MAX_TEXT, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise UserError(f"The {field} of a note must be text.")
    text = value.strip()
    if not text and not empty:
        raise UserError(f"The {field} of a note is empty: write something or leave it out.")
    if len(text) > limit:
        raise UserError(f"The {field} of a note is longer than {limit:,} characters: shorten it.")
    return text


def _day(value: Any) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError) as err:
        raise UserError(f"'{value}' is not a date: use a day like 2025-07-01.") from err


def _note(raw: Any) -> Note:
    if not isinstance(raw, dict):
        raise UserError("A note in the session cannot be read.")
    about = raw.get("about")
    if about not in ABOUT:
        raise UserError(f"A note must be about the session, a finding or a rep, not '{about}'.")
    return Note(about=about, key=_text(raw.get("key", ""), "subject", 300, empty=about == "session"),
                date=_day(raw.get("date")), text=_text(raw.get("text"), "text"))


def _coaching(raw: Any) -> Coaching:
    if not isinstance(raw, dict):
        raise UserError("A coaching entry in the session cannot be read.")
    return Coaching(rep_id=_text(raw.get("rep_id"), "rep", 300), date=_day(raw.get("date")),
                    competency=_text(raw.get("competency"), "competency", 300),
                    agreed=_text(raw.get("agreed"), "agreement"))


def _shares(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict) or len(raw) > MAX_ENTRIES:
        raise UserError("A what-if scenario in the session cannot be read.")
    out = {}
    for key, value in raw.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise UserError("A what-if scenario holds a share outside 0–100%.")
        out[_text(key, "scenario key", 300)] = float(value)
    return out


def _scenario(raw: Any) -> Scenario:
    if not isinstance(raw, dict):
        raise UserError("A what-if scenario in the session cannot be read.")
    return Scenario(name=_text(raw.get("name"), "scenario name", 100), causes=_shares(raw.get("causes", {})),
                    reps=_shares(raw.get("reps", {})))


def from_dict(raw: Any) -> Notebook:
    """A Notebook from its JSON section; UserError (in plain words) for anything malformed."""
    if raw is None or raw == {}:
        return Notebook()
    if not isinstance(raw, dict) or set(raw) - {"notes", "coaching", "scenarios"}:
        raise UserError("The notes in this session cannot be read.")
    lists = [raw.get(k) or [] for k in ("notes", "coaching", "scenarios")]
    if not all(isinstance(v, list) for v in lists):
        raise UserError("The notes in this session cannot be read.")
    if any(len(v) > MAX_ENTRIES for v in lists):
        raise UserError(f"The session holds more than {MAX_ENTRIES:,} notes; it cannot be opened.")
    notes, coaching, scenarios = lists
    return Notebook(notes=tuple(_note(n) for n in notes), coaching=tuple(_coaching(c) for c in coaching),
                    scenarios=tuple(_scenario(s) for s in scenarios))


def notes_table(book: Notebook, effect: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Notes sheet: the session's notes, then findings', then reps', each by date; then the
    coaching log with `effect` (coaching_effect's trends before and after, and its verdict)."""
    order = {a: i for i, a in enumerate(ABOUT)}
    rows = sorted(book.notes, key=lambda n: (order[n.about], n.key, n.date))
    written = pd.DataFrame({"About": [n.about for n in rows], "Key": [n.key for n in rows],
                            "Date": [n.date for n in rows], "Note": [n.text for n in rows]})
    e = effect if effect is not None else pd.DataFrame(columns=COACHING_COLUMNS)
    coaching = pd.DataFrame({"About": "coaching", "Key": e["rep_id"], "Date": e["date"], "Note": e["agreed"],
                             "Competency": e["competency"], "Trend before": e["before"],
                             "Trend after": e["after"], "Trend after low": e["after_low"],
                             "Trend after high": e["after_high"], "Verdict": e["verdict"]})
    frames = [f for f in (written, coaching) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out.reindex(columns=NOTE_COLUMNS + ["Competency", "Trend before", "Trend after", "Trend after low",
                                               "Trend after high", "Verdict"])


def coaching_effect(ds: Dataset, book: Notebook) -> pd.DataFrame:
    """Per coaching entry: the trend of the rep's manager ratings of that competency (points per
    90 days) before and after the coaching date, with 80 % intervals, and a verdict in words.

    working: the whole interval after lies above the trend before (or above 0 when there is no
    trend before); not working: the whole interval after lies at or below the trend before; too
    few ratings: fewer than two assessment dates on a side.
    """
    if not book.coaching:
        return pd.DataFrame(columns=COACHING_COLUMNS)
    log = pd.DataFrame([asdict(c) for c in book.coaching]).reset_index(names="entry")
    log["date"] = pd.to_datetime(log["date"])
    a = ds.table("assessments")
    a = a[a["rating"].notna() & (competency._assessor(a) == "manager")]
    pairs = log.merge(a[["rep_id", "competency", "date", "rating"]], on=["rep_id", "competency"],
                      suffixes=("", "_rated"))
    pairs["side"] = np.where(pairs["date_rated"] < pairs["date"], "before", "after")
    pairs["t"] = (pairs["date_rated"] - pairs["date"]).dt.days / 90.0
    fits = competency._ols_by_group(pairs, ["entry", "side"], "t", "rating") if len(pairs) else None
    out = log.copy()
    for side in ("before", "after"):
        f = (fits[fits["side"] == side].set_index("entry") if fits is not None
             else pd.DataFrame(columns=["slope", "se", "df", "n"]))
        half = (competency._t_quantile(f["df"].astype("float64")) * f["se"]) if len(f) else pd.Series(dtype="float64")
        out[side] = out["entry"].map(f["slope"]).astype("float64")
        out[f"{side}_low"] = out["entry"].map(f["slope"] - half).astype("float64")
        out[f"{side}_high"] = out["entry"].map(f["slope"] + half).astype("float64")
        n = pairs[pairs["side"] == side].groupby("entry")["date_rated"].nunique()
        out[f"ratings_{side}"] = out["entry"].map(n).fillna(0).astype("int64")
    baseline = out["before"].fillna(0.0)
    few = (out["ratings_after"] < 2) | out["after"].isna()
    out["verdict"] = np.select(
        [few, out["after_low"] > baseline, out["after_high"] <= baseline],
        ["too few ratings after the coaching to tell", "working: ratings rise faster than before",
         "not working yet: no faster rise than before"], "no clear change yet")
    out["date"] = out["date"].dt.date.astype("str")
    return out[COACHING_COLUMNS].reset_index(drop=True)
