"""DuckDB out of core, leaving nothing behind: every DuckDB connection GoalGap opens gets a memory
limit and a spill folder (temp_directory) inside a fresh `tempfile.TemporaryDirectory`, removed
when the connection is closed — after an error too — so rows DuckDB wrote to disk while working
never outlive the work.

The limit stays well under the ingest worker's memory budget (core.ingest.sandbox.MEMORY_BUDGET,
4 GB), so a big read spills to disk instead of stopping the worker.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    from ibis.backends.duckdb import Backend as DuckDBBackend

MEMORY_LIMIT = "1GB"
_PREFIX = "goalgap-duckdb-"


_QUIET = "SET enable_progress_bar = false"    # else DuckDB draws a progress bar on long reads


def _config(spill: str, memory_limit: str) -> dict[str, Any]:
    return {"memory_limit": memory_limit, "temp_directory": spill}


@contextmanager
def duckdb_connection(database: str | Path = ":memory:", read_only: bool = False,
                      memory_limit: str = MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that spills to a temporary folder removed on exit (even on error)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix=_PREFIX) as spill:
        con = duckdb.connect(str(database), read_only=read_only, config=_config(spill, memory_limit))
        try:
            con.execute(_QUIET)
            yield con
        finally:
            con.close()


@contextmanager
def ibis_duckdb(database: str | Path = ":memory:", read_only: bool = False,
                memory_limit: str = MEMORY_LIMIT) -> Iterator[DuckDBBackend]:
    """The same, as an Ibis DuckDB backend (core.engine.parts runs on it)."""
    import ibis

    with tempfile.TemporaryDirectory(prefix=_PREFIX) as spill:
        con = ibis.duckdb.connect(str(database), read_only=read_only, **_config(spill, memory_limit))
        try:
            con.raw_sql(_QUIET)
            yield con
        finally:
            con.disconnect()
