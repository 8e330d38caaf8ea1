"""Engine internals that make ingest and the KPIs cheaper at company scale (issue 14)."""
