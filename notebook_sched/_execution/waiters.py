"""Threads kept for the next run: thread runs, and the waiters of runs away
from the kernel.

A thread run needs a thread for its whole life, and so does a process run:
its waiter starts the child, reads what the child sends back and waits for
its exit. Starting a thread makes the caller — the scheduler's loop — wait
until the new thread has run, which on a busy machine is milliseconds per
run (more under the GIL pressure of thousands of thread runs a second). So a
thread that is done waits (idle, costing nothing) for the next run instead
of ending, and a run starts on an idle thread when there is one: a pool of
two slots working through ten thousand runs starts two threads. There is no
bound on how many run at once: a run never waits for a thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["IDLE_FOR", "wait_in_thread"]

IDLE_FOR = 30.0  # seconds an idle waiter is kept before it ends

log = logging.getLogger("notebook_sched")

_lock = threading.Lock()
_idle = 0
_work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()


def wait_in_thread(body: Callable[[], None]) -> None:
    """Run ``body`` on a waiter thread: an idle one, or a new one."""
    global _idle
    with _lock:
        reuse = _idle > 0
        if reuse:
            _idle -= 1
    _work.put(body)
    if not reuse:
        threading.Thread(target=_serve, name="notebook_sched-waiter", daemon=True).start()


def _serve() -> None:
    global _idle
    while True:
        try:
            body = _work.get(timeout=IDLE_FOR)
        except queue.Empty:
            with _lock:
                if _idle > 0 and _work.empty():
                    _idle -= 1
                    return
            continue  # a body was handed to this thread just now: take it
        try:
            body()
        except BaseException:  # a bug: this thread must go on serving (it counts as idle)
            log.exception("notebook_sched: a worker thread's run failed")
        finally:
            with _lock:
                _idle += 1
