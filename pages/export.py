"""Export & sessions: the Excel summary (the same file `python -m core report` writes), and a
session file that reopens the analysis with its data, column matches, settings and view."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from core import periods
from core.dataset import Scope
from core.errors import UserError
from core.fmt import NA, cause_label
from core.kpis.compare import against
from core.people.notes import from_dict
from core.report.anonymize import anonymize
from core.report.deck import PPTX, anonymized_notebook, anonymized_scope, build_deck
from core.report.session import EXTENSION, open_session, save_session
from core.report.summary import ASSOCIATION_NOTE, SummaryData, collect
from core.report.workbook import build_workbook
from ui.charts import fmt_unit
from ui.notes import NOTEBOOK_KEY, notebook
from ui.sidebar import KINDS, MINE, SAMPLE
from ui.state import OVERRIDES_KEY, SETTINGS_KEY, UPLOAD_KEY, cached_call, context
from ui.text import md

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The sidebar's widgets whose values a session restores.
VIEW_KEYS = ("period_kind", "scope_region", "scope_manager", "scope_territory", "scope_rep")
ERROR_KEY = "session_error"
SAVE_PASSPHRASE_KEY, OPEN_PASSPHRASE_KEY = "session_passphrase_save", "session_passphrase_open"


def _chosen_period(default: periods.Period) -> periods.Period | None:
    text = st.text_input("Period", placeholder=f"{default.label} (the sidebar's)",
                         help="Leave empty for the sidebar's period, or type a year (2025), a quarter "
                              "(2025-Q3) or a month (2025-07).", key="export_period")
    if not text.strip():
        return default
    try:
        return periods.parse_period(text, context().settings.fiscal_start_month)
    except UserError as err:
        st.error(md(str(err)))
        return None


def _preview(data: SummaryData) -> None:
    head = data.headline
    table = pd.DataFrame({"KPI": head["KPI"],
                          "Value": [fmt_unit(v, u) for v, u in zip(head["value"], head["unit"], strict=True)],
                          "Target": [fmt_unit(t, u) if pd.notna(t) else "—"
                                     for t, u in zip(head["target"], head["unit"], strict=True)]})
    left, right = st.columns([2, 3])
    with left:
        st.subheader("Headline KPIs")
        st.dataframe(table, hide_index=True, width="stretch", placeholder=NA)
    with right:
        st.subheader("Top findings")
        findings = data.sheets["Findings"].head(5)
        st.dataframe(findings[["Rank", "Cause", "Who (names)", "Severity", "Estimated impact",
                               "Recommended actions"]].assign(Cause=findings["Cause"].map(cause_label)),
                     hide_index=True, width="stretch",
                     column_config={"Estimated impact": st.column_config.NumberColumn(format="dollar", step=1)},
                     placeholder=NA)
        st.caption(ASSOCIATION_NOTE)
    for note in data.notes:
        st.info(md(note), icon="ℹ️")


def _view_state() -> dict:
    """The sidebar's choices, as JSON: widget values and the period itself."""
    ctx = context()
    p = ctx.period
    return {"source": st.session_state.get("source"),
            "period": {"kind": p.kind, "label": p.label, "start": p.start.isoformat(), "end": p.end.isoformat()},
            **{k: st.session_state.get(k) for k in VIEW_KEYS}}


def _restore_session() -> None:
    """Callback of the session uploader and of its passphrase field: put the session's files,
    matches, settings and view back."""
    upload = st.session_state.get("session_upload")
    if upload is None:
        return
    try:
        session = open_session(upload.getvalue(), st.session_state.get(OPEN_PASSPHRASE_KEY) or None)
    except UserError as err:
        st.session_state[ERROR_KEY] = str(err)
        return
    state = st.session_state
    state[UPLOAD_KEY] = session.files
    state[OVERRIDES_KEY] = session.overrides
    state[SETTINGS_KEY] = session.settings
    state[NOTEBOOK_KEY] = from_dict(session.notes)
    view = session.ui_state
    source = view.get("source")
    state["source"] = MINE if session.files else source if source in (SAMPLE, MINE) else SAMPLE
    for key, value in _view_widgets(view).items():
        state[key] = value
    p = view.get("period") or {}
    if p.get("kind") == "custom":
        state["period_custom"] = (pd.Timestamp(p["start"]).date(), pd.Timestamp(p["end"]).date())
    elif p.get("label"):
        state[f"period_{p['kind']}"] = periods.parse_period(p["label"], session.settings.fiscal_start_month)
    state[ERROR_KEY] = ""
    state["session_restored"] = f"Session opened: {len(session.files)} file(s), period {p.get('label', 'n/a')}."


def _view_widgets(view: dict) -> dict[str, str]:
    """The sidebar widget values a session restores: only values those widgets can hold (a period
    kind the sidebar offers, a region, territory or rep as text); the others keep their default."""
    out = {k: v for k, v in view.items() if k in VIEW_KEYS and isinstance(v, str)}
    if out.get("period_kind") not in KINDS:
        out.pop("period_kind", None)
    return out


def _session_bytes() -> bytes:
    return save_session(st.session_state.get(UPLOAD_KEY) or [], st.session_state.get(OVERRIDES_KEY),
                        context().settings, _view_state(), notebook().to_dict(),
                        passphrase=st.session_state.get(SAVE_PASSPHRASE_KEY) or None)


ctx = context()
st.title("Export & sessions")
st.caption("The Excel summary a consultant or director takes into a meeting — the same file "
           "`python -m core report` writes for the same data, period and settings.")

st.header("Excel summary")
c1, c2, c3 = st.columns([1, 1, 1])
with c1:
    period = _chosen_period(ctx.period)
with c2:
    whole_team = st.toggle("Whole team", value=ctx.scope == Scope(), disabled=ctx.scope == Scope(),
                           help=f"Off: the sidebar's scope ({md(ctx.scope.label)}).", key="export_whole_team")
with c3:
    anonymise = st.toggle("Anonymise names", key="export_anonymize",
                          help="Reps, managers and accounts become Rep 001, Manager 01, Account 0001…; "
                               "ids stay so you can map them back.")
scope = Scope() if whole_team else ctx.scope
COMPARE = {"No comparison": None, "The period before": "previous", "A year earlier": "year"}
compare_with = st.segmented_control("Comparison sheet", list(COMPARE), default="No comparison",
                                    key="export_compare",
                                    help="Adds a Comparison sheet, like `--compare previous` or `--compare year`.")

if period is not None:
    with st.spinner("Computing the summary…"):
        ds = cached_call(anonymize, ctx.ds) if anonymise else ctx.ds
        book = anonymized_notebook(notebook(), ctx.ds, ds) if anonymise else notebook()
        scope = anonymized_scope(scope, ctx.ds, ds) if anonymise else scope   # its manager is a name
        try:
            how = COMPARE.get(compare_with or "No comparison")
            data = cached_call(collect, ds, period, ctx.settings, scope, book=book,
                               compare=against(period, how) if how else None)
        except UserError as err:
            data = None
            st.error(md(str(err)))
    if data is not None:
        st.markdown(f"**{period.label}** · {md(scope.label)} · {md(data.source_label)}")
        _preview(data)
        name = re.sub(r"[^0-9A-Za-z_-]+", "_", period.label)
        st.download_button("Download the Excel summary (.xlsx)", data=lambda: build_workbook(data),
                           file_name=f"goalgap-summary-{name}{'-anonymised' if anonymise else ''}.xlsx",
                           mime=XLSX, on_click="ignore", type="primary", icon=":material/download:")
        st.download_button("Download the deck for the meeting (.pptx)",
                           data=lambda: build_deck(ds, period, ctx.settings, scope, book=book, data=data),
                           file_name=f"goalgap-deck-{name}{'-anonymised' if anonymise else ''}.pptx",
                           mime=PPTX, on_click="ignore", icon=":material/slideshow:")

st.header("Sessions")
st.caption("Save everything — your uploaded files, the column matches, targets and settings, the "
           "period and scope — in one file, and open it later to carry on where you left off.")
left, right = st.columns(2)
with left:
    st.text_input("Passphrase (optional)", type="password", key=SAVE_PASSPHRASE_KEY,
                  help="With a passphrase the session file is encrypted: nobody can read it without "
                       "the passphrase, and it cannot be recovered if the passphrase is lost.")
    st.download_button("Save session", data=_session_bytes, file_name=f"goalgap-session{EXTENSION}",
                       mime="application/octet-stream", on_click="ignore", icon=":material/save:")
    st.warning("The session file contains your uploaded data: store and share it as you would the data "
               "itself, or give it a passphrase.", icon="🔒")
with right:
    st.file_uploader("Open a saved session", type=[EXTENSION.lstrip("."), "zip"], key="session_upload",
                     on_change=_restore_session,
                     help="Restores the files, column matches, settings and the period and scope.")
    st.text_input("Its passphrase (if it has one)", type="password", key=OPEN_PASSPHRASE_KEY,
                  on_change=_restore_session,
                  help="Enter it before or after choosing the file; press Enter to open.")
    if st.session_state.get(ERROR_KEY):
        st.error(md(st.session_state[ERROR_KEY]))
    elif st.session_state.get("session_restored"):
        st.success(md(st.session_state.pop("session_restored")))
