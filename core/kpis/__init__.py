"""Every KPI of kpis.md: per-rep parts and formulas, roll-ups from sums, monthly series, forecast."""
