"""Inputs that are not uploads: a DuckDB database file, a folder of CSV / Parquet files, a
connection URL (core.engine.backend), and the small TOML file that says which table (and column)
of those holds which canonical one.

Every database table (or view) and every Parquet file becomes a `RawSheet` — its column names as
the header, its rows numbered from 1 in table order — and goes through ingest like an uploaded
sheet: the table is chosen by its name (or the map), the columns matched and parsed by the same
rules, and every row is loaded or listed in the validation report with its reason. CSV and workbook
files in a folder are read exactly as uploads are.

The map (`--tables map.toml`):

    [tables]                 # canonical table = table (or file stem) in the source
    sales = "fact_invoice_lines"
    reps = "dim_sales_rep"

    [columns.sales]          # optional: canonical column = column in that table
    revenue = "net_amount"
    date = "invoice_date"

The app takes the same inputs from its administrator (GOALGAP_DATA, or [goalgap] data in the
app's secrets.toml): configured_source reads that setting, source_signature says when the data
changed (ui/source.py reads and shows it).
"""
from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.engine.backend import canonical_tables, connect, duckdb_path, is_url, shown
from core.engine.spill import duckdb_connection
from core.errors import UserError
from core.ingest.readers import RawSheet
from core.schema import TABLES

if TYPE_CHECKING:
    import duckdb

DATABASE_TYPES = (".duckdb", ".ddb")
PARQUET_TYPES = (".parquet", ".pq")
_DUCKDB_MAGIC = b"DUCK"          # bytes 8-11 of a DuckDB database file


@dataclass(frozen=True)
class TableMap:
    """Canonical table → its name in the source; per canonical table, canonical column → source column."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> TableMap:
        """The map in a TOML file; a UserError names what is wrong in it."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"Table map not found: {path}.")
        try:
            raw = tomllib.loads(path.read_bytes().decode("utf-8", errors="replace"))
        except tomllib.TOMLDecodeError as err:
            raise UserError(f"{path.name} is not a valid TOML file ({err}).") from err
        return cls.parse(raw, path.name)

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str = "the table map") -> TableMap:
        unknown = set(raw) - {"tables", "columns"}
        if unknown:
            raise UserError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}; use [tables] "
                            "and [columns.<table>].")
        tables, columns = raw.get("tables", {}), raw.get("columns", {})
        if not isinstance(tables, dict) or not isinstance(columns, dict):
            raise UserError(f"{where}: [tables] and [columns.<table>] must be sections of name = \"name\".")
        for canonical, name in tables.items():
            _check_table(canonical, where)
            if not isinstance(name, str) or not name.strip():
                raise UserError(f"{where}: [tables] {canonical} must name a table, like {canonical} = \"my_table\".")
        for canonical, renames in columns.items():
            _check_table(canonical, where)
            if not isinstance(renames, dict):
                raise UserError(f"{where}: [columns.{canonical}] must be a section of column = \"name\".")
            known = TABLES[canonical].column_names
            for column, name in renames.items():
                if column not in known:
                    raise UserError(f"{where}: {canonical} has no column '{column}'; its columns are "
                                    f"{', '.join(known)}.")
                if not isinstance(name, str):
                    raise UserError(f"{where}: [columns.{canonical}] {column} must be a column name in quotes.")
        return cls({k: v.strip() for k, v in tables.items()}, {k: dict(v) for k, v in columns.items()})

    def canonical_of(self, name: str) -> str | None:
        """The canonical table a source table (or file stem) is mapped to, if any."""
        return next((c for c, n in self.tables.items() if n.lower() == name.lower()), None)

    def renames(self, canonical: str | None, name: str) -> dict[str, str]:
        """Source column → canonical column for the table `name` (mapped, or named `canonical`)."""
        table = canonical or (name if name in TABLES else None)
        return {src: col for col, src in self.columns.get(table, {}).items()} if table else {}


def _check_table(canonical: str, where: str) -> None:
    if canonical not in TABLES:
        raise UserError(f"{where}: '{canonical}' is not a GoalGap table; the tables are "
                        f"{', '.join(TABLES)}.")


# --------------------------------------------------------------------------------------- sheets
def frame_sheet(source: str, name: str, frame: pd.DataFrame) -> RawSheet:
    """A table already in rows and named columns, as the raw sheet ingest reads: rows numbered
    from 1 in table order (as the report lists them), no header row, nothing set apart."""
    data = frame.set_axis(np.arange(1, len(frame) + 1), axis=0)
    data.columns = [str(c) for c in data.columns]
    return RawSheet(source=source, name=name, file_name=name, header_row=0, columns=list(data.columns),
                    data=data)


def is_database(path: Path) -> bool:
    """A DuckDB database file (by its type, or by the magic bytes of one with another name)."""
    if path.suffix.lower() in DATABASE_TYPES:
        return True
    try:
        with path.open("rb") as f:
            return f.read(12)[8:12] == _DUCKDB_MAGIC
    except OSError:
        return False


def database_tables(path: Path) -> list[str]:
    """The tables and views of a DuckDB database file ("schema.table" outside the main schema)."""
    with _connect(path) as con:
        rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                           "WHERE table_catalog = current_database() "
                           "ORDER BY table_schema <> 'main', table_schema, table_name").fetchall()
    return [t if s == "main" else f"{s}.{t}" for s, t in rows]


@contextmanager
def _connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The database file opened read-only, spilling to a temporary folder removed after."""
    import duckdb

    with ExitStack() as stack:
        try:
            con = stack.enter_context(duckdb_connection(path, read_only=True))
        except duckdb.Error as err:
            raise UserError(f"{path.name} could not be opened as a DuckDB database ({err}). Give a DuckDB "
                            "file, a folder of CSV / Parquet files, or the files themselves.") from err
        yield con


def database_sheets(path: Path, names: Sequence[str]) -> Iterator[RawSheet]:
    """Each table of `names` in the database, one at a time (only one table's rows alive at once)."""
    with _connect(path) as con:
        for name in names:
            quoted = ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
            frame = con.execute(f"SELECT * FROM {quoted}").df()
            yield frame_sheet(f"{path.name} › {name}", name, frame)
            del frame


def url_label(url: str) -> str:
    """How a connection is named in the validation report: a DuckDB file by its name, another
    backend by its URL without the password."""
    path = duckdb_path(url)
    return path.name if path is not None else shown(url)


def url_sheets(url: str, names: Sequence[str]) -> Iterator[RawSheet]:
    """Each table of `names` read through the backend, one at a time."""
    with connect(url) as con:
        for name in names:
            frame = con.table(name).to_pandas()
            yield frame_sheet(f"{url_label(url)} › {name}", name, frame)
            del frame


def parquet_sheet(path: Path) -> RawSheet:
    """A Parquet file's rows, typed as DuckDB reads them (as a database table's are)."""
    import duckdb

    try:
        with duckdb_connection() as con:
            frame = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
    except duckdb.Error as err:
        raise UserError(f"{path.name} could not be read as a Parquet file ({err}).") from err
    return frame_sheet(path.name, path.stem, frame)


# --------------------------------------------------------------------------------------- inputs
@dataclass
class _Plan:
    """What to read: files as uploads, database tables and Parquet files as sheets."""

    files: list[Path] = field(default_factory=list)
    databases: list[tuple[Path, list[str]]] = field(default_factory=list)
    parquet: list[Path] = field(default_factory=list)
    urls: list[tuple[str, list[str]]] = field(default_factory=list)

    def add_url(self, url: str, table_map: TableMap | None) -> None:
        """A connection URL: only its canonical tables and those the map names are read."""
        with connect(url) as con:
            self.urls.append((url, list(canonical_tables(con, url, table_map).values())))

    def add(self, path: Path) -> None:
        if path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
                self.add(child)
        elif path.suffix.lower() in PARQUET_TYPES:
            self.parquet.append(path)
        elif is_database(path):
            self.databases.append((path, database_tables(path)))
        else:
            self.files.append(path)

    def names(self) -> dict[str, str]:
        """Source label of every table / file stem that can be mapped, by its name."""
        out = {p.stem: p.name for p in self.files + self.parquet}
        out |= {name: f"{db.name} › {name}" for db, names in self.databases for name in names}
        out |= {name: f"{url_label(url)} › {name}" for url, names in self.urls for name in names}
        return out

    def sheets(self) -> Iterator[RawSheet]:
        for db, names in self.databases:
            yield from database_sheets(db, names)
        for url, names in self.urls:
            yield from url_sheets(url, names)
        for path in self.parquet:
            yield parquet_sheet(path)


def _overrides(plan: _Plan, table_map: TableMap) -> dict[str, dict[str, Any]]:
    """The map as ingest's overrides (table and column choices keyed by source label)."""
    by_name = {k.lower(): v for k, v in plan.names().items()}
    missing = [f"{c} = \"{n}\"" for c, n in table_map.tables.items() if n.lower() not in by_name]
    if missing:
        raise UserError(f"The table map names table(s) that are not in the input: {', '.join(missing)}. "
                        f"The input holds: {', '.join(sorted(plan.names())) or 'nothing'}.")
    tables, columns = {}, {}
    for name, source in plan.names().items():
        canonical = table_map.canonical_of(name)
        if canonical:
            tables[source] = canonical
        renames = table_map.renames(canonical, name)
        if renames:
            columns[source] = renames
    return {"tables": tables, "columns": columns}


def ingest_inputs(paths: Sequence[str | Path], table_map: TableMap | None = None,
                  options: dict[str, Any] | None = None) -> Dataset:
    """Files, folders (every file in them), DuckDB database files (every table and view) and
    connection URLs (core.engine.backend: the canonical or mapped tables) into one Dataset,
    through ingest's validation; `table_map` names tables and columns that are not
    named like the canonical ones; `options` are ingest's other overrides (fiscal calendar,
    currency, quota files)."""
    from core.ingest.pipeline import ingest_sheets

    plan = _Plan()
    for p in paths:
        if is_url(p):
            plan.add_url(str(p), table_map)
            continue
        path = Path(p)
        if not path.exists():
            raise UserError(f"File or folder not found: {p}.")
        plan.add(path)
    if not (plan.files or plan.databases or plan.parquet or plan.urls):
        raise UserError(f"No files found in {', '.join(map(str, paths))}.")
    overrides = {**(options or {}), **(_overrides(plan, table_map) if table_map else {})} or None
    files = [(p.name, p) for p in plan.files]     # each read when its turn comes
    return ingest_sheets(files, plan.sheets(), overrides)


# --------------------------------------------------------------------------- the app's configured data
ENV_DATA, ENV_TABLE_MAP = "GOALGAP_DATA", "GOALGAP_TABLE_MAP"
SECRETS_SECTION = "goalgap"
SECRETS_KEYS = ("data", "table_map")


@dataclass(frozen=True)
class ConfiguredSource:
    """The data an administrator set for the app (a folder, a DuckDB file or a connection URL:
    anything ingest_inputs reads), its optional table map, and where it was set."""

    data: str
    table_map: str | None = None
    origin: str = ENV_DATA           # the environment variable, or "secrets.toml"

    @property
    def name(self) -> str:
        """How the source is named on screen: a file or folder by its name, a URL without its password."""
        if is_url(self.data):
            return url_label(self.data)
        return Path(self.data).name or self.data

    def masked(self, text: str) -> str:
        """`text` with the URL's password (if any) replaced by *** wherever it appears."""
        password = urlsplit(self.data).password if is_url(self.data) else None
        return text.replace(password, "***") if password else text


def configured_source(environ: Mapping[str, str], secrets: Mapping[str, Any]) -> ConfiguredSource | None:
    """The administrator's data source: GOALGAP_DATA (with GOALGAP_TABLE_MAP) when that variable is
    set, else `data` (and `table_map`) in the [goalgap] section of the secrets; None when neither
    names one. A UserError says what is wrong in a [goalgap] section."""
    data = environ.get(ENV_DATA, "").strip()
    if data:
        return ConfiguredSource(data, environ.get(ENV_TABLE_MAP, "").strip() or None, ENV_DATA)
    section = secrets.get(SECRETS_SECTION)
    if section is None:
        return None
    where = f"secrets.toml [{SECRETS_SECTION}]"
    if not isinstance(section, Mapping):
        raise UserError(f'{where} must be a section, like [{SECRETS_SECTION}] data = "/srv/goalgap/team.duckdb".')
    unknown = sorted(set(section) - set(SECRETS_KEYS))
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(SECRETS_KEYS)}.")
    values = {key: section.get(key) for key in SECRETS_KEYS}
    for key, value in values.items():
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise UserError(f'{where}: {key} must be a path or URL in quotes, like {key} = "/srv/goalgap/…".')
    if values["data"] is None:
        if values["table_map"] is not None:
            raise UserError(f"{where} has a table_map but no data: add data = \"…\" (a folder, a DuckDB "
                            "file or a connection URL).")
        return None
    return ConfiguredSource(values["data"].strip(), (values["table_map"] or "").strip() or None, "secrets.toml")


def source_signature(source: ConfiguredSource) -> str:
    """What changes when the configured data does: the name, size and modification time of every
    file read (a folder's files, a DuckDB file and its write-ahead log, the table map). A
    connection URL to another backend has no files to look at: its signature is the URL's, so it
    is read once per process (restart the app to read it again)."""
    paths = [] if is_url(source.data) else [Path(source.data)]
    database = duckdb_path(source.data) if is_url(source.data) else None
    paths += [database] if database is not None else []
    paths += [Path(source.table_map)] if source.table_map else []
    h = hashlib.sha256(repr((source.data, source.table_map)).encode())
    for path in paths:
        for f in _signature_files(path):
            try:
                st = f.stat()
                h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            except OSError:
                h.update(f"{f}|missing\n".encode())
    return h.hexdigest()


def _signature_files(path: Path) -> list[Path]:
    """The files `_Plan.add` reads for `path` (a folder's visible files), and a DuckDB file's WAL."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    wal = path.with_name(path.name + ".wal")
    return [path, wal] if wal.exists() else [path]
