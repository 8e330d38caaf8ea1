"""The per-rep × calendar-month parts, written once with Ibis and run on any Ibis backend: DuckDB
embedded by default (`dataset_month_parts`), or Spark, Snowflake, BigQuery, Postgres where the
canonical tables already live (`month_parts` on that backend's tables).

Each part is a plain sum or count over rows, so a period made of whole calendar months is the sum
of its months (`period_sums`), and gives the same numbers as core.kpis.parts.period_parts (the
pandas engine, which stays the reference) for the parts in `MONTH_ADDITIVE`. The rules are those of
the pandas engine: rows of reps off the roster do not count; revenue is the sales table's, else the
won deals' amounts on their close date; an opportunity's status is its status column where valid,
else read from its stage; quotas and payouts labelled with a period (2025, 2025-Q3, 2025-07) are
spread evenly over its months (labels parsed once each by core.periods.parse_period), quotas only
over the months the rep was employed, a rep-month's all-products quota replacing its product quotas.

Not month-additive, left to pandas: distinct accounts (accounts_now, accounts_before, new_account,
touched — an account counts once per period, not once per month), medians (cycle, late),
snapshots of one day (open_*, start_*, overdue_open_follow_ups, pipeline_at_start). Follow-ups due
are counted up to the last day of the data, so a period still in progress is not the sum of its
months either.

The app and the report keep core.kpis.parts for the Dataset they hold in memory (measured, issue 14:
not adopted). Its arrays are built once per Dataset (rows_of) and a new period's parts then cost
0.005 s CPU at 40 reps and 0.14 s at 1,000 reps × 3 years, distinct accounts and snapshots included;
these month parts cost 0.5 s (40 reps) and 2.4 s plus 270 MB of peak memory (1,000 reps) once, and
summing a period from them (period_sums) 0.02–0.04 s, while the arrays stay needed for the parts
that are not month-additive. This engine is for data that lives in a database (core.engine.backend).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.periods import Period, PeriodError, parse_period
from core.schema import FACE_TO_FACE, OPPORTUNITY_STATUSES

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pyarrow as pa

    from core.dataset import Dataset

Tables = Mapping[str, "ir.Table"]
Family = Callable[[Tables, "ir.Table | None"], "ir.Table | None"]

ROLES = ("user", "buyer", "admin")
# The canonical tables the parts are computed from.
ENGINE_TABLES = ("reps", "sales", "opportunities", "products", "activities", "follow_ups", "training", "quotas",
                 "incentives")
# The Ibis type of each canonical column type (core.schema).
IBIS_TYPES = {"str": "string", "date": "timestamp", "float": "float64", "int": "int64", "bool": "boolean"}
# Monthly parts that are absent (NaN, n/a) for a rep-month without a row, not 0.
SPREAD = ("quota", "payout")
# Parts only this engine gives (core.kpis.parts has no such part): checked on hand-built teams.
ENGINE_ONLY = ("won_value", "lost_value", "opened", "trainings")
# The period parts of core.kpis.parts.period_parts that are sums of these monthly parts, each as
# (monthly part, which months): the period's own, a year earlier, the 12 months to its end, or
# from the earliest of those (and the period before) to its end.
MONTH_ADDITIVE: dict[str, tuple[str, str]] = {
    "revenue": ("revenue", "period"), "revenue_prior_year": ("revenue", "year_earlier"),
    "revenue_12m": ("revenue", "trailing_12"), "account_rows": ("account_lines", "account_window"),
    "rep_quota": ("quota", "period"), "rep_payout": ("payout", "period"),
    "won": ("won", "period"), "lost": ("lost", "period"),
    "meetings": ("meetings", "period"), "presentations": ("presentations", "period"),
    "workshops": ("workshops", "period"), "meeting_type": ("meeting_type", "period"),
    "planned": ("planned", "period"), "planned_known": ("planned_known", "period"),
    "role_known": ("role_known", "period"), **{f"role_{r}": (f"role_{r}", "period") for r in ROLES},
    "follow_ups_due": ("follow_ups_due", "period"), "follow_ups_on_time": ("follow_ups_on_time", "period"),
    "score_sum": ("score_sum", "period"), "scores": ("scores", "period"),
}


# ------------------------------------------------------------------------------------ helpers
def _month(col: ir.Value) -> ir.Value:
    """The first day of the value's month, as a date."""
    return col.cast("timestamp").truncate("M").cast("date")


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    """1 where `cond` holds, 0 where it does not or is unknown (a count's summand)."""
    import ibis

    return ibis.ifelse(cond.fill_null(False), 1, 0)


def _on_roster(t: ir.Table, reps: ir.Table | None) -> ir.Table:
    """Rows of reps on the roster (the reps table when there is one, else every rep named)."""
    t = t.filter(t.rep_id.notnull())
    if reps is None:
        return t
    return t.semi_join(reps.select(rep_id=reps.rep_id.cast("string")).distinct(), "rep_id")


def _by_rep_month(t: ir.Table, when: ir.Value, **parts: ir.Value) -> ir.Table:
    """Σ of each part per (rep_id, month of `when`), rows without a date left out."""
    t = t.filter(when.notnull()).mutate(month=_month(when))
    return t.group_by(["rep_id", "month"]).aggregate(**{k: v.sum() for k, v in parts.items()})


# ------------------------------------------------------------------------------------- status
def opportunity_status(opps: ir.Table) -> ir.StringValue:
    """won / lost / open: the status column where it is one of those, else from the stage
    (core.kpis.inputs.opportunity_status, as a column expression)."""
    import ibis

    status = opps.status.cast("string").strip().lower()
    stage = opps.stage.cast("string").lower()
    derived = (ibis.cases((stage.contains("won"), "won"), (stage.contains("lost"), "lost"), else_="open")
               .fill_null("open"))
    return ibis.ifelse(status.isin(OPPORTUNITY_STATUSES).fill_null(False), status, derived)


def _value(tables: Tables, opps: ir.Table) -> ir.Table:
    """The opportunities with `value`: the amount, else the product's list price, else null."""
    amount = opps.amount.cast("float64")
    if "products" not in tables:
        return opps.mutate(value=amount)
    products = tables["products"]
    prices = products.group_by(products["product"]).aggregate(list_price=products.list_price.cast("float64").first())
    joined = opps.left_join(prices, opps["product"] == prices["product"])
    return joined.mutate(value=joined.amount.cast("float64").fill_null(joined.list_price))


# ------------------------------------------------------------------------------------ families
def _sales(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Revenue and the lines naming an account, by the line's month."""
    if "sales" in tables:
        s = tables["sales"]
        s = s.select(rep_id=s.rep_id.cast("string"), date=s.date, account_id=s.account_id,
                     revenue=s.revenue.cast("float64"))
    elif "opportunities" in tables:
        o = tables["opportunities"]
        o = o.filter((opportunity_status(o) == "won") & o.close_date.notnull())
        s = o.select(rep_id=o.rep_id.cast("string"), date=o.close_date, account_id=o.account_id,
                     revenue=o.amount.cast("float64"))
    else:
        return None
    s = _on_roster(s, reps)
    return _by_rep_month(s, s.date, revenue=s.revenue.fill_null(0.0), account_lines=_flag(s.account_id.notnull()))


def _opportunities(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Deals won and lost (and their value) by close month; deals opened by created month."""
    if "opportunities" not in tables:
        return None
    o = _on_roster(tables["opportunities"].mutate(rep_id=tables["opportunities"].rep_id.cast("string")), reps)
    o = _value(tables, o.mutate(status_=opportunity_status(o)))
    won, lost = o.status_ == "won", o.status_ == "lost"
    closed = _by_rep_month(o, o.close_date, won=_flag(won), lost=_flag(lost),
                           won_value=_amount_if(won, o.value), lost_value=_amount_if(lost, o.value))
    opened = _by_rep_month(o, o.created_date, opened=_flag(o.created_date.notnull()))
    return _outer(closed, opened)


def _amount_if(cond: ir.BooleanValue, value: ir.Value) -> ir.Value:
    """`value` where `cond` holds, else 0 (a sum's summand; a null value adds nothing)."""
    import ibis

    return ibis.ifelse(cond.fill_null(False), value.fill_null(0.0), 0.0)


def _activities(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Activities by type (face-to-face ones as meetings), plan flag and contact role."""
    if "activities" not in tables:
        return None
    a = tables["activities"]
    a = _on_roster(a.mutate(rep_id=a.rep_id.cast("string")), reps)
    kind, role = a.activity_type.cast("string"), a.contact_role.cast("string")
    return _by_rep_month(
        a, a.date, meetings=_flag(kind.isin(FACE_TO_FACE)), presentations=_flag(kind == "presentation"),
        workshops=_flag(kind == "workshop"), meeting_type=_flag(kind == "meeting"),
        planned=_flag(a.planned.cast("boolean")), planned_known=_flag(a.planned.notnull()),
        role_known=_flag(role.notnull()), **{f"role_{r}": _flag(role == r) for r in ROLES})


def _follow_ups(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Follow-ups by due month, and those done on or before their due day."""
    if "follow_ups" not in tables:
        return None
    f = tables["follow_ups"]
    f = _on_roster(f.mutate(rep_id=f.rep_id.cast("string")), reps)
    return _by_rep_month(f, f.due_date, follow_ups_due=_flag(f.due_date.notnull()),
                         follow_ups_on_time=_flag(f.completed_date <= f.due_date))


def _training(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Training sessions, and the sum and number of their scores, by month."""
    if "training" not in tables:
        return None
    t = tables["training"]
    t = _on_roster(t.mutate(rep_id=t.rep_id.cast("string"), score=t.score.cast("float64")), reps)
    return _by_rep_month(t, t.date, trainings=_flag(t.date.notnull()), score_sum=t.score.fill_null(0.0),
                         scores=_flag(t.score.notnull()))


def _months_of_labels(t: ir.Table, column: str = "period") -> ir.Table:
    """label → one row per month it covers, with the number of months: each distinct label of the
    table parsed once in Python (core.periods, the one parser of period labels); unreadable ones
    are left out, as ingest lists them."""
    import ibis

    labels = t.select(label=t[column].cast("string")).distinct().to_pyarrow().column("label").to_pylist()
    rows: list[tuple[str, date, int]] = []
    for label in labels:
        if label is None:
            continue
        try:
            months = parse_period(label).months()
        except PeriodError:
            continue
        rows += [(label, pd.Period(m, freq="M").start_time.date(), len(months)) for m in months]
    frame = pd.DataFrame(rows, columns=["label", "month", "n_months"]).astype(
        {"label": "str", "month": "datetime64[s]", "n_months": "int64"})
    return ibis.memtable(frame).mutate(month=ibis._.month.cast("date"))


def _spread(t: ir.Table, value: str) -> ir.Table:
    """Rows labelled with a period, one per month of it, the value split evenly (spread_by_month)."""
    months = _months_of_labels(t)
    t = t.filter(t[value].notnull()).mutate(label=t.period.cast("string"))
    j = t.join(months, "label")
    return j.mutate(**{value: j[value].cast("float64") / j.n_months})


def _quotas(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Quota per rep-month: spread over the period's months the rep was employed; the month's
    all-products quota where one is given, else Σ its product quotas (core.kpis.quota)."""
    import ibis

    if "quotas" not in tables:
        return None
    q = tables["quotas"]
    q = _on_roster(q.mutate(rep_id=q.rep_id.cast("string")), reps)
    q = _spread(q, "quota")
    if reps is not None:
        q = _employed(q, reps)
    blank = q["product"].isnull()
    g = q.group_by(["rep_id", "month"]).aggregate(
        total=_amount_if(blank, q.quota).sum(), totals=_flag(blank).sum(), by_product=q.quota.sum())
    return g.select("rep_id", "month", quota=ibis.ifelse(g.totals > 0, g.total, g.by_product))


def _employed(q: ir.Table, reps: ir.Table) -> ir.Table:
    """Rows of months the rep was employed: from the hire month to the month of the last day
    (an unknown date does not limit)."""
    dates = reps.select(rep_id=reps.rep_id.cast("string"), hired=_month(reps.hire_date), left=_month(reps.end_date))
    dates = dates.group_by("rep_id").aggregate(hired=dates.hired.first(), left=dates.left.first())
    j = q.left_join(dates, "rep_id")
    keep = (j.hired.isnull() | (j.month >= j.hired)) & (j.left.isnull() | (j.month <= j.left))
    return j.filter(keep).drop("hired", "left")


def _incentives(tables: Tables, reps: ir.Table | None) -> ir.Table | None:
    """Incentive payouts per rep-month, spread over the months of their period."""
    if "incentives" not in tables:
        return None
    i = tables["incentives"]
    i = _spread(_on_roster(i.mutate(rep_id=i.rep_id.cast("string")), reps), "payout")
    return i.group_by(["rep_id", "month"]).aggregate(payout=i.payout.sum())


def _outer(a: ir.Table, b: ir.Table) -> ir.Table:
    """Two (rep_id, month, parts…) tables side by side, every rep-month of either."""
    j = a.outer_join(b, ["rep_id", "month"])
    return j.mutate(rep_id=j.rep_id.fill_null(j.rep_id_right), month=j.month.fill_null(j.month_right)).drop(
        "rep_id_right", "month_right")


FAMILIES: tuple[Family, ...] = (_sales, _opportunities, _activities, _follow_ups, _training, _quotas, _incentives)


# ------------------------------------------------------------------------------------- running
def month_parts_queries(tables: Tables) -> list[ir.Table]:
    """One Ibis expression per family of parts, each (rep_id, month, its parts); a family whose
    table is absent gives none. `tables`: canonical table name → Ibis table with the canonical
    column names (any backend; all on the same one)."""
    tables = {name: _with_columns(t, name) for name, t in tables.items()}
    reps = tables.get("reps")
    return [q for fn in FAMILIES if (q := fn(tables, reps)) is not None]


def _with_columns(t: ir.Table, name: str) -> ir.Table:
    """The table with every canonical column: one it lacks is read as missing values (as
    core.kpis.arrays reads a hand-made frame)."""
    import ibis

    from core.schema import TABLES

    if name not in TABLES:
        return t
    absent = {c.name: ibis.null().cast(IBIS_TYPES[c.dtype]) for c in TABLES[name].columns if c.name not in t.columns}
    return t.mutate(**absent) if absent else t


def month_parts(tables: Tables) -> pd.DataFrame:
    """Every monthly part of every rep-month with a row, indexed by (rep_id, month): counts and
    sums 0 where the rep-month has rows of other tables, SPREAD parts NaN there. Runs on the
    tables' backend; only the per-rep × month result comes back."""
    frames = [_fetch(q) for q in month_parts_queries(tables)]
    if not frames:
        return pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=["rep_id", "month"]))
    out = pd.concat(frames, axis=1, join="outer").sort_index()
    counts = [c for c in out.columns if c not in SPREAD]
    out[counts] = out[counts].fillna(0.0)
    return out


def _fetch(query: ir.Table) -> pd.DataFrame:
    frame = query.to_pandas()
    frame["rep_id"] = frame["rep_id"].astype("str")
    frame["month"] = pd.to_datetime(frame["month"]).astype("datetime64[ns]")
    return frame.set_index(["rep_id", "month"]).astype("float64")


def period_sums(monthly: pd.DataFrame, period: Period, rep_ids: pd.Series | np.ndarray) -> dict[str, np.ndarray]:
    """The MONTH_ADDITIVE parts of `period` (whole calendar months) per rep of `rep_ids` (the
    whole roster, in its order), summed from `monthly` (month_parts): 0 for a count without rows,
    NaN for a SPREAD part without a row in those months."""
    first, last = _whole_months(period)
    months = monthly.index.get_level_values("month")
    ids = pd.Index(np.asarray(rep_ids))
    summed: dict[str, pd.DataFrame] = {}        # per window: Σ of every part per rep
    known: dict[str, pd.DataFrame] = {}         # per window: rows with a value, per rep
    out: dict[str, np.ndarray] = {}
    for name, (part, which) in MONTH_ADDITIVE.items():
        if part not in monthly.columns:
            continue
        if which not in summed:
            lo, hi = _window(which, period, first, last)
            rows = monthly[(months >= lo) & (months <= hi)].groupby(level="rep_id")
            summed[which], known[which] = rows.sum().reindex(ids), rows.count().reindex(ids)
        values = summed[which][part].fillna(0.0)
        if part in SPREAD:
            values = values.where(known[which][part] > 0)
        out[name] = values.to_numpy(dtype="float64")
    return out


def _whole_months(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month of a period made of whole calendar months (else ValueError)."""
    first, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    if first.day != 1 or not end.is_month_end:
        raise ValueError(f"{period.label} is not made of whole months: its parts are not sums of months")
    return first, end.to_period("M").start_time


def _window(which: str, period: Period, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The months [lo, hi] a MONTH_ADDITIVE part sums (core.kpis.parts._sales_parts' windows)."""
    year = pd.DateOffset(years=1)
    if which == "period":
        return first, last
    if which == "year_earlier":
        return first - year, last - year
    t12 = last - pd.DateOffset(months=11)
    if which == "trailing_12":
        return t12, last
    previous = pd.Timestamp(period.previous().start)
    return min(first - year, t12, previous), last


# ------------------------------------------------------------------------- the embedded default
def dataset_month_parts(ds: Dataset) -> pd.DataFrame:
    """month_parts of a Dataset's canonical tables, run on an embedded DuckDB (spilling to a
    temporary folder that is removed after)."""
    from core.engine.spill import ibis_duckdb

    with ibis_duckdb() as con:
        return month_parts(load_tables(con, ds))


def load_tables(con: Any, ds: Dataset) -> dict[str, ir.Table]:
    """The Dataset's canonical tables as views of the Ibis backend `con` (DuckDB, PySpark …),
    typed by the canonical schema (a column with no value at all still has its type)."""
    import ibis

    from core.schema import TABLES

    out = {}
    for name in ENGINE_TABLES:
        if ds.has(name):
            frame = ds.table(name)
            schema = ibis.schema({c.name: IBIS_TYPES[c.dtype] for c in TABLES[name].columns if c.name in frame.columns})
            out[name] = con.create_view(name, ibis.memtable(_arrow(frame, schema)), overwrite=True)
    return out


def _arrow(frame: pd.DataFrame, schema: ibis.Schema) -> pa.Table:
    """The frame's canonical columns as Arrow, typed by `schema`, every missing value (NaN, NaT,
    None) a null: Spark keeps a float NaN as a number, which no null test would see."""
    import pyarrow as pa

    return pa.Table.from_pandas(frame[list(schema.names)], schema=schema.to_pyarrow(), preserve_index=False)
