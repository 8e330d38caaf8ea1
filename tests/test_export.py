"""The Excel summary: export.md's sheets and headers, the core's numbers, formats, safety, speed."""
from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.dataset import Dataset
from core.diagnostic.findings import diagnose
from core.kpis.rollup import rep_kpis, team_kpis
from core.periods import parse_period
from core.report.summary import SummaryData, collect
from core.report.workbook import build_workbook
from core.schema import empty_table
from core.settings import Settings

# export.md, copied by hand: the file's contract with its readers.
SPEC = {
    "Rep scorecard": ["Rep ID", "Rep", "Region", "Territory", "Revenue", "Quota", "Attainment", "Gap to goal",
                      "Growth", "Market share", "Win rate", "Sales cycle (days)", "Meetings per week",
                      "Call plan adherence", "On-time follow-up rate", "Knowledge quotient", "Payout",
                      "Primary cause"],
    "Findings": ["Rank", "Cause", "Scope", "Who", "Severity", "Evidence", "Estimated impact", "Impact low",
                 "Impact high", "Confidence", "Recommended actions"],
    "Rep diagnosis": ["Rep ID", "Rep", "Attainment", "Gap to goal", "Primary cause", "Causes", "Unexplained"],
    "Territories": ["Territory", "Region", "Rep ID", "Potential", "Potential index", "Quota",
                    "Quota / potential", "Accounts", "Coverage", "Overlap", "Attainment"],
    "Competencies": ["Rep ID", "Rep", "Role", "Competency", "Latest rating", "Expected", "Gap",
                     "Trend per 90 days", "Assessments", "Self minus manager"],
    "Trends": ["Month", "Revenue", "Quota", "Attainment", "Forecast", "Forecast low", "Forecast high"],
    "Data quality": ["Table", "Source", "Row", "Column", "Problem", "Value"],
    "What if": ["Cause", "Reps", "Gap closed", "Low", "High"],
}
SHEET_ORDER = ["Summary", *SPEC]
PERIOD = parse_period("2026-Q3")
INJECTION = '=HYPERLINK("http://x","y")'


def _open(blob: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(blob))


def _rows(ws) -> pd.DataFrame:
    values = list(ws.values)
    return pd.DataFrame(values[1:], columns=values[0])


@pytest.fixture(scope="module")
def sample(team12_summary) -> tuple[Dataset, bytes, SummaryData]:
    """12 generated reps summarised for 2026-Q3 (PERIOD) and written (shared with test_whatif)."""
    ds, data, blob = team12_summary
    assert data.period == PERIOD
    return ds, blob, data


def _tiny() -> Dataset:
    """Four reps, three months of sales and meetings, no training/accounts/assessments/incentives;
    two names start like formulas."""
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4"],
                         "rep_name": ["Ann Lee", INJECTION, "+Cee Dee", "Dan Fox"],
                         "region": ["East", "East", "West", "West"], "territory_id": ["T1", "T2", "T3", "T4"]})
    months = pd.to_datetime(["2026-07-15", "2026-08-15", "2026-09-15"])
    sales = pd.DataFrame({"date": np.repeat(months, 4), "rep_id": ["R1", "R2", "R3", "R4"] * 3,
                          "product": "Stent", "revenue": [100.0, 80.0, 120.0, 50.0] * 3})
    quotas = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4"], "period": "2026-Q3", "quota": 300.0})
    activities = pd.DataFrame({"date": np.repeat(months, 4), "rep_id": ["R1", "R2", "R3", "R4"] * 3,
                               "activity_type": "meeting", "planned": [True, False, True, True] * 3})
    return Dataset(tables={"reps": _canonical("reps", reps), "sales": _canonical("sales", sales),
                           "quotas": _canonical("quotas", quotas),
                           "activities": _canonical("activities", activities)})


def _canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    empty = empty_table(name)
    return frame.reindex(columns=empty.columns).astype(empty.dtypes.to_dict())


@pytest.fixture(scope="module")
def tiny() -> bytes:
    return build_workbook(collect(_tiny(), PERIOD, Settings()))


def test_sheets_and_headers_follow_export_md(sample):
    """Every sheet in order; each data sheet's first row starts with exactly the spec's headers."""
    wb = _open(sample[1])
    assert wb.sheetnames == SHEET_ORDER
    for name, headers in SPEC.items():
        first = [c.value for c in wb[name][1]][: len(headers)]
        assert first == headers, name
        assert wb[name].freeze_panes == "A2" and wb[name].auto_filter.ref.startswith("A1:")


def test_rep_diagnosis_has_a_money_column_per_cause(sample):
    from core.diagnostic.findings import CAUSES
    header = [c.value for c in _open(sample[1])["Rep diagnosis"][1]]
    assert header[7:] == list(CAUSES)


def test_scorecard_numbers_equal_the_kpi_engine_and_the_diagnostic(sample):
    ds, blob, _ = sample
    sheet = _rows(_open(blob)["Rep scorecard"]).set_index("Rep ID")
    kpis = rep_kpis(ds, PERIOD, Settings()).set_index("rep_id")
    causes = diagnose(ds, PERIOD, Settings()).reps.set_index("rep_id")["primary_cause"]
    assert sorted(sheet.index) == sorted(kpis.index)
    for rep in list(kpis.index[:3]) + [kpis["gap"].idxmax()]:
        for header, col in (("Revenue", "revenue"), ("Quota", "quota"), ("Attainment", "attainment"),
                            ("Gap to goal", "gap"), ("Win rate", "win_rate"),
                            ("Meetings per week", "meetings_per_week"),
                            ("On-time follow-up rate", "on_time_follow_up_rate")):
            assert sheet.loc[rep, header] == pytest.approx(kpis.loc[rep, col], nan_ok=True), (rep, header)
        assert sheet.loc[rep, "Primary cause"] == causes[rep]


def test_summary_headline_equals_team_kpis(sample):
    ds, blob, _ = sample
    team = team_kpis(ds, PERIOD, Settings())
    summary = {r[0]: r[1:] for r in _open(blob)["Summary"].iter_rows(max_col=4, values_only=True) if r[0]}
    assert summary["Revenue"][0] == pytest.approx(team["revenue"])
    assert summary["Attainment"][0] == pytest.approx(team["revenue"] / team["quota"])
    assert summary["Attainment"][1] == Settings().targets.attainment
    assert summary["Period"][0].startswith("2026-Q3")


def test_findings_sheet_equals_the_diagnostic(sample):
    ds, blob, _ = sample
    findings = diagnose(ds, PERIOD, Settings()).findings.sort_values("rank")
    sheet = _rows(_open(blob)["Findings"])
    assert list(sheet["Cause"]) == list(findings["cause"])
    assert sheet["Estimated impact"].to_numpy(dtype=float) == pytest.approx(findings["impact"].to_numpy(float),
                                                                           nan_ok=True)


def test_ratio_columns_have_percent_formats_and_money_a_currency_format(sample):
    ws = _open(sample[1])["Rep scorecard"]
    header = [c.value for c in ws[1]]
    for name in ("Attainment", "Growth", "Market share", "Win rate", "Call plan adherence",
                 "On-time follow-up rate"):
        assert "%" in ws.cell(row=2, column=header.index(name) + 1).number_format, name
    for name in ("Revenue", "Quota", "Gap to goal", "Payout"):
        assert ws.cell(row=2, column=header.index(name) + 1).number_format == '"$"#,##0', name
    attainment = ws.cell(row=2, column=header.index("Attainment") + 1).value
    assert 0 < attainment < 3        # a fraction, not a percentage number


def test_traffic_lights_on_attainment(sample):
    ws = _open(sample[1])["Rep scorecard"]
    col = openpyxl.utils.get_column_letter([c.value for c in ws[1]].index("Attainment") + 1)
    ranges = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    rules = ranges[f"{col}2:{col}{ws.max_row}"]
    assert len(rules) == 3 and all("ISNUMBER" in r for r in rules)


def test_native_charts_with_titles_on_the_right_cells(sample):
    """Three charts with titles; the waterfall chart's categories are the Summary's steps from
    Quota to Revenue, and the attainment chart reads the scorecard's Attainment column."""
    with zipfile.ZipFile(io.BytesIO(sample[1])) as z:
        charts = [z.read(n).decode() for n in sorted(z.namelist()) if re.match(r"xl/charts/chart\d+\.xml", n)]
    titles = " ".join(re.findall(r"<a:t>([^<]*)</a:t>", " ".join(charts)))
    assert len(charts) == 3
    assert "Attainment by rep, 2026-Q3" in titles and "Monthly revenue vs quota" in titles
    assert "Gap to goal" in titles
    wb = _open(sample[1])
    refs = [re.findall(r"<(?:c:)?f>'([^']+)'!\$?([A-Z]+)\$?(\d+)(?::\$?[A-Z]+\$?(\d+))?</(?:c:)?f>", c)
            for c in charts]
    waterfall = next(r for r in refs if r[0][0] == "Summary")
    sheet, col, first, last = waterfall[1]          # the categories
    assert wb[sheet][f"{col}{first}"].value == "Quota" and wb[sheet][f"{col}{last}"].value == "Revenue"
    bars = next(r for r in refs if r[0][0] == "Rep scorecard")
    assert wb["Rep scorecard"][f"{bars[0][1]}{bars[0][2]}"].value == "Attainment"


def test_missing_inputs_are_empty_cells_and_notes(tiny):
    """No training → knowledge quotient cells are empty (not 0, not 'nan'); missing modules leave
    their sheet with headers only and a note on the Summary."""
    wb = _open(tiny)
    sheet = _rows(wb["Rep scorecard"])
    assert sheet["Knowledge quotient"].isna().all() and sheet["Payout"].isna().all()
    assert sheet["Revenue"].notna().all()
    for name, table in (("Territories", "accounts"), ("Competencies", "assessments")):
        line = wb[name]["A2"].value       # export.md: one line saying what is missing and how to add it
        assert wb[name].max_row == 2 and line.startswith(f"{name}: not available — upload {table}")
    texts = [c for row in wb["Summary"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert wb["Territories"]["A2"].value in texts and wb["Competencies"]["A2"].value in texts
    assert any("associations" in t and "not proof of cause" in t for t in texts)
    assert not any(t.lower() == "nan" for t in texts)


def test_formula_like_names_are_written_as_text(tiny):
    wb = _open(tiny)
    ws = wb["Rep scorecard"]
    cells = {c.value: c for c in ws["B"][1:]}
    for name in (INJECTION, "+Cee Dee"):
        assert cells[name].data_type == "s" and cells[name].quotePrefix
    with zipfile.ZipFile(io.BytesIO(tiny)) as z:
        xml = " ".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "HYPERLINK" in xml and not re.search(r"<f[ >]", xml)    # stored as text, never a formula


def test_same_inputs_give_the_same_bytes(tiny):
    assert build_workbook(collect(_tiny(), PERIOD, Settings())) == tiny


@pytest.mark.slow   # a timing check: out of the default run, run by .ci/run's slow step
def test_a_thousand_reps_are_written_within_ten_seconds(sample):
    """Writing (not computing) the summary of 1,000 reps; frames copied from the sample's."""
    data = sample[2]
    big = {}
    for name, frame in data.sheets.items():
        reps = max(1, 1000 // max(len(frame), 1)) if name in ("Rep scorecard", "Rep diagnosis",
                                                               "Territories", "Competencies") else 1
        big[name] = pd.concat([frame] * (reps if name != "Competencies" else reps * 7), ignore_index=True)
    big["Rep scorecard"] = big["Rep scorecard"].assign(Rep=[f"Rep {i}" for i in range(len(big["Rep scorecard"]))])
    start = time.perf_counter()
    blob = build_workbook(replace(data, sheets=big))
    elapsed = time.perf_counter() - start
    assert len(big["Rep scorecard"]) >= 996
    assert elapsed < 10, elapsed
    assert _open(blob)["Rep scorecard"].max_row == len(big["Rep scorecard"]) + 1


@pytest.fixture(scope="module")
def no_quotas() -> tuple[SummaryData, openpyxl.Workbook]:
    tables = dict(_tiny().tables)
    del tables["quotas"]
    data = collect(Dataset(tables=tables), PERIOD, Settings())
    return data, _open(build_workbook(data))


def test_without_quotas_no_waterfall_and_the_summary_says_what_to_add(no_quotas):
    """Never a $0-quota waterfall ("Ahead of goal" = all revenue): the section says what is missing."""
    data, wb = no_quotas
    assert data.waterfall.empty
    rows = [r for r in wb["Summary"].iter_rows(values_only=True)]
    firsts = [r[0] for r in rows if isinstance(r[0], str)]
    assert "Ahead of goal (other reps)" not in firsts and "Unexplained" not in firsts
    at = firsts.index("Gap to goal: from quota to revenue")
    assert firsts[at + 1].startswith("Quotas: not available") and "upload a quotas table" in firsts[at + 1]
    assert firsts[firsts.index("Top findings") + 1] == firsts[at + 1]
    assert len(wb["Summary"]._charts) == 1        # the trend only: no waterfall, no empty attainment chart


def test_without_quotas_each_affected_sheet_has_the_line(no_quotas):
    data, wb = no_quotas
    for name in ("Findings", "Rep diagnosis"):
        assert wb[name].max_row == 2 and wb[name]["A2"].value == data.missing[name]
        assert data.missing[name].startswith("Quotas: not available")
    scorecard = _rows(wb["Rep scorecard"])
    assert scorecard["Quota"].isna().all() and scorecard["Revenue"].notna().all()


def test_with_quotas_nothing_is_said_missing_about_them(tiny):
    texts = [c for row in _open(tiny)["Summary"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not any(t.startswith("Quotas:") for t in texts) and "Ahead of goal (other reps)" in texts


def test_every_sheet_prints_landscape_one_page_wide_with_its_charts_at_the_top(sample):
    """Print setup (issue 16): landscape, fit to width, a print area, the header row on every page;
    long text wraps; the Summary's charts stand beside the headline numbers, not under the text."""
    wb = _open(sample[1])
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_area, ws.title
    assert wb["Findings"].print_title_rows.replace("$", "") == "1:1"
    findings = wb["Findings"]
    evidence = [c.value for c in findings[1]].index("Evidence") + 1
    assert findings.cell(row=2, column=evidence).alignment.wrap_text
    summary = wb["Summary"]
    anchors = [(c.anchor._from.row + 1, c.anchor._from.col + 1) for c in summary._charts]
    headline = next(r for r in range(1, 30) if summary.cell(row=r, column=1).value == "KPI")
    assert len(anchors) == 3 and min(r for r, _ in anchors) < headline
    assert all(col > 4 for _, col in anchors)          # beside the text block (columns A–D)
    long_lines = [c for row in summary.iter_rows(max_col=1) for c in row
                  if isinstance(c.value, str) and len(c.value) > 60 and (c.font.sz or 11) == 11]
    assert long_lines and all(c.alignment.wrap_text for c in long_lines)


def test_kpi_columns_are_lit_from_the_registry(sample):
    """The scorecard's lit columns are exactly its KPIs with a target where higher is better, each
    against its own target and amber band (registry), whatever the header says."""
    from core.kpis.registry import KPIS
    from core.report.summary import SCORECARD

    _, blob, data = sample
    ws = _open(blob)["Rep scorecard"]
    header = [c.value for c in ws[1]]
    letters = [re.match(r"[A-Z]+", str(cf.sqref)).group(0) for cf in ws.conditional_formatting]
    lit = {header[openpyxl.utils.cell.column_index_from_string(col) - 1]: [r.formula[0] for r in cf.rules]
           for col, cf in zip(letters, ws.conditional_formatting, strict=True)}
    expected = {h for h, col in SCORECARD.items() if col in KPIS and KPIS[col].target and KPIS[col].higher_is_better}
    assert set(lit) == expected
    target = data.settings.targets.meetings_per_week
    assert any(f">={target * 0.8!r}" in rule for rule in lit["Meetings per week"])
