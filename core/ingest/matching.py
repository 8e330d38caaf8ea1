"""People, accounts and products named across tables matched to one id or spelling each.

Names used as ids ("Opportunity Owner" = a rep's name) are matched to the roster's ids through
one normaliser (core.ingest.cleaning.person_key: case, spacing, accents, "Last, First"); rep
spellings the roster does not hold become one spelling per person; product spellings that
differ only in spacing, case or punctuation become one. A name that belongs to two people (two
"John Smith"s in two regions) is never merged: it is reported as ambiguous with its rows.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.ingest import cleaning
from core.ingest.report import issue_rows, row_list

REP_TABLES = ("sales", "quotas", "activities", "follow_ups", "opportunities", "training",
              "assessments", "incentives")
ACCOUNT_TABLES = ("sales", "activities", "follow_ups", "opportunities")
PRODUCT_TABLES = ("sales", "opportunities", "activities", "quotas")


def map_names_to_ids(tables: dict[str, pd.DataFrame], ref: pd.DataFrame, id_col: str, name_col: str,
                     targets: Sequence[str], what: str,
                     key: Callable[[pd.Series], pd.Series] | None = None,
                     where: str = "") -> tuple[list[pd.DataFrame], set[str]]:
    """Replace names used as ids (e.g. "Opportunity Owner" = a rep's name) by the roster's ids,
    matched through `key` (for people: case, spacing, accents, "Last, First").

    A name that `key` finds under two or more ids (two "John Smith"s, in two regions) is never
    matched to either: its rows are reported as ambiguous and kept as they are. Returns the
    issues and the ambiguous values (so they are not reported again as orphans).
    """
    key = key or _loose_key
    ids = set(ref[id_col].dropna())
    lookup = pd.concat([pd.Series(ref[id_col].values, index=key(ref[name_col]).values),
                        pd.Series(ref[id_col].values, index=key(ref[id_col]).values)]).dropna()
    lookup = lookup[lookup.index.notna()]
    owners = lookup.groupby(level=0).nunique()
    shared = set(owners.index[owners > 1])
    lookup = lookup[~lookup.index.duplicated() & ~lookup.index.isin(shared)]
    issues, ambiguous = [], set()
    for name in targets:
        t = tables.get(name)
        if t is None or id_col not in t:
            continue
        values = _distinct_text(t[id_col][t[id_col].notna() & ~isin(t[id_col], ids)])
        keys = key(values)
        mapped = keys.map(lookup)
        found = {v: m for v, m in zip(values, mapped, strict=True) if pd.notna(m)}
        if found:
            rows = int(isin(t[id_col], set(found)).sum())
            replace_values(t, id_col, found)
            issues.append(issue_rows(name, "", None, id_col,
                                     f"{rows:,} rows name the {what} instead of giving its id; "
                                     f"matched to the {what} list", "", "info"))
        unclear = set(values[keys.isin(shared).to_numpy()])
        if unclear:
            part = t[isin(t[id_col], unclear)]
            ambiguous |= unclear
            issues.extend(_ambiguous_names(name, part, id_col, ref, key, where, what))
    return issues, ambiguous


def _distinct_text(col: pd.Series) -> pd.Series:
    """The distinct values of a text or categorical column, as text: names are matched once per
    value, not once per row."""
    return pd.Series(col.drop_duplicates().to_numpy(dtype=object), dtype="str")


def replace_values(frame: pd.DataFrame, column: str, mapping: Mapping[str, str]) -> None:
    """Each value of `column` that `mapping` holds replaced by what it maps to (a name by its id, a
    spelling by the usual one). A categorical column is recoded through its categories, two of
    which may become one; its rows are not touched one by one."""
    col = frame[column]
    if isinstance(col.dtype, pd.CategoricalDtype):
        renamed = pd.Index([mapping.get(v, v) for v in col.cat.categories], dtype="str")
        names = renamed.unique().sort_values()          # sorted, as astype("category") gives them
        codes = names.get_indexer(renamed)
        old = col.cat.codes.to_numpy()
        new = np.where(old >= 0, codes[old], -1)
        frame[column] = pd.Categorical.from_codes(new, categories=names)
        return
    hit = isin(col, set(mapping))
    frame.loc[hit, column] = col[hit].map(mapping)


def _ambiguous_names(name: str, part: pd.DataFrame, id_col: str, ref: pd.DataFrame,
                     key: Callable[[pd.Series], pd.Series], where: str, what: str) -> list[pd.DataFrame]:
    """One issue per source and name: the rows naming a person the list has more than once."""
    name_col = f"{what}_name"
    who = ref.assign(_key=key(ref[name_col]) if name_col in ref else key(ref[id_col]))
    out = []
    for (src, value), rows in part.groupby(["_source", id_col], sort=False)["_row"]:
        same = who[who["_key"].eq(key(pd.Series([value])).iat[0])]
        options = ", ".join(i if not p or i.endswith(f"({p})") else f"{i} ({p})" for i, p in
                            zip(same[id_col].astype("str"), same[where].astype("str") if where in same else
                                [""] * len(same), strict=False))
        out.append(issue_rows(name, src, rows.iat[0], id_col,
                              f"'{value}' is the name of more than one {what} in the {what} list ({options}); "
                              f"{len(rows):,} row(s) (rows {row_list(pd.Index(rows))}) were given to none "
                              f"of them — put the {what}'s id in the file to tell them apart", value, "ambiguous"))
    return out


def namesakes_apart(reps: pd.DataFrame, src: str, reject: pd.Series) -> list[pd.DataFrame]:
    """A roster without ids whose rep ids were made from names: two people of one name in two
    regions (or territories) are two reps, so their ids become "John Smith (East)" and
    "John Smith (West)" instead of one id for both; reported as ambiguous with their rows."""
    ok = reps[~reject & reps["rep_name"].notna()]
    key = cleaning.person_key(ok["rep_name"])
    places = ok.groupby(key)[["region", "territory_id"]].nunique()
    shared = places.index[(places > 1).any(axis=1)]
    issues = []
    for k in shared:
        rows = ok[key.eq(k)]
        by = "region" if rows["region"].nunique() > 1 else "territory_id"
        ids = rows["rep_name"] + " (" + rows[by].fillna("?") + ")"
        reps.loc[rows.index, "rep_id"] = ids
        issues.append(issue_rows("reps", src, rows.index, "rep_name",
                                 f"{len(rows)} reps are named '{rows['rep_name'].iat[0]}' in different "
                                 f"{'regions' if by == 'region' else 'territories'} and the roster has no rep id: "
                                 "kept apart as " + ", ".join(f"'{i}'" for i in ids.unique()) +
                                 ". Rows elsewhere that give only this name cannot be told apart — add a rep id "
                                 "column to the roster and the files", ids, "ambiguous"))
    return issues


def canonical_reps(tables: dict[str, pd.DataFrame], unclear: set[str]) -> list[pd.DataFrame]:
    """One spelling per person among the rep values the roster does not hold (all of them when
    there is no roster): "Smith, John", "JOHN SMITH" and "John  Smith" become the most used plain
    spelling; "JosÃ© MÃ¼ller" becomes "José Müller". Each change is a warning with its rows."""
    present = [n for n in REP_TABLES if n in tables and len(tables[n])]
    if not present:
        return []
    ids = set(tables["reps"]["rep_id"].dropna()) if "reps" in tables and len(tables["reps"]) else set()
    known = ids | unclear
    values = pd.concat([col[col.notna() & ~isin(col, known)] for col in (tables[n]["rep_id"] for n in present)],
                       ignore_index=True)       # each table's unknown values: few, where a roster is given
    mapping = cleaning.canonical_spellings(values, key=cleaning.person_key)
    if not mapping:
        return []
    issues = []
    for name in present:
        t = tables[name]
        hit = isin(t["rep_id"], set(mapping))
        if not hit.any():
            continue
        for (src, value), rows in t[hit].groupby(["_source", "rep_id"], sort=False)["_row"]:
            issues.append(issue_rows(name, src, rows.iat[0], "rep_id",
                                     f"rep written '{value}' read as '{mapping[value]}', the same name written "
                                     f"another way ({len(rows):,} rows: {row_list(pd.Index(rows))})",
                                     f"{value} → {mapping[value]}", "warning"))
        replace_values(t, "rep_id", mapping)
    return issues


def canonical_products(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Match product spellings that differ only in spacing, case or punctuation ("GTXPro" -> "GTX Pro")."""
    present = [n for n in PRODUCT_TABLES if n in tables]
    if not present:
        return []
    counts = pd.concat([tables[n]["product"].value_counts() for n in present]).groupby(level=0, sort=False).sum()
    reference = tables["products"]["product"] if "products" in tables else None
    mapping = cleaning.canonical_spellings(counts, reference, counted=True)
    issues: list[pd.DataFrame] = []
    if not mapping:
        return issues
    for name in present:
        col = tables[name]["product"]
        hit = col.isin(list(mapping))
        if not hit.any():
            continue
        counts = col[hit].value_counts()
        counts = counts[counts > 0]     # a categorical counts its other categories too
        issues.append(issue_rows(name, "", None, "product",
                                 [f"product spelled '{v}' matched to '{mapping[v]}'" for v in counts.index],
                                 [f"{v} → {mapping[v]}, {n:,} rows" for v, n in counts.items()], "info"))
        replace_values(tables[name], "product", mapping)
    return issues


def isin(col: pd.Series, values: set[str]) -> pd.Series:
    """col.isin(values) for a text column against many ids, in one pyarrow hash lookup (pandas
    converts each of the values to a pyarrow scalar first, which dominates for 20,000 accounts)."""
    arr = getattr(col.array, "_pa_array", None)
    if arr is None:
        return col.isin(values)
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        value_set = pa.array(list(values))
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return col.isin(values)
    if value_set.null_count or not (pa.types.is_string(value_set.type) or pa.types.is_large_string(value_set.type)):
        return col.isin(values)                         # not all text (or none at all): pandas compares them
    hit = pc.is_in(arr, value_set=value_set.cast(arr.type)).fill_null(False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=col.index)


def _loose_key(s: pd.Series) -> pd.Series:
    return s.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()
