"""Each table's rows as numpy arrays, once per Dataset: the rep of each row as its position on the
whole roster (ids factorized once), dates as datetime64, categories as small integer codes."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.kpis.inputs import day, month_number, opportunity_statuses, sales_table, spread_by_month, whole_roster
from core.kpis.quota import quota_by_month, total_quota_by_month
from core.schema import FACE_TO_FACE, empty_table

# ---------------------------------------------------------------------------------------------
# Each table's rows as numpy arrays, once per Dataset: the rep of each row as its position in the
# whole roster (ids factorized once, not on every call), dates as datetime64, categories as codes
# ---------------------------------------------------------------------------------------------

Arrays = dict[str, np.ndarray]


def positions(index: pd.Index, values: pd.Series, dtype: type[np.signedinteger[Any]] = np.int64) -> np.ndarray:
    """Position of each value in `index` (-1 when absent or missing), as `dtype`. Factorizing
    first means the hash lookup runs over the few distinct ids, not over millions of rows."""
    codes, uniques = factorized(values)
    lookup = np.append(index.get_indexer(uniques), -1).astype(dtype)
    return np.asarray(lookup[codes])


def factorized(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 = missing) and the values they stand for: a categorical's own codes and
    categories (ids and labels come from ingest as categoricals), without hashing every row
    again nor an 8-byte code per row; pd.factorize for any other column."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return np.asarray(values.cat.codes.to_numpy()), values.cat.categories
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def _codes(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """1 + the position of each value in `names`, len(names) + 1 for any other value, 0 for a
    missing one."""
    codes, uniques = factorized(values)
    at = pd.Index(names).get_indexer(uniques)
    lookup = np.append(np.where(at >= 0, at + 1, len(names) + 1), 0).astype(np.int8)
    return np.asarray(lookup[codes])


def _dates(frame: pd.DataFrame, col: str) -> np.ndarray:
    return np.asarray(frame[col].to_numpy(dtype="datetime64[ns]"))


def _floats(frame: pd.DataFrame, col: str) -> np.ndarray:
    return np.asarray(frame[col].to_numpy(dtype="float64", na_value=np.nan))


def rows_of(ds: Dataset, name: str) -> Arrays:
    """The arrays of table `name` (see BUILDERS); `r` is each row's roster position (-1 = none).
    Sales and activities are held in date order (DATE_ORDER), whatever the file's order."""
    def build() -> Arrays:
        frame = _source(ds, name)
        ids = pd.Index(whole_roster(ds)["rep_id"])
        return _in_date_order(name, {"r": positions(ids, frame["rep_id"], np.int32)} | BUILDERS[name](ds, frame))

    return ds.memo(("metrics.rows", name), build)


# The tables whose arrays are held in date order (by this column), so that a period's rows are one
# run of them (dated_rows); PER_ACCOUNT arrays are indexed by account code, not by row.
DATE_ORDER = {"sales": "date", "activities": "date"}
PER_ACCOUNT = ("first_bought", "account_ids")


def _in_date_order(name: str, arrays: Arrays) -> Arrays:
    """`arrays` with their rows in date order (stable; NaT first) when the table has a DATE_ORDER
    column and its file is not in date order already; then `row` gives each array row's row in
    the table's frame (source_rows). Files are usually in date order: nothing is copied then."""
    col = DATE_ORDER.get(name)
    keys = arrays[col].view(np.int64) if col else None
    if keys is None or len(keys) < 2 or bool((keys[1:] >= keys[:-1]).all()):
        return arrays
    order = np.argsort(keys, kind="stable").astype(np.int32 if len(keys) < 2**31 else np.int64)
    return {k: v if k in PER_ACCOUNT else v[order] for k, v in arrays.items()} | {"row": order}


def dated_rows(ds: Dataset, name: str, col: str, start: date, end: date) -> slice:
    """The rows of table `name` (a DATE_ORDER table) whose day `col` is in [start, end] (NaT is
    not), as a slice of rows_of(ds, name)'s arrays: what `within` selects, found by two binary
    searches instead of a comparison of every row."""
    if DATE_ORDER.get(name) != col:
        raise ValueError(f"{name}'s arrays are not in {col} order")
    keys = rows_of(ds, name)[col].view(np.int64)
    lo, hi = int(day(start).view(np.int64)), int(day(end).view(np.int64))
    a, b = int(np.searchsorted(keys, lo, "left")), int(np.searchsorted(keys, hi, "right"))
    return slice(a, max(a, b))


def source_rows(a: Arrays, rows: slice | np.ndarray) -> slice | np.ndarray:
    """The rows of the table's frame (sales_table for sales) behind the arrays' rows `rows` (a
    slice, positions or a mask): for a reader of the frame's other columns."""
    return a["row"][rows] if "row" in a else rows


def _source(ds: Dataset, name: str) -> pd.DataFrame:
    """The frame behind table `name`'s arrays: quotas and incentives spread over months; a
    canonical column a hand-made frame lacks is read as missing values."""
    if name == "quotas":
        return total_quota_by_month(quota_by_month(ds))
    if name == "incentives":
        return spread_by_month(ds.table("incentives"), "payout")
    frame = sales_table(ds) if name == "sales" else ds.table(name)
    absent = [c for c in empty_table(name).columns if c not in frame.columns]
    return frame.assign(**dict.fromkeys(absent, np.nan)) if absent else frame


def _sales_arrays(ds: Dataset, s: pd.DataFrame) -> Arrays:
    """Revenue (NaN → 0), the account code of each line and, per account code, its account id and
    the first day it bought (revenue > 0, any rep): an account is new in a period when it never
    bought before."""
    acc, uniques = pd.factorize(s["account_id"])
    day, revenue = _dates(s, "date"), _floats(s, "revenue")
    bought = (revenue > 0) & (acc >= 0) & ~np.isnat(day)
    if np.isnan(revenue).any():     # else the column itself, not a copy kept for the Dataset's life
        revenue = np.nan_to_num(revenue)
    return {"date": day, "revenue": revenue, "acc": acc.astype(np.int32),
            "first_bought": _first_day(acc[bought], day[bought], len(uniques)),
            "account_ids": np.asarray(uniques, dtype=object)}


def _first_day(group: np.ndarray, day: np.ndarray, n_groups: int) -> np.ndarray:
    """The earliest of `day` (no NaT) per group code 0 … n_groups − 1 (NaT for a group without one)."""
    never = np.iinfo(np.int64).max
    first = np.full(n_groups, never, dtype=np.int64)
    np.minimum.at(first, group, day.astype("datetime64[ns]").view(np.int64))
    return np.where(first == never, np.datetime64("NaT", "ns").view(np.int64), first).view("datetime64[ns]")


def _opportunity_arrays(ds: Dataset, o: pd.DataFrame) -> Arrays:
    """Status (_codes of STATUS), close day, cycle in days and value: the amount, else the
    product's list price (products table)."""
    status = opportunity_statuses(ds)
    # A lost deal's amount of 0 is the CRM zeroing it on loss (Salesforce, Maven), not its size
    # while it was open: for the pipeline open at a period's start it is unknown (then list price).
    zeroed = (status == "lost") & (o["amount"] == 0).to_numpy(dtype=bool, na_value=False)
    return {"status": _codes(pd.Series(status), STATUS), "close": _dates(o, "close_date"),
            "created": _dates(o, "created_date"),
            "cycle": (o["close_date"] - o["created_date"]).dt.days.to_numpy(dtype="float64", na_value=np.nan),
            "value": opportunity_value(ds, o).to_numpy(dtype="float64", na_value=np.nan),
            "value_open": opportunity_value(ds, o.assign(amount=o["amount"].mask(zeroed)))
            .to_numpy(dtype="float64", na_value=np.nan)}


def opportunity_value(ds: Dataset, opps: pd.DataFrame) -> pd.Series:
    """Each deal's value: its amount, else its product's list price (products table), else NaN."""
    value = opps["amount"].astype("float64")
    missing = value.isna().to_numpy()
    if ds.has("products") and missing.any():       # only the deals without an amount are looked up
        price = ds.table("products").drop_duplicates("product").set_index("product")["list_price"]
        value = value.copy()
        value[missing] = opps.loc[missing, "product"].map(price).astype("float64").to_numpy()
    return value


def _activity_arrays(ds: Dataset, a: pd.DataFrame) -> Arrays:
    """Type and contact role as _codes of FACE_TO_FACE and ROLES, the plan flag as 0 unknown,
    1 no, 2 yes, and the account's position in the accounts table (for reach; -1 = not there)."""
    known = a["planned"].notna().to_numpy(dtype=bool)
    planned = known.astype(np.int8) + a["planned"].fillna(False).to_numpy(dtype=bool)   # a yes is known
    out = {"date": _dates(a, "date"), "kind": _codes(a["activity_type"], FACE_TO_FACE),
           "planned": planned, "role": _codes(a["contact_role"], ROLES)}
    if ds.has("accounts"):
        out["acc"] = positions(pd.Index(accounts_table(ds)["account_id"]), a["account_id"], np.int32)
    return out


def _follow_up_arrays(ds: Dataset, f: pd.DataFrame) -> Arrays:
    return {"due": _dates(f, "due_date"), "done": _dates(f, "completed_date")}


def _training_arrays(ds: Dataset, t: pd.DataFrame) -> Arrays:
    return {"date": _dates(t, "date"), "score": _floats(t, "score")}


def _spread_arrays(value: str) -> Callable[[Dataset, pd.DataFrame], Arrays]:
    def build(ds: Dataset, spread: pd.DataFrame) -> Arrays:
        return {"month": month_number(spread["month"].to_numpy()), "value": _floats(spread, value)}
    return build


STATUS = ("open", "won", "lost")
OPEN, WON, LOST = 1, 2, 3
MEETING, PRESENTATION, WORKSHOP = (1 + FACE_TO_FACE.index(k) for k in ("meeting", "presentation", "workshop"))
ROLES = ("user", "buyer", "admin")
BUILDERS = {"sales": _sales_arrays, "opportunities": _opportunity_arrays, "activities": _activity_arrays,
             "follow_ups": _follow_up_arrays, "training": _training_arrays,
             "quotas": _spread_arrays("quota"), "incentives": _spread_arrays("payout")}


def accounts_table(ds: Dataset) -> pd.DataFrame:
    return ds.memo(("metrics.accounts",), lambda: ds.table("accounts").drop_duplicates("account_id"))


def account_territories(ds: Dataset) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The territories that hold accounts, how many accounts each holds, and the territory
    position of each account (-1 = none)."""
    def build() -> tuple[pd.Index, np.ndarray, np.ndarray]:
        accounts = accounts_table(ds)
        territories = pd.Index(accounts["territory_id"].dropna().unique())
        per_territory = np.bincount(positions(territories, accounts["territory_id"].dropna()),
                                    minlength=len(territories))
        return territories, per_territory, positions(territories, accounts["territory_id"])

    return ds.memo(("metrics.account_territories",), build)

