"""Engine internals for company scale (issue 14): `rows` (the packed-key duplicate finder),
`parts` (the per-rep × month parts written once with Ibis, run on DuckDB or any Ibis backend),
`backend` (a connection URL as input), `spill` (DuckDB within a memory limit, spilling to a
temporary folder that is always removed)."""
