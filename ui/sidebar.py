"""The sidebar every page shares: data source, period and scope."""
from __future__ import annotations

import json
import threading
import weakref
from datetime import date

import pandas as pd
import streamlit as st

from core import periods
from core.dataset import Dataset, Scope
from core.errors import UserError
from core.ingest.quota_rules import with_quotas
from core.periods import Period
from core.report.session import ALL_CHOICE
from core.schema import UNASSIGNED
from core.settings import Settings
from ui.source import choice_names, default_data
from ui.state import (
    CTX_KEY,
    OVERRIDES_KEY,
    UPLOAD_KEY,
    Ctx,
    release_when_closed,
    settings,
    uploaded_dataset,
)
from ui.text import md

SAMPLE, MINE = "Sample team (demo data)", "My files"
KINDS = {"Quarter": "quarter", "Month": "month", "Year": "year", "Custom range": "custom"}
ALL = ALL_CHOICE         # a session file keeps this choice; core.report.session reads it back


def _dataset(source: str) -> tuple[Dataset, str]:
    chosen = settings()
    if source == MINE:
        files = st.session_state.get(UPLOAD_KEY)
        if not files:
            raise UserError("No files uploaded yet: add them on the Data page, or choose the sample team.")
        label = ", ".join(name for name, _ in files[:3]) + (" …" if len(files) > 3 else "")
        overrides = {**(st.session_state.get(OVERRIDES_KEY) or {}), **chosen.ingest_options()}
        ds = uploaded_dataset(files, overrides or None)
    else:
        opened = default_data(chosen)        # the administrator's source, else the bundled sample
        ds, label = opened.ds, opened.label
    if not chosen.quotas:
        return ds, label
    key = json.dumps([ds.fingerprint, chosen.quotas, chosen.fiscal_start_month, chosen.quota_seasonality])
    return _with_app_quotas(key, ds, chosen), label


_with_quotas: weakref.WeakValueDictionary[str, Dataset] = weakref.WeakValueDictionary()
_with_quotas_lock = threading.Lock()


def _with_app_quotas(key: str, ds: Dataset, chosen: Settings) -> Dataset:
    """The data with the quotas set in the app, once per content (key) while a session shows it:
    indexed weakly like uploads, so it goes with the last session holding it (its context)."""
    with _with_quotas_lock:
        held = _with_quotas.get(key)
    if held is None:
        held = with_quotas(ds, chosen.quotas, chosen.fiscal_start_month, chosen.quota_seasonality)
        with _with_quotas_lock:
            held = _with_quotas.setdefault(key, held)
    return held


def _period_choices(kind: str, first: date, last: date, fiscal_start: int = 1) -> list[Period]:
    """Every period of `kind` the data touches, most recent first."""
    out, p = [], periods.period_of(kind, last, fiscal_start)
    while p.end >= first:
        out.append(p)
        p = p.previous()
    return out


def _period(ds: Dataset) -> Period:
    span = ds.date_span()
    kind = KINDS[st.selectbox("Period", list(KINDS), key="period_kind",
                              help="Month, quarter or year — or any range of days.")]
    if span is None:
        raise UserError("The data has no dates with sales or closed deals, so no period can be chosen.")
    first, last = span
    if kind == "custom":
        picked = st.date_input("From – to", value=(max(first, last - pd.Timedelta(days=89).to_pytimedelta()),
                                                  last), min_value=first, max_value=last, key="period_custom")
        start, end = (picked if isinstance(picked, tuple) and len(picked) == 2 else (picked[0], picked[0]))
        return periods.custom(start, end)
    fiscal_start = settings().fiscal_start_month
    choices = _period_choices(kind, first, last, fiscal_start)
    latest_full = periods.latest_complete(kind, last, fiscal_start)
    default = next((i for i, p in enumerate(choices) if p == latest_full), 0)
    return st.selectbox("Which", choices, index=default, key=f"period_{kind}",
                        format_func=lambda p: p.label + (" (to date)" if p.end > last else ""))


def _scope(ds: Dataset) -> Scope:
    reps = ds.table("reps")
    region = st.selectbox("Region", [ALL, *sorted(reps["region"].fillna(UNASSIGNED).unique())], key="scope_region")
    in_region = reps if region == ALL else reps[reps["region"].fillna(UNASSIGNED) == region]
    manager, in_team = _manager(in_region)
    territory = st.selectbox("Territory", [ALL, *sorted(in_team["territory_id"].fillna(UNASSIGNED).unique())],
                             key="scope_territory")
    in_terr = in_team if territory == ALL else in_team[in_team["territory_id"].fillna(UNASSIGNED) == territory]
    names = dict(zip(in_terr["rep_id"], in_terr["rep_name"], strict=True))
    rep = st.selectbox("Rep", [ALL, *sorted(names, key=lambda r: str(names[r]))], key="scope_rep",
                       format_func=lambda r: r if r == ALL else f"{names[r]} ({r})" if names[r] != r else r)
    return Scope(None if region == ALL else region, None if territory == ALL else territory,
                 None if rep == ALL else rep, manager)


def _manager(reps: pd.DataFrame) -> tuple[str | None, pd.DataFrame]:
    """The first-line manager chosen (None = all) and the reps of that manager, by the roster's
    manager column; no choice is offered when the roster names no manager."""
    if "manager" not in reps.columns or reps["manager"].isna().all():
        return None, reps
    managers = reps["manager"].fillna(UNASSIGNED)
    chosen = st.selectbox("Manager", [ALL, *sorted(managers.unique())], key="scope_manager",
                          help="The reps whose first-line manager this is (the roster's manager column).")
    return (None, reps) if chosen == ALL else (chosen, reps[managers == chosen])


def render() -> Ctx | None:
    """Draw the sidebar and store the session's context; None when no data can be shown."""
    release_when_closed()
    with st.sidebar:
        source = st.radio("Data", [SAMPLE, MINE], key="source", format_func=choice_names(SAMPLE, MINE).get,
                          help="Upload your own files on the Data page.")
        try:
            ds, label = _dataset(source)
            period = _period(ds)
            scope = _scope(ds)
        except UserError as err:
            st.error(md(str(err)))
            st.session_state[CTX_KEY] = None
            return None
        st.caption(f"Showing **{md(label)}** · {period.label} · {md(scope.label)}")
    ctx = Ctx(ds, period, scope, settings(), label)
    st.session_state[CTX_KEY] = ctx
    return ctx
