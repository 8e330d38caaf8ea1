"""`python -m core …` — see core/cli.py.

Linear algebra runs on one thread (unless the environment says otherwise): the report's models
are small, two BLAS threads only fight over two cores, and a process with threads cannot fork the
child that computes part of the report beside it (core.report.beside).

Once the command's work is written, the process leaves without the interpreter's teardown: with
pandas, scipy and statsmodels loaded, tearing their modules down takes ~0.4 s (measured at 1,000
reps) and frees nothing the operating system would not. Threads are joined and exit handlers run
first, as a normal exit runs them (multiprocessing removes its temporary folder there).
"""
import atexit
import os
import sys
import threading

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):     # before numpy loads
    os.environ.setdefault(_var, "1")

from core.cli import main  # noqa: E402 — after the thread counts are set


def _leave(code: int) -> None:
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


_leave(main())
