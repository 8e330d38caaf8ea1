"""Back-test the team forecast on the bundled sample: forecast each of the last complete quarters
from the data before it and print the per-quarter errors and the MAPE.

    .venv/bin/python bench/backtest_forecast.py [--quarters 4] [--xlsx]

By default the sample is generated in memory (core.sample.team.generate()); --xlsx reads the committed
workbook sample_data/goalgap_sample.xlsx through ingest instead.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.dataset import Dataset  # noqa: E402
from core.fmt import fmt_money  # noqa: E402
from core.kpis.forecast import backtest, mape  # noqa: E402
from core.settings import Settings  # noqa: E402


def load(from_xlsx: bool) -> tuple[Dataset, str]:
    if from_xlsx:
        from core.ingest.pipeline import ingest_paths
        path = ROOT / "sample_data" / "goalgap_sample.xlsx"
        return ingest_paths([path]), path.name
    from core.sample.team import generate
    return Dataset(tables=generate().tables), "core.sample.team.generate()"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=4)
    parser.add_argument("--xlsx", action="store_true", help="read the committed sample workbook")
    args = parser.parse_args()
    ds, label = load(args.xlsx)
    t0 = time.perf_counter()
    bt = backtest(ds, Settings(), quarters=args.quarters)
    elapsed = time.perf_counter() - t0
    print(f"Team forecast back-test on {label}: each quarter forecast from the data before it\n")
    print(f"{'quarter':<9} {'forecast':>10} {'80% interval':>21} {'actual':>10} {'error':>7}  inside  method")
    for r in bt.itertuples(index=False):
        band = f"{fmt_money(r.low)} – {fmt_money(r.high)}"
        print(f"{r.quarter:<9} {fmt_money(r.forecast):>10} {band:>21} {fmt_money(r.actual):>10} "
              f"{r.abs_pct_error:>7.1%}  {'yes' if r.within_interval else 'no':<6}  {r.method}")
    print(f"\nMAPE over {len(bt)} quarters: {mape(bt):.1%}   "
          f"(actual inside the 80 % interval in {int(bt['within_interval'].sum())} of {len(bt)}; "
          f"{elapsed:.2f} s)")


if __name__ == "__main__":
    main()
