"""A small team whose every name is an injection payload: the input of tests/test_injection.py."""
from __future__ import annotations

import io
import re

from openpyxl import Workbook

from core.report.workbook import safe_row

PAYLOADS = ("![x](http://host/x.png)", '=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(1)", "+1",
            "-1+1", "<script>", ":red[x]", "<img src=x>", "[link](javascript:alert(1))", "**bold**", "$x$")
FIELDS = ("rep name", "region", "territory id", "territory name", "account name", "product", "competency",
          "manager", "training topic", "orphan rep", "file name", "sheet name")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(payload: str) -> str:
    """Excel refuses []:*?/\\ in a sheet name (and more than 31 characters): the payload without them."""
    return _SHEET_FORBIDDEN.sub("", payload)[:31] or "x"


def assignment(rotation: int) -> dict[str, str]:
    """Field → payload; rotation k gives field i payload k + i, so k = 0 … 11 put every payload in
    every field once."""
    return {f: PAYLOADS[(i + rotation) % len(PAYLOADS)] for i, f in enumerate(FIELDS)}


def _months() -> list[str]:
    return [f"2025-{m:02d}" for m in range(1, 13)]


def team_tables(p: dict[str, str]) -> dict[str, list[list[object]]]:
    """Four reps (R1 carries the payloads and is below goal), a year of sales, quotas, accounts,
    activities, deals, ratings and training, with one sales row by a rep missing from the roster."""
    terr, region = p["territory id"], p["region"]
    reps = [["rep_id", "rep_name", "region", "territory_id", "role", "hire_date", "manager"],
            ["R1", p["rep name"], region, terr, "Sales Rep", "2020-01-06", p["manager"]],
            ["R2", "Ann Plain", region, "T2", "Sales Rep", "2020-01-06", "Max Plain"],
            ["R3", "Bo Plain", "North", "T3", "Sales Rep", "2020-01-06", "Max Plain"],
            ["R4", "Cy Plain", "North", "T4", "Sales Rep", "2020-01-06", "Max Plain"]]
    territories = [["territory_id", "territory_name", "region", "market_potential"],
                   [terr, p["territory name"], region, 2e6], ["T2", "Two", region, 1e6],
                   ["T3", "Three", "North", 1e6], ["T4", "Four", "North", 5e5]]
    zips = {terr: "02138", "T2": "02139", "T3": "10001", "T4": "10002"}
    accounts = [["account_id", "account_name", "territory_id", "potential", "zip"]]
    for t, z in zips.items():
        for j in range(3):
            name = p["account name"] if (t, j) == (terr, 0) else f"Hospital {t[-1:]}{j}"
            accounts.append([f"A-{t}-{j}", name, t, 3e5 * (j + 1) if t == terr else 1e5, z])
    level = {"R1": 500, "R2": 1500, "R3": 1400, "R4": 1300}
    sales = [["date", "rep_id", "account_id", "product", "revenue"]]
    quotas = [["rep_id", "period", "quota"]]
    activities = [["date", "rep_id", "activity_type", "account_id", "planned", "contact_role"]]
    for m in _months():
        for r, (t, amount) in zip(level, zip(zips, level.values(), strict=False), strict=False):
            sales += [[f"{m}-10", r, f"A-{t}-0", p["product"], amount],
                      [f"{m}-20", r, f"A-{t}-1", "GTX Pro", amount / 2]]
            quotas.append([r, m, 1800])
            activities += [[f"{m}-{d:02d}", r, "meeting", f"A-{t}-{d % 3}", "yes", "user"]
                           for d in range(3, 28, 6 if r == "R1" else 3)]
        sales.append([f"{m}-15", p["orphan rep"], f"A-{terr}-0", "GTX Pro", 100])
    opportunities = [["opportunity_id", "rep_id", "created_date", "stage", "status", "close_date", "amount",
                      "product"]]
    for i, r in enumerate(level):
        for q in range(8):
            status = "won" if (q + i) % 3 else "lost"
            opportunities.append([f"O{i}{q}", r, f"2025-{q + 1:02d}-01", "Closed", status,
                                  f"2025-{q + 4:02d}-15", 5000, p["product"]])
        opportunities.append([f"O{i}o", r, "2025-10-01", "Negotiation", "open", "2026-02-15", 9000, "GTX Pro"])
    assessments = [["rep_id", "date", "competency", "rating", "assessor"]]
    training = [["rep_id", "date", "topic", "score"]]
    for r in level:
        for k, d in enumerate(("2025-01-31", "2025-05-31", "2025-09-30")):
            low = r == "R1"
            assessments += [[r, d, p["competency"], 2 - 0.3 * k if low else 4, "manager"],
                            [r, d, "Discovery", 3, "manager"]]
            training.append([r, d, p["training topic"], 50 if low else 90])
    return {"reps": reps, "territories": territories, "accounts": accounts, "sales": sales, "quotas": quotas,
            "activities": activities, "opportunities": opportunities, "assessments": assessments,
            "training": training}


def upload(rotation: int = 0) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """The team as one uploaded workbook named after the file-name payload, its roster on a sheet
    named after the sheet-name payload; cell text written as text (never as a formula)."""
    p = assignment(rotation)
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in team_tables(p).items():
        ws = wb.create_sheet(sheet_title(p["sheet name"]) if name == "reps" else name)
        for row in rows:
            ws.append(safe_row(ws, row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return [(f"{p['file name']}.xlsx", buffer.getvalue())], p
