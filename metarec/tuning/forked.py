"""One fold of a budgeted trial in a forked child that is killed when the time budget ends.

A fit inside C code (libsvm, a boosting library) cannot be stopped from Python: an SVC with C = 10^4 and a
tight tolerance can run for minutes on a few thousand rows. Under a time budget, ``tune`` runs each fold's
fit and score in a child forked from this process (the data is shared, not copied) and kills it when the
budget ends; the trial is then cut. Where ``fork`` is missing (Windows) or unsafe (macOS), the fold runs in
this process and the budget is checked between folds only.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import time
from typing import Any, Callable

#: Whether folds can run in forked children here (Linux).
CAN_FORK = hasattr(os, "fork") and sys.platform.startswith("linux")


class BudgetEnded(Exception):
    """The time budget ended while a fold ran: its child was killed."""


class FoldError(RuntimeError):
    """The fold failed in its child: the message is the child's exception type and first line."""


def run_forked(fn: Callable[[], Any], seconds: float) -> Any:
    """``fn()`` in a forked child with one OpenMP / BLAS thread; its result, or :class:`BudgetEnded` when it
    has not finished within ``seconds``. An exception in ``fn`` is raised here as a :class:`FoldError` with its
    type and first line; Ctrl-C while waiting kills the child and goes on."""
    if seconds <= 0:
        raise BudgetEnded
    seconds = min(seconds, 7 * 24 * 3600.0)  # poll() takes milliseconds in a C int
    rfd, wfd = os.pipe()
    # The child must never collect an object it inherited (a finaliser can block for good on a lock held at
    # the fork, see kb.evaluation.run_with_timeout): the collector is off across the fork, and the child
    # freezes what it inherited before turning it on. SIGINT is held across the fork so that a Ctrl-C
    # reaches this process only, after the child is set up to ignore it.
    gc_was_on = gc.isenabled()
    gc.disable()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if gc_was_on:
            gc.enable()
        os.close(rfd)
        os.close(wfd)
        raise
    if pid == 0:  # child: never returns into the caller's code
        code = 1
        try:
            gc.freeze()
            gc.enable()
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and kills this child
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            os.close(rfd)
            try:
                from threadpoolctl import threadpool_limits

                from ..kb.evaluation import _die_with_parent

                _die_with_parent()
                with threadpool_limits(1):  # a thread pool inherited over fork would hang a parallel region
                    payload = pickle.dumps(("ok", fn()))
                code = 0
            except BaseException as exc:  # noqa: BLE001 - report anything to the parent
                first = (str(exc).strip().splitlines() or [""])[0]
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {first}"[:500]))
            with os.fdopen(wfd, "wb") as fh:
                fh.write(payload)
        finally:
            os._exit(code)
    data, finished = b"", False
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if gc_was_on:
            gc.enable()
        os.close(wfd)
        from ..kb.evaluation import read_before

        with os.fdopen(rfd, "rb") as fh:
            got = read_before(fh, time.perf_counter() + seconds)
        data, finished = (b"", False) if got is None else (got, True)
    finally:
        if not finished:  # the budget ended, or Ctrl-C / an error here
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if not finished:
        raise BudgetEnded
    try:
        outcome, value = pickle.loads(data)
    except Exception:  # nothing or a truncated result: the child died
        how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit code {os.waitstatus_to_exitcode(status)}")
        raise FoldError(f"the fold's process died without a result ({how})") from None
    if outcome != "ok":
        raise FoldError(value)
    return value
