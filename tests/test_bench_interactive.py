"""bench/interactive.py end to end on the bundled sample, once per step, so it cannot rot: every
step the issue names is timed (the pages run in AppTest, so this is slow)."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from bench import interactive
from core.ingest.pipeline import ingest_paths

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_interactive_step_is_timed(tmp_path, capsys):
    data = tmp_path / "team.pkl"
    data.write_bytes(pickle.dumps(ingest_paths([ROOT / "sample_data" / "goalgap_sample.xlsx"])))
    out = tmp_path / "timings.md"
    assert interactive.main(["--data", str(data), "--repeat", "1", "--out", str(out)]) == 0
    rows = {line.split(" | ")[0].strip("| "): line for line in out.read_text().splitlines() if line.startswith("| ")}
    for step in interactive.TARGETS:
        cells = rows[step].strip("| ").split(" | ")
        assert float(cells[2].split()[0]) > 0 and float(cells[3].split()[0]) > 0, rows[step]
