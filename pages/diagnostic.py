"""Diagnostic: why the team is missing goal, in money, per cause and per rep; what to do next.
Every number comes from core.diagnostic.findings through the cache; this page only lays it out."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.dataset import Scope
from core.diagnostic import findings as diagnostics
from core.fmt import CAUSE_STATES, NA, cause_label, cause_labels, method_words, table_label
from core.kpis import metrics
from core.people.notes import finding_key
from ui.charts import BAD, GOOD, NEUTRAL, WARN, fmt_money, fmt_num, fmt_pct, fmt_unit, show_table, style
from ui.notes import notes_box
from ui.state import cached_call, context, diagnose_neighbours, not_available, page_caption, team_diagnosis
from ui.text import md
from ui.whatif import what_if_section

SEVERITY_ICON = {"high": "🔴", "medium": "🟠", "low": "🟡"}
TOP_FINDINGS = 12
MONEY = st.column_config.NumberColumn(format="dollar", step=1)

ctx = context()
ds, period, scope, settings = ctx.ds, ctx.period, ctx.scope, ctx.settings
labels = {k: cause_label(k) for k in [*diagnostics.CAUSES, *CAUSE_STATES]}

st.title("Diagnostic — why is the team missing goal?")
page_caption(ctx)
notes_box("session", "", "Notes on the session")
st.info("Findings are **associations in the data, not proof of cause**: each one shows the numbers behind "
        "it, so you can check them with the rep and the manager before acting.", icon="⚖️")
if not metrics.has_sales(ds):
    not_available("The diagnostic", ["sales"])
    st.stop()

with st.spinner("Running the diagnostic…"):     # gone once done: nothing left spinning or saying "ready"
    # The whole team's diagnosis once per period (a scope only filters it), then this scope's view of it.
    team_diag = team_diagnosis(ctx)
    diag = team_diag if scope == Scope() else cached_call(diagnostics.diagnose, ds, period, settings, scope)

reps = diag.reps
if reps["attainment"].notna().sum() == 0:
    not_available("The gap to goal and its causes", ["quotas"])
    st.page_link("pages/quotas.py", label="No quota file? Set quotas in the app", icon=":material/target:")
    st.stop()
below = diagnostics.reps_below(diag)
causes = list(diagnostics.CAUSES)

# ------------------------------------------------------------------ headline
head = diagnostics.headline(diag)
cols = st.columns(4)
cols[0].metric("Shortfall of reps below goal", fmt_money(head.shortfall),
               help="Σ (quota − revenue) over the reps below quota.")
cols[1].metric("Explained by causes", fmt_money(head.explained))
cols[2].metric("Unexplained", fmt_money(head.unexplained),
               help="The part of the gap no flagged cause accounts for.")
cols[3].metric("Reps below goal", f"{head.below} of {head.rated}")
st.caption(f"Method: {method_words(diag.method)}")
for cause, tables in diag.not_assessed.items():
    st.caption(f"**{labels[cause]}**: not assessed — upload {', '.join(map(table_label, tables))} to enable it.")

# ------------------------------------------------------------------ waterfall
w = diag.waterfall
w = w[(w["measure"] != "relative") | (w["amount"].abs() > 0.5)]
fig = go.Figure(go.Waterfall(
    x=w["step"].tolist(), y=w["amount"].tolist(), measure=w["measure"].tolist(),
    text=[fmt_money(v) for v in w["amount"]], textposition="outside",
    hovertemplate="%{x}: %{y:$,.0f}<extra></extra>",
    decreasing={"marker": {"color": BAD}}, increasing={"marker": {"color": GOOD}},
    totals={"marker": {"color": NEUTRAL}}))
style(fig, f"From quota to revenue: what each cause costs ({period.label})", "Revenue ($)")
levels = w["amount"].iloc[0] + w["amount"].where(w["measure"] == "relative", 0.0).cumsum()
low, high = min(levels.min(), w["amount"].iloc[-1]), max(levels.max(), w["amount"].iloc[0])
fig.update_yaxes(tickprefix="$", tickformat="~s", range=[low - 0.25 * (high - low), high + 0.1 * (high - low)])
st.plotly_chart(fig, width="stretch")
st.caption("The axis starts near the revenue line, not at zero, so that each cause's share is visible.")

# ------------------------------------------------------------------ findings
st.subheader("Findings, ranked by the money they explain")
if diag.findings.empty:
    st.success("No finding: every rep in scope is at goal, or no signal stands out from the reps at goal.")
for f in diag.findings.head(TOP_FINDINGS).itertuples():
    head = (f"{SEVERITY_ICON[f.severity]} #{f.rank} · {labels[f.cause]} · {md(f.who_names)} · "
            f"{fmt_money(f.impact)}")
    with st.expander(head, expanded=f.rank <= 3):
        st.markdown(f"**Evidence:** {md(f.evidence)}")
        st.markdown(f"**What to do:** {md(f.actions)}")
        rng = (f"range {fmt_money(f.impact_low)} – {fmt_money(f.impact_high)}"
               if f.impact_low == f.impact_low else "team-level measure")
        st.caption(f"Severity {f.severity} · {rng} · {method_words(f.confidence)}")
        notes_box("finding", finding_key(f.cause, f.who), "Notes on this finding", folded=False)
if len(diag.findings) > TOP_FINDINGS:
    with st.expander(f"All {len(diag.findings)} findings"):
        show_table(diag.findings.assign(cause=diag.findings["cause"].map(labels)),
                   column_config={"impact": MONEY, "impact_low": MONEY, "impact_high": MONEY})

st.subheader("What if the flagged reps reached target?")
what_if_section(diag)

# ------------------------------------------------------------------ reps below goal
st.subheader("Reps below goal: primary cause and money per cause")
table = below.assign(primary_cause=below["primary_cause"].map(labels), causes=below["causes"].map(cause_labels),
                     attainment=below["attainment"] * 100)     # whole percents, as on the Overview
money_cols = {c: st.column_config.NumberColumn(labels[c], format="dollar", step=1, width=95) for c in causes}
# The rep's name pinned, then what a manager reads first; only the causes that cost these reps money.
costly = [c for c in causes if table[c].fillna(0).ne(0).any()]
st.dataframe(
    table, hide_index=True, width="stretch",
    column_order=["rep_name", "region", "attainment", "gap", "primary_cause", *costly, "unexplained"],
    column_config={"rep_id": "Rep ID", "rep_name": st.column_config.TextColumn("Rep", width=130, pinned=True),
                   "region": "Region", "territory_id": "Territory",
                   "attainment": st.column_config.ProgressColumn("Attainment", format="%.0f%%", min_value=0,
                                                                 max_value=120),
                   "gap": st.column_config.NumberColumn("Gap to goal", format="dollar", step=1),
                   "primary_cause": "Primary cause", "causes": "Causes",
                   "unexplained": st.column_config.NumberColumn("Unexplained", format="dollar", step=1)} | money_cols,
    placeholder=NA)

# ------------------------------------------------------------------ drill-down


def _monthly_chart(ev, signal: str) -> go.Figure:
    e = ev[ev["signal"] == signal]
    unit = e["unit"].iloc[0]
    pct = unit == "pct"
    fig = go.Figure([
        go.Scatter(x=e["month"], y=e["rep"], name="This rep", mode="lines+markers", line={"color": BAD}),
        go.Scatter(x=e["month"], y=e["reps_at_goal"], name="Reps at goal (median)", mode="lines",
                   line={"color": GOOD, "dash": "dot"}),
        go.Scatter(x=e["month"], y=e["target"], name="Target", mode="lines", line={"color": NEUTRAL, "dash": "dash"}),
    ])
    fig.update_traces(hovertemplate="%{x|%b %Y}: %{y:.0%}<extra>%{fullData.name}</extra>" if pct
                      else "%{x|%b %Y}: %{y:.1f}<extra>%{fullData.name}</extra>")
    style(fig, f"{e['label'].iloc[0]} by month vs target and reps at goal",
          "Share" if pct else e["label"].iloc[0], height=320)
    if pct:
        fig.update_yaxes(tickformat=".0%")
    return fig


def _product_chart(rep_id: str) -> go.Figure | None:
    mix = cached_call(metrics.product_mix, ds, period, Scope(rep_id=rep_id))
    if mix.empty:
        return None
    fig = go.Figure([go.Bar(x=mix["product"], y=mix["revenue"], name="Revenue", marker_color=WARN,
                            hovertemplate="%{x}: %{y:$,.0f}<extra>Revenue</extra>"),
                     go.Bar(x=mix["product"], y=mix["quota"], name="Product quota", marker_color=NEUTRAL,
                            hovertemplate="%{x}: %{y:$,.0f}<extra>Product quota</extra>")])
    style(fig, f"Revenue by product vs product quotas ({period.label})", "Revenue ($)", height=320)
    return fig


st.subheader("One rep: the evidence behind each finding")
if below.empty:
    st.caption("No rep in scope is below goal.")
else:
    options = below["rep_id"].tolist()
    default = options.index(scope.rep_id) if scope.rep_id in options else 0
    names = dict(zip(below["rep_id"], below["rep_name"], strict=False))
    rep_id = st.selectbox("Rep", options, index=default,
                          format_func=lambda r: f"{names[r]} ({r})" if names[r] != r else r)
    row = below.set_index("rep_id").loc[rep_id]
    st.markdown(f"**{md(names[rep_id])}** · {fmt_pct(row['attainment'])} of quota · gap {fmt_money(row['gap'])} · "
                f"primary cause **{labels[row['primary_cause']]}** · unexplained {fmt_money(row['unexplained'])}")
    rep_findings = diag.findings[(diag.findings["scope"] == "rep") & (diag.findings["who"] == rep_id)]
    sig = cached_call(diagnostics.signals, ds, period, settings, Scope(rep_id=rep_id))
    evidence = cached_call(diagnostics.monthly_evidence, ds, period, settings, rep_id)
    shown = rep_findings["cause"].tolist() or [c for c in causes if row[c] > 0]
    for cause in shown:
        st.markdown(f"##### {labels[cause]} — {fmt_money(row[cause])}")
        if cause in diagnostics.MONTHLY_EVIDENCE and (evidence["cause"] == cause).any():
            st.plotly_chart(_monthly_chart(evidence, diagnostics.MONTHLY_EVIDENCE[cause][0]), width="stretch")
        if cause == "incentive_misalignment" and (fig := _product_chart(rep_id)) is not None:
            st.plotly_chart(fig, width="stretch")
        rows = sig[sig["cause"] == cause]
        st.dataframe(rows[["label", "value", "target", "benchmark", "flagged"]].assign(
            value=[fmt_unit(v, u) for v, u in zip(rows["value"], rows["unit"], strict=False)],
            target=[fmt_unit(v, u) for v, u in zip(rows["target"], rows["unit"], strict=False)],
            benchmark=[fmt_unit(v, u) for v, u in zip(rows["benchmark"], rows["unit"], strict=False)]),
            hide_index=True, width="stretch",
            column_config={"label": "Signal", "value": "This rep", "target": "Target",
                           "benchmark": "Reps at goal", "flagged": "Flagged"}, placeholder=NA)
    st.caption(f"Signals read over {period.label}; reps at goal = reps at or above quota who are not ramping. "
               f"Tenure: {fmt_num(sig.loc[sig['signal'] == 'tenure_months', 'value'].max(), 0)} months.")
diagnose_neighbours(ctx)      # the periods before and after, in the background, once this page is drawn
