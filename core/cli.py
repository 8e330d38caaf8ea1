"""The command line: `python -m core report …` (the Excel summary), `python -m core deck …` (the
deck), either from files or from a saved session (`--session FILE`), and `python -m core sample …`.

Heavy modules (pandas, statsmodels, openpyxl) are imported only once a command runs, so `--help`
answers at once.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from core.dataset import Dataset, Scope
    from core.ingest.sources import TableMap
    from core.people.notes import Notebook
    from core.periods import Period
    from core.report.session import Session
    from core.settings import Settings

PASSPHRASE_ENV = "GOALGAP_SESSION_PASSPHRASE"

USAGE = """usage: python -m core {report,deck,sample} ...

  report   build the Excel summary from your files or a saved session (python -m core report --help)
  deck     build the PowerPoint deck for the meeting, likewise (python -m core deck --help)
  sample   write the bundled sample data (python -m core sample --help)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see: python -m core report --help)\n")


def report_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m core report",
        description="Build the GoalGap Excel summary (export.md) from your files — the same file "
                    "the app's download gives.",
        epilog="With no period, the session's period, else the latest complete quarter in the sales data.")
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="files the app's upload accepts (a multi-sheet workbook, CSVs, CRM exports), "
                             "Parquet files, folders of such files, a DuckDB database file, or a connection "
                             "URL (duckdb:///path/team.duckdb, or any URL Ibis connects to: postgres://…, "
                             "snowflake://…) whose tables are named reps, sales … or mapped with --tables")
    parser.add_argument("--session", metavar="FILE",
                        help="instead of INPUT: a session saved in the app (.goalgap), with its files, "
                             "column matches, settings and quotas, period, scope, notes, coaching log and "
                             "what-if scenarios; options given here replace the session's. A session with "
                             f"a passphrase reads it from ${PASSPHRASE_ENV}, or asks for it in a terminal")
    parser.add_argument("--whole-team", action="store_true",
                        help="with --session: the whole team, not the scope the session was saved with")
    parser.add_argument("--out", required=True, metavar="FILE", help="the .xlsx to write")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--period", metavar="P", help="a year (2025), a quarter (2025-Q3) or a month (2025-07); "
                                                    "FY2026 or FY2026-Q1 with a fiscal year in --settings")
    when.add_argument("--start", metavar="D", help="first day of a custom range (2025-07-01); needs --end")
    parser.add_argument("--end", metavar="D", help="last day of a custom range (2025-09-30)")
    parser.add_argument("--tables", metavar="MAP.toml",
                        help="which table (and column) of the input holds which GoalGap table, for tables "
                             "not named reps, sales, quotas …: [tables] sales = \"fact_sales\", "
                             "[columns.sales] revenue = \"net_amount\"")
    parser.add_argument("--anonymize", action="store_true",
                        help="replace rep, manager and account names with pseudonyms (Rep 001 …); ids stay")
    parser.add_argument("--settings", metavar="FILE",
                        help="targets and thresholds as downloaded from the app's Targets & settings "
                             "page (goalgap-settings.json); without it, the defaults")
    parser.add_argument("--quotas", metavar="FILE",
                        help="a quota file in any shape a director keeps (wide: reps down, months or "
                             "quarters across; or long); it replaces quotas in the inputs and settings")
    parser.add_argument("--compare", metavar="PERIOD",
                        help="add a Comparison sheet against PERIOD (2025-Q2), or 'previous' (the "
                             "period before) or 'year' (the same period a year earlier)")
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _named_period(args: argparse.Namespace, fiscal_start: int = 1) -> Period | None:
    """The period the options name (--period, or --start with --end); None when they name none."""
    import pandas as pd

    from core import periods
    from core.errors import UserError

    if args.end and not args.start:
        raise UserError("--end needs --start (or use --period).")
    if args.start:
        if not args.end:
            raise UserError("--start needs --end (or use --period).")
        try:
            return periods.custom(*(pd.Timestamp(d).date() for d in (args.start, args.end)))
        except ValueError as err:
            raise UserError(f"'{args.start}' to '{args.end}' is not a date range: use dates like "
                            "2025-07-01.") from err
    if args.period:
        return periods.parse_period(args.period, fiscal_start)
    return None


def _latest_quarter(ds: Dataset, fiscal_start: int = 1) -> Period:
    """The latest complete quarter of `ds`: the report's period when the options name none."""
    from core import periods
    from core.errors import UserError

    span = ds.date_span()
    if span is None:
        raise UserError("The files hold no dated sales or closed deals, so there is nothing to report.")
    return periods.latest_complete("quarter", span[1], fiscal_start)


def _read_settings(path: str | None) -> Settings:
    """The settings in the --settings file; the defaults without one."""
    from core.errors import UserError
    from core.settings import Settings

    if path is None:
        return Settings()
    if not Path(path).is_file():
        raise UserError(f"Settings file not found: {path}.")
    try:
        return Settings.from_json(Path(path).read_bytes().decode("utf-8", errors="replace"))
    except UserError as err:
        raise UserError(f"{path}: {err}") from err


def _check_has_data(ds: Dataset, period: Period) -> None:
    from core.errors import UserError
    from core.kpis.metrics import sales_table

    dates = sales_table(ds)["date"]
    if not period.contains(dates).any():
        span = ds.date_span()
        known = f" The data runs from {span[0]} to {span[1]}." if span else ""
        raise UserError(f"There are no sales in {period.label}.{known} Choose another period with "
                        "--period or --start/--end.")


def _compare_period(label: str | None, period: Period) -> Period | None:
    """The --compare period: a label, 'previous' or 'year' (relative to `period`)."""
    from core import periods
    from core.kpis.compare import against

    if label is None:
        return None
    if label.strip().lower() in {"previous", "year"}:
        return against(period, label.strip().lower())
    return periods.parse_period(label)


def deck_parser() -> argparse.ArgumentParser:
    """The report's options, for the deck (export.md: `deck … [same options]`)."""
    parser = report_parser()
    parser.prog = "python -m core deck"
    parser.description = ("Build the GoalGap deck for the meeting (.pptx, native editable charts) from "
                          "your files — the same file the app's Export page gives.")
    return parser


# What building the summary imports on first use: ~1 s, paid while the worker stacks its tables
# alone instead of after it (core.ingest.sandbox.run_isolated's `ahead`).
REPORT_MODULES = ("core.report.summary", "core.report.workbook", "statsmodels.tsa.holtwinters",
                  "statsmodels.regression.linear_model", "scipy.stats", "scipy.optimize")


def _import_report() -> None:
    for name in REPORT_MODULES:
        importlib.import_module(name)


def _read_inputs(inputs: list[str], table_map: TableMap | None, options: dict[str, Any]) -> Dataset:
    """Files, folders, DuckDB files and connection URLs read in a worker process within a memory and time budget,
    so a bad file stops its own worker in seconds (core.ingest.sandbox); the memory budget is the
    machine's (Budget.for_machine), not one web upload's."""
    from core.ingest.sandbox import Budget, ingest_inputs_isolated

    return ingest_inputs_isolated(inputs, table_map, options, Budget.for_machine(), ahead=_import_report)


@dataclass(frozen=True)
class _Job:
    """What a command builds: the data, settings, period and scope, and the session's notebook."""

    ds: Dataset
    settings: Settings
    period: Period
    scope: Scope
    book: Notebook | None


def _check_sources(args: argparse.Namespace) -> None:
    from core.errors import UserError

    if args.session and args.inputs:
        raise UserError("Give either INPUT files or --session FILE, not both (a session holds its own files).")
    if not (args.session or args.inputs):
        raise UserError("Nothing to read: give the files (INPUT …) or a saved session (--session FILE).")
    if args.session and args.tables:
        raise UserError("--tables is for INPUT files; a session keeps its own column matches.")
    if args.whole_team and not args.session:
        raise UserError("--whole-team is for --session (reports from files always cover the whole team).")
    from core.engine.backend import is_url

    named = [*args.inputs, *(x for x in (args.session, args.quotas) if x)]
    missing = [p for p in named if not is_url(p) and not Path(p).exists()]
    if missing:
        raise UserError(f"File not found: {', '.join(missing)}.")


def _open_session(path: str) -> Session:
    """The session file at `path`, its passphrase from PASSPHRASE_ENV or asked in a terminal."""
    import getpass
    import os

    from core.errors import UserError
    from core.report.session import is_encrypted, open_session

    blob = Path(path).read_bytes()
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    if is_encrypted(blob) and passphrase is None:
        if not sys.stdin.isatty():
            raise UserError(f"{Path(path).name} is protected by a passphrase: set {PASSPHRASE_ENV} to it, or "
                            "run the command in a terminal to be asked for it.")
        passphrase = getpass.getpass(f"Passphrase of {Path(path).name}: ")
    return open_session(blob, passphrase)


def _files_data(args: argparse.Namespace, settings: Settings) -> Dataset:
    """The INPUT files (and --quotas), read as the app reads an upload, with the settings' quotas."""
    from core.ingest.quota_rules import with_quotas
    from core.ingest.sources import TableMap

    inputs = [*args.inputs, *([args.quotas] if args.quotas else [])]
    table_map = TableMap.read(args.tables) if args.tables else None
    kind = "file" if all(Path(p).is_file() for p in inputs) else "input"
    _say(f"reading {len(inputs)} {kind}{'s' if len(inputs) > 1 else ''}…")
    options = {**settings.ingest_options(), **({"quota_files": [Path(args.quotas).name]} if args.quotas else {})}
    ds = _read_inputs(inputs, table_map, options)
    if args.quotas:
        return ds
    return with_quotas(ds, settings.quotas, settings.fiscal_start_month, settings.quota_seasonality)


def _session_data(session: Session, args: argparse.Namespace, settings: Settings) -> Dataset:
    """The session's files with its column matches (the bundled sample when it holds none, as the
    app shows it), read in a worker like an upload, with the quotas of the settings."""
    from core.ingest.quota_rules import with_quotas
    from core.ingest.sandbox import ingest_isolated, ingest_paths_isolated
    from core.report.session import SAMPLE_WORKBOOK

    files = list(session.files)
    if args.quotas:
        files.append((Path(args.quotas).name, Path(args.quotas).read_bytes()))
    if not files:
        _say("reading the bundled sample team (the session was saved on it)…")
        ds = ingest_paths_isolated([SAMPLE_WORKBOOK])
    else:
        _say(f"reading the session's {len(files)} file{'s' if len(files) > 1 else ''}…")
        options = {**(session.overrides or {}), **settings.ingest_options(),
                   **({"quota_files": [Path(args.quotas).name]} if args.quotas else {})}
        ds = ingest_isolated(files, options)
    if args.quotas:
        return ds
    return with_quotas(ds, settings.quotas, settings.fiscal_start_month, settings.quota_seasonality)


def _check_scope(ds: Dataset, scope: Scope) -> None:
    from core.errors import UserError
    from core.kpis.metrics import roster

    if roster(ds, scope).empty:
        raise UserError(f"The session's scope ({scope.label}) holds no rep of this data: use --whole-team.")


def _job(args: argparse.Namespace) -> _Job:
    """Read what the options name: INPUT files, or a session (its settings, period, scope and
    notebook, each replaced by an option given on the command line)."""
    from core.dataset import Scope
    from core.people.notes import from_dict
    from core.report.session import session_period, session_scope

    _check_sources(args)
    session = None
    if args.session:
        _say(f"opening the session {Path(args.session).name}…")
        session = _open_session(args.session)
    settings = session.settings if session is not None and not args.settings else _read_settings(args.settings)
    fiscal_start = settings.fiscal_start_month
    chosen = _named_period(args, fiscal_start)
    if session is None:
        ds = _files_data(args, settings)
    else:
        ds = _session_data(session, args, settings)
        chosen = chosen or session_period(session)
    period = chosen or _latest_quarter(ds, fiscal_start)
    _check_has_data(ds, period)
    scope = Scope() if session is None or args.whole_team else session_scope(session)
    _check_scope(ds, scope)
    book = from_dict(session.notes) if session is not None else None
    if args.anonymize:
        from core.report.anonymize import anonymize
        from core.report.deck import anonymized_notebook, anonymized_scope
        _say("anonymising names…")
        named, ds = ds, anonymize(ds)
        book = anonymized_notebook(book, named, ds) if book is not None else None
        scope = anonymized_scope(scope, named, ds)
    return _Job(ds, settings, period, scope, book)


def _check_out(out: Path) -> None:
    """Refuse an --out whose folder does not exist before any work is done (a typo in a path
    should cost a second, not the whole computation, and creates no folders)."""
    from core.errors import UserError

    if not out.parent.is_dir():
        raise UserError(f"the folder {out.parent} does not exist: create it, or give --out a file in "
                        "an existing folder.")


def report(argv: list[str], deck: bool = False) -> int:
    """`python -m core report …` (or `deck …`): read, compute, write; one line per step on stderr."""
    args = (deck_parser() if deck else report_parser()).parse_args(argv)
    from core.errors import UserError

    try:
        _check_out(Path(args.out))
        from core.ingest.sandbox import start_readers, stop_readers

        start_readers()             # the worker's pandas imported beside this process's own
        job = _job(args)
        stop_readers()              # read once: its memory is the report's now
        from core.report.beside import computed_beside
        from core.report.summary import beside_tasks, collect
        from core.report.workbook import build_workbook

        with computed_beside(job.ds, beside_tasks(job.ds, job.period)):
            data = collect(job.ds, job.period, job.settings, job.scope, progress=_say,
                           compare=_compare_period(args.compare, job.period), book=job.book)
        out = Path(args.out)
        _say(f"writing {out.name}…")
        if deck:
            from core.report.deck import build_deck
            out.write_bytes(build_deck(job.ds, job.period, job.settings, job.scope, book=job.book, data=data))
        else:
            out.write_bytes(build_workbook(data))
    except UserError as err:
        _say(f"error: {err}")
        return 1
    except OSError as err:
        _say(f"error: {err.strerror or err} ({err.filename or args.out}).")
        return 1
    except Exception as err:  # noqa: BLE001 — a command line answers in one line, never a traceback
        what = "deck" if deck else "summary"
        _say(f"error: the {what} could not be built ({type(err).__name__}: {err}); please report this.")
        return 3
    scope = "" if job.scope.label == "Whole team" else f", {job.scope.label}"
    _say(f"done: {args.out} ({job.period.label}{scope}, {len(data.sheets['Rep scorecard'])} reps).")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command in {"report", "deck"}:
        return report(rest, deck=command == "deck")
    if command == "sample":
        from core.sample.team import main as sample_main
        return sample_main(rest)
    print(f"error: unknown command '{command}'.\n{USAGE}", file=sys.stderr)
    return 2
