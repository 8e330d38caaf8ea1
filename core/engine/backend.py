"""Data where it already lives: a connection URL as input (`duckdb:///path/team.duckdb`, or any
URL `ibis.connect` takes — `postgres://…`, `snowflake://…`, `bigquery://…`, `pyspark://…` with
that backend's Ibis extra installed).

Only the tables named like the canonical ones (reps, sales, …) or mapped to them by the TOML table
map (core.ingest.sources.TableMap) are read; a warehouse's other tables are never touched. Each is
read through the backend into a raw sheet that goes through ingest like an upload (every row
loaded or listed with its reason); `backend_month_parts` computes the per-rep × month parts on the
backend itself (core.engine.parts), so only that small result leaves the warehouse.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from core.errors import UserError
from core.schema import TABLES

if TYPE_CHECKING:
    import pandas as pd

    from core.ingest.sources import TableMap

_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


def is_url(text: str | Path) -> bool:
    """Whether an input names a connection (scheme://…) rather than a file or folder."""
    return bool(_URL.match(str(text)))


def shown(url: str) -> str:
    """The URL as it may be shown: its password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def duckdb_path(url: str) -> Path | None:
    """The database file a duckdb:// URL names (None for another scheme)."""
    if not url.lower().startswith("duckdb://"):
        return None
    return Path(url[len("duckdb://"):])


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """An Ibis backend for `url`, closed on exit; a UserError in one line when it cannot connect.
    A DuckDB file is opened read-only, with a memory limit and a spill folder that is removed
    after (core.engine.spill)."""
    from core.engine.spill import ibis_duckdb

    with ExitStack() as stack:
        try:
            path = duckdb_path(url)
            if path is not None:
                if not path.is_file():
                    raise UserError(f"No DuckDB database at {path}: give the path of an existing file, "
                                    "like duckdb:///data/team.duckdb.")
                con = stack.enter_context(ibis_duckdb(path, read_only=True))
            else:
                import ibis

                con = ibis.connect(url)
                stack.callback(con.disconnect)
        except UserError:
            raise
        except Exception as err:  # noqa: BLE001 — any driver's failure becomes one plain line
            reason = str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else type(err).__name__
            raise UserError(f"Could not connect to {shown(url)} ({reason}). Check the URL, that the "
                            "database is reachable, and that its Ibis extra is installed.") from err
        yield con


def canonical_tables(con: Any, url: str, table_map: TableMap | None = None) -> dict[str, str]:
    """canonical table → the backend's table holding it: those the map names (each must exist),
    then those named like a canonical table. A UserError when the map names a table the backend
    lacks, or when no table is found."""
    present = {name.lower(): name for name in _table_names(con)}
    found: dict[str, str] = {}
    if table_map is not None:
        missing = [f'{c} = "{n}"' for c, n in table_map.tables.items() if n.lower() not in present]
        if missing:
            raise UserError(f"The table map names table(s) that are not in {shown(url)}: {', '.join(missing)}.")
        found |= {c: present[n.lower()] for c, n in table_map.tables.items()}
    found |= {c: present[c] for c in TABLES if c in present and c not in found}
    if not found:
        raise UserError(f"{shown(url)} holds no GoalGap table: name tables reps, sales, quotas … or map "
                        "yours in a table map (--tables map.toml).")
    return found


def _table_names(con: Any) -> list[str]:
    """The backend's tables and views. On DuckDB read from information_schema: Ibis 12's
    list_tables calls a cursor method DuckDB 2.0 no longer has."""
    if con.name == "duckdb":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        return [str(row[0]) for row in con.raw_sql(sql).fetchall()]
    return list(con.list_tables())


def backend_tables(con: Any, url: str, table_map: TableMap | None = None) -> dict[str, Any]:
    """The canonical tables of the backend as Ibis tables with the canonical column names (the
    map's column renames applied), for core.engine.parts."""
    tables = {}
    for canonical, name in canonical_tables(con, url, table_map).items():
        t = con.table(name)
        renames = table_map.renames(canonical, name) if table_map else {}
        tables[canonical] = t.rename({new: old for old, new in renames.items() if old in t.columns})
    return tables


def backend_month_parts(url: str, table_map: TableMap | None = None) -> pd.DataFrame:
    """The per-rep × month parts computed on the backend where the tables live (only the
    result comes back). The tables must already be clean canonical tables (typed, one id per
    rep): no ingest rule runs on the backend."""
    from core.engine.parts import month_parts

    with connect(url) as con:
        return month_parts(backend_tables(con, url, table_map))
