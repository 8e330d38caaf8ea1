"""The what-if on the Diagnostic page: sliders per driver and per rep, saved scenarios.

The money comes from core.diagnostic.whatif over the page's diagnosis, so it is the Findings' money.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.diagnostic.findings import CAUSES, Diagnosis
from core.diagnostic.whatif import rep_what_if, shortfall, what_if
from core.fmt import NA
from ui.charts import fmt_money, percent_column, show_table, style
from ui.notes import notebook, update_notebook

MONEY = st.column_config.NumberColumn(format="dollar", step=1)


def _load(name: str) -> None:
    """Callback of the scenario picker: put a saved scenario's shares into the sliders."""
    chosen = next((s for s in notebook().scenarios if s.name == name), None)
    if chosen is None:
        return
    for cause in CAUSES:
        st.session_state[f"whatif_cause_{cause}"] = round(100 * chosen.causes.get(cause, 1.0))
    st.session_state["whatif_reps"] = {r: round(100 * v) for r, v in chosen.reps.items()}
    st.session_state.pop("whatif_rep_table", None)          # the table's own edits would win


def what_if_section(diag: Diagnosis) -> None:
    """What the gap would close if the flagged reps reached target, per cause, with sliders."""
    per_rep = rep_what_if(diag)
    if per_rep.empty:
        st.caption("No cause is flagged for a rep below goal, so there is nothing to simulate.")
        return
    saved = [s.name for s in notebook().scenarios]
    if saved:
        pick = st.selectbox("Saved scenario", ["—", *saved], key="whatif_pick")
        st.button("Load it", on_click=lambda: _load(st.session_state.get("whatif_pick", "—")),
                  disabled=pick == "—")
    causes = list(dict.fromkeys(per_rep["cause"]))
    st.caption("Share of each driver's shortfall the flagged reps close (100% = they reach target).")
    cols = st.columns(min(4, len(causes)))
    cause_share = {c: cols[i % len(cols)].slider(CAUSES[c].label if c in CAUSES else c, 0, 100, 100, 5,
                                                 key=f"whatif_cause_{c}", format="%d%%") / 100
                   for i, c in enumerate(causes)}
    reps = per_rep.drop_duplicates("rep_id")[["rep_id", "rep_name"]]
    given = st.session_state.get("whatif_reps", {})
    edited = st.data_editor(reps.assign(share=[given.get(r, 100) for r in reps["rep_id"]]),
                            hide_index=True, width="stretch", disabled=["rep_id", "rep_name"], key="whatif_rep_table",
                            column_config={"rep_id": "Rep ID", "rep_name": "Rep",
                                           "share": st.column_config.NumberColumn(
                                               "Share closed (%)", min_value=0, max_value=100, step=5)},
                            placeholder=NA)
    rep_share = dict(zip(edited["rep_id"], pd.to_numeric(edited["share"]).fillna(100).clip(0, 100) / 100,
                         strict=True))
    table = what_if(diag, cause_share, rep_share)
    total, short = table["gap_closed"].sum(), shortfall(diag)
    st.metric("Gap that would close", fmt_money(total), help=f"of {fmt_money(short)} missed by the reps below goal")
    fig = go.Figure(go.Bar(x=table["gap_closed"], y=table["label"], orientation="h",
                           error_x={"type": "data", "symmetric": False,
                                    "array": (table["high"] - table["gap_closed"]).tolist(),
                                    "arrayminus": (table["gap_closed"] - table["low"]).tolist()}))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickprefix="$", tickformat="~s")
    st.plotly_chart(style(fig, "Gap that would close per cause (with its range)", None, "US$"), width="stretch")
    show_table(table.drop(columns=["cause"]),
               column_config={"label": "Cause", "rep_ids": "Rep IDs", "gap_closed": MONEY, "low": MONEY,
                              "high": MONEY, "share_of_shortfall": percent_column()})
    with st.form("whatif_save", clear_on_submit=True, border=False):
        name = st.text_input("Scenario name", key="whatif_name")
        if st.form_submit_button("Save this scenario with the session"):
            update_notebook(lambda b: b.save_scenario(name, cause_share, rep_share))
