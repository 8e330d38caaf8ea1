"""Quotas set in the app (by hand or by a rule, previewed first), the fiscal year and the currency.

Everything here is kept with the settings: the Targets & settings download holds it, and
`python -m core report --settings` reads it.
"""
from __future__ import annotations

import calendar
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.fmt import NA, count_of, fmt_money
from core.ingest import currency, quota_rules
from ui.state import SETTINGS_KEY, context

RULES = {"Last year's revenue + x %": "growth", "A team number split by last year's share": "share",
         "A team number split by territory potential": "potential"}
PREVIEW_KEY = "quota_rule_preview"

ctx = context()
ds, period, current = ctx.ds, ctx.period, ctx.settings


def _keep(**changes: object) -> None:
    st.session_state[SETTINGS_KEY] = replace(current, **changes)
    st.session_state.pop(PREVIEW_KEY, None)
    st.rerun()


st.title("Quotas, fiscal year & currency")
st.write("CRM exports carry no quotas. Set them here — by hand, or by a rule you preview first — or "
         "upload your own quota sheet on the Data page (reps down the side, months or quarters "
         "across is fine). Quotas set here are kept with the settings and replace uploaded ones.")

st.subheader("Quotas by rep and period")
reps = ds.table("reps")[["rep_id", "rep_name"]].drop_duplicates("rep_id")
start = quota_rules.frame_of(current.quotas) if current.quotas else ds.table("quotas")[quota_rules.COLUMNS]
if current.quotas:
    st.caption(f"{len(current.quotas):,} quotas are set in the app.")
elif ds.has("quotas"):
    st.caption("These are the quotas of your files; edit them and keep them to set them here.")
else:
    st.info("Your data has no quotas yet: add rows below, or use a rule.", icon="ℹ️")
edited = st.data_editor(
    start.reset_index(drop=True), num_rows="dynamic", key="quota_editor", width="stretch",
    column_config={
        "rep_id": st.column_config.SelectboxColumn("Rep", options=reps["rep_id"].tolist(), required=True),
        "period": st.column_config.TextColumn("Period", help="2025-Q3, 2025-07, 2025, or FY2026-Q1 with a "
                                                             "fiscal year set below", required=True),
        "quota": st.column_config.NumberColumn("Quota", min_value=0.0, format="%.0f", required=True),
        "product": st.column_config.TextColumn("Product", help="blank = all products"),
    }, placeholder=NA)
left, right = st.columns(2)
if left.button("Keep these quotas", type="primary"):
    _keep(quotas=quota_rules.rows_of(edited))
if current.quotas and right.button("Forget the quotas set here (use the uploaded ones)"):
    _keep(quotas=())

st.subheader("Or set them by a rule")
if period.kind == "custom":
    st.info("Choose a month, quarter or year in the sidebar: a rule sets quotas for that period.", icon="ℹ️")
else:
    rule = RULES[st.radio("Rule", list(RULES), key="quota_rule", horizontal=True)]
    if rule == "growth":
        value = st.number_input("Growth over last year (%)", value=10.0, step=1.0, key="quota_growth")
    else:
        value = st.number_input(f"Team quota for {period.label}", min_value=0.0, value=1_000_000.0,
                                step=10_000.0, key="quota_team")
    if st.button(f"Preview the quotas for {period.label}"):
        st.session_state[PREVIEW_KEY] = (rule, value, period.label,
                                         quota_rules.preview(ds, period, rule, value))
    held = st.session_state.get(PREVIEW_KEY)
    if held and held[:3] == (rule, value, period.label):
        table = held[3]
        basis = "Territory potential" if rule == "potential" else f"Revenue {period.year_earlier().label}"
        shown = pd.DataFrame({"Rep": table["rep_name"], basis: table["basis"].map(fmt_money),
                              "Quota": table["quota"].map(fmt_money)})
        st.dataframe(shown, hide_index=True, width="stretch", placeholder=NA)
        no_basis = int(table["quota"].isna().sum())
        if no_basis:
            verb = "has" if no_basis == 1 else "have"
            st.warning(f"{count_of(no_basis, 'rep')} {verb} no basis for this rule (no revenue a year earlier or "
                       "no known potential) and get no quota: set theirs by hand above.")
        if st.button("Apply these quotas", type="primary"):
            kept = quota_rules.frame_of(current.quotas)
            kept = kept[kept["period"] != period.label]
            new = table.dropna(subset=["quota"]).assign(product=pd.NA)[quota_rules.COLUMNS]
            _keep(quotas=quota_rules.rows_of(pd.concat([kept, new], ignore_index=True)))

st.subheader("Fiscal year, seasonality and currency")
months = list(calendar.month_name)[1:]
with st.form("calendar_currency"):
    start_month = st.selectbox("Fiscal year starts in", months, index=current.fiscal_start_month - 1,
                               help="January = the calendar year. A fiscal year is named by the calendar "
                                    "year it ends in: with July, FY2026 runs from July 2025 to June 2026.")
    st.caption("Seasonality of yearly quotas: how a year's quota is spread over its months (equal "
               "weights = evenly, the default). Quarterly and monthly quotas are used as given.")
    season = list(current.quota_seasonality) or [1.0] * 12
    cols = st.columns(12)
    weights = [cols[i].number_input(months[i][:3], min_value=0.0, value=float(season[i]), step=0.1,
                                    key=f"season_{i}") for i in range(12)]
    code = st.text_input("Reporting currency (ISO code)", value=current.reporting_currency, max_chars=3)
    rates = st.data_editor(pd.DataFrame(list(current.currency_rates), columns=["currency", "rate"]),
                           num_rows="dynamic", key="rate_editor",
                           column_config={"currency": st.column_config.TextColumn("Currency (ISO code)"),
                                          "rate": st.column_config.NumberColumn(
                                              "Value of 1 unit in the reporting currency", min_value=0.0)},
                           placeholder=NA)
    st.caption("Without a rate of yours, amounts in another currency are converted at the European "
               "Central Bank's rate of their date (built in, works offline).")
    if st.form_submit_button("Apply"):
        code = code.strip().upper()
        if code not in currency.ISO_CODES:
            st.error(f"'{code}' is not a currency code: use three letters such as USD or EUR.")
        elif sum(weights) <= 0:
            st.error("Give at least one month a seasonality weight above 0.")
        else:
            ok = rates.dropna()
            ok = ok[ok["rate"] > 0]
            even = len(set(weights)) == 1
            _keep(fiscal_start_month=months.index(start_month) + 1, reporting_currency=code,
                  quota_seasonality=() if even else tuple(weights),
                  currency_rates=tuple(sorted((str(c).strip().upper(), float(r))
                                              for c, r in zip(ok["currency"], ok["rate"], strict=False))))
