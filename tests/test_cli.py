"""`python -m core report`: a file and progress on success, one plain line and no traceback on error."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core.cli import main
from core.report.anonymize import scan_for_names
from core.sample.team import generate, write_workbook
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "goalgap_sample.xlsx"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    tables = generate(n_reps=10, years=2.2, seed=11).tables
    path = tmp_path_factory.mktemp("in") / "team.xlsx"
    write_workbook(tables, path)
    return path, tables


@pytest.fixture(scope="module")
def anonymised_report(sample, tmp_path_factory) -> tuple[int, str, Path]:
    """`report INPUT --out summary.xlsx --anonymize` with no period: exit code, stderr, the file."""
    out = tmp_path_factory.mktemp("out") / "summary.xlsx"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(sample[0]), "--out", str(out), "--anonymize"])
    return code, err.getvalue(), out


def test_report_writes_the_workbook_with_progress_and_no_real_names(sample, anonymised_report):
    """Exit 0, the file exists with the summary sheets, a progress line per step on stderr, the
    latest complete quarter by default (the sample ends 2026-11-20 → 2026-Q3), and with
    --anonymize no real rep, manager or account name anywhere while the ids remain."""
    tables = sample[1]
    code, err, out = anonymised_report
    assert code == 0, err
    for step in ("reading 1 file…", "anonymising names…", "computing KPIs…", "diagnosing…",
                 "writing summary.xlsx…"):
        assert step in err
    assert "(2026-Q3," in err
    blob = out.read_bytes()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["Summary", "Rep scorecard"]
    assert wb["Summary"]["B2"].value.startswith("2026-Q3")
    real = (list(tables["reps"]["rep_name"]) + list(tables["reps"]["manager"].dropna().unique())
            + list(tables["accounts"]["account_name"]))
    assert scan_for_names(blob, real) == []
    ids = list(tables["reps"]["rep_id"])
    assert scan_for_names(blob, ids) == ids
    assert scan_for_names(blob, ["Rep 001", "Rep 010"]) == ["Rep 001", "Rep 010"]


@pytest.mark.parametrize("args, message", [
    (["--period", "2026-Q5"], "is not a period"),
    (["--period", "1999"], "no sales in 1999"),
    (["--start", "2026-07-01"], "--start needs --end"),
    (["--start", "not a day", "--end", "2026-09-30"], "is not a date range"),
])
def test_bad_periods_give_one_plain_line(sample, tmp_path, capfd, args, message):
    code = main(["report", str(sample[0]), "--out", str(tmp_path / "x.xlsx"), *args])
    lines = capfd.readouterr().err.strip().splitlines()
    assert code != 0
    assert message in lines[-1] and lines[-1].startswith("error:")
    assert sum(line.startswith("error:") for line in lines) == 1 and len(lines) <= 2
    assert not (tmp_path / "x.xlsx").exists()


def test_period_with_start_is_refused_by_the_parser(sample, tmp_path, capfd):
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(sample[0]), "--out", str(tmp_path / "x.xlsx"), "--period", "2026-Q3",
              "--start", "2026-07-01", "--end", "2026-09-30"])
    err = capfd.readouterr().err.strip()
    assert exit_.value.code == 2 and "not allowed with argument --period" in err and "\n" not in err


def test_missing_file(tmp_path, capfd):
    assert main(["report", str(tmp_path / "nope.xlsx"), "--out", str(tmp_path / "x.xlsx")]) == 1
    assert capfd.readouterr().err.strip() == f"error: File not found: {tmp_path / 'nope.xlsx'}."


def test_unreadable_file_in_a_real_process_has_no_traceback(tmp_path):
    """A file that is not data: non-zero exit, one line, no Python traceback."""
    bad = tmp_path / "notes.xlsx"
    bad.write_bytes(b"\x00\x01 this is not a workbook")
    run = subprocess.run([sys.executable, "-m", "core", "report", str(bad), "--out", str(tmp_path / "x.xlsx")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in run.stderr and len(lines) == 1, run.stderr


def test_a_real_process_leaves_its_output_whole_and_no_temporary_folder(tmp_path):
    """core.__main__ skips the interpreter's teardown: the exit code, every line and the workbook
    still come out, and multiprocessing's exit handler still removes its temporary folder."""
    scratch = Path(tempfile.mkdtemp(prefix="gg-"))     # short: the forkserver's socket lives there
    out = tmp_path / "summary.xlsx"
    run = subprocess.run([sys.executable, "-m", "core", "report", str(SAMPLE), "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(scratch)})
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines()[-1].startswith(f"done: {out}")
    assert openpyxl.load_workbook(out, read_only=True).sheetnames[0] == "Summary"
    left = list(scratch.iterdir())
    scratch.rmdir() if not left else None
    assert left == []


def test_a_temporary_folder_too_long_for_the_reading_process_is_said_plainly(tmp_path):
    deep = tmp_path / ("a" * 60) / ("b" * 60)
    deep.mkdir(parents=True)
    run = subprocess.run([sys.executable, "-m", "core", "report", str(SAMPLE), "--out", str(tmp_path / "x.xlsx")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(deep)})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"error: GoalGap could not start the process that reads files: the temporary folder's path ({deep}) is too "
        "long for it. Set TMPDIR to a short folder, such as /tmp, and try again."]


def test_help_is_quick_and_lists_the_options():
    run = subprocess.run([sys.executable, "-m", "core", "report", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0
    for option in ("--out", "--period", "--start", "--end", "--anonymize", "--settings"):
        assert option in run.stdout


def test_cli_file_equals_the_apps_download(sample, anonymised_report):
    """The app builds its download from the uploaded bytes with the same functions: same bytes."""
    from core.ingest.pipeline import ingest
    from core.periods import parse_period
    from core.report.anonymize import anonymize
    from core.report.summary import collect
    from core.report.workbook import build_workbook
    from core.settings import Settings

    path = sample[0]
    ds = anonymize(ingest([(path.name, path.read_bytes())]))
    blob = build_workbook(collect(ds, parse_period("2026-Q3"), Settings()))
    assert blob == anonymised_report[2].read_bytes()


SIX_MEETINGS = Settings().with_target("meetings_per_week", 6.0).with_target("knowledge_quotient", 75.0)


def _summary_targets(path: Path) -> dict[str, float]:
    """KPI → Target from the Summary sheet's headline block (columns A and C)."""
    ws = openpyxl.load_workbook(path)["Summary"]
    rows = list(ws.iter_rows(min_col=1, max_col=3, values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Headline KPIs (team in scope)") + 2
    block = rows[start:next((i for i, r in enumerate(rows) if i >= start and r[0] is None), len(rows))]
    return {kpi: target for kpi, _, target in block}


@pytest.fixture(scope="module")
def report_with_settings(sample, tmp_path_factory) -> tuple[int, str, Path]:
    """`report INPUT --period 2026-Q3 --settings goalgap-settings.json` as the Settings page writes it."""
    where = tmp_path_factory.mktemp("settings")
    (where / "goalgap-settings.json").write_text(SIX_MEETINGS.to_json())
    out = where / "summary.xlsx"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", str(sample[0]), "--out", str(out), "--period", "2026-Q3",
                     "--settings", str(where / "goalgap-settings.json")])
    return code, err.getvalue(), out


def test_report_uses_the_targets_of_a_settings_file(report_with_settings, anonymised_report):
    """The Summary sheet's headline targets are the file's (6 meetings a week, knowledge 75), where
    the report without --settings has the defaults (5 and 80)."""
    code, err, out = report_with_settings
    assert code == 0, err
    given, default = _summary_targets(out), _summary_targets(anonymised_report[2])
    assert (given["Meetings per week"], default["Meetings per week"]) == (6, 5)
    assert (given["Knowledge quotient"], default["Knowledge quotient"]) == (75, 80)
    assert {k: v for k, v in given.items() if k not in {"Meetings per week", "Knowledge quotient"}} == \
        {k: v for k, v in default.items() if k not in {"Meetings per week", "Knowledge quotient"}}


def test_cli_file_with_settings_equals_the_apps_download(sample, report_with_settings):
    """The app's download with the same session settings is the same bytes."""
    from core.ingest.pipeline import ingest
    from core.periods import parse_period
    from core.report.summary import collect
    from core.report.workbook import build_workbook

    path = sample[0]
    blob = build_workbook(collect(ingest([(path.name, path.read_bytes())]), parse_period("2026-Q3"), SIX_MEETINGS))
    assert blob == report_with_settings[2].read_bytes()


@pytest.mark.parametrize("content, message", [
    (None, "Settings file not found:"),
    (b"targets: meetings 6", "is not a GoalGap settings file: it is not valid JSON."),
    (b"\xff\xfe\x00 binary", "is not a GoalGap settings file"),
    (b'{"targets": {"meetings_per_week": "six"}}', "targets that are not numbers: meetings_per_week."),
])
def test_a_bad_settings_file_gives_one_plain_line(sample, tmp_path, capfd, content, message):
    settings = tmp_path / "goalgap-settings.json"
    if content is not None:
        settings.write_bytes(content)
    code = main(["report", str(sample[0]), "--out", str(tmp_path / "x.xlsx"), "--settings", str(settings)])
    lines = capfd.readouterr().err.strip().splitlines()
    assert code == 1
    assert lines == [lines[-1]] and lines[-1].startswith("error:") and message in lines[-1]
    assert str(settings) in lines[-1]
    assert not (tmp_path / "x.xlsx").exists()


# --------------------------------------------------------------------------------------- quotas (issue 18)
def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def _sheet_rows(path: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def test_salesforce_report_and_wide_quota_sheet_give_each_rep_the_sheets_quota(tmp_path):
    """`report export.csv --quotas plan.xlsx`: every rep's quota is the sheet's cell for the
    quarter, and the Findings sheet ranks findings."""
    from tests.quota_fixtures import quarterly_quotas, salesforce_csv, wide_quota_xlsx

    (tmp_path / "export.csv").write_bytes(salesforce_csv())
    (tmp_path / "plan.xlsx").write_bytes(wide_quota_xlsx())
    out = tmp_path / "summary.xlsx"
    code, err = _run(["report", str(tmp_path / "export.csv"), "--quotas", str(tmp_path / "plan.xlsx"),
                      "--period", "2025-Q3", "--out", str(out)])
    assert code == 0, err
    got = {r["Rep ID"]: r["Quota"] for r in _sheet_rows(out, "Rep scorecard")}
    assert got == {rep: q[2] for rep, q in quarterly_quotas().items()}
    findings = _sheet_rows(out, "Findings")
    assert findings and [f["Rank"] for f in findings] == list(range(1, len(findings) + 1))


def test_quotas_and_fiscal_year_kept_in_the_settings_file_are_used_headless(tmp_path):
    """A settings file with a July fiscal start and quotas set in the app: --period FY2026-Q1 is
    July–September 2025 and the reps get the settings' quotas."""
    from tests.quota_fixtures import salesforce_csv

    (tmp_path / "export.csv").write_bytes(salesforce_csv())
    settings = Settings(fiscal_start_month=7, quotas=(("Ann Ames", "FY2026-Q1", 90000.0, ""),
                                                      ("Ben Bray", "2025-Q3", 60000.0, "")))
    (tmp_path / "s.json").write_text(settings.to_json())
    out = tmp_path / "summary.xlsx"
    code, err = _run(["report", str(tmp_path / "export.csv"), "--settings", str(tmp_path / "s.json"),
                      "--period", "FY2026-Q1", "--out", str(out)])
    assert code == 0, err
    assert "(FY2026-Q1," in err
    got = {r["Rep ID"]: r["Quota"] for r in _sheet_rows(out, "Rep scorecard") if r["Quota"] is not None}
    assert got == {"Ann Ames": 90000, "Ben Bray": 60000}


# --- --session FILE: build from a session saved in the app -------------------------------------

SESSION_QUOTA = 10_000_000.0        # far above what a sample rep sells: that rep is below goal
SESSION_NOTE = "Director asks for a quarterly review"


def session_team() -> dict:
    """A sample team whose first region has two managers, Kim Ray and Lee Fox."""
    import numpy as np

    tables = generate(n_reps=8, years=2.2, seed=3).tables
    reps = tables["reps"].copy()
    first = reps["region"] == reps["region"].iloc[0]
    reps.loc[first, "manager"] = np.where(np.arange(first.sum()) % 2 == 0, "Kim Ray", "Lee Fox")
    return {**tables, "reps": reps}


def kims(tables: dict) -> list[str]:
    return sorted(tables["reps"].loc[tables["reps"]["manager"] == "Kim Ray", "rep_id"])


def write_session(tables: dict, folder: Path, passphrase: str | None = None) -> Path:
    """A session as the app saves it: one uploaded workbook, settings with a quota set in the app,
    the view on 2026-Q2 and Kim Ray's team, notes, a coaching entry and a scenario."""
    from dataclasses import replace
    from datetime import date

    from core.people.notes import Notebook
    from core.report.session import save_session

    workbook = folder / "team.xlsx"
    write_workbook(tables, workbook)
    rep, name = kims(tables)[0], tables["reps"].set_index("rep_id").at[kims(tables)[0], "rep_name"]
    settings = replace(Settings(), quotas=((rep, "2026-Q2", SESSION_QUOTA, ""),))
    book = (Notebook().add_note("session", "", SESSION_NOTE, date(2026, 7, 2))
            .add_note("rep", rep, f"{name} says the hospital froze budgets", date(2026, 7, 2))
            .add_coaching(rep, date(2026, 5, 1), "Discovery", f"{name} practises discovery calls")
            .save_scenario("Pipeline half fixed", {"pipeline": 0.5}, {}))
    view = {"source": "My files", "period_kind": "Quarter", "scope_region": "All", "scope_manager": "Kim Ray",
            "scope_territory": "All", "scope_rep": "All",
            "period": {"kind": "quarter", "label": "2026-Q2", "start": "2026-04-01", "end": "2026-06-30"}}
    path = folder / "meeting.goalgap"
    path.write_bytes(save_session([("team.xlsx", workbook.read_bytes())], None, settings, view, book.to_dict(),
                                  passphrase=passphrase))
    return path


@pytest.fixture(scope="module")
def session_report(tmp_path_factory) -> tuple[dict, int, str, Path]:
    tables = session_team()
    folder = tmp_path_factory.mktemp("session")
    out = folder / "summary.xlsx"
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["report", "--session", str(write_session(tables, folder)), "--out", str(out)])
    return tables, code, err.getvalue(), out


def test_report_from_a_session_uses_its_period_scope_quotas_and_notes(session_report):
    tables, code, err, out = session_report
    assert code == 0, err
    assert "opening the session meeting.goalgap…" in err and "reading the session's 1 file…" in err
    assert "(2026-Q2, Team of Kim Ray," in err
    wb = openpyxl.load_workbook(out)
    assert wb["Summary"]["B2"].value.startswith("2026-Q2")
    card = pd.DataFrame(wb["Rep scorecard"].values)
    card = card[1:].set_axis(card.iloc[0], axis=1)
    assert sorted(card["Rep ID"]) == kims(tables)                           # the session's scope
    quotas = card.set_index("Rep ID")["Quota"]
    assert quotas[kims(tables)[0]] == SESSION_QUOTA                         # the quota set in the app
    assert quotas.drop(kims(tables)[0]).isna().all()                       # ... replaces the file's
    notes = "\n".join(str(c) for row in wb["Notes"].values for c in row if c is not None)
    assert SESSION_NOTE in notes and "practises discovery calls" in notes


@pytest.mark.parametrize("before, after, message", [
    (["IN.xlsx"], [], "either INPUT files or --session FILE, not both"),
    ([], ["--tables", "map.toml"], "--tables is for INPUT files"),
])
def test_session_with_options_it_cannot_take(tmp_path, capfd, before, after, message):
    argv = ["report", *before, "--session", str(tmp_path / "s.goalgap"), "--out", str(tmp_path / "x.xlsx"), *after]
    assert main(argv) == 1
    assert message in capfd.readouterr().err


def test_nothing_to_read_and_whole_team_without_session(tmp_path, capfd):
    assert main(["report", "--out", str(tmp_path / "x.xlsx")]) == 1
    assert "give the files (INPUT …) or a saved session (--session FILE)" in capfd.readouterr().err
    (tmp_path / "in.csv").write_text("x\n1\n")
    assert main(["report", str(tmp_path / "in.csv"), "--whole-team", "--out", str(tmp_path / "x.xlsx")]) == 1
    assert "--whole-team is for --session" in capfd.readouterr().err
    assert main(["report", "--session", str(tmp_path / "nope.goalgap"), "--out", str(tmp_path / "x.xlsx")]) == 1
    assert "File not found" in capfd.readouterr().err


def test_protected_session_needs_its_passphrase(tmp_path, capfd, monkeypatch):
    from core.cli import PASSPHRASE_ENV
    from core.report.session import save_session

    path = tmp_path / "locked.goalgap"
    path.write_bytes(save_session([], None, Settings(), {}, passphrase="correct horse"))
    argv = ["report", "--session", str(path), "--out", str(tmp_path / "x.xlsx")]
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert main(argv) == 1                                    # pytest's stdin is no terminal: no prompt
    assert f"set {PASSPHRASE_ENV}" in capfd.readouterr().err
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    assert main(argv) == 1
    assert "The passphrase does not open this session file" in capfd.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.slow
def test_session_saved_on_the_sample_team_reads_the_bundled_sample(tmp_path, capfd):
    """A session of the sample team holds no files: the command reads the workbook the app shows."""
    from core.report.session import SAMPLE_WORKBOOK, save_session

    if not SAMPLE_WORKBOOK.exists():
        pytest.skip("the bundled sample workbook is not built yet")
    path = tmp_path / "demo.goalgap"
    path.write_bytes(save_session([], None, Settings(), {"source": "Sample team (demo data)"}))
    out = tmp_path / "summary.xlsx"
    assert main(["report", "--session", str(path), "--out", str(out), "--whole-team"]) == 0
    assert "reading the bundled sample team" in capfd.readouterr().err
    wb = openpyxl.load_workbook(out)
    sample_reps = openpyxl.load_workbook(SAMPLE_WORKBOOK, read_only=True)
    assert wb["Rep scorecard"].max_row - 1 == len(list(sample_reps["reps"].values)) - 1


def test_an_out_file_in_a_missing_folder_is_refused_before_any_work(tmp_path, capsys):
    code = main(["report", "sample_data/goalgap_sample.xlsx", "--out", str(tmp_path / "nope" / "x.xlsx")])
    err = capsys.readouterr().err
    assert code == 1 and f"the folder {tmp_path / 'nope'} does not exist" in err
    assert "reading" not in err and not (tmp_path / "nope").exists()
