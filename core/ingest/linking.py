"""The loaded tables linked to each other: reps, accounts and territories referred to by the other
tables, with orphans reported.

Runs the cross-table matching (core.ingest.matching), folds repeated quotas, derives sales from
won deals when no sales table was given and the reps from the other tables when no roster was
given (each such derived table gets a SourceInfo saying so), then lists the rows that refer to
a rep, account or territory missing from the table the user uploaded (kept, reported).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from core.dataset import SourceInfo
from core.ingest import cleaning, quota_sheet
from core.ingest.matching import (
    ACCOUNT_TABLES,
    REP_TABLES,
    canonical_products,
    canonical_reps,
    isin,
    map_names_to_ids,
)
from core.ingest.report import issue_rows
from core.schema import DEFAULT_ROLE, UNASSIGNED, empty_table

DERIVED_SALES_SOURCE = "derived: sales from won opportunities"
DERIVED_REPS_SOURCE = "derived: reps from the rep columns of the other tables"


def link(tables: dict[str, pd.DataFrame], issues: list[pd.DataFrame]) -> list[SourceInfo]:
    """Cross-table steps; returns SourceInfo rows for derived tables."""
    extra: list[SourceInfo] = []
    roster = has_rows(tables, "reps")
    unclear_reps: set[str] = set()
    if roster:
        found, unclear_reps = map_names_to_ids(tables, tables["reps"], "rep_id", "rep_name", REP_TABLES,
                                               "rep", cleaning.person_key, "region")
        issues.extend(found)
    issues.extend(canonical_reps(tables, unclear_reps))
    if has_rows(tables, "accounts"):
        found, unclear_accounts = map_names_to_ids(tables, tables["accounts"], "account_id", "account_name",
                                                   ACCOUNT_TABLES, "account", where="territory_id")
        issues.extend(found)
    issues.extend(canonical_products(tables))
    named = [tables[n]["rep_id"] for n in REP_TABLES if n in tables and n != "quotas"]
    if not roster and named and has_rows(tables, "quotas"):     # quota sheets name reps as the export does
        owners = pd.DataFrame({"rep_id": pd.concat(named).dropna().unique()}).astype("str")
        found, _ = map_names_to_ids(tables, owners.assign(rep_name=owners["rep_id"]), "rep_id", "rep_name",
                                    ("quotas",), "rep", cleaning.person_key)
        issues.extend(found)
    if has_rows(tables, "quotas"):
        tables["quotas"], repeated = quota_sheet.repeated_quotas(tables["quotas"])
        issues.extend(repeated)
    if not has_rows(tables, "sales") and has_rows(tables, "opportunities"):
        tables["sales"], sale_issues = _sales_from_won(tables["opportunities"])
        issues.extend(sale_issues)
        extra.append(SourceInfo(DERIVED_SALES_SOURCE, "sales", len(tables["sales"]),
                                note="No sales table was uploaded: each won opportunity counts as a sale "
                                     "of its amount on its close date (rep, account and product kept)."))
    if not roster:
        reps = _derive_reps(tables)
        if len(reps):
            tables["reps"] = reps.assign(_source=DERIVED_REPS_SOURCE, _row=0)
            extra.append(SourceInfo(DERIVED_REPS_SOURCE, "reps", len(reps),
                                    note="No reps roster was uploaded: reps are the people named in the rep "
                                         "columns of the other tables, with region and territory "
                                         f"'{UNASSIGNED}'."))
    else:
        issues.extend(_orphans(tables, "reps", "rep_id", REP_TABLES, "rep", unclear_reps))
    if has_rows(tables, "accounts"):
        issues.extend(_orphans(tables, "accounts", "account_id", ACCOUNT_TABLES, "account", unclear_accounts))
    if has_rows(tables, "territories"):
        issues.extend(_orphans(tables, "territories", "territory_id", ("reps", "accounts"), "territory"))
    return extra


def has_rows(tables: dict[str, pd.DataFrame], name: str) -> bool:
    return name in tables and len(tables[name]) > 0


def _sales_from_won(opps: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    won = opps[opps["status"].eq("won")]
    usable = won["close_date"].notna() & won["amount"].notna()
    issues = []
    for src, part in won[~usable].groupby("_source", sort=False):
        issues.append(issue_rows("sales", src, part["_row"], "close_date / amount",
                                 "won deal without close date or amount; not counted as a sale",
                                 part["opportunity_id"], "warning"))
    won = won[usable]
    sales = pd.DataFrame({"date": won["close_date"], "rep_id": won["rep_id"], "account_id": won["account_id"],
                          "product": won["product"], "revenue": won["amount"],
                          "units": np.nan, "_source": DERIVED_SALES_SOURCE, "_row": won["_row"]})
    return sales.reset_index(drop=True), issues


def _derive_reps(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    columns = [tables[n]["rep_id"] for n in REP_TABLES if n in tables]
    if not columns:
        return empty_table("reps")
    ids = pd.concat(columns, ignore_index=True)
    ids = pd.Series(ids.dropna().unique(), dtype="str").sort_values(ignore_index=True)
    reps = empty_table("reps").reindex(range(len(ids)))
    reps["rep_id"] = ids
    reps["rep_name"] = ids
    reps["region"] = UNASSIGNED
    reps["territory_id"] = UNASSIGNED
    reps["role"] = DEFAULT_ROLE
    return reps


def _orphans(tables: dict[str, pd.DataFrame], ref_table: str, column: str, targets: Sequence[str],
             what: str, reported: Iterable[str] = ()) -> list[pd.DataFrame]:
    """Rows that refer to ids missing from a table the user uploaded: reported, kept (except the
    `reported` values, already listed as ambiguous)."""
    known = set(tables[ref_table][column].dropna()) | set(reported)
    issues = []
    for name in targets:
        t = tables.get(name)
        if t is None or column not in t:
            continue
        orphan = t[column].notna() & ~isin(t[column], known)
        if not orphan.any():
            continue
        part = t[orphan]
        summary = part.groupby(["_source", column], sort=False)["_row"].agg(["first", "size"]).reset_index()
        for src, group in summary.groupby("_source", sort=False):
            value = group[column].astype("str")
            issues.append(issue_rows(name, src, group["first"], column,
                                     what + " '" + value + "' is not in " + ref_table + " (" +
                                     group["size"].map("{:,}".format) + " rows); kept", value, "orphan"))
    return issues
