"""Files loaded in two processes (core.ingest.forked) give exactly what one process gives, in the
same order; errors come out as they would one file after the other; a stopped reader stops its
worker with the same plain message, and no reader outlives its worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from core.errors import UserError
from core.ingest import forked, sandbox
from core.ingest.forked import ChildStopped, biggest_first, load_each
from core.ingest.pipeline import ingest
from core.ingest.sandbox import Budget, OutOfTime
from tests.ingest_helpers import assert_rows_accounted

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "goalgap_sample.xlsx"


@pytest.fixture
def two_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two readers from the first byte on, as the worker of a machine owner's read has."""
    monkeypatch.setattr(forked, "_readers", 2)
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "alone", lambda: True)     # pytest's own threads: see the worker test


def _where(name: str, data: object) -> tuple[str, int]:
    return name, os.getpid()


def _named(name: str) -> tuple[str, int]:
    return name, os.getpid()


def _in_reader(in_reader: Callable[[str], object], here: Callable[[str], object] = _named):
    """A load that gives in_reader(name) in the forked reader and here(name) in the process that
    made it. Each process, at the file it takes, waits until the other has taken one too: however
    the two are scheduled, neither takes every file."""
    me = os.getpid()
    folder = Path(tempfile.mkdtemp())

    def load(name: str, data: object) -> object:
        mine, other = ("here", "reader") if os.getpid() == me else ("reader", "here")
        (folder / mine).touch()
        deadline = time.monotonic() + 30
        while not (folder / other).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return here(name) if mine == "here" else in_reader(name)
    return load


def test_biggest_files_are_taken_first():
    assert biggest_first([15, 200, 113, 15, 2]) == [1, 2, 0, 3, 4]


def test_files_load_in_another_process_too_and_come_back_in_order(two_readers: None):
    files = [(f"f{i}.csv", b"x" * (100 - i)) for i in range(5)]
    loaded = load_each(files, _in_reader(_named))
    assert [name for name, _ in loaded] == [name for name, _ in files]
    pids = {pid for _, pid in loaded}
    assert os.getpid() in pids and len(pids) == 2


def test_one_reader_or_little_input_stays_in_this_process(monkeypatch: pytest.MonkeyPatch):
    files = [(f"f{i}.csv", b"x" * 10) for i in range(3)]
    assert {pid for _, pid in load_each(files, _where)} == {os.getpid()}     # one reader: the default
    monkeypatch.setattr(forked, "_readers", 2)
    assert {pid for _, pid in load_each(files, _where, min_bytes=1000)} == {os.getpid()}


def test_a_process_with_other_threads_loads_alone(monkeypatch: pytest.MonkeyPatch):
    """A thread of another library could hold a lock a forked child would wait on forever."""
    import threading

    monkeypatch.setattr(forked, "_readers", 2)

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        files = [(f"f{i}.csv", b"x" * 10) for i in range(3)]
        assert {pid for _, pid in load_each(files, _where, min_bytes=0)} == {os.getpid()}
    finally:
        stop.set()
        other.join()


def test_only_a_thread_known_to_survive_fork_lets_a_process_fork(monkeypatch: pytest.MonkeyPatch):
    """jemalloc's background thread (pyarrow's allocator) is safe across a fork; any other is not."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="some-pool")
    other.start()
    try:
        names = {}
        monkeypatch.setattr(forked, "_thread_name", lambda task: names.get(int(task), "some-pool"))
        assert not forked.alone()
        others = [int(t) for t in os.listdir("/proc/self/task") if int(t) != threading.get_native_id()]
        names.update(dict.fromkeys(others, "jemalloc_bg_thd"))
        assert forked.alone()
    finally:
        stop.set()
        other.join()


def _fail_on(names: set[str]) -> Callable[[str], str]:
    def load(name: str) -> str:
        if name in names:
            raise UserError(f"{name} cannot be read")
        return name
    return load


def test_the_first_files_error_is_raised_whichever_process_met_it(two_readers: None):
    files = [(f"f{i}.csv", b"x" * (100 - i)) for i in range(4)]      # here: f0; the reader: the rest
    fail = _fail_on({"f1.csv", "f3.csv"})
    with pytest.raises(UserError, match="f1.csv"):
        load_each(files, _in_reader(fail, fail))
    fail = _fail_on({"f0.csv", "f2.csv"})
    with pytest.raises(UserError, match="f0.csv"):
        load_each(files, _in_reader(fail, fail))


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not picklable")


def _raise_unpicklable(name: str) -> None:
    raise _Unpicklable("deep inside a reader")


def test_an_error_that_cannot_travel_comes_back_with_its_traceback(two_readers: None):
    with pytest.raises(RuntimeError, match="deep inside a reader"):
        load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(_raise_unpicklable))


def _killed(name: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_reader_that_dies_without_answering_is_said(two_readers: None):
    with pytest.raises(ChildStopped) as stopped:
        load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(_killed))
    assert stopped.value.signal_number == signal.SIGKILL


def test_a_reader_that_cannot_send_what_it_read_is_said(two_readers: None):
    with pytest.raises(RuntimeError, match="without sending what it read"):
        load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(lambda name: (lambda: name)))


def _sample_as_csv_files() -> list[tuple[str, bytes]]:
    """The sample workbook's sheets as CSV files, plus a second sales file that repeats rows of the
    first (duplicates across files) and a file that cannot be read."""
    sheets = pd.read_excel(SAMPLE, sheet_name=None, dtype=str, engine="calamine")
    files = [(f"{name}.csv", frame.to_csv(index=False).encode()) for name, frame in sheets.items()]
    sales = next(frame for name, frame in sheets.items() if name.lower().startswith("sales"))
    files.insert(2, ("sales_again.csv", sales.head(500).to_csv(index=False).encode()))
    files.insert(4, ("broken.xlsx", b"PK\x03\x04 not a workbook at all"))
    return files


def _pids_of_two_files(forking: bool) -> list[object]:
    return load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(_named) if forking else _where, min_bytes=0)


def test_a_machine_owners_worker_loads_in_two_processes():
    """The worker the command line and an administrator's source read in is single-threaded when
    it loads, so it does fork its second reader; an upload's worker does not."""
    own = sandbox.run_isolated(_pids_of_two_files, (True,), ["a.csv"], 0, Budget(resident=True, readers=2))
    assert len({pid for _, pid in own}) == 2        # type: ignore[attr-defined]
    upload = sandbox.run_isolated(_pids_of_two_files, (False,), ["a.csv"], 0, Budget())
    assert len({pid for _, pid in upload}) == 1     # type: ignore[attr-defined]


def test_a_dataset_loaded_by_two_readers_is_the_one_one_reader_loads(monkeypatch: pytest.MonkeyPatch):
    files = _sample_as_csv_files()
    one = ingest(files)
    monkeypatch.setattr(forked, "_readers", 2)
    monkeypatch.setattr(forked, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "alone", lambda: True)
    monkeypatch.setattr(forked, "_in_two", _counting(forked._in_two))
    two = ingest(files)
    assert _counting.calls == 1
    assert two.fingerprint == one.fingerprint
    for name, table in one.tables.items():
        pd.testing.assert_frame_equal(two.tables[name], table, obj=name)
    pd.testing.assert_frame_equal(two.issues, one.issues)
    assert two.sources == one.sources
    assert_rows_accounted(two)
    assert (two.issues["Kind"] == "duplicate").any() and "broken.xlsx" in set(two.issues["Source"])


def _counting(fn):
    _counting.calls = 0

    def wrapped(*args, **kwargs):
        _counting.calls += 1
        return fn(*args, **kwargs)
    return wrapped


def _spin_in_child() -> list[object]:
    """Two files; the one the forked reader takes never finishes computing."""
    return load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(lambda name: sum(range(10**12))),
                     min_bytes=0)


def test_a_reader_past_its_cpu_budget_stops_the_worker_with_the_plain_message(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sandbox, "WALL_FACTOR", 1_000.0)     # only the CPU limit can stop it
    with pytest.raises(OutOfTime, match="1 seconds of computing"):
        sandbox.run_isolated(_spin_in_child, (), ["busy.csv"], 0, Budget(seconds=1, resident=True, readers=2))


def _sleep_in_child(pid_file: str) -> list[object]:
    """Two files; the forked reader writes its process id to `pid_file` and sleeps a minute."""
    def sleep(name: str) -> None:
        Path(pid_file).write_text(str(os.getpid()))
        time.sleep(60)
    return load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(sleep), min_bytes=0)


def test_no_reader_outlives_a_worker_stopped_at_its_deadline(tmp_path: Path):
    pid_file = tmp_path / "reader.pid"
    with pytest.raises(OutOfTime):
        sandbox.run_isolated(_sleep_in_child, (str(pid_file),), ["slow.csv"], 0,
                             Budget(seconds=0.5, resident=True, readers=2))
    reader = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(reader) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(reader)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
    except OSError:
        return False


def test_a_resident_budget_counts_the_workers_children():
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; x = bytearray(300 << 20); "
                              "x[::4096] = b'1' * len(x[::4096]); print(1, flush=True); time.sleep(30)"],
                             stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline()
        own = sandbox._memory(os.getpid(), "VmRSS") or 0
        assert sandbox._resident_tree(os.getpid()) >= own + (300 << 20)
    finally:
        child.kill()
        child.wait()


def test_the_machine_owners_read_has_two_readers_an_upload_one():
    assert Budget.for_machine().readers == (2 if (os.cpu_count() or 1) > 1 else 1)
    assert Budget().readers == 1


def test_the_caller_hears_once_when_two_readers_are_done(two_readers: None, monkeypatch: pytest.MonkeyPatch):
    heard: list[int] = []
    monkeypatch.setattr(forked, "_when_read", lambda: heard.append(1))
    files = [("a.csv", b"xx"), ("b.csv", b"x")]
    assert len({pid for _, pid in load_each(files, _in_reader(_named), min_bytes=0)}) == 2
    assert heard == [1]
    load_each(files, _in_reader(_named), min_bytes=0)
    assert heard == [1]                     # the first time only


def test_one_reader_never_says_it_is_done(monkeypatch: pytest.MonkeyPatch):
    heard: list[int] = []
    forked.set_readers(1, lambda: heard.append(1))
    try:
        load_each([("a.csv", b"xx"), ("b.csv", b"x")], _where, min_bytes=0)
    finally:
        forked.set_readers(1)
    assert heard == []


def _read_then_wait_for(flag: str, seconds: float) -> bool:
    """Two files (in two readers if the worker has them), then up to `seconds` for `flag` to appear:
    whether it did."""
    load_each([("a.csv", b"xx"), ("b.csv", b"x")], _in_reader(_named), min_bytes=0)
    deadline = time.monotonic() + seconds
    while not Path(flag).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return Path(flag).exists()


def test_the_caller_works_ahead_while_the_worker_finishes_alone(tmp_path: Path):
    """run_isolated's `ahead` runs in the caller once the readers are done, before the answer."""
    flag = tmp_path / "ahead"
    seen = sandbox.run_isolated(_read_then_wait_for, (str(flag), 20.0), ["a.csv"], 0,
                                Budget(resident=True, readers=2), ahead=flag.touch)
    assert seen is True


def test_an_uploads_caller_is_never_called_ahead(tmp_path: Path):
    flag = tmp_path / "ahead"
    seen = sandbox.run_isolated(_read_then_wait_for, (str(flag), 1.0), ["a.csv"], 0, Budget(), ahead=flag.touch)
    assert seen is False and not flag.exists()
