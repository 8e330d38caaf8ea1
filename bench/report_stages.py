"""The report after ingest, stage by stage (issue 14: does the report scale with the data?).

    python -m bench.report_stages FOLDER_OR_PICKLE [--period 2026-Q3] [--save-pickle FILE] [--out X.xlsx]

Runs in this process what `python -m core report` runs once its worker has handed the Dataset back
(quotas of the settings, the period's checks, core.report.summary.collect, the workbook), on a CSV
folder ingested here first (core.ingest.sources.ingest_inputs, as the worker does) or on a Dataset
pickled by an earlier run (--save-pickle), so that ingest is paid once per scale. For each stage (the
steps collect announces, then the workbook) it prints the CPU seconds, the resident size before and
after and its high-water mark, sampled every 50 ms from /proc/self/statm (Linux), and where in core
the process stood at its highest moment.
"""
from __future__ import annotations

import os

if __name__ == "__main__":      # before numpy loads: BLAS threads fight on 2 cores
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse
import pickle
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MB = 2**20
SAMPLE_SECONDS = 0.05
CORE = str(Path(__file__).resolve().parents[1] / "core") + os.sep


def resident() -> int:
    """This process's resident size in bytes (0 where /proc is absent)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def where_now(thread_id: int) -> str:
    """The functions of GoalGap's core the thread `thread_id` is in, innermost first."""
    frame = sys._current_frames().get(thread_id)
    names = []
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(CORE):
            names.append(f"{path[len(CORE):]}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(names[:5])


@dataclass
class Stage:
    name: str
    cpu: float = 0.0
    before: int = 0
    after: int = 0
    high: int = 0


@dataclass
class Watch:
    """Stages in turn, each with its CPU time and resident high-water mark; a thread samples."""

    stages: list[Stage] = field(default_factory=list)
    peak: int = 0
    peak_stage: str = ""
    peak_where: str = ""
    _started: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        main = threading.main_thread().ident or 0
        threading.Thread(target=self._sample, args=(main,), daemon=True).start()

    def _sample(self, main: int) -> None:
        while not self._stop.is_set():
            now = resident()
            if self.stages:
                stage = self.stages[-1]
                stage.high = max(stage.high, now)
                if now > self.peak:
                    self.peak, self.peak_stage, self.peak_where = now, stage.name, where_now(main)
            self._stop.wait(SAMPLE_SECONDS)

    def enter(self, name: str) -> None:
        """Close the running stage and open `name`."""
        self.close()
        now = resident()
        self.stages.append(Stage(name, before=now, high=now))
        self._started = time.process_time()

    def close(self) -> None:
        if self.stages and not self.stages[-1].after:
            stage = self.stages[-1]
            stage.cpu = time.process_time() - self._started
            stage.after = resident()
            stage.high = max(stage.high, stage.after)

    def stop(self) -> None:
        self.close()
        self._stop.set()


def load(source: Path, save: Path | None) -> Any:
    """The Dataset pickled at `source`, or the CSVs of the folder `source` ingested here."""
    if source.is_file():
        with source.open("rb") as f:
            return pickle.load(f)
    from core.ingest.sources import ingest_inputs
    from core.settings import Settings

    ds = ingest_inputs(sorted(str(p) for p in source.glob("*.csv")), None, Settings().ingest_options() or None)
    if save is not None:
        with save.open("wb") as f:
            pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
    return ds


def run_report(ds: Any, period_label: str, watch: Watch) -> bytes:
    """What core.cli.report runs after ingest, with a stage per step collect announces."""
    from core.cli import _check_has_data, _check_scope
    from core.dataset import Scope
    from core.ingest.quota_rules import with_quotas
    from core.periods import parse_period
    from core.report.summary import collect
    from core.report.workbook import build_workbook
    from core.settings import Settings

    def progress(step: str) -> None:
        watch.enter(step.rstrip("…"))

    settings = Settings()
    watch.enter("quotas and checks")
    ds = with_quotas(ds, settings.quotas, settings.fiscal_start_month, settings.quota_seasonality)
    period = parse_period(period_label, settings.fiscal_start_month)
    _check_has_data(ds, period)
    _check_scope(ds, Scope())
    data = collect(ds, period, settings, Scope(), progress=progress)
    watch.enter("workbook")
    return build_workbook(data)


def render(source: Path, tables_mb: float, loaded: int, watch: Watch, total_cpu: float) -> list[str]:
    lines = [f"# {source.name}: tables {tables_mb:,.0f} MB; resident {loaded / MB:,.0f} MB once loaded",
             f"{'stage':40s} {'CPU s':>7s} {'MB in':>7s} {'MB out':>7s} {'MB high':>8s}"]
    lines += [f"{s.name:40s} {s.cpu:7.2f} {s.before / MB:7.0f} {s.after / MB:7.0f} {s.high / MB:8.0f}"
              for s in watch.stages]
    lines += [f"report after ingest: {total_cpu:.2f} CPU s; peak {watch.peak / MB:,.0f} MB "
              f"({(watch.peak - loaded) / MB:,.0f} MB over the loaded tables) in '{watch.peak_stage}'",
              f"at the peak: {watch.peak_where}"]
    return lines


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.report_stages", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a folder of CSVs (bench.generate) or a pickled Dataset")
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--save-pickle", type=Path, help="with a folder: pickle the ingested Dataset here")
    parser.add_argument("--out", type=Path, help="write the workbook here (to compare runs with cmp)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    ds = load(args.source, args.save_pickle)
    tables_mb = sum(int(t.memory_usage(deep=True).sum()) for t in ds.tables.values()) / MB
    loaded = resident()
    watch = Watch()
    started = time.process_time()
    blob = run_report(ds, args.period, watch)
    total_cpu = time.process_time() - started
    watch.stop()
    if args.out is not None:
        args.out.write_bytes(blob)
    print("\n".join(render(args.source, tables_mb, loaded, watch, total_cpu)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
