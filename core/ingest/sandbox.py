"""Read uploads in a separate process with a memory and a time budget, so a bad file hurts only itself.

A file can be built to make a reader allocate gigabytes or run for minutes (a 2 MB workbook
holding 13 million cells). Read inside the server, such a file takes every user's session down
with it; read here, it costs one short-lived worker process, which is stopped when it passes its
memory budget (an address-space limit set inside it) or its time budget, and the user gets a plain
message. The time budget counts the worker's own CPU seconds (a limit set inside it), so a busy
server, where every read waits for a core, does not stop a good file; a wall-clock deadline of
WALL_FACTOR times the budget, watched from outside, stops a worker that waits without computing.
The worker returns the Dataset (plain picklable tables) or the reader's own message.

Workers start from a "forkserver" that has already imported the readers: starting one costs
milliseconds, and the server's own threads are never forked. At most MAX_PARALLEL files are read
at once (one a core); other uploads wait their turn.
"""
from __future__ import annotations

import functools
import importlib.machinery
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from core.errors import UserError

if TYPE_CHECKING:
    from core.dataset import Dataset
    from core.ingest.sources import TableMap

MEMORY_BUDGET = 4 << 30     # bytes a read may use on top of the worker's own start-up size
TIME_BUDGET_S = 30.0        # seconds a read may take, plus TIME_PER_MB_S for every MB read
TIME_PER_MB_S = 0.3         # the benchmark's 360 MB of CSV ingests in ~10 s: room for a busy server
WALL_FACTOR = 4.0           # wall-clock backstop: a read blocked (not computing) that long is stopped
MAX_PARALLEL = 2
_ROOT = Path(__file__).resolve().parents[2]
# The forkserver imports the readers once; workers never run the main script (under Streamlit
# it is the app's own page script, under pytest whatever page a test ran last): see _without_main.
_PRELOAD = ["core.ingest.pipeline"]
_NO_MAIN = types.ModuleType("__main__")
_NO_MAIN.__spec__ = importlib.machinery.ModuleSpec("core.ingest.sandbox.__main__", None)
_slots = threading.BoundedSemaphore(MAX_PARALLEL)
_context_lock = threading.Lock()
_context: Any = None


class OutOfTime(UserError):
    """A read stopped at its time budget (the same file may be read in time on a quieter server)."""


UPLOAD_ADVICE = "Upload the data as CSV files, or split it into smaller files (by year or region)."
MACHINE_SHARE = 0.75        # of this machine's memory, for data its owner reads (CLI, administrator's source)
MACHINE_ADVICE = ("Read it on a machine with more memory, or a part at a time (fewer files, a year or "
                  "a region each).")
WATCH_S = 0.2               # how often a resident-memory budget is checked


@dataclass(frozen=True)
class Budget:
    """What one read may use: bytes of memory and seconds (None: TIME_BUDGET_S plus
    TIME_PER_MB_S per MB of input), and what to tell the user when it is not enough.

    `resident`: memory counts the worker's resident pages, watched from outside every WATCH_S,
    rather than its address space, capped inside it. An upload keeps the cap (a hostile file is
    stopped at the very allocation, whatever its pace); the owner's own data is measured by what
    it really occupies: the address space runs ~1.7 × the resident size (a 3,000-rep folder: 5.5
    GB reserved for 3.3 GB used), so a cap at 3/4 of the machine stopped reads that fit in it.

    `readers`: processes that load files at once inside the worker (core.ingest.forked); more than
    one only with a resident budget, which counts the worker's children too."""

    memory_bytes: int = MEMORY_BUDGET
    seconds: float | None = None
    advice: str = UPLOAD_ADVICE
    resident: bool = False
    readers: int = 1

    @classmethod
    def for_machine(cls) -> Budget:
        """For data the machine's owner reads (the command line, the administrator's source): a
        share of the machine's memory rather than one web upload's 4 GB, which a 3,000-rep CSV
        folder already needs; never less than the upload budget; resident memory."""
        return cls(max(MEMORY_BUDGET, int(MACHINE_SHARE * _machine_memory())), advice=MACHINE_ADVICE,
                   resident=True, readers=2 if (os.cpu_count() or 1) > 1 else 1)

    def seconds_for(self, size_bytes: int) -> float:
        if self.seconds is not None:
            return self.seconds
        return TIME_BUDGET_S + TIME_PER_MB_S * size_bytes / 1e6


def ingest_isolated(files: Sequence[tuple[str, bytes]], overrides: dict[str, Any] | None = None,
                    budget: Budget = Budget()) -> Dataset:
    """core.ingest.pipeline.ingest(files, overrides), run in a worker within `budget`."""
    from core.ingest.pipeline import ingest

    names = [name for name, _ in files]
    return run_isolated(ingest, (list(files), overrides), names, sum(len(d) for _, d in files), budget)


def ingest_paths_isolated(paths: Sequence[str | Path], overrides: dict[str, Any] | None = None,
                          budget: Budget = Budget()) -> Dataset:
    """core.ingest.pipeline.ingest_paths(paths, overrides), run in a worker within `budget` (the worker
    reads the files itself)."""
    from core.ingest.pipeline import ingest_paths

    names = [Path(p).name for p in paths]
    size = sum(Path(p).stat().st_size for p in paths)
    return run_isolated(ingest_paths, ([str(p) for p in paths], overrides), names, size, budget)


def ingest_inputs_isolated(inputs: Sequence[str | Path], table_map: TableMap | None = None,
                           options: dict[str, Any] | None = None, budget: Budget = Budget(),
                           ahead: Callable[[], None] | None = None) -> Dataset:
    """core.ingest.sources.ingest_inputs (files, folders, DuckDB files, connection URLs), run in a
    worker within `budget`; its time budget counts the bytes of the files read (a DuckDB URL's
    file too). Names and messages show a URL without its password. `ahead`: see run_isolated."""
    from core.engine.backend import duckdb_path, is_url, shown
    from core.ingest.sources import ingest_inputs

    texts = [str(i) for i in inputs]
    urls = [u for u in texts if is_url(u)]
    paths = [Path(p) for p in texts if not is_url(p)]
    names = [p.name for p in paths] + [shown(u) for u in urls]
    paths += [d for u in urls if (d := duckdb_path(u)) is not None]
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return run_isolated(ingest_inputs, (texts, table_map, options or None), names,
                        sum(f.stat().st_size for f in files), budget, ahead)


def run_isolated(fn: Callable[..., Dataset], args: tuple[Any, ...], names: Sequence[str], size_bytes: int,
                 budget: Budget, ahead: Callable[[], None] | None = None) -> Dataset:
    """fn(*args) in a worker process (fn must be importable by name). Raises UserError with a
    plain message when the worker runs out of memory or time, or when fn raises one.

    `ahead`: work of the caller's own that can be done before the result comes (the command line
    imports the report's modules, ~1 s). It is called once the worker's readers have loaded every
    file, if it had two (Budget.readers): the worker then stacks and links its tables alone (~2 s
    at 1,000 reps), a core is free, and the caller no longer waits for it after the tables come.
    Called earlier, beside two busy readers, it slowed them by as much as it saved; a worker
    that reads alone never calls it. The resident-memory watch pauses while it runs."""
    seconds = budget.seconds_for(size_bytes)
    ctx = _get_context()
    receiver, sender = ctx.Pipe(duplex=False)
    cap = None if budget.resident else budget.memory_bytes
    readers = budget.readers if budget.resident else 1
    heard, tell = ctx.Pipe(duplex=False) if ahead is not None and readers > 1 else (None, None)
    worker = ctx.Process(target=_work, args=(sender, fn, args, cap, seconds, readers, tell), daemon=True)
    with _slots:
        with _without_main():
            worker.start()
        sender.close()
        if tell is not None:
            tell.close()
        try:
            answered = _wait(receiver, worker.pid, seconds * WALL_FACTOR,
                             budget.memory_bytes if budget.resident else None,
                             (heard, ahead) if heard is not None and ahead is not None else None)
            if answered == "time":
                raise OutOfTime(_too_slow(names, seconds, budget.advice))
            if answered == "memory":
                raise UserError(_too_big(names, budget.memory_bytes, budget.advice))
            kind, value = _receive(receiver)
        except EOFError:            # the worker died without answering: its CPU limit, or out of memory
            kind, value = "died", None
        finally:
            if worker.is_alive():
                worker.kill()
            worker.join()
            receiver.close()
            if heard is not None:
                heard.close()
    if kind == "died":
        if worker.exitcode == -signal.SIGXCPU:
            raise OutOfTime(_too_slow(names, seconds, budget.advice))
        kind = "memory"             # died in native code past its address-space limit
    if kind == "ok":
        return cast("Dataset", value)       # what the worker sent: fn's result
    if kind == "user":
        raise UserError(value)
    if kind == "memory":
        raise UserError(_too_big(names, budget.memory_bytes, budget.advice))
    raise RuntimeError(f"reading the files failed in the worker process:\n{value}")


def _wait(receiver: Connection, pid: int | None, wall_s: float, resident_bytes: int | None,
          ahead: tuple[Connection, Callable[[], None]] | None = None) -> str:
    """Until the worker answers ("ok"), passes its wall-clock deadline ("time") or, with a
    resident budget, holds more than `resident_bytes` of resident memory ("memory"). `ahead`: the
    pipe on which the worker says its readers are done, and what to run then (run_isolated)."""
    deadline = time.monotonic() + wall_s
    while True:
        left = max(0.0, deadline - time.monotonic())
        ready = wait([receiver, *([ahead[0]] if ahead else [])], left if resident_bytes is None else min(WATCH_S, left))
        if receiver in ready:
            return "ok"
        if ahead is not None and ahead[0] in ready:
            if _heard(ahead[0]):
                ahead[1]()
            ahead = None
        elif time.monotonic() >= deadline:
            return "time"
        elif resident_bytes is not None and pid is not None and _resident_tree(pid) > resident_bytes:
            return "memory"


def _heard(pipe: Connection) -> bool:
    """True when the worker wrote on `pipe`; False when it closed it without (it read alone, or ended)."""
    try:
        pipe.recv_bytes()
        return True
    except EOFError:
        return False


def _tell(pipe: Connection) -> None:
    """The worker's side of _heard: its readers are done."""
    pipe.send_bytes(b"read")
    pipe.close()


def _resident_tree(pid: int) -> int:
    """Resident bytes of a process and its children (a worker's forked reader, core.ingest.forked)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        children = []
    return sum(_memory(p, "VmRSS") or 0 for p in (pid, *children))


def _memory(pid: int, field: str) -> int | None:
    """A memory field of a process's /proc status (VmRSS: resident, VmSize: address space) in
    bytes; None where it cannot be read (not Linux, or the process has gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@contextmanager
def _without_main() -> Iterator[None]:
    """While a worker is started, __main__ is a stand-in whose name multiprocessing never re-runs.

    multiprocessing makes each new process import the parent's main script first. Streamlit sets
    __main__ to the page script it is running, so every worker would run the app (or, under
    pytest, the last page a test ran) before reading a file. The stand-in is put back only if no
    other thread replaced __main__ meanwhile."""
    real = sys.modules["__main__"]
    sys.modules["__main__"] = _NO_MAIN
    try:
        yield
    finally:
        if sys.modules.get("__main__") is _NO_MAIN:
            sys.modules["__main__"] = real


def start_readers() -> None:
    """Start the forkserver now, so that it imports the readers (pandas, ~1 s) while the caller does
    other work: the command line imports its own modules meanwhile. Importing this module does
    not import pandas."""
    _get_context()


def stop_readers() -> None:
    """Stop the forkserver once no read is coming (the command line reads once): it would otherwise
    stay resident (~115 MB) while the report is built, and then tear pandas down on exit. Python
    has no public way to stop it: where its private handle is missing, the server runs until this
    process ends, as it always did. A later read starts a new one."""
    global _context
    from multiprocessing import forkserver

    with _context_lock:
        server: Any = getattr(forkserver, "_forkserver", None)
        pid = getattr(server, "_forkserver_pid", None)
        if _context is None or pid is None or not hasattr(server, "_stop"):
            return
        os.kill(pid, signal.SIGKILL)    # nothing of its own to save; its exit would cost a core ~0.2 s
        server._stop()                  # reaps it and forgets its address
        _context = None


def _get_context() -> Any:
    """The forkserver context, its server started with the readers imported. Python 3.11's
    forkserver does not take the caller's sys.path, so the project's root is put on its
    PYTHONPATH while it starts (or every worker would import pandas afresh, ~2 s an upload)."""
    global _context
    with _context_lock:
        if _context is None:
            from multiprocessing import forkserver

            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            before = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), before]))
            try:
                forkserver.ensure_running()
            except OSError as err:
                raise UserError(_cannot_start(err)) from err
            finally:
                if before is None:
                    del os.environ["PYTHONPATH"]
                else:
                    os.environ["PYTHONPATH"] = before
            _context = ctx
        return _context


def _cannot_start(err: OSError) -> str:
    """Why the reading process could not start, in the user's words. Its socket lives in the
    temporary folder, and a socket's path holds at most ~100 characters."""
    import tempfile

    if "too long" in str(err):
        return (f"GoalGap could not start the process that reads files: the temporary folder's path "
                f"({tempfile.gettempdir()}) is too long for it. Set TMPDIR to a short folder, such as /tmp, "
                "and try again.")
    return f"GoalGap could not start the process that reads files ({err}). Please try again."


def _work(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], memory_bytes: int | None,
          seconds: float, readers: int, tell: Connection | None = None) -> None:
    """The worker: limit its own memory (None: watched from outside) and CPU time, run fn with
    `readers` processes loading files (saying on `tell` when they are done), send ("ok", result)
    or why not."""
    from core.ingest.forked import ChildStopped, set_readers

    if memory_bytes is not None:
        _limit_memory(memory_bytes)
    _limit_cpu(seconds)
    set_readers(readers, functools.partial(_tell, tell) if tell is not None else None)
    try:
        result: tuple[str, Any] = ("ok", fn(*args))
    except ChildStopped as err:     # its reader was stopped (CPU limit, killed): the worker ends the same way
        os.kill(os.getpid(), err.signal_number)
        raise
    except UserError as err:
        result = ("user", str(err))
    except MemoryError:
        result = ("memory", None)
    except Exception:  # noqa: BLE001 — a bug in a reader: the server logs it, the worker ends
        result = ("bug", traceback.format_exc())
    kind, value = result
    shell, tables = _tables_apart(value)
    del result, value               # the tables are held by `tables` alone, each freed once sent
    try:
        _send(conn, kind, shell, tables)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


def _tables_apart(value: Any) -> tuple[Any, dict[str, Any]]:
    """A Dataset as its shell (issues, sources) and its tables, so that each table can be sent and
    freed in turn; anything else as it is."""
    from core.dataset import Dataset

    if isinstance(value, Dataset):
        return value.replace(tables={}), dict(value.tables)
    return value, {}


def _send(conn: Connection, kind: str, shell: Any, tables: dict[str, Any]) -> None:
    """(kind, shell), then each table, each pickled with its large buffers (numpy and Arrow columns)
    sent apart, straight from where they lie, and dropped once sent. One pickle of the whole Dataset
    held a second copy of it (the worker went from 0.8 to 1.9 GB at 1,000 reps), and pickling copies
    Arrow text columns: one table at a time, the worker shrinks while the server's copy grows."""
    _send_one(conn, (kind, shell))
    conn.send(list(tables))
    for name in list(tables):
        _send_one(conn, tables.pop(name))


def _send_one(conn: Connection, obj: Any) -> None:
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    conn.send([len(v) for v in views])
    conn.send_bytes(head)
    for view in views:
        conn.send_bytes(view)


def _receive(conn: Connection) -> tuple[str, Any]:
    """What _send sent, the Dataset put back together from its shell and tables."""
    kind, value = _receive_one(conn)
    names: list[str] = conn.recv()
    if names:
        value = value.replace(tables={name: _receive_one(conn) for name in names})
    return kind, value


def _receive_one(conn: Connection) -> Any:
    """One object of _send_one: each buffer received into writable memory of its own, then
    unpickled around them (the columns use those buffers, no further copy)."""
    sizes: list[int] = conn.recv()
    head = conn.recv_bytes()
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        if size:
            conn.recv_bytes_into(buffer)
        else:
            conn.recv_bytes()
        buffers.append(buffer)
    return pickle.loads(head, buffers=buffers)


def _limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space at its present size plus `memory_bytes`: past it an
    allocation fails (MemoryError in Python, an abort in native code) in this process only."""
    try:
        import resource
    except ImportError:     # not a Unix system: no limit can be set here
        return
    size = _memory(os.getpid(), "VmSize")
    if size is not None:
        resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))


def _limit_cpu(seconds: float) -> None:
    """Stop this process (SIGXCPU) once it has used `seconds` of CPU time beyond what it has used."""
    try:
        import resource
    except ImportError:     # not a Unix system: only the wall-clock backstop applies
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    limit = math.ceil(used.ru_utime + used.ru_stime + seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
    return shown or "These files"


def _too_big(names: Sequence[str], memory_bytes: int, advice: str) -> str:
    return (f"{_listing(names)}: reading {'it' if len(names) == 1 else 'them'} needs more than the "
            f"{_amount(memory_bytes)} of memory one read may use, so it was stopped. {advice}")


def _machine_memory() -> int:
    """This machine's physical memory in bytes (the upload budget where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return MEMORY_BUDGET


def _amount(size: int) -> str:
    return f"{size / (1 << 30):.0f} GB" if size >= 1 << 30 else f"{size / (1 << 20):.0f} MB"


def _too_slow(names: Sequence[str], seconds: float, advice: str) -> str:
    return (f"{_listing(names)}: reading took longer than {seconds:.3g} seconds of computing, so it was "
            f"stopped. {advice}")
