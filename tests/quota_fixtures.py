"""A Salesforce-style opportunity report and a director's wide quota sheet, built in code."""
from __future__ import annotations

from tests.ingest_helpers import xlsx

REPS = [f"{first} {last}" for first, last in zip(["Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hal"],
                                    ["Ames", "Bray", "Cole", "Dunn", "Eck", "Ford", "Gray", "Hunt"], strict=False)]


def salesforce_csv() -> bytes:
    """Twelve months of 2025, four closed deals a rep a month (the last three reps win one in four)
    and one open deal a rep a month, with the report's title-less header and its footers."""
    lines = ['"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date","Created Date"']
    i = 0
    for m in range(1, 13):
        for j, rep in enumerate(REPS):
            wins = 4 if j < 5 else 1
            for k in range(4):
                i += 1
                stage = "Closed Won" if k < wins else "Closed Lost"
                lines.append(f'"{rep}","Acct {i % 11}","Deal {i}","{stage}","{10000 + 500 * k}",'
                             f'"{m}/{5 + 5 * k}/2025","{m}/1/2025"')
        for rep in REPS:
            i += 1
            lines.append(f'"{rep}","Acct {i % 11}","Deal {i}","Negotiation","20000","12/28/2025","{m}/2/2025"')
    lines += ["", '"Grand Totals"', '"Confidential Information - Do Not Distribute"']
    return ("\n".join(lines) + "\n").encode()


def quarterly_quotas() -> dict[str, list[float]]:
    """Each rep's quota for Q1–Q4 2025 as the director's sheet gives it."""
    return {rep: [120000 + 1000 * j, 121000, 122000 + 500 * j, 123000] for j, rep in enumerate(REPS)}


def wide_quota_xlsx() -> bytes:
    """Reps down (one written in capitals), quarters across, a title above, totals right and below."""
    rows: list[list[object]] = [["FY2025 quota plan — West"], [],
                                ["Sales Rep", "Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025", "Total"]]
    for j, (rep, q) in enumerate(quarterly_quotas().items()):
        rows.append([rep.upper() if j == 0 else rep, *q, sum(q)])
    rows.append(["Total", *[sum(q[i] for q in quarterly_quotas().values()) for i in range(4)], None])
    return xlsx({"Plan": rows})
