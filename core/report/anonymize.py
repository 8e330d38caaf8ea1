"""Pseudonyms for people and customers, applied to the Dataset before anything is computed.

Because every sheet, chart title and finding is computed from the anonymised Dataset, no real
name can reach the output. Pseudonyms are stable (numbered in id order: "Rep 001", "Account 0001",
"Manager 01", "Territory 001") and ids stay, so a client can map the file back. Where an id *is*
a name (a CRM export without a roster, whose owner names became rep ids), that id is replaced
too ("R001", "A0001"): an id that spells a person's name cannot stay in an anonymised file. So is
a rep or account id that is missing from the roster and looks like a name ("Jane Roe", "Ortiz,
Sam": letters with a space or comma, or no digit at all): those reps are numbered after the
roster's. Uploaded file and sheet names become "File 1.xlsx › Sheet 1" in the sources and the
data-quality report, and every name above is swapped inside the report's free text.
"""
from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from io import BytesIO
from pathlib import PurePath

import pandas as pd

from core.dataset import Dataset, SourceInfo

# (table, name column, id column or None, pseudonym prefix, id prefix or None)
NAME_COLUMNS = (
    ("reps", "rep_name", "rep_id", "Rep", "R"),
    ("accounts", "account_name", "account_id", "Account", "A"),
    ("territories", "territory_name", "territory_id", "Territory", None),
    ("reps", "manager", None, "Manager", None),
)
MIN_DIGITS = {"Rep": 3, "Account": 4, "Territory": 3, "Manager": 2}
WITHHELD = "(withheld)"
_HAS_LETTER = r"[^\W\d_]"
# An id outside the roster that reads like a name: letters, and a space or comma or no digit.
_NAME_LIKE = r"^(?=.*[^\W\d_])(?:.*[\s,]|\D*$)"
SEPARATOR = " › "          # between a file and a sheet in a source ("book.xlsx › Sheet1")


def _numbered(prefix: str, n: int) -> list[str]:
    width = max(MIN_DIGITS[prefix], len(str(n)))
    return [f"{prefix} {i:0{width}d}" for i in range(1, n + 1)]


def _pseudonyms(table: pd.DataFrame, name: str, key: str | None, prefix: str) -> pd.DataFrame:
    """One row per distinct entity: its key, real name and pseudonym, numbered in key order."""
    rows = table[[c for c in (key, name) if c]].dropna(subset=[key or name])
    rows = rows.drop_duplicates(key or name).sort_values(key or name, kind="stable")
    return rows.assign(pseudonym=_numbered(prefix, len(rows)))


def anonymize(ds: Dataset) -> Dataset:
    """A copy of `ds` with every person and customer name replaced by a stable pseudonym."""
    tables = dict(ds.tables)
    names: dict[str, str] = {}          # real name → pseudonym, for free text (issues)
    id_maps: dict[str, dict[str, str]] = {}
    for table, name, key, prefix, id_prefix in NAME_COLUMNS:
        if table not in tables or name not in tables[table].columns:
            continue
        t = tables[table]
        p = _pseudonyms(t, name, key, prefix)
        lookup = dict(zip(p[key or name], p["pseudonym"], strict=True))
        tables[table] = t.assign(**{name: t[key or name].map(lookup).astype("str")
                                    .where(t[name].notna())})
        named = p.dropna(subset=[name])
        names.update(zip(named[name], named["pseudonym"], strict=True))
        if id_prefix and key:
            spelled = p[p[key] == p[name]]
            id_maps[key] = dict(zip(spelled[key], spelled["pseudonym"].str.replace(
                f"{prefix} ", id_prefix, regex=False), strict=True))
    for key, (table, prefix, id_prefix) in ORPHAN_IDS.items():
        orphans = _orphan_ids(ds.tables, key, table)
        count = len(tables[table]) if table in tables else 0
        pseudonyms = _numbered(prefix, count + len(orphans))[count:]
        names.update(zip(orphans, pseudonyms, strict=True))
        id_maps.setdefault(key, {}).update(
            zip(orphans, (p.replace(f"{prefix} ", id_prefix, 1) for p in pseudonyms), strict=True))
    tables = {t: _replace_ids(frame, id_maps) for t, frame in tables.items()}
    known_ids = _known_ids(tables)
    sources, source_names = _anonymize_sources(ds, names)
    text_names = names | source_names
    return Dataset(tables=tables, sources=sources,
                   issues=_anonymize_issues(ds.issues, names, text_names, known_ids))


# id column → (roster table, pseudonym prefix, id prefix) for ids missing from the roster
ORPHAN_IDS = {"rep_id": ("reps", "Rep", "R"), "account_id": ("accounts", "Account", "A")}


def _orphan_ids(tables: Mapping[str, pd.DataFrame], key: str, roster: str) -> list[str]:
    """Values of `key` in any table, missing from the roster table, that read like names."""
    known = set(tables[roster][key].dropna()) if roster in tables and key in tables[roster] else set()
    values = [frame[key].dropna().astype("str") for frame in tables.values() if key in frame.columns]
    if not values:
        return []
    distinct = pd.Series(pd.concat(values, ignore_index=True).unique(), dtype="str")
    orphans = distinct[~distinct.isin(known) & distinct.str.contains(_NAME_LIKE, regex=True)]
    return sorted(orphans)


def _anonymize_sources(ds: Dataset, names: dict[str, str]) -> tuple[list[SourceInfo], dict[str, str]]:
    """Sources renamed "File 1.xlsx › Sheet 1" (derived sources keep their description), and
    every real file, sheet and source name → its pseudonym, for the report's free text."""
    renamed: dict[str, str] = {}
    files: dict[str, str] = {}
    sheets: dict[str, dict[str, str]] = {}
    for s in ds.sources:
        if s.source.startswith("derived") or s.source in renamed:
            continue
        file, _, sheet = s.source.partition(SEPARATOR)
        suffix = "".join(PurePath(file).suffixes[-1:])
        files.setdefault(file, f"File {len(files) + 1}{suffix.lower() if suffix.isascii() else ''}")
        new = files[file]
        if sheet:
            own = sheets.setdefault(file, {})
            new += SEPARATOR + own.setdefault(sheet, f"Sheet {len(own) + 1}")
        renamed[s.source] = new
    sheet_names = {sheet: new for own in sheets.values() for sheet, new in own.items()}
    text = names | sheet_names | files | renamed
    sources = [replace(s, source=renamed.get(s.source, s.source),
                       note=_substitute_text(s.note, text),
                       matches=tuple(replace(m, source_column=_substitute_text(m.source_column, names))
                                     for m in s.matches))
               for s in ds.sources]
    return sources, sheet_names | files | renamed


def _substitute_text(text: str, names: dict[str, str]) -> str:
    return str(_substitute(pd.Series([text], dtype="str"), names).iloc[0]) if text else text


def _replace_ids(frame: pd.DataFrame, id_maps: dict[str, dict[str, str]]) -> pd.DataFrame:
    changes = {col: _renamed(frame[col].astype("str"), m) for col, m in id_maps.items() if m and col in frame.columns}
    return frame.assign(**changes) if changes else frame


def _renamed(ids: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Each id as `mapping` renames it, else as it was (text: ingest holds ids as categoricals)."""
    return ids.map(mapping).fillna(ids).astype("str").where(ids.notna())


def _known_ids(tables: dict[str, pd.DataFrame]) -> set[str]:
    cols = [frame[c] for frame in tables.values() for c in frame.columns
            if c.endswith("_id")]
    return set(pd.concat(cols, ignore_index=True).dropna().astype("str")) if cols else set()


def _substitute(text: pd.Series, names: dict[str, str]) -> pd.Series:
    """Replace every real name occurring inside `text` by its pseudonym (whole words)."""
    joined = "\n".join(text.dropna().astype("str"))
    present = sorted((n for n in names if n and n in joined), key=len, reverse=True)
    if not present:
        return text
    pattern = r"(?<!\w)(?:" + "|".join(map(re.escape, present)) + r")(?!\w)"
    return text.astype("str").str.replace(pattern, lambda m: names[m.group(0)], regex=True) \
        .where(text.notna())


def _anonymize_issues(issues: pd.DataFrame, names: dict[str, str], text_names: dict[str, str],
                      known_ids: set[str]) -> pd.DataFrame:
    """Problems and columns keep their words with names (people, customers, files, sheets)
    swapped; the Source is the renamed source; a Value survives only when it is a known id, a
    known name (as its pseudonym) or holds no letters at all (numbers, dates, amounts)."""
    if issues.empty:
        return issues
    value = issues["Value"].astype("str")
    keep = value.isin(known_ids) | ~value.str.contains(_HAS_LETTER, regex=True, na=False)
    mapped = value.map(names)
    new_value = mapped.fillna(value.where(keep, WITHHELD)).where(issues["Value"].notna())
    source = issues["Source"].astype("str")
    return issues.assign(Value=new_value.astype("str"),
                         Source=source.map(text_names).fillna(_substitute(source, text_names))
                         .where(issues["Source"].notna()).astype("str"),
                         Column=_substitute(issues["Column"], names).astype("str"),
                         Problem=_substitute(issues["Problem"], text_names).astype("str"))


def scan_for_names(workbook_bytes: bytes, names: list[str]) -> list[str]:
    """The names (case-insensitive) found anywhere in an .xlsx: cells, shared strings, chart
    titles, sheet and defined names, document properties — every XML part of the file."""
    with zipfile.ZipFile(BytesIO(workbook_bytes)) as z:
        text = "\n".join(html.unescape(z.read(n).decode("utf-8", "replace")) for n in z.namelist())
    folded = text.casefold()
    return [n for n in names if n and n.casefold() in folded]
