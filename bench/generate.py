"""The benchmark's large dataset: the sample generator at company scale, written once to disk.

`prepare()` writes one CSV per canonical table and an .xlsx holding the first `xlsx_rows` rows of
the activities table into a folder named after the parameters (under bench/data/, gitignored),
with a manifest of the row counts. A folder whose manifest matches the parameters is reused, so
only the first run pays for generating (about a minute at 1,000 reps × 3 years).

The team is generated in chunks of at most `CHUNK_REPS` reps, appended to the CSVs one chunk at a
time, so memory stays that of one chunk at any size (20,000 reps × 3 years is ~60 M activities).
Each chunk is the sample generator run on its own seed (the first chunk on `seed` itself, so up to
`CHUNK_REPS` reps the files are exactly those of one `generate()` call), with its ids renumbered
into a block of its own (BLOCKS): rep, territory, account and opportunity ids stay unique across
the company, and chunks can be generated at once in several processes. Each chunk spans the whole
US geography, so chunks' territories overlap on the map, and the tables are sorted within a chunk,
not across chunks. Names are drawn per chunk, so two reps (or
managers) of different chunks can share a name, as the one-call generator does past 3,600 people.
"""
from __future__ import annotations

import json
import shutil
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
# ids set aside for each chunk (chunk k numbers from k × block + 1), so that chunks are independent of
# each other and can be generated at once; a chunk of 1,000 reps × 3 years has ~24,000 accounts and
# ~220,000 deals at density 2.7
BLOCKS = {"rep_id": CHUNK_REPS, "territory_id": CHUNK_REPS, "account_id": 100_000, "opportunity_id": 1_000_000}


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
            root: Path = DATA_ROOT, log=print, workers: int = 1) -> BenchData:
    """The CSVs and the xlsx for these parameters, generated unless a matching folder exists
    (`workers` chunks generated at once, each in its own process: ~2.3 GB each)."""
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
    rows = write_chunks(folder, reps, years, density, seed, xlsx_rows, log, workers)
    saved = {"params": params, "rows": rows, "xlsx": f"{XLSX_TABLE}_{min(xlsx_rows, rows[XLSX_TABLE])}.xlsx",
             "xlsx_rows": min(xlsx_rows, rows[XLSX_TABLE])}
    manifest.write_text(json.dumps(saved, indent=1))
    return _data(folder, saved, time.perf_counter() - start)


def chunk_seed(seed: int, k: int) -> int:
    """Chunk k's seed: `seed` itself for the first, an independent stream for the others."""
    return seed if k == 0 else int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def write_chunks(folder: Path, reps: int, years: float, density: float, seed: int, xlsx_rows: int,
                 log=print, workers: int = 1) -> dict[str, int]:
    """Generate `reps` reps chunk by chunk (`workers` chunks at once, each in a process of its own),
    each chunk into a part folder, then append the parts to one CSV per table; rows per table."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [min(CHUNK_REPS, reps - first) for first in range(0, reps, CHUNK_REPS)]
    parts = folder / ".parts"
    jobs = [(parts / str(k), k, n, len(sizes), reps, years, density, seed, xlsx_rows if k == 0 else 0)
            for k, n in enumerate(sizes)]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            counts = list(pool.map(_write_chunk, *zip(*jobs, strict=True)))
    else:
        counts = [_write_chunk(*job) for job in jobs]
    rows: dict[str, int] = {}
    for k, chunk in enumerate(counts):
        for name, n in chunk.items():
            with (folder / f"{name}.csv").open("wb" if k == 0 else "ab") as out, \
                    (parts / str(k) / f"{name}.csv").open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 24)
            rows[name] = rows.get(name, 0) + n
        log(f"  chunk {k + 1}/{len(sizes)} appended")
    head = f"{XLSX_TABLE}_{min(xlsx_rows, rows[XLSX_TABLE])}.xlsx"
    (parts / "0" / f"{XLSX_TABLE}_head.xlsx").replace(folder / head)
    shutil.rmtree(parts)
    return rows


def _write_chunk(part: Path, k: int, n: int, chunks: int, reps: int, years: float, density: float,
                 seed: int, xlsx_rows: int) -> dict[str, int]:
    """Chunk k of the team (n reps) into `part`: one CSV per table (a header on the first chunk's
    only), its ids renumbered into chunk k's block; the first chunk also writes the xlsx head."""
    part.mkdir(parents=True, exist_ok=True)
    tables = generate(n_reps=n, years=years, seed=chunk_seed(seed, k), density=density).tables
    widths = _widths(tables, reps, chunks)
    if k == 0:
        write_xlsx({XLSX_TABLE: tables[XLSX_TABLE].head(xlsx_rows)}, part / f"{XLSX_TABLE}_head.xlsx")
    rows = {}
    for name, frame in tables.items():
        if k and name in ONCE:
            continue
        _renumber(frame, {column: k * BLOCKS[column] for column in ID_COLUMNS}, widths)
        frame.to_csv(part / f"{name}.csv", index=False, date_format="%Y-%m-%d", header=not k)
        rows[name] = len(frame)
    return rows


def _widths(chunk: dict[str, pd.DataFrame], reps: int, chunks: int) -> dict[str, int]:
    """Digits of each id: with one chunk exactly as generate() numbers them; with more, enough for
    every chunk's block."""
    if chunks == 1:
        total = {"rep_id": reps, "territory_id": reps, "account_id": len(chunk["accounts"]), "opportunity_id": 0}
    else:
        total = {column: chunks * BLOCKS[column] for column in ID_COLUMNS}
    for column, table in (("account_id", "accounts"), ("opportunity_id", "opportunities")):
        if len(chunk[table]) > BLOCKS[column]:
            raise ValueError(f"a chunk has more {table} than its block of ids ({BLOCKS[column]:,}).")
    return {column: max(ID_COLUMNS[column][1], len(str(total[column]))) for column in ID_COLUMNS}


def _renumber(frame: pd.DataFrame, offsets: dict[str, int], widths: dict[str, int]) -> None:
    """Shift a chunk's ids into its block, in place; each distinct id is rewritten once."""
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
