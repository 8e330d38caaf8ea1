"""The benchmark's large dataset: the sample generator at company scale, written once to disk.

`prepare()` writes one CSV per canonical table and an .xlsx holding the first `xlsx_rows` rows of
the activities table into a folder named after the parameters (under bench/data/, gitignored),
with a manifest of the row counts. A folder whose manifest matches the parameters is reused, so
only the first run pays for generating (about a minute at 1,000 reps × 3 years).

The team is generated in chunks of at most `CHUNK_REPS` reps, appended to the CSVs one chunk at a
time, so memory stays that of one chunk at any size (20,000 reps × 3 years is ~60 M activities).
Each chunk is the sample generator run on its own seed (the first chunk on `seed` itself, so up to
`CHUNK_REPS` reps the files are exactly those of one `generate()` call), with its ids renumbered
after the chunks before it: rep, territory, account and opportunity ids stay unique across the
company. Each chunk spans the whole US geography, so chunks' territories overlap on the map, and
the tables are sorted within a chunk, not across chunks. Names are drawn per chunk, so two reps (or
managers) of different chunks can share a name, as the one-call generator does past 3,600 people.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.sample.team import generate
from core.sample.xlsx import write_xlsx

DATA_ROOT = Path(__file__).resolve().parent / "data"
XLSX_TABLE = "activities"
MANIFEST = "manifest.json"
CHUNK_REPS = 1000                 # reps generated at once (the sample's geography holds ~1,000 per call)
ONCE = ("expected_levels", "products")   # tables that do not grow with reps: written from the first chunk
# id column → (prefix, minimum digits), as core.sample.team numbers them
ID_COLUMNS = {"rep_id": ("R", 3), "territory_id": ("T", 3), "account_id": ("A", 4), "opportunity_id": ("OPP-", 6)}


@dataclass(frozen=True)
class BenchData:
    folder: Path
    csvs: tuple[Path, ...]        # one per canonical table, in generation order
    xlsx: Path                    # XLSX_TABLE's first rows, one sheet
    rows: dict[str, int]          # table → rows in the CSVs
    xlsx_rows: int
    seconds: float                # time it took to generate and write (0 when reused)


def _params(reps: int, years: float, density: float, seed: int, xlsx_rows: int) -> dict:
    return {"reps": reps, "years": years, "density": density, "seed": seed, "xlsx_rows": xlsx_rows}


def folder_for(reps: int, years: float, density: float, seed: int, root: Path = DATA_ROOT) -> Path:
    return root / f"reps{reps}_years{years:g}_density{density:g}_seed{seed}"


def prepare(reps: int, years: float, density: float, seed: int = 7, xlsx_rows: int = 200_000,
            root: Path = DATA_ROOT, log=print) -> BenchData:
    """The CSVs and the xlsx for these parameters, generated unless a matching folder exists."""
    folder = folder_for(reps, years, density, seed, root)
    params = _params(reps, years, density, seed, xlsx_rows)
    manifest = folder / MANIFEST
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved.get("params") == params:
            log(f"reusing the dataset in {folder}")
            return _data(folder, saved, 0.0)
    log(f"generating {reps} reps × {years:g} years at density {density:g} into {folder} …")
    start = time.perf_counter()
    manifest.unlink(missing_ok=True)          # a folder without a manifest is never reused
    rows = write_chunks(folder, reps, years, density, seed, xlsx_rows, log)
    saved = {"params": params, "rows": rows, "xlsx": f"{XLSX_TABLE}_{min(xlsx_rows, rows[XLSX_TABLE])}.xlsx",
             "xlsx_rows": min(xlsx_rows, rows[XLSX_TABLE])}
    manifest.write_text(json.dumps(saved, indent=1))
    return _data(folder, saved, time.perf_counter() - start)


def chunk_seed(seed: int, k: int) -> int:
    """Chunk k's seed: `seed` itself for the first, an independent stream for the others."""
    return seed if k == 0 else int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def write_chunks(folder: Path, reps: int, years: float, density: float, seed: int, xlsx_rows: int,
                 log=print) -> dict[str, int]:
    """Generate `reps` reps chunk by chunk, appending each chunk to one CSV per table; rows per table."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [min(CHUNK_REPS, reps - first) for first in range(0, reps, CHUNK_REPS)]
    rows: dict[str, int] = {}
    offsets = dict.fromkeys(ID_COLUMNS, 0)
    widths: dict[str, int] = {}
    for k, n in enumerate(sizes):
        tables = generate(n_reps=n, years=years, seed=chunk_seed(seed, k), density=density).tables
        if k == 0:
            widths = _widths(tables, reps, len(sizes))
            head = tables[XLSX_TABLE].head(xlsx_rows)
            write_xlsx({XLSX_TABLE: head}, folder / f"{XLSX_TABLE}_{len(head)}.xlsx")
        counts = _id_counts(tables)
        for name, frame in tables.items():
            if k and name in ONCE:
                continue
            _renumber(frame, offsets, widths)
            frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d",
                         mode="a" if k else "w", header=not k)
            rows[name] = rows.get(name, 0) + len(frame)
        offsets = {column: offsets[column] + counts[column] for column in offsets}
        del tables
        log(f"  chunk {k + 1}/{len(sizes)}: {sum(sizes[:k + 1]):,} reps written")
    return rows


def _id_counts(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """How many ids of each kind one chunk numbers (its reps, territories, accounts, deals)."""
    return {"rep_id": len(tables["reps"]), "territory_id": len(tables["territories"]),
            "account_id": len(tables["accounts"]), "opportunity_id": len(tables["opportunities"])}


def _widths(first: dict[str, pd.DataFrame], reps: int, chunks: int) -> dict[str, int]:
    """Digits of each id, as one generate() call of the whole company would number them (accounts
    and deals estimated from the first chunk); with one chunk, exactly that call's."""
    counts = _id_counts(first)
    total = {"rep_id": reps, "territory_id": reps, "account_id": counts["account_id"] * chunks,
             "opportunity_id": 0}              # deals: zero-padded to 6 digits, longer when they must be
    return {column: max(ID_COLUMNS[column][1], len(str(total[column]))) for column in ID_COLUMNS}


def _renumber(frame: pd.DataFrame, offsets: dict[str, int], widths: dict[str, int]) -> None:
    """Shift a chunk's ids past the chunks before it, in place; each distinct id is rewritten once."""
    for column, (prefix, _) in ID_COLUMNS.items():
        if column not in frame:
            continue
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        number = np.array([int(u[len(prefix):]) for u in uniques], dtype=np.int64) + offsets[column]
        renamed = np.array([prefix + str(x).zfill(widths[column]) for x in number], dtype=object)
        values = np.where(codes >= 0, renamed[np.maximum(codes, 0)] if len(renamed) else None, None)
        frame[column] = pd.array(values, dtype=frame[column].dtype)


def _data(folder: Path, saved: dict, seconds: float) -> BenchData:
    return BenchData(folder=folder, csvs=tuple(folder / f"{name}.csv" for name in saved["rows"]),
                     xlsx=folder / saved["xlsx"], rows=saved["rows"], xlsx_rows=saved["xlsx_rows"],
                     seconds=seconds)
