"""Every number the Excel summary shows, computed once (export.md).

`collect` calls the KPI, forecast, diagnostic, territory and competency modules and shapes their
results into the sheets of export.md, with the spec's headers first. The app's download and the
`report` command both call it, so they show the same numbers; `core.report.workbook.build_workbook` only
lays the result out.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.dataset import Dataset, Scope, Task
from core.diagnostic import findings as diagnostics
from core.diagnostic import whatif
from core.diagnostic.causes import customer_retention, incentive_misalignment
from core.fmt import cause_label, fmt_money, method_words, table_label
from core.ingest import currency
from core.kpis import compare as comparison
from core.kpis import forecast
from core.kpis.analysis import attainment_distribution, pay_for_performance
from core.kpis.inputs import territories_in_scope
from core.kpis.registry import KPIS, Kpi, unit_of
from core.kpis.rollup import rep_kpis, team_kpis
from core.people import competency
from core.people.notes import Notebook, coaching_effect, notes_table
from core.periods import Period
from core.settings import Settings
from core.territory import balance as territory

SHEETS = ("Summary", "Rep scorecard", "Findings", "Rep diagnosis", "Territories", "Competencies",
          "Trends", "Data quality", "What if")

# export.md headers of each data sheet, in order, with the column of the core result behind each.
SCORECARD = {"Rep ID": "rep_id", "Rep": "rep_name", "Region": "region", "Territory": "territory_id",
             "Revenue": "revenue", "Quota": "quota", "Attainment": "attainment", "Gap to goal": "gap",
             "Growth": "growth", "Market share": "market_share", "Win rate": "win_rate",
             "Sales cycle (days)": "sales_cycle_days", "Meetings per week": "meetings_per_week",
             "Call plan adherence": "call_plan_adherence",
             "On-time follow-up rate": "on_time_follow_up_rate",
             "Knowledge quotient": "knowledge_quotient", "Payout": "payout",
             "Primary cause": "primary_cause",
             # extras after the spec's columns
             "Pipeline coverage": "pipeline_coverage", "Reach": "reach", "Days late": "days_late",
             "Overdue open follow-ups": "overdue_open_follow_ups", "Cost of sales": "cost_of_sales",
             "Ramping": "ramping"}
FINDINGS = {"Rank": "rank", "Cause": "cause", "Scope": "scope", "Who": "who", "Severity": "severity",
            "Evidence": "evidence", "Estimated impact": "impact", "Impact low": "impact_low",
            "Impact high": "impact_high", "Confidence": "confidence", "Recommended actions": "actions",
            "Who (names)": "who_names"}
DIAGNOSIS = {"Rep ID": "rep_id", "Rep": "rep_name", "Attainment": "attainment", "Gap to goal": "gap",
             "Primary cause": "primary_cause", "Causes": "causes", "Unexplained": "unexplained"}
TERRITORIES = {"Territory": "territory_id", "Region": "region", "Rep ID": "rep_id",
               "Potential": "potential", "Potential index": "potential_index", "Quota": "quota",
               "Quota / potential": "quota_per_potential", "Accounts": "accounts",
               "Coverage": "coverage", "Overlap": "overlap", "Attainment": "attainment",
               "Territory name": "territory_name", "Rep": "rep_name", "Workload index": "workload_index"}
COMPETENCIES = {"Rep ID": "rep_id", "Rep": "rep_name", "Role": "role", "Competency": "competency",
                "Latest rating": "latest_rating", "Expected": "expected", "Gap": "gap",
                "Trend per 90 days": "trend_per_90d", "Assessments": "assessments",
                "Self minus manager": "self_minus_manager"}
TRENDS = {"Month": "month", "Revenue": "revenue", "Quota": "quota", "Attainment": "attainment",
          "Forecast": "forecast", "Forecast low": "forecast_low", "Forecast high": "forecast_high"}
DATA_QUALITY = {c: c for c in ("Table", "Source", "Row", "Column", "Problem", "Value", "Kind")}
WHAT_IF = {"Cause": "cause", "Reps": "reps", "Gap closed": "gap_closed", "Low": "low", "High": "high",
           "Cause label": "label", "Rep IDs": "rep_ids", "Share of shortfall": "share_of_shortfall"}
COMPARISON = {"Scope": "scope", "KPI": "label", "This period": "this", "Compared period": "compared",
              "Change": "change", "Rep ID": "rep_id", "Unit": "unit", "KPI key": "kpi",
              "Band this period": "band_this", "Band compared period": "band_compared",
              "Band move": "band_move"}

# Units of the sheets' columns that are not KPIs, by the core column behind each header (a KPI
# column's unit is its registry entry, core.kpis.registry); the workbook formats each by its unit.
COLUMN_UNITS = {
    **dict.fromkeys(("impact", "impact_low", "impact_high", "unexplained", "potential", "forecast",
                     "forecast_low", "forecast_high", "gap_closed", "low", "high"), "money"),
    **dict.fromkeys(("quota_per_potential", "coverage", "overlap", "share_of_shortfall"), "pct"),
    **dict.fromkeys(("rank", "accounts", "assessments", "Row", "reps"), "count"),
    **dict.fromkeys(("potential_index", "workload_index"), "index"),
    **dict.fromkeys(("latest_rating", "trend_per_90d", "self_minus_manager", "Trend before", "Trend after",
                     "Trend after low", "Trend after high"), "rating"),
    "expected": "score",
    "month": "month",
}
# A sheet's column that shares a KPI's key but is not that KPI (a competency gap is in rating points).
SHEET_COLUMN_UNITS = {"Competencies": {"gap": "rating"}}
CAUSE_UNIT = "money"            # the money each cause explains (Rep diagnosis)

# The spec's headers only (what a reader of the file can rely on).
HEADERS: dict[str, list[str]] = {
    "Rep scorecard": list(SCORECARD)[:18],
    "Findings": list(FINDINGS)[:11],
    "Rep diagnosis": list(DIAGNOSIS),
    "Territories": list(TERRITORIES)[:11],
    "Competencies": list(COMPETENCIES),
    "Trends": list(TRENDS),
    "Data quality": list(DATA_QUALITY)[:6],
    "What if": list(WHAT_IF)[:5],
    "Comparison": list(COMPARISON)[:5],
}

# Team KPIs the Summary shows, in reading order (KPIS keys, plus team-only measures).
HEADLINE_KPIS = ("revenue", "quota", "attainment", "gap", "growth", "win_rate", "pipeline_coverage",
                 "meetings_per_week", "call_plan_adherence", "on_time_follow_up_rate",
                 "knowledge_quotient", "payout")
TREND_MONTHS = 24
TOP_FINDINGS = 5
MAX_ISSUE_ROWS = 5_000
QUOTA_HOW = "upload a quotas table (rep, period, quota — the template on the Data page shows it), then export again"
ASSOCIATION_NOTE = ("Findings are associations in the data, not proof of cause: check them with "
                    "the reps and their managers before acting.")


@dataclass(frozen=True)
class SummaryData:
    """Everything the Excel summary shows, already computed (picklable for st.cache_data).

    headline: key, KPI, unit, value, target, higher_is_better — one row per team KPI.
    forecast: the fields of core.kpis.forecast.Forecast for the team in scope.
    waterfall: Step, Amount — quota, minus each cause, minus unexplained, to revenue.
    sheets: sheet name → frame whose first columns are exactly export.md's headers.
    notes: plain-words lines for the Summary ("Territories: not available — upload accounts").
    missing: sheet name (or "Waterfall") → the one line that sheet shows instead of rows, saying
    what is missing and how to add it (export.md); only for sheets without rows.
    columns: sheet name → header → the core column behind it (a KPI key, or another column).
    units: sheet name → header → unit (core.kpis.registry.UNITS) of its numeric columns.
    """

    period: Period
    scope_label: str
    source_label: str
    settings: Settings
    headline: pd.DataFrame
    forecast: dict[str, Any]
    waterfall: pd.DataFrame
    top_findings: tuple[str, ...]
    notes: tuple[str, ...]
    method: str
    sheets: dict[str, pd.DataFrame]
    missing: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[str, dict[str, str]] = field(default_factory=dict)


def _nothing(message: str) -> None:
    """Default progress callback: stay quiet."""


def collect(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope(),
            progress: Callable[[str], None] = _nothing, compare: Period | None = None,
            book: Notebook | None = None) -> SummaryData:
    """Compute every table of the Excel summary for `period` and `scope`.

    `progress` receives a short line before each step (the CLI prints them on stderr). With
    `compare`, the summary gets a Comparison sheet: `period` against that period; with a
    non-empty `book`, a Notes sheet (the session's notes and coaching log).
    """
    progress("computing KPIs…")
    kpis = rep_kpis(ds, period, settings, scope)
    team = team_kpis(ds, period, settings, scope)
    team_forecast = forecast.team_forecast(ds, period, settings, scope)
    trends = _trends(ds, period, settings, scope)
    progress("diagnosing…")
    diagnosis = diagnostics.diagnose(ds, period, settings, scope)
    progress("measuring territories and competencies…")
    in_scope = set(kpis["rep_id"])
    territories, territory_note = _territories(ds, period, settings, scope)
    competencies, competency_note = _competencies(ds, period, settings, in_scope)
    issues, issue_note = _data_quality(ds)
    quota_note = _quota_note(ds, team, period, scope)
    notes = tuple(n for n in (quota_note, territory_note, competency_note, issue_note) if n) + (
        currency.currency_line(settings.reporting_currency, ds.issues),)
    waterfall = diagnosis.waterfall.rename(columns={"step": "Step", "amount": "Amount"})[["Step", "Amount"]]
    sheets = {
        "Rep scorecard": _scorecard(kpis, diagnosis.reps),
        "Findings": _shape(diagnosis.findings.sort_values("rank")
                           .assign(confidence=lambda f: f["confidence"].map(method_words)), FINDINGS),
        "Rep diagnosis": _rep_diagnosis(diagnosis),
        "Territories": territories,
        "Competencies": competencies,
        "Trends": trends,
        "Data quality": issues,
        "What if": _shape(whatif.what_if(diagnosis), WHAT_IF),
    }
    if compare is not None:
        progress(f"comparing with {compare.label}…")
        sheets["Comparison"] = _shape(comparison.compare(ds, period, compare, settings, scope).rows, COMPARISON)
    if book is not None and (book.notes or book.coaching):
        sheets["Notes"] = notes_table(book, coaching_effect(ds, book))
    missing = _missing_lines(sheets, quota_note, territory_note, competency_note)
    columns = {"Rep scorecard": SCORECARD, "Findings": FINDINGS, "Rep diagnosis": _diagnosis_columns(diagnosis.reps),
               "Territories": TERRITORIES, "Competencies": COMPETENCIES, "Trends": TRENDS,
               "Data quality": DATA_QUALITY, "What if": WHAT_IF, "Comparison": COMPARISON}
    if "Notes" in sheets:
        columns["Notes"] = {c: c for c in sheets["Notes"].columns}
    return SummaryData(
        period=period, scope_label=scope.label, source_label=_source_label(ds), settings=settings,
        headline=_headline(team, kpis, settings),
        forecast=asdict(team_forecast),
        # no quota: no waterfall (a $0 quota would show all revenue as "ahead of goal")
        waterfall=(waterfall.iloc[:0] if quota_note else waterfall).reset_index(drop=True),
        top_findings=_top_findings(diagnosis.findings),
        notes=notes + _not_assessed(diagnosis.not_assessed),
        method=method_words(diagnosis.method),
        sheets=sheets,
        missing=missing,
        columns={name: columns[name] for name in sheets},
        units={name: column_units(name, columns[name]) for name in sheets},
    )


def beside_tasks(ds: Dataset, period: Period) -> list[Task]:
    """Results collect needs that read only tables of their own and no other result, the longest
    first: the command line computes them beside collect (core.report.beside). At 1,000 reps: lost
    customers ~0.75 s, competency trends ~0.15 s, quarter-end bunching ~0.03 s."""
    tasks = []
    if ds.has("sales"):
        tasks.append(customer_retention.lost_share_task(ds, period))
    if ds.has("assessments"):
        tasks.append(competency.table_task(ds, period.end))
    if ds.has("sales") and ds.has("incentives"):
        tasks.append(incentive_misalignment.quarter_end_task(ds, period))
    return tasks


def _quota_note(ds: Dataset, team: pd.Series, period: Period, scope: Scope) -> str:
    """What is missing when no rep in scope has a quota for the period ("" when some do)."""
    if team.get("quota", np.nan) > 0:
        return ""
    if not ds.has("quotas"):
        return f"Quotas: not available — the gap to goal needs them: {QUOTA_HOW}."
    return (f"Quotas: none for {period.label} ({scope.label}) — the gap to goal needs them: add quota rows "
            f"for this period to the quotas table, then export again.")


def _missing_lines(sheets: dict[str, pd.DataFrame], quota_note: str, territory_note: str,
                   competency_note: str) -> dict[str, str]:
    """The one line each sheet without rows shows instead, and the Summary's waterfall line."""
    reasons = {
        "Findings": quota_note or "No finding for this period and scope.",
        "Rep diagnosis": quota_note or "No rep is below goal in this period and scope.",
        "Territories": territory_note or ("Territories: no territory in the data — add a territory column "
                                          "to the reps and accounts tables (or upload territories), then "
                                          "export again."),
        "Competencies": competency_note,
        "Trends": "Trends: no sales in the months shown — upload sales or won opportunities.",
        "Data quality": "No data-quality issue: every row read was loaded.",
        "What if": quota_note or "No rep below goal has a cause with money behind it in this period and scope.",
    }
    out = {name: line for name, line in reasons.items() if line and name in sheets and sheets[name].empty}
    if quota_note:
        out["Waterfall"] = quota_note
    return out


def column_units(sheet: str, columns: dict[str, str]) -> dict[str, str]:
    """header → unit of a sheet's columns (header → core column) that have one: the sheet's own
    meaning first, then the KPI's unit (registry), then COLUMN_UNITS; causes are money."""
    own = SHEET_COLUMN_UNITS.get(sheet, {})
    units = {h: own.get(c) or unit_of(c) or COLUMN_UNITS.get(c) or (CAUSE_UNIT if c in diagnostics.CAUSES else None)
             for h, c in columns.items()}
    return {h: u for h, u in units.items() if u}


def _shape(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The sheet's columns (header → source column) in order; absent sources become empty."""
    out = frame.reindex(columns=list(columns.values())).reset_index(drop=True)
    out.columns = list(columns)
    return out


def _source_label(ds: Dataset) -> str:
    files = dict.fromkeys(s.source.split(" › ")[0] for s in ds.sources
                          if not s.source.startswith("derived"))
    return ", ".join(files) if files else "canonical tables"


def _headline(team: pd.Series, kpis: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    rows = [(k, KPIS[k].label, KPIS[k].unit, team.get(k, np.nan), _target(KPIS[k], settings),
             KPIS[k].higher_is_better) for k in HEADLINE_KPIS]
    distribution = attainment_distribution(kpis)
    rows += [
        ("shortfall", "Shortfall of reps below goal", "money", team.get("remaining_quota", np.nan), np.nan, False),
        ("share_at_goal", "Reps at or above goal", "pct", distribution.get("share_at_goal", np.nan),
         np.nan, True),
        ("pay_for_performance", "Pay-for-performance (Spearman)", "correlation",
         pay_for_performance(kpis), settings.targets.pay_for_performance, True),
    ]
    frame = pd.DataFrame(rows, columns=["key", "KPI", "unit", "value", "target", "higher_is_better"])
    return frame.astype({"value": "float64", "target": "float64"})


def _target(kpi: Kpi, settings: Settings) -> float:
    """The KPI's target in the settings (NaN for a KPI without one)."""
    return float(getattr(settings.targets, kpi.target)) if kpi.target else np.nan


def _scorecard(kpis: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    causes = reps.set_index("rep_id")["primary_cause"]
    return _shape(kpis.assign(primary_cause=kpis["rep_id"].map(causes)), SCORECARD)


def _rep_diagnosis(diagnosis: diagnostics.Diagnosis) -> pd.DataFrame:
    """Reps below goal, biggest gap first, with the money each cause explains."""
    return _shape(diagnostics.reps_below(diagnosis), _diagnosis_columns(diagnosis.reps))


def _diagnosis_columns(reps: pd.DataFrame) -> dict[str, str]:
    """The Rep diagnosis sheet's columns: DIAGNOSIS, then the money of each cause diagnosed."""
    return DIAGNOSIS | {k: k for k in diagnostics.CAUSES if k in reps.columns}


def _trends(ds: Dataset, period: Period, settings: Settings, scope: Scope) -> pd.DataFrame:
    """The last TREND_MONTHS months to the period end (from the first month with data) and the
    forecast months after it."""
    start = forecast.history_start(ds, period.end, TREND_MONTHS)
    # attainment as core.kpis.monthly computes it (revenue of the reps with a quota / their quota)
    return _shape(forecast.monthly_forecast(ds, start, period.end, settings, scope), TRENDS)


def _territories(ds: Dataset, period: Period, settings: Settings, scope: Scope) -> tuple[pd.DataFrame, str]:
    if not (ds.has("accounts") or ds.has("territories")):
        return (_shape(pd.DataFrame(), TERRITORIES),
                ("Territories: not available — upload accounts (account, territory, potential) or "
                 "territories, then export again."))
    balance = territory.territory_balance(ds, period, settings)
    return _shape(balance[territories_in_scope(ds, scope, balance["territory_id"], balance["region"])], TERRITORIES), ""


def _competencies(ds: Dataset, period: Period, settings: Settings,
                  rep_ids: set[str]) -> tuple[pd.DataFrame, str]:
    if not ds.has("assessments"):
        return (_shape(pd.DataFrame(), COMPETENCIES),
                ("Competencies: not available — upload assessments (rep, date, competency, rating), "
                 "then export again."))
    table = competency.competency_table(ds, settings, period.end)
    return _shape(table[table["rep_id"].isin(rep_ids)], COMPETENCIES), ""


def _data_quality(ds: Dataset) -> tuple[pd.DataFrame, str]:
    issues = ds.issues
    note = (f"Data quality: the first {MAX_ISSUE_ROWS:,} of {len(issues):,} issues are listed; the "
            "Data page has the full report." if len(issues) > MAX_ISSUE_ROWS else "")
    return _shape(issues.head(MAX_ISSUE_ROWS), DATA_QUALITY), note


def _not_assessed(not_assessed: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(f"{cause_label(k)}: not assessed — upload {', '.join(map(table_label, tables))}."
                 for k, tables in not_assessed.items())


def _top_findings(findings: pd.DataFrame) -> tuple[str, ...]:
    """The top findings as sentences a director reads out in a meeting."""
    top = findings.sort_values("rank").head(TOP_FINDINGS)
    labels = top["cause"].map(cause_label)
    who = top["who_names"].where(top["who_names"].fillna("").str.len() > 0, top["who"]).fillna("")
    money = [f"{fmt_money(v)} (range {fmt_money(lo)}–{fmt_money(hi)})"
             for v, lo, hi in zip(top["impact"], top["impact_low"], top["impact_high"], strict=False)]
    return tuple(f"{r}. {label} — {w} ({sev} severity): {str(ev).rstrip('.')}. Estimated impact {m}. "
                 f"Next: {str(act).rstrip('.')}."
                 for r, label, w, sev, ev, m, act in zip(top["rank"], labels, who, top["severity"],
                                                         top["evidence"], money, top["actions"], strict=False))
