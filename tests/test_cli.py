"""`python -m core report`: a file and progress on success, one plain line and no traceback on error."""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from core.cli import main
from core.report.anonymize import scan_for_names
from core.sample.team import generate, write_workbook
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


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
