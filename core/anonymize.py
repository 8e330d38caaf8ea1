"""Pseudonyms for people and customers, applied to the Dataset before anything is computed.

Because every sheet, chart title and finding is computed from the anonymised Dataset, no real
name can reach the output. Pseudonyms are stable (numbered in id order: "Rep 001", "Account 0001",
"Manager 01", "Territory 001") and ids stay, so a client can map the file back. Where an id *is*
a name (a CRM export without a roster, whose owner names became rep ids), that id is replaced
too ("R001", "A0001"): an id that spells a person's name cannot stay in an anonymised file.
"""
from __future__ import annotations

import html
import re
import zipfile
from io import BytesIO

import pandas as pd

from core.dataset import Dataset

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
        lookup = dict(zip(p[key or name], p["pseudonym"]))
        tables[table] = t.assign(**{name: t[key or name].map(lookup).astype("str")
                                    .where(t[name].notna())})
        names.update(zip(p[name].dropna(), p["pseudonym"]))
        if id_prefix:
            spelled = p[p[key] == p[name]]
            id_maps[key] = dict(zip(spelled[key], spelled["pseudonym"].str.replace(
                f"{prefix} ", id_prefix, regex=False)))
    tables = {t: _replace_ids(frame, id_maps) for t, frame in tables.items()}
    known_ids = _known_ids(tables)
    return Dataset(tables=tables, issues=_anonymize_issues(ds.issues, names, known_ids),
                   sources=list(ds.sources))


def _replace_ids(frame: pd.DataFrame, id_maps: dict[str, dict[str, str]]) -> pd.DataFrame:
    changes = {col: frame[col].map(m).fillna(frame[col]).astype("str").where(frame[col].notna())
               for col, m in id_maps.items() if m and col in frame.columns}
    return frame.assign(**changes) if changes else frame


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


def _anonymize_issues(issues: pd.DataFrame, names: dict[str, str], known_ids: set[str]) -> pd.DataFrame:
    """Problems keep their words with names swapped; a Value survives only when it is a known id,
    a known name (as its pseudonym) or holds no letters at all (numbers, dates, amounts)."""
    if issues.empty:
        return issues
    value = issues["Value"].astype("str")
    keep = value.isin(known_ids) | ~value.str.contains(_HAS_LETTER, regex=True, na=False)
    mapped = value.map(names)
    new_value = mapped.fillna(value.where(keep, WITHHELD)).where(issues["Value"].notna())
    return issues.assign(Value=new_value.astype("str"),
                         Problem=_substitute(issues["Problem"], names).astype("str"))


def scan_for_names(workbook_bytes: bytes, names: list[str]) -> list[str]:
    """The names (case-insensitive) found anywhere in an .xlsx: cells, shared strings, chart
    titles, sheet and defined names, document properties — every XML part of the file."""
    with zipfile.ZipFile(BytesIO(workbook_bytes)) as z:
        text = "\n".join(html.unescape(z.read(n).decode("utf-8", "replace")) for n in z.namelist())
    folded = text.casefold()
    return [n for n in names if n and n.casefold() in folded]
