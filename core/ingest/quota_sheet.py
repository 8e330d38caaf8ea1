"""Quotas the way directors keep them, read as the canonical quotas table (data.md).

A director's quota sheet is usually wide: reps (name or id) down the side, months, quarters or
years across ("Q1 2017", "Jan-26", "FY2026", "März 2025"), a title above the header, a total row
below and a total column at the right. `to_long` turns such a sheet into the long table ingest
loads (rep_id, period, quota, product), one row per rep and period, keeping each cell's source row
number; totals are recognised, left out and reported. A long table gets its period labels read the
same way (fiscal labels included). One annual number per rep is a one-column wide sheet: it is
spread over the months of its year as every quota is (core.kpis.metrics).

Periods are stored as calendar labels ("2025-Q3"); a fiscal year or a half that is not one calendar
label is stored as the calendar quarters (or months) that make it up, its quota split evenly, which
is how every quota is spread over its months anyway.

`repeated_quotas` reports two rows for one rep, product and period (after rep names are matched to
ids) and keeps the first: quotas are never silently summed.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.dataset import ISSUE_COLUMNS, ColumnMatch
from core.ingest import cleaning, currency
from core.ingest.readers import RawSheet
from core.periods import Period, PeriodError, calendar_labels, parse_period

LONG_COLUMNS = ("rep_id", "period", "quota", "product")
_TOTAL = re.compile(r"(?i)^\s*(?:grand\s+|team\s+|region(?:al)?\s+|year\s+|annual\s+|fy\s+|sub-?)?"
                    r"(?:totals?|sum|summe|gesamt|insgesamt|total\s+g[ée]n[ée]ral)\b")
_FILLER = re.compile(r"(?i)\b(?:quotas?|targets?|goals?|plan|soll|ziel|objectifs?|objetivos?|cuotas?|"
                     r"budget|usd|eur|gbp|chf|in)\b|[$€£():]")
_STAMP = re.compile(r"^(\d{4})-(\d{2})-\d{2}(?: 00:00:00)?$")   # a date cell used as a header
_WHOLE = re.compile(r"^(\d{4})\.0$")                              # a year cell read as a number


def header_period(label: str, fiscal_start: int = 1) -> Period | None:
    """The period a column header names ("Q1 2017", "Jan-26", "FY2026 quota", a date cell), or None."""
    text = str(label).strip()
    if m := _STAMP.match(text):
        text = f"{m.group(1)}-{m.group(2)}"
    elif m := _WHOLE.match(text):
        text = m.group(1)
    text = re.sub(r"\s+", " ", _FILLER.sub(" ", text)).strip(" -–")
    if not text:
        return None
    try:
        return parse_period(text, fiscal_start)
    except PeriodError:
        return None


def to_long(sheet: RawSheet, matches: Sequence[ColumnMatch], fiscal_start: int = 1,
            wide_only: bool = False, seasonality: Sequence[float] = ()) -> tuple[RawSheet | None, list[pd.DataFrame]]:
    """The sheet as the long quotas table, and the issues found on the way; (None, []) when it is
    not a quota sheet. `matches` are its columns matched against the quotas table; `wide_only`
    (a sheet not named like quotas): only a sheet with two or more period columns qualifies;
    `seasonality`: the settings' monthly weights for annual quotas (see `pieces`)."""
    matched = {m.canonical: m.source_column for m in matches if m.canonical}
    keys = {matched.get(k) for k in ("rep_id", "product", "period")} - {None}
    by_column = {c: p for c in sheet.columns if c not in keys
                 and (p := header_period(c, fiscal_start)) is not None}
    if by_column and "period" not in matched and (len(by_column) >= 2 or not wide_only):
        return _melt(sheet, matched, by_column, seasonality)
    if wide_only:
        return None, []
    if "period" in matched and "quota" in matched:
        return _relabel(sheet, matched, fiscal_start, seasonality), []
    named = header_period(sheet.name, fiscal_start) or header_period(_stem(sheet.file_name), fiscal_start)
    if "quota" in matched and named is not None:
        return _melt(sheet, matched, {matched["quota"]: named}, seasonality)
    return None, []


def _stem(file_name: str) -> str:
    return re.sub(r"\.[A-Za-z0-9]{2,4}$", "", file_name)


def _issues(source: str, rows: Sequence[int] | None, column: str, problem: str | Sequence[str],
            value: str | Sequence[str] = "", kind: str = "info") -> pd.DataFrame:
    """Issue rows for the validation report (one per row given, or one with no row)."""
    n = 1 if rows is None else len(rows)
    frame = pd.DataFrame({"Table": "quotas", "Source": source,
                          "Row": pd.array([pd.NA] * n if rows is None else list(rows), dtype="Int64"),
                          "Column": column, "Problem": problem, "Value": value, "Kind": kind}, index=range(n))
    return frame[ISSUE_COLUMNS].astype({c: "str" for c in ISSUE_COLUMNS if c != "Row"})


def _totals(by_column: dict[str, Period]) -> list[str]:
    """Period columns that cover other period columns of the sheet (an "FY2026" beside its months)."""
    return [c for c, p in by_column.items()
            if any(o is not p and p.start <= o.start and o.end <= p.end and (p.start, p.end) != (o.start, o.end)
                   for o in by_column.values())]


def _melt(sheet: RawSheet, matched: dict[str, str], by_column: dict[str, Period],
          seasonality: Sequence[float]) -> tuple[RawSheet | None, list[pd.DataFrame]]:
    """A wide sheet (reps down, periods across) as one row per rep and period."""
    src, data = sheet.source, sheet.data
    rest = [c for c in sheet.columns if c not in by_column]
    rep = matched.get("rep_id") or next((c for c in rest if c != matched.get("product")), None)
    if rep is None:
        return None, []
    issues = []
    totals = _totals(by_column) + [c for c in rest if _TOTAL.match(c)]
    if totals:
        issues.append(_issues(src, None, ", ".join(totals),
                              "total column(s) recognised and not loaded (each period is loaded on its own)"))
    ignored = [c for c in rest if c not in totals and c not in (rep, matched.get("product"))]
    if ignored:
        issues.append(_issues(src, None, ", ".join(ignored), "column(s) that are not periods; not used"))
    periods_used = {c: p for c, p in by_column.items() if c not in totals}
    who = cleaning.to_text(data[rep])
    total_rows = who.str.match(_TOTAL).fillna(False).astype(bool)
    cells = pd.DataFrame({c: cleaning.to_text(data[c]) for c in periods_used}, index=data.index)
    blank_rep = who.isna() & cells.notna().any(axis=1)
    set_apart = [sheet.dropped] + [
        pd.DataFrame({"Row": data.index[mask], "Problem": why, "Value": _row_values(who, cells, mask).to_numpy()})
        for mask, why in ((total_rows, "total row recognised; not loaded"),
                          (blank_rep, "no rep named in this row (a total or a note?); not loaded")) if mask.any()]
    keep = ~total_rows & ~blank_rep
    parts = []
    for col, p in periods_used.items():
        filled = keep & cells[col].notna()
        if filled.any():
            parts.append(_rows(data.index[filled], who[filled], data[col][filled], pieces(p, seasonality),
                               data[matched["product"]][filled] if "product" in matched else None))
    if not parts:
        issues.append(_issues(src, None, rep, "a quota sheet with no quota in it", "", "warning"))
        parts = [pd.DataFrame(columns=list(LONG_COLUMNS))]
    long = pd.concat(parts).sort_index(kind="stable")
    dropped = pd.concat(set_apart, ignore_index=True).sort_values("Row", ignore_index=True)
    return _long_sheet(sheet, long, dropped), issues


def _row_values(who: pd.Series, cells: pd.DataFrame, mask: pd.Series) -> pd.Series:
    head = who[mask].fillna("")
    nums = cells[mask].apply(lambda r: " | ".join(r.dropna().head(4)), axis=1)
    return (head + " | " + nums).str.strip(" |")


def pieces(p: Period, seasonality: Sequence[float] = ()) -> list[tuple[str, float]]:
    """The calendar labels a quota for `p` is stored as, with the share of it each one gets.

    Evenly over the coarsest calendar labels that tile `p` (how every quota is spread over its
    months, core.kpis.metrics); a year's quota with a seasonality setting (twelve monthly weights,
    January first) goes to its months by those weights instead."""
    if p.kind == "year" and len(seasonality) == 12 and sum(seasonality) > 0:
        months = pd.period_range(p.start, p.end, freq="M")
        w = np.array([seasonality[m.month - 1] for m in months], dtype="float64")
        return list(zip((m.strftime("%Y-%m") for m in months), (w / w.sum()).tolist(), strict=True))
    labels = calendar_labels(p)
    return [(label, 1 / len(labels)) for label in labels]


def _rows(index: pd.Index, rep: pd.Series, value: pd.Series, parts: list[tuple[str, float]],
          product: pd.Series | None) -> pd.DataFrame:
    """One long row per cell, or per calendar label when the period is stored as several."""
    frames = []
    for label, share in parts:
        amount = value if len(parts) == 1 else split_amounts(value, share)
        frames.append(pd.DataFrame({"rep_id": rep.to_numpy(), "period": label, "quota": amount.to_numpy(),
                                    "product": product.to_numpy() if product is not None else None}, index=index))
    return pd.concat(frames).sort_index(kind="stable")[list(LONG_COLUMNS)]


def split_amounts(value: pd.Series, share: float) -> pd.Series:
    """Cells holding an amount (perhaps with a currency: "EUR 1.200") as `share` of it, currency
    kept; cells that are not amounts stay as they are, for ingest to report."""
    amount, code = currency.parse_money(value)
    out = value.astype(object).copy()
    ok = amount.notna()
    out[ok] = (code[ok].fillna("") + " " + (amount[ok] * share).map(repr)).str.strip()
    return out


def _relabel(sheet: RawSheet, matched: dict[str, str], fiscal_start: int,
             seasonality: Sequence[float]) -> RawSheet:
    """A long quota table with its period labels as calendar labels (fiscal and written ones read)."""
    col, quota = matched["period"], matched["quota"]
    text = cleaning.to_text(sheet.data[col])
    found: dict[str, list[tuple[str, float]]] = {}
    for label in text.dropna().unique():
        try:
            found[label] = pieces(parse_period(label, fiscal_start), seasonality)
        except PeriodError:
            continue          # left as written: ingest reads dates and reports what it cannot read
    if all(v == [(k, 1.0)] for k, v in found.items()):
        return sheet
    parts = [found.get(t, [(t, 1.0)]) if isinstance(t, str) else [(t, 1.0)] for t in text]
    k = np.array([len(x) for x in parts])
    data = sheet.data.loc[sheet.data.index.repeat(k)].copy()
    flat = [x for row in parts for x in row]
    data[col] = pd.Series([lab for lab, _ in flat], index=data.index, dtype=object)
    values = data[quota].astype(object)
    shares = np.array([s for _, s in flat])
    many = np.repeat(k > 1, k)
    values[many] = [split_amounts(pd.Series([v]), s).iloc[0] for v, s in zip(values[many], shares[many], strict=True)]
    data[quota] = values
    return dataclasses.replace(sheet, data=data)


def _long_sheet(sheet: RawSheet, long: pd.DataFrame, dropped: pd.DataFrame) -> RawSheet:
    """The long rows (one per rep and period, indexed by their source row) and the rows set apart."""
    return dataclasses.replace(sheet, columns=list(LONG_COLUMNS), data=long, dropped=dropped,
                               duplicate_columns=(), footer=pd.Index([], dtype="int64"), no_value={})


def repeated_quotas(quotas: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Quota rows for a rep, product and period that already has one: reported and left out (the
    first is kept), never added together."""
    key = [quotas["rep_id"], quotas["product"].fillna(""), quotas["period"]]
    repeat = pd.DataFrame(dict(zip(("r", "p", "q"), key, strict=True))).duplicated(keep="first")
    if not repeat.any():
        return quotas, []
    first = quotas[~repeat].assign(_k=lambda f: f["rep_id"] + "|" + f["product"].fillna("") + "|" + f["period"])
    where = first.set_index("_k")[["_source", "_row"]]
    dup = quotas[repeat]
    k = dup["rep_id"] + "|" + dup["product"].fillna("") + "|" + dup["period"]
    issues = []
    for src, part in dup.groupby("_source", sort=False):
        w = where.loc[k[part.index]]
        issues.append(_issues(src, part["_row"].tolist(), "period",
                              ("a second quota for rep " + part["rep_id"] + ", period " + part["period"] +
                               " (first in row " + w["_row"].astype("str").values + " of " +
                               w["_source"].astype("str").values + "); not added to it, left out").tolist(),
                              part["quota"].map("{:,.2f}".format).tolist(), "duplicate"))
    return quotas[~repeat], issues
