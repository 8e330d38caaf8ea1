"""The deck for the meeting (export.md, "The deck"): a PowerPoint file with native, editable charts.

Slides: the headline (where the period stands and where it is heading), the gap waterfall, the
ranked findings with money and actions, the territory picture, the what-if, the session's notes,
then one slide per rep below goal (attainment, primary cause, evidence, competency ratings
against the role's expected level over time, coaching focus, the coaching log, notes).

Every number comes from core.report.summary.collect (the Excel summary's numbers), so the deck and the
workbook agree. Names come from the Dataset it is given: an anonymised Dataset (and a notebook
renamed with `anonymized_notebook`) names nobody.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from io import BytesIO
from typing import Any

import numpy as np
import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from core.dataset import Dataset, Scope
from core.diagnostic import findings as diagnostics
from core.diagnostic import whatif
from core.fmt import fmt_chance, fmt_money, fmt_pct, is_missing
from core.kpis.quota import attainment
from core.people import competency, notes
from core.periods import Period
from core.report.anonymize import NAME_COLUMNS
from core.report.summary import ASSOCIATION_NOTE, SummaryData, collect
from core.report.workbook import _waterfall_bars
from core.settings import Settings

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
TOP_FINDINGS = 8
MAX_BULLET = 260                       # characters of one bullet line before it is cut
MONEY_FMT, PCT_FMT = '"$"#,##0', "0%"
INK, MUTED, RED = RGBColor(0x1F, 0x2A, 0x37), RGBColor(0x5F, 0x6B, 0x7A), RGBColor(0xC0, 0x39, 0x2B)
GREEN, BLUE = RGBColor(0x2E, 0x8B, 0x57), RGBColor(0x3B, 0x6E, 0xA8)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA = re.compile(r"^[=+\-@]")
LABELS = {k: c.label for k, c in diagnostics.CAUSES.items()}


# ---------------------------------------------------------------------------------------------
# Small builders

def _clean(text: Any) -> str:
    """Text safe for the slide XML (no control characters), 'n/a' for missing."""
    return "n/a" if is_missing(text) else _ILLEGAL.sub("", str(text))


def _category(text: Any) -> str:
    """A chart category: charts keep their data in an embedded workbook, where a name starting
    like a formula must stay text."""
    clean = _clean(text)
    return " " + clean if _FORMULA.match(clean) else clean


def _values(values: Any) -> list[float | None]:
    """Chart values with missing as a gap (None), never 0 or 'nan'."""
    return [None if is_missing(v) else float(v) for v in values]


def _slide(prs: Any, title: str, subtitle: str = "") -> Slide:
    slide: Slide = prs.slides.add_slide(prs.slide_layouts[6])
    _text(slide, [title], Inches(0.5), Inches(0.3), WIDTH - Inches(1), Inches(0.8), size=28, bold=True)
    if subtitle:
        _text(slide, [subtitle], Inches(0.5), Inches(1.0), WIDTH - Inches(1), Inches(0.5), size=14,
              color=MUTED)
    return slide


def _text(slide: Slide, lines: list[str], x: int, y: int, w: int, h: int, size: int = 14,
          bold: bool = False, color: RGBColor = INK) -> None:
    box = slide.shapes.add_textbox(Emu(x), Emu(y), Emu(w), Emu(h))
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        text = _clean(line)
        p.text = text if len(text) <= MAX_BULLET else text[: MAX_BULLET - 1] + "…"
        p.font.size, p.font.bold, p.font.color.rgb = Pt(size), bold, color
        p.space_after = Pt(4)


def _chart(slide: Slide, kind: XL_CHART_TYPE, categories: Sequence[object], series: dict[str, Any], x: int,
           y: int, w: int, h: int, number_format: str, title: str = "") -> Any:
    data = CategoryChartData(number_format=number_format)
    data.categories = [_category(c) for c in categories]
    for name, values in series.items():
        data.add_series(_clean(name), _values(values))
    # python-pptx's hints are wrong here: add_chart takes any chart data and returns the graphic
    # frame (whose .chart is the chart), not the chart itself.
    chart = slide.shapes.add_chart(kind, Emu(x), Emu(y), Emu(w), Emu(h), data).chart  # type: ignore[arg-type,attr-defined]
    chart.value_axis.tick_labels.number_format = number_format
    chart.value_axis.tick_labels.number_format_is_linked = False
    chart.value_axis.has_major_gridlines = True
    chart.category_axis.tick_labels.font.size = Pt(10)
    chart.value_axis.tick_labels.font.size = Pt(10)
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position, chart.legend.include_in_layout = XL_LEGEND_POSITION.BOTTOM, False
        chart.legend.font.size = Pt(10)
    chart.has_title = bool(title)
    if title:
        chart.chart_title.text_frame.text = _clean(title)
        chart.chart_title.text_frame.paragraphs[0].font.size = Pt(14)
    return chart


def _table(slide: Slide, header: list[str], rows: list[list[str]], x: int, y: int, w: int,
           widths: list[float]) -> None:
    shape = slide.shapes.add_table(len(rows) + 1, len(header), Emu(x), Emu(y), Emu(w), Inches(0.4 * (len(rows) + 1)))
    table = shape.table
    for j, share in enumerate(widths):
        table.columns[j].width = int(w * share)
    for i, row in enumerate([header, *rows]):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = _clean(value)
            for p in cell.text_frame.paragraphs:
                p.font.size = Pt(11 if i else 12)
                p.font.bold = i == 0


# ---------------------------------------------------------------------------------------------
# The slides

def _headline(prs: Any, data: SummaryData) -> None:
    f, head = data.forecast, data.headline.set_index("key")["value"]
    slide = _slide(prs, f"{data.period.label}: where we stand and where we are heading",
                   f"{data.scope_label} · {data.source_label}")
    projected_att = float(attainment(f["projected"], f["quota"]))
    lines = [(f"Revenue {fmt_money(head.get('revenue'))} against a quota of {fmt_money(head.get('quota'))}: "
              f"{fmt_pct(head.get('attainment'))} of goal.")]
    if f["remaining_working_days"]:
        lines += [(f"Heading for {fmt_money(f['projected'])} (80% range {fmt_money(f['low'])}–"
                   f"{fmt_money(f['high'])}), {fmt_pct(projected_att)} of quota."),
                  f"Chance of reaching quota: {fmt_chance(f['p_goal'])}.",
                  (f"Needed per working day from here: {fmt_money(f['needed_per_day'])} "
                   f"({f['remaining_working_days']} working days left).")]
    else:
        lines += [f"The period is over: it finished at {fmt_pct(projected_att)} of quota."]
    lines += [(f"Reps at goal: {fmt_pct(head.get('share_at_goal'))}; the reps below goal miss "
               f"{fmt_money(head.get('shortfall'))} together.")]
    _text(slide, lines, Inches(0.5), Inches(1.6), Inches(5.2), Inches(5), size=16)
    trends = data.sheets["Trends"].tail(15)
    if len(trends):
        months = pd.to_datetime(trends["Month"]).dt.strftime("%b %Y")
        # The month in progress holds its revenue to date beside a whole-month forecast: say so,
        # or its revenue reads as a fall.
        months = months.where(trends["Revenue"].isna() | trends["Forecast"].isna(), months + " (to date)").tolist()
        _chart(slide, XL_CHART_TYPE.LINE_MARKERS, months,
               {k: trends[k] for k in ("Revenue", "Quota", "Forecast")},
               Inches(6), Inches(1.6), Inches(6.8), Inches(5.4), MONEY_FMT, "Monthly revenue, quota and forecast")


def _waterfall(prs: Any, data: SummaryData) -> None:
    slide = _slide(prs, "From quota to revenue: where the gap comes from",
                   "Money each cause explains for the reps below goal; " + ASSOCIATION_NOTE)
    w = data.waterfall
    if w.empty:
        _text(slide, ["No waterfall: the data hold no quotas for this period."], Inches(0.5), Inches(2),
              Inches(12), Inches(1))
        return
    base, bar = _waterfall_bars(w["Amount"].to_numpy(dtype="float64"))
    chart = _chart(slide, XL_CHART_TYPE.COLUMN_STACKED, w["Step"].tolist(), {"base": base, "Amount": bar},
                   Inches(0.5), Inches(1.6), Inches(12.3), Inches(5.6), MONEY_FMT)
    chart.has_legend = False
    hidden = chart.plots[0].series[0].format
    hidden.fill.background()
    hidden.line.fill.background()
    chart.plots[0].gap_width = 60
    amounts = w["Amount"].to_numpy(dtype="float64")
    visible = chart.plots[0].series[1]
    for i, amount in enumerate(amounts):
        fill = visible.points[i].format.fill
        fill.solid()
        total = i in (0, len(amounts) - 1)
        fill.fore_color.rgb = BLUE if total else (GREEN if amount >= 0 else RED)
    floor = _axis_floor(base[1:-1], bar[1:-1], amounts)
    if floor > 0:
        chart.value_axis.minimum_scale = floor


def _axis_floor(base: np.ndarray, bar: np.ndarray, amounts: np.ndarray) -> float:
    """Where the waterfall's value axis starts: below the lowest step by half the steps' span,
    rounded down to two significant digits (0 when that reaches 0), so the steps are visible."""
    if not len(base) or not np.isfinite(base).any():
        return 0.0
    low = float(np.nanmin(base))
    top = float(np.nanmax(np.r_[base + bar, amounts[0], amounts[-1]]))
    floor = low - 0.5 * (top - low)
    if floor <= 0:
        return 0.0
    step = 10 ** (np.floor(np.log10(floor)) - 1)
    return float(np.floor(floor / step) * step)


def _findings(prs: Any, data: SummaryData) -> None:
    slide = _slide(prs, "Findings, ranked by money", ASSOCIATION_NOTE)
    f = data.sheets["Findings"].head(TOP_FINDINGS)
    if f.empty:
        _text(slide, ["No finding for this period and scope."], Inches(0.5), Inches(2), Inches(12), Inches(1))
        return
    who = f["Who (names)"].where(f["Who (names)"].notna(), f["Who"])
    rows = [[str(r), LABELS.get(c, c), _clean(w), _range(m, lo, hi), _clean(a)]
            for r, c, w, m, lo, hi, a in zip(f["Rank"], f["Cause"], who, f["Estimated impact"],
                                             f["Impact low"], f["Impact high"], f["Recommended actions"], strict=True)]
    _table(slide, ["#", "Cause", "Who", "Money (range)", "Next step"], rows, Inches(0.5), Inches(1.6),
           Inches(12.3), [0.04, 0.18, 0.16, 0.17, 0.45])


def _range(value: Any, low: Any, high: Any) -> str:
    if is_missing(low) or is_missing(high):
        return fmt_money(value)
    return f"{fmt_money(value)} ({fmt_money(low)}–{fmt_money(high)})"


def _territories(prs: Any, data: SummaryData) -> None:
    slide = _slide(prs, "The territory picture: potential and attainment",
                   "Potential index (100 = the average territory) beside attainment (% of quota)")
    t = data.sheets["Territories"]
    if t.empty:
        _text(slide, [next((n for n in data.notes if n.startswith("Territories")),
                           "Territories: not available — upload accounts.")],
              Inches(0.5), Inches(2), Inches(12), Inches(1))
        return
    t = t.sort_values("Potential index", ascending=False, kind="stable")
    _chart(slide, XL_CHART_TYPE.COLUMN_CLUSTERED, t["Territory"].tolist(),
           {"Potential index": t["Potential index"], "Attainment (% of quota)": t["Attainment"] * 100},
           Inches(0.5), Inches(1.6), Inches(12.3), Inches(5.6), "0")


def _what_if(prs: Any, data: SummaryData) -> None:
    w = data.sheets["What if"]
    short = data.headline.set_index("key")["value"].get("shortfall")
    slide = _slide(prs, "What if the flagged reps reached target?",
                   f"Gap that would close per cause (the reps below goal miss {fmt_money(short)} together)")
    if w.empty:
        _text(slide, ["No cause is flagged for a rep below goal."], Inches(0.5), Inches(2), Inches(12), Inches(1))
        return
    labels = [LABELS.get(c, c) for c in w["Cause"]]
    _chart(slide, XL_CHART_TYPE.BAR_CLUSTERED, labels[::-1], {"Gap closed": w["Gap closed"][::-1]},
           Inches(0.5), Inches(1.6), Inches(6.5), Inches(5.4), MONEY_FMT)
    rows = [[label, str(int(n)), _range(m, lo, hi)]
            for label, n, m, lo, hi in zip(labels, w["Reps"], w["Gap closed"], w["Low"], w["High"], strict=True)]
    _table(slide, ["Cause", "Reps", "Gap closed (range)"], rows, Inches(7.2), Inches(1.6), Inches(5.6),
           [0.45, 0.15, 0.40])
    _text(slide, [(f"All causes together: {fmt_money(w['Gap closed'].sum())} of {fmt_money(short)}. "
                   "Each range is for its cause alone.")],
          Inches(7.2), Inches(6.4), Inches(5.6), Inches(0.8), size=12, color=MUTED)


def _scenarios(prs: Any, ds: Dataset, data: SummaryData, settings: Settings, scope: Scope,
               book: notes.Notebook) -> None:
    """The what-if scenarios saved in the session: how much of the gap each would close."""
    if not book.scenarios:
        return
    diagnosis = diagnostics.diagnose(ds, data.period, settings, scope)
    short = whatif.shortfall(diagnosis)
    lines = []
    for s in book.scenarios:
        closed = whatif.what_if(diagnosis, s.causes, s.reps)["gap_closed"].sum()
        changed = [f"{LABELS.get(c, c)} {fmt_pct(v)}" for c, v in s.causes.items() if v < 1]
        lines.append(f"{s.name}: closes {fmt_money(closed)} of {fmt_money(short)}"
                     + (f" ({', '.join(changed)} of the shortfall closed)" if changed else ""))
    slide = _slide(prs, "What-if scenarios saved in the session")
    _text(slide, lines, Inches(0.5), Inches(1.4), Inches(12.3), Inches(5.8), size=16)


def _session_notes(prs: Any, book: notes.Notebook) -> None:
    session = [n.text for n in book.notes_about("session")]
    findings = [f"{LABELS.get(n.key.split('|')[0], n.key.split('|')[0])} — "
                f"{n.key.split('|')[-1]}: {n.text}" for n in book.notes if n.about == "finding"]
    if not (session or findings):
        return
    slide = _slide(prs, "Notes from the session")
    _text(slide, session + findings, Inches(0.5), Inches(1.4), Inches(12.3), Inches(5.8), size=16)


def _rep(prs: Any, rep: pd.Series, data: SummaryData, ds: Dataset, comp: pd.DataFrame, focus: pd.DataFrame,
         effect: pd.DataFrame, book: notes.Notebook) -> None:
    rep_id, name = rep["Rep ID"], rep["Rep"] if not is_missing(rep["Rep"]) else rep["Rep ID"]
    slide = _slide(prs, f"{name} ({rep_id}): {fmt_pct(rep['Attainment'])} of goal",
                   f"{fmt_money(rep['Gap to goal'])} short · primary cause: "
                   f"{LABELS.get(rep['Primary cause'], rep['Primary cause'])}")
    f = data.sheets["Findings"]
    mine = f[(f["Scope"] == "rep") & (f["Who"] == rep_id)]
    lines = ["Evidence:"] + [f"• {LABELS.get(c, c)} ({fmt_money(m)}): {e}" for c, m, e in
                             zip(mine["Cause"], mine["Estimated impact"], mine["Evidence"], strict=True)][:3]
    lines += ["Next steps:"] + [f"• {a}" for a in mine["Recommended actions"].head(2)]
    mine_focus = focus[focus["rep_id"] == rep_id]
    lines += ["Coaching focus:"] + ([f"• {r}" for r in mine_focus["reason"]] or ["• nothing below the expected level"])
    log = effect[effect["rep_id"] == rep_id]
    if len(log):
        lines += ["Coaching log:"] + [f"• {d} {c}: {a} — {v}" for d, c, a, v in
                                      zip(log["date"], log["competency"], log["agreed"], log["verdict"], strict=True)]
    rep_notes = book.notes_about("rep", rep_id)
    if rep_notes:
        lines += ["Notes:"] + [f"• {n.text}" for n in rep_notes]
    _text(slide, lines, Inches(0.5), Inches(1.5), Inches(6.6), Inches(5.9), size=12)
    _competency_chart(slide, ds, rep_id, data.period, comp)


def _competency_chart(slide: Slide, ds: Dataset, rep_id: str, period: Period, comp: pd.DataFrame) -> None:
    """The rep's absolute manager ratings per competency over assessment dates, each series named
    with the level the role expects of it (never a team average in its place)."""
    history = competency.rating_history(ds, rep_id, period.end) if ds.has("assessments") else pd.DataFrame()
    expected = comp[comp["rep_id"] == rep_id].set_index("competency")["expected"] if len(comp) else pd.Series()
    if len(history):
        history = history[(history["assessor"] == "manager") & history["competency"].isin(expected.index)]
    if not len(history):
        _text(slide, ["No manager assessments for this rep: competencies not shown."],
              Inches(7.3), Inches(2), Inches(5.5), Inches(1), size=12, color=MUTED)
        return
    grid = history.pivot_table(index="date", columns="competency", values="rating", aggfunc="mean").sort_index()
    series = {f"{c} (expected {expected[c]:.1f})": grid[c] for c in grid.columns}
    chart = _chart(slide, XL_CHART_TYPE.LINE_MARKERS, grid.index.strftime("%b %Y").tolist(), series,
                   Inches(7.3), Inches(1.5), Inches(5.8), Inches(5.7), "0.0",
                   "Manager rating per competency (expected level of the role in brackets)")
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.RIGHT


# ---------------------------------------------------------------------------------------------
# Public API

def anonymized_notebook(book: notes.Notebook, original: Dataset, anonymous: Dataset) -> notes.Notebook:
    """`book` with every name of `original` replaced by its pseudonym in `anonymous` (the same
    rows of core.report.anonymize.anonymize), and rep ids that were names replaced too."""
    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    for table, name, key, _, id_prefix in NAME_COLUMNS:
        if not (original.has(table) and name in original.table(table).columns):
            continue
        before, after = original.table(table), anonymous.table(table)
        names.update({a: b for a, b in zip(before[name], after[name], strict=True) if isinstance(a, str) and a})
        if key and id_prefix:
            ids.update({a: b for a, b in zip(before[key], after[key], strict=True) if a != b})
    return book.rename(names, ids)


def anonymized_scope(scope: Scope, original: Dataset, anonymous: Dataset) -> Scope:
    """`scope` naming the same reps in `anonymous` (anonymize of `original`, the same rows): its
    manager, and a rep id that was a name, become their pseudonyms, so the scope still finds its
    reps and its label names nobody."""
    before, after = original.table("reps"), anonymous.table("reps")

    def same(column: str, value: str | None) -> str | None:
        if value is None or column not in before.columns or column not in after.columns:
            return value
        pseudonyms: dict[str, str] = dict(zip(before[column], after[column], strict=False))
        return pseudonyms.get(value, value)

    return replace(scope, manager=same("manager", scope.manager), rep_id=same("rep_id", scope.rep_id))


def build_deck(ds: Dataset, period: Period, settings: Settings, scope: Scope = Scope(),
               book: notes.Notebook | None = None, data: SummaryData | None = None) -> bytes:
    """The .pptx for `period` and `scope` (pass `data` when the summary is already computed)."""
    data = data or collect(ds, period, settings, scope)
    book = book or notes.Notebook()
    comp = (competency.competency_table(ds, settings, period.end) if ds.has("assessments")
            else pd.DataFrame(columns=competency.COMPETENCY_COLUMNS))
    focus = (competency.coaching_focus(comp, ds, settings, period.end) if len(comp)
             else pd.DataFrame(columns=competency.FOCUS_COLUMNS))
    effect = notes.coaching_effect(ds, book)
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    title = prs.slides.add_slide(prs.slide_layouts[0])
    title.shapes.title.text = f"Why is the team missing its goals? {data.period.label}"
    title.placeholders[1].text = _clean(f"{data.scope_label} · {data.source_label}")
    _headline(prs, data)
    _waterfall(prs, data)
    _findings(prs, data)
    _territories(prs, data)
    _what_if(prs, data)
    _scenarios(prs, ds, data, settings, scope, book)
    _session_notes(prs, book)
    below = data.sheets["Rep diagnosis"]
    for _, rep in below.iterrows():          # one slide per rep: a loop over slides, not data rows
        _rep(prs, rep, data, ds, comp, focus, effect, book)
    props = prs.core_properties
    props.author = props.last_modified_by = "GoalGap"
    props.title = f"GoalGap deck {data.period.label}"
    out = BytesIO()
    prs.save(out)
    return out.getvalue()

