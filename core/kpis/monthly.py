"""Monthly series: every month at once, on rep × month arrays (revenue, quota, attainment;
activity and follow-up counts)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope
from core.kpis.arrays import Arrays, rows_of, source_rows
from core.kpis.grouping import Grouping, group_reps, ratio
from core.kpis.inputs import data_end, day, has_sales, month_number, month_start, sales_table, whole_roster
from core.kpis.quota import quota_by_month
from core.schema import FACE_TO_FACE
from core.settings import Settings

# ---------------------------------------------------------------------------------------------
# Monthly series: every month at once, on rep × month arrays
# ---------------------------------------------------------------------------------------------

def _month_axis(start: date, end: date) -> tuple[int, int]:
    first = int(month_number([pd.Timestamp(start)])[0])
    return first, int(month_number([pd.Timestamp(end)])[0]) - first + 1


def _rep_month_cells(grouping: Grouping, r: np.ndarray, months: np.ndarray | None,
                     days: np.ndarray | None, first: int, n_months: int,
                     where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows of reps in scope inside the month axis (of `where`, if given), and the flat
    rep × month cell of each. Rows carry month numbers (`months`) or days (`days`)."""
    in_scope = grouping.of_rep >= 0         # per roster position: one byte a row below, not eight

    def rows_of(inside: np.ndarray) -> np.ndarray:
        inside &= in_scope[r]
        if where is not None:
            inside &= where
        return np.flatnonzero(inside)

    if months is not None:
        rows = rows_of((months >= first) & (months < first + n_months))
        month = months[rows] - first
    elif days is not None:
        lo, hi = month_start(np.array([first, first + n_months])).to_numpy()
        rows = rows_of((days >= lo) & (days < hi))
        month = month_number(days[rows])
        month -= first
    else:
        raise ValueError("rows need their months or their days")
    cells = grouping.of_rep[r[rows]]
    cells *= n_months
    cells += month
    return rows, cells


def _rep_month(cells: np.ndarray, n_reps: int, n_months: int,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Σ weights (or a count) per rep × month cell as an (n_reps, n_months) array."""
    w = None if weights is None else np.asarray(weights, dtype="float64")
    if w is not None and np.isnan(w).any():
        w = np.nan_to_num(w)
    return np.bincount(cells, weights=w, minlength=n_reps * n_months).reshape(n_reps, n_months).astype("float64")


# The dated tables summed per rep × month: the day column, and the parts (name → weights of the
# rows given, None for a count). One rule for a window read from the rows and for the whole-data cube.
Weights = Callable[[Arrays, np.ndarray], dict[str, np.ndarray | None]]
MAX_CUBE_CELLS = 5_000_000           # rep × month cells a cube part holds (40 MB); beyond, windows read rows
CUBE_CHUNK = 4_000_000               # rows summed at a time building a cube


def _sales_weights(a: Arrays, rows: np.ndarray) -> dict[str, np.ndarray | None]:
    return {"revenue": a["revenue"][rows]}


def _activity_weights(a: Arrays, rows: np.ndarray) -> dict[str, np.ndarray | None]:
    kind, planned = a["kind"][rows], a["planned"][rows]
    return {"meetings": (kind >= 1) & (kind <= len(FACE_TO_FACE)), "planned": planned == 2,
            "planned_known": planned > 0}


def _follow_up_weights(a: Arrays, rows: np.ndarray) -> dict[str, np.ndarray | None]:
    return {"follow_ups_due": None, "follow_ups_on_time": a["done"][rows] <= a["due"][rows]}


DATED: dict[str, tuple[str, Weights]] = {"sales": ("date", _sales_weights),
                                          "activities": ("date", _activity_weights),
                                          "follow_ups": ("due", _follow_up_weights)}


def _counted(ds: Dataset, table: str, a: Arrays) -> np.ndarray | None:
    """Which rows count (None: all): a follow-up counts once it is due by the data's last day."""
    if table != "follow_ups":
        return None
    end_day = data_end(ds)
    return None if end_day is None else np.asarray(a["due"] <= day(end_day))


def _rep_month_parts(ds: Dataset, table: str, grouping: Grouping, first: int,
                     n_months: int) -> dict[str, np.ndarray]:
    """Each part (DATED) of `table` per rep in scope × month of the axis, as (reps, months) arrays
    (reps grouped each on its own): a slice of the Dataset's cube, else summed from the rows."""
    cube = _cube(ds, table)
    if cube is not None:
        return cube.window(grouping.pos, first, n_months)
    day_col, weights = DATED[table]
    a = rows_of(ds, table)
    rows, cells = _rep_month_cells(grouping, a["r"], None, a[day_col], first, n_months, _counted(ds, table, a))
    return {name: _rep_month(cells, len(grouping.reps), n_months, w) for name, w in weights(a, rows).items()}


@dataclass(frozen=True)
class Cube:
    """Every part of a dated table per whole-roster rep × month of its data (months from `first`).
    A cell sums its rows in row order, as a sum over a window's rows does, so a slice of the cube
    gives a window's numbers exactly."""

    first: int
    parts: dict[str, np.ndarray]

    def window(self, pos: np.ndarray, first: int, n_months: int) -> dict[str, np.ndarray]:
        """The parts of the reps at roster positions `pos` over months first … first + n_months − 1
        (0 outside the data)."""
        lo = first - self.first
        out = {}
        for name, part in self.parts.items():
            w = np.zeros((len(pos), n_months))
            a, b = max(lo, 0), min(lo + n_months, part.shape[1])
            if a < b:
                w[:, a - lo:b - lo] = part[pos, a:b]
            out[name] = w
        return out


def _cube(ds: Dataset, table: str) -> Cube | None:
    """`table`'s Cube, once per Dataset (each page and period then slices it instead of reading
    millions of rows again); None when its months × reps exceed MAX_CUBE_CELLS (e.g. a stray date
    decades away). Read CUBE_CHUNK rows at a time, so that 60 M activities need no row-sized
    temporaries (a table of one chunk sums exactly as a window of it does)."""
    def build() -> Cube | None:
        day_col, weights = DATED[table]
        a = rows_of(ds, table)
        days, counted = a[day_col], _counted(ds, table, a)
        n_all = len(whole_roster(ds))

        def kept(at: slice) -> np.ndarray:
            """The rows of chunk `at` with a rep on the roster and a date, that count."""
            keep = (a["r"][at] >= 0) & ~np.isnat(days[at])
            return np.asarray(np.flatnonzero(keep if counted is None else keep & counted[at]) + at.start)

        chunks = [slice(i, i + CUBE_CHUNK) for i in range(0, len(days), CUBE_CHUNK)]
        ends = [month_number(np.array([days[rows].min(), days[rows].max()]))
                for rows in (kept(c) for c in chunks) if len(rows)]
        if not ends:
            return Cube(0, {name: np.zeros((n_all, 0)) for name in weights(a, np.arange(0))})
        first = int(min(lo for lo, _ in ends))
        n_months = int(max(hi for _, hi in ends)) - first + 1
        if n_all * n_months > MAX_CUBE_CELLS:
            return None
        parts: dict[str, np.ndarray] = {}
        for chunk in chunks:
            rows = kept(chunk)
            cells = a["r"][rows].astype(np.int64) * n_months + (month_number(days[rows]) - first)
            for name, w in weights(a, rows).items():
                sums = _rep_month(cells, n_all, n_months, w)
                parts[name] = parts[name] + sums if name in parts else sums
        return Cube(first, parts)

    return ds.memo(("dataset.month_cube", table), build)


def _by_grouping(reps: pd.DataFrame, by: str | None) -> tuple[np.ndarray, pd.Index]:
    if by is None:
        return np.zeros(len(reps), dtype=np.int64), pd.Index(["all"])
    codes, keys = pd.factorize(reps[by], sort=True)
    return codes.astype(np.int64), pd.Index(keys)


def _to_long(arrays: dict[str, np.ndarray], first: int, keys: pd.Index, by: str | None) -> pd.DataFrame:
    """(groups, months) arrays → long frame month, [by], one column per array."""
    n_groups, n_months = next(iter(arrays.values())).shape
    out = pd.DataFrame({"month": np.tile(month_start(first + np.arange(n_months)), n_groups)})
    if by is not None:
        out[by] = pd.Series(np.repeat(keys.to_numpy(), n_months), dtype="str")
    for name, arr in arrays.items():
        out[name] = arr.reshape(-1)
    return out


def _group_sum(arr: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups, arr.shape[1]))
    np.add.at(out, codes, np.nan_to_num(arr))
    return out


def monthly(ds: Dataset, start: date, end: date, settings: Settings, scope: Scope = Scope(),
            by: str | None = None) -> pd.DataFrame:
    """Every month touched by [start, end]: month, [by], revenue, quota, attainment, with by in
    None (team), "region", "rep_id" or "product" (quota = product quotas). Attainment of a group
    of reps counts only the revenue of reps that had a quota that month."""
    if by not in (None, "region", "rep_id", "product"):
        raise ValueError(f"by must be None, 'region', 'rep_id' or 'product', not {by!r}")
    grouping, _ = group_reps(ds, scope)
    reps = grouping.reps
    first, n_months = _month_axis(start, end)
    if by == "product":
        return _monthly_by_product(ds, grouping, first, n_months)
    n_reps = len(reps)
    revenue = np.full((n_reps, n_months), np.nan)
    if has_sales(ds):
        revenue = _rep_month_parts(ds, "sales", grouping, first, n_months)["revenue"]
    quota = np.full((n_reps, n_months), np.nan)
    if ds.has("quotas"):
        a = rows_of(ds, "quotas")
        rows, cells = _rep_month_cells(grouping, a["r"], a["month"], None, first, n_months)
        count = _rep_month(cells, n_reps, n_months)
        total = _rep_month(cells, n_reps, n_months, a["value"][rows])
        quota = np.where(count > 0, total, np.nan)
    codes, keys = _by_grouping(reps, by)
    with_quota = quota > 0
    g_rev = _group_sum(revenue, codes, len(keys))
    g_quota = _group_sum(np.where(with_quota, quota, 0), codes, len(keys))
    g_rev_q = _group_sum(np.where(with_quota, revenue, 0), codes, len(keys))
    has_quota = _group_sum(with_quota.astype(float), codes, len(keys)) > 0
    if not has_sales(ds):
        g_rev = g_rev_q = np.full_like(g_rev, np.nan)
    known = _sales_months_known(ds, first, n_months)
    g_rev, g_rev_q = np.where(known, g_rev, np.nan), np.where(known, g_rev_q, np.nan)
    return _to_long({"revenue": g_rev, "quota": np.where(has_quota, g_quota, np.nan),
                     "attainment": np.where(has_quota, ratio(g_rev_q, g_quota), np.nan)},
                    first, keys, by)


def _sales_months_known(ds: Dataset, first: int, n_months: int) -> np.ndarray:
    """Which months of the axis the sales data covers (from the month of its first sale to the
    month of its last, whole team): outside it revenue is unknown (a gap), not $0."""
    span = _sales_months(ds) if has_sales(ds) else None
    if span is None:
        return np.zeros(n_months, dtype=bool)
    lo, hi = span
    axis = first + np.arange(n_months)
    return np.asarray((axis >= lo) & (axis <= hi))


def _sales_months(ds: Dataset) -> tuple[int, int] | None:
    """The month numbers of the first and the last sale (None: no dated sale), once per Dataset."""
    def build() -> tuple[int, int] | None:
        days = rows_of(ds, "sales")["date"]
        days = days[~np.isnat(days)]
        if not len(days):
            return None
        lo, hi = month_number(np.array([days.min(), days.max()]))
        return int(lo), int(hi)

    return ds.memo(("dataset.sales_months",), build)


def _monthly_by_product(ds: Dataset, grouping: Grouping, first: int, n_months: int) -> pd.DataFrame:
    lo, hi = month_start(np.array([first, first + n_months]))
    frames = []
    if has_sales(ds):
        a = rows_of(ds, "sales")
        rows, _ = _rep_month_cells(grouping, a["r"], None, a["date"], first, n_months)
        lines = sales_table(ds).take(source_rows(a, rows))
        frames.append(lines.assign(month=month_start(month_number(a["date"][rows])))
                      .groupby(["product", "month"])["revenue"].sum())
    qm = quota_by_month(ds)
    qm = qm[qm["product"].notna() & qm["rep_id"].isin(grouping.reps["rep_id"]) & (qm["month"] >= lo)
            & (qm["month"] < hi)]
    frames.append(qm.groupby(["product", "month"])["quota"].sum())
    out = pd.concat(frames, axis=1).reindex(columns=["revenue", "quota"]).reset_index()
    if has_sales(ds):
        known = _sales_months_known(ds, first, n_months)[month_number(out["month"].to_numpy()) - first]
        out["revenue"] = out["revenue"].fillna(0.0).where(known)
    out["attainment"] = ratio(out["revenue"].to_numpy(dtype="float64"), out["quota"].to_numpy(dtype="float64"))
    return out[["month", "product", "revenue", "quota", "attainment"]].sort_values(["product", "month"],
                                                                                  ignore_index=True)


def monthly_activity(ds: Dataset, start: date, end: date, scope: Scope = Scope(),
                     by: str | None = "rep_id") -> pd.DataFrame:
    """Per month (every month touched by [start, end]) and rep (or by="region", or None = team):
    month, [by], meetings, meetings_per_week (per rep), planned, planned_known,
    call_plan_adherence, follow_ups_due, follow_ups_on_time, on_time_follow_up_rate.
    NaN where the table is missing."""
    if by not in (None, "region", "rep_id"):
        raise ValueError(f"by must be None, 'region' or 'rep_id', not {by!r}")
    grouping, _ = group_reps(ds, scope)
    reps = grouping.reps
    first, n_months = _month_axis(start, end)
    codes, keys = _by_grouping(reps, by)
    nan = np.full((len(keys), n_months), np.nan)
    parts = dict.fromkeys(("meetings", "planned", "planned_known", "follow_ups_due", "follow_ups_on_time"), nan)
    for table in ("activities", "follow_ups"):
        if ds.has(table):
            for name, sums in _rep_month_parts(ds, table, grouping, first, n_months).items():
                parts[name] = _group_sum(sums, codes, len(keys))
    month_days = pd.DatetimeIndex(month_start(first + np.arange(n_months))).days_in_month.to_numpy()
    rep_weeks = np.outer(np.bincount(codes, minlength=len(keys)), month_days / 7)
    parts["meetings_per_week"] = ratio(parts["meetings"], rep_weeks)
    parts["call_plan_adherence"] = ratio(parts["planned"], parts["planned_known"])
    parts["on_time_follow_up_rate"] = ratio(parts["follow_ups_on_time"], parts["follow_ups_due"])
    order = ["meetings", "meetings_per_week", "planned", "planned_known", "call_plan_adherence",
             "follow_ups_due", "follow_ups_on_time", "on_time_follow_up_rate"]
    return _to_long({k: parts[k] for k in order}, first, keys, by)

