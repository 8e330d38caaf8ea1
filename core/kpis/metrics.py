"""The KPI package's public names in one import (`from core.kpis import metrics`).

This module only re-exports; each rule lives in one module of core.kpis that follows the flow:
registry (each KPI declared once) → inputs (roster, scope, sales source, dates) → quota (quota in
a period, attainment, gap) → arrays (each table as numpy arrays) → parts (per-rep sums of a
period) → grouping (any grouping of reps sums those parts) → formulas (KPIs from summed parts) →
rollup (per rep, territory, region, manager, team) → monthly (monthly series); points, analysis
and funnel build on them. New code imports from those modules directly.
"""
from __future__ import annotations

from core.kpis.analysis import (
    BAND_EDGES,
    BANDS,
    attainment_distribution,
    biggest_movers,
    pay_for_performance,
    peer_percentiles,
    product_mix,
)
from core.kpis.arrays import opportunity_value
from core.kpis.funnel import stage_funnel
from core.kpis.inputs import (
    ROSTER_COLUMNS,
    data_end,
    has_sales,
    missing_inputs,
    not_employed,
    opportunity_status,
    roster,
    sales_table,
    territory_potential,
)
from core.kpis.monthly import monthly, monthly_activity
from core.kpis.parts import period_quota, pipeline_at_start
from core.kpis.quota import quota_by_month
from core.kpis.registry import KPIS, UNITS, Kpi
from core.kpis.rollup import KPI_COLUMNS, REP_KPI_COLUMNS, quota_rollup, rep_kpis, rollup, team_kpis

__all__ = [
    "BANDS", "BAND_EDGES", "KPIS", "KPI_COLUMNS", "REP_KPI_COLUMNS", "ROSTER_COLUMNS", "UNITS", "Kpi",
    "attainment_distribution", "biggest_movers", "data_end", "has_sales", "missing_inputs", "monthly",
    "monthly_activity", "not_employed", "opportunity_status", "opportunity_value", "pay_for_performance",
    "peer_percentiles", "period_quota", "pipeline_at_start", "product_mix", "quota_by_month", "rep_kpis",
    "quota_rollup", "rollup", "roster", "sales_table", "stage_funnel", "team_kpis", "territory_potential",
]
