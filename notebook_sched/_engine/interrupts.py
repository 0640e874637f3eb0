"""Ctrl-C (a kernel interrupt) while ``run()`` or ``serve()`` blocks: the
first shuts down gracefully, the second forces.

Our own SIGINT handler is installed for the duration, so no
``KeyboardInterrupt`` is raised at a random point of the scheduler's code
(where it could leave a step half done); the handler only hands the shutdown
to the loop, which is safe from a signal handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator

__all__ = ["interrupts_shut_down"]


@contextlib.contextmanager
def interrupts_shut_down(
    loop: asyncio.AbstractEventLoop, shut_down: Callable[[bool], None]
) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread: nothing to install
        return
    count = 0

    def on_interrupt(signum: int, frame: object) -> None:
        nonlocal count
        count += 1
        force = count >= 2
        what = (
            "forcing shutdown" if force else "shutting down gracefully (interrupt again to force)"
        )
        print(f"notebook_sched: interrupted, {what}", file=sys.stderr, flush=True)
        loop.call_soon_threadsafe(shut_down, force)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
