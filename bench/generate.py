"""The benchmark's large dataset: the sample generator at company scale, written once to disk.

`prepare()` writes one CSV per canonical table and an .xlsx holding the first `xlsx_rows` rows of
the activities table into a folder named after the parameters (under bench/data/, gitignored),
with a manifest of the row counts. A folder whose manifest matches the parameters is reused, so
only the first run pays for generating (about a minute at 1,000 reps × 3 years).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from core.sample.team import generate, write_csvs
from core.sample.xlsx import write_xlsx

DATA_ROOT = Path(__file__).resolve().parent / "data"
XLSX_TABLE = "activities"
MANIFEST = "manifest.json"


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
    data = generate(n_reps=reps, years=years, seed=seed, density=density)
    write_csvs(data.tables, folder)
    head = data.tables[XLSX_TABLE].head(xlsx_rows)
    write_xlsx({XLSX_TABLE: head}, folder / f"{XLSX_TABLE}_{len(head)}.xlsx")
    saved = {"params": params, "rows": {name: len(t) for name, t in data.tables.items()},
             "xlsx": f"{XLSX_TABLE}_{len(head)}.xlsx", "xlsx_rows": len(head)}
    manifest.write_text(json.dumps(saved, indent=1))
    return _data(folder, saved, time.perf_counter() - start)


def _data(folder: Path, saved: dict, seconds: float) -> BenchData:
    return BenchData(folder=folder, csvs=tuple(folder / f"{name}.csv" for name in saved["rows"]),
                     xlsx=folder / saved["xlsx"], rows=saved["rows"], xlsx_rows=saved["xlsx_rows"],
                     seconds=seconds)
