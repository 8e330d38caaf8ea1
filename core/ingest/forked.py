"""Load a read's files in two processes at once: this one and one child forked from it.

Files load independently of each other (each is read, typed and checked on its own; stacking and
linking come after, core.ingest.pipeline), so on a machine with two cores the files can be shared
out. The command line and an administrator's data folder read in a worker process that has a core
to itself; at 1,000 reps × 3 years its 13 CSV files (activities 200 MB, sales 113 MB, the rest 55 MB)
loaded in one process take ~6 s of the report's ~14 s. Uploads to the web server stay in one
process each: the server reads up to two uploads at once already (core.ingest.sandbox).

Both processes take the files from one queue, biggest first, each its next file as soon as it is
free (a split fixed in advance by size left one reader 0.9 s idle at 1,000 reps: files of the same
size cost up to twice as much as others, with more columns or dates). The child sends back what its
files became, or the error that stopped it, through a pipe; then it exits. It dies with this
process (Linux: a parent-death signal), so a worker stopped at its budget leaves no reader behind.
"""
from __future__ import annotations

import os
import pickle
import signal
import struct
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")
Source = bytes | Path
FORK_BYTES = 64 << 20       # below this much input, a second process costs more than it saves
MAX_QUEUED = 8192           # file numbers the queue's pipe holds (4 bytes each) before anyone reads it
_NUMBER = struct.Struct("<I")
_PR_SET_PDEATHSIG = 1
_readers = 1
_when_read: Callable[[], None] | None = None


class ChildStopped(Exception):
    """The forked reader ended without answering (stopped by a signal: its CPU limit, or killed)."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(f"the second reading process stopped (signal {signal_number})")
        self.signal_number = signal_number


def set_readers(count: int, when_read: Callable[[], None] | None = None) -> None:
    """How many processes load files at once in this process from now on (1 or 2), and what to call
    once, the first time two of them have loaded their files (from then on this process works alone
    and a core is free: core.ingest.sandbox tells the caller, who may use it)."""
    global _readers, _when_read
    _readers = max(1, min(2, count))
    _when_read = when_read


def load_each(files: Sequence[tuple[str, Source]], load: Callable[[str, Source], T],
              min_bytes: int | None = None) -> list[T]:
    """[load(name, data) for each file], in the files' order; with two readers and at least
    `min_bytes` of input (FORK_BYTES), a forked child loads some of the files at the same time,
    which ones decided as they go (see the module's docstring). An error raised by load is raised
    here as it would be one file after the other: the first file's."""
    sizes = [len(data) if isinstance(data, bytes) else data.stat().st_size for _, data in files]
    enough = sum(sizes) >= (FORK_BYTES if min_bytes is None else min_bytes)
    if _readers < 2 or not 2 <= len(files) <= MAX_QUEUED or not enough or not alone():
        return [load(name, data) for name, data in files]
    return _in_two(files, load, biggest_first(sizes))


# Threads fork cannot hurt: jemalloc (pyarrow's allocator) takes its own locks across a fork and
# resets its background thread's state in the child, which runs without one.
FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd"})


def alone() -> bool:
    """Can this process fork safely: it has fork, and no thread but this one and those of
    FORK_SAFE_THREADS (a thread of another library, such as a DuckDB connection's, pyarrow's
    pool or BLAS's, could hold a lock the child would wait on forever). Linux only: elsewhere the
    files load one after the other."""
    if not hasattr(os, "fork"):
        return False
    try:
        others = [t for t in os.listdir("/proc/self/task") if int(t) != threading.get_native_id()]
        return all(_thread_name(t) in FORK_SAFE_THREADS for t in others)
    except OSError:
        return False


def _thread_name(task: str) -> str:
    with open(f"/proc/self/task/{task}/comm") as f:
        return f.read().strip()


def biggest_first(sizes: Sequence[int]) -> list[int]:
    """The files' indices, biggest first (a tie in the files' order)."""
    return sorted(range(len(sizes)), key=lambda i: -sizes[i])


Outcome = tuple[dict[int, Any], tuple[int, BaseException] | None]


def fork_writer(write: Callable[[BinaryIO], None]) -> tuple[int, int]:
    """Fork a child that dies with this process, runs write(out) on a pipe and exits without ever
    returning into the caller's code: status 0 once write is done, 1 when it raised. Returns the
    child's process id and the pipe's read end (the caller's to close)."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 1
        try:
            die_with(parent)
            with os.fdopen(write_end, "wb") as out:
                write(out)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _in_two(files: Sequence[tuple[str, Source]], load: Callable[[str, Source], T], order: list[int]) -> list[T]:
    queue = _queue(order)
    pid, read_end = fork_writer(lambda out: _send_outcome(out, files, load, queue))
    try:
        done, error = _load_all(files, load, queue)
        with os.fdopen(read_end, "rb") as answer:
            try:
                their_done, their_error = pickle.load(answer)
            except (EOFError, pickle.UnpicklingError):      # it died, or could not pickle its answer
                their_done, their_error = None, None
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(queue)
        _, status = os.waitpid(pid, 0)
    if their_done is None:
        if os.WIFSIGNALED(status):
            raise ChildStopped(os.WTERMSIG(status))
        raise RuntimeError("the second reading process ended without sending what it read "
                           f"(exit status {os.waitstatus_to_exitcode(status)})")
    _read()
    errors = [e for e in (error, their_error) if e is not None]
    if errors:
        raise min(errors, key=lambda e: e[0])[1]
    done.update(their_done)
    return [done[i] for i in range(len(files))]


def _read() -> None:
    """Call the when_read of set_readers, the first time only."""
    global _when_read
    hook, _when_read = _when_read, None
    if hook is not None:
        hook()


def _queue(order: list[int]) -> int:
    """A pipe holding the file numbers in `order`, its write end closed: the read end, which both
    processes read 4 bytes at a time (Linux reads a pipe under a lock: each read takes one whole
    number, and the numbers run out as an end of file)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"".join(_NUMBER.pack(i) for i in order))
    finally:
        os.close(write_end)
    return read_end


def _taken(queue: int) -> int | None:
    """The next file number of the queue, or None once they are all taken."""
    got = os.read(queue, _NUMBER.size)
    return _NUMBER.unpack(got)[0] if len(got) == _NUMBER.size else None


def _load_all(files: Sequence[tuple[str, Source]], load: Callable[[str, Source], T], queue: int) -> Outcome:
    """The files this process takes from the queue, loaded; once a file has failed, only the files
    before it are loaded still (the other process may have met an earlier one), and the earliest
    error is kept."""
    done: dict[int, Any] = {}
    error: tuple[int, BaseException] | None = None
    while (i := _taken(queue)) is not None:
        if error is not None and i > error[0]:
            continue
        try:
            done[i] = load(*files[i])
        except Exception as err:  # noqa: BLE001 — raised by the caller, in the files' order
            error = (i, err)
    return done, error


def _send_outcome(out: BinaryIO, files: Sequence[tuple[str, Source]], load: Callable[[str, Source], T],
                  queue: int) -> None:
    """The forked reader's work: load the files it takes from the queue, send the outcome."""
    done, error = _load_all(files, load, queue)
    if error is not None:
        error = (error[0], _picklable(error[1]))
    pickle.dump((done, error), out, protocol=pickle.HIGHEST_PROTOCOL)


def _picklable(err: BaseException) -> BaseException:
    """The error itself when it survives pickling, else a RuntimeError with its traceback."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001 — any error that cannot be pickled
        return RuntimeError("".join(traceback.format_exception(err)))


def die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent ends; exit now if the parent has gone."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):      # not Linux (glibc): the pipe's end tells the child instead
        pass
    if os.getppid() != parent:
        os._exit(0)
