"""Results a report needs, computed in a forked child beside the process that builds the report.

Once its worker has handed the tables over, the command line builds the summary in one process
(~3.3 s at 1,000 reps), one core busy and the other idle. Some results the summary needs read only
tables of their own and no other result: the share of each rep's business from accounts that have
left, the competency trends and quarter-end bunching (~1.3 s together at 1,000 reps). A child forked
here computes those, sending each back as it is done, while this process computes the KPIs, the
forecast and the rest of the diagnosis; its Dataset memo waits for a promised result instead of
computing it (core.dataset.Memo.promise).

The results are the same either way: the same functions on the same tables. If the child cannot
start (this process has other threads, which fork would leave holding locks; or no fork: not
Linux), fails, or dies, whatever it had not sent is given up and computed here, as without it.
"""
from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from core.dataset import Dataset, Promise, Task
from core.ingest.forked import alone, fork_writer


@contextmanager
def computed_beside(ds: Dataset, tasks: Sequence[Task]) -> Iterator[None]:
    """Within the block, `tasks` (memo key, computation) are computed into ds's memo by a forked
    child, in order; on leaving it, a child still computing is stopped."""
    if not tasks or not alone():
        yield
        return
    pid, read_end = fork_writer(lambda out: _send(out, ds, tasks))
    # Promised after the fork: the child's own memo must not wait for itself.
    promise = ds.cache.promise([key for key, _ in tasks])
    receiver = threading.Thread(target=_receive, args=(read_end, promise), name="goalgap-beside", daemon=True)
    receiver.start()
    try:
        yield
    finally:
        if promise.open:
            os.kill(pid, signal.SIGKILL)
        receiver.join()
        os.waitpid(pid, 0)


def _send(out: BinaryIO, ds: Dataset, tasks: Sequence[Task]) -> None:
    """The child's work: compute each task and send (key, result) as soon as it is done (a task
    that raises ends it; the parent computes the rest)."""
    for key, compute in tasks:
        pickle.dump((key, ds.memo(key, compute)), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


def _receive(read_end: int, promise: Promise) -> None:
    """Keep each result the child sends; give up the rest when it stops sending."""
    try:
        with os.fdopen(read_end, "rb") as answers:
            while promise.open:
                key, value = pickle.load(answers)
                promise.keep(key, value)
    except Exception:  # noqa: BLE001 — the child died or failed (an end of file, a torn pickle): computed here
        pass
    finally:
        promise.give_up()
