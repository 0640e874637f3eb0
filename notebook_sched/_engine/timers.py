"""The watchdog: a timer heap served by a thread of its own.

Deadlines of runs must fire on time even while the scheduler's loop is blocked
(a ``main`` task, a synchronous notebook cell), so they do not live on the
loop. Their times are on the clock's monotonic face: they are durations from
a start, which a step of the wall clock must not stretch or shorten. One
thread sleeps until the nearest timer, runs its callback, and exits when no
timer is left and no running scheduler keeps it; the next ``call_at`` starts
it again. Callbacks run on this
thread: they must be quick and thread-safe (set a flag, send a signal, post
to the loop), and safe to call again: one that raised ``MemoryError`` (a task
filled memory) is called again a moment later.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from .clock import Clock

__all__ = ["Timer", "Watchdog"]

log = logging.getLogger("notebook_sched")

_SHORT_OF_MEMORY = 0.01  # seconds the watchdog pauses when memory ran out


class Timer:
    """A pending callback; ``cancel()`` it when it is no longer wanted."""

    __slots__ = ("_owner", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None], owner: Watchdog) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self._owner = owner

    def cancel(self) -> None:
        self._owner._cancel(self)


class Watchdog:
    """Runs callbacks at monotonic clock times, off the scheduler's loop."""

    def __init__(self, clock: Clock, name: str = "notebook_sched-watchdog") -> None:
        self._clock = clock
        self._name = name
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._cancelled = 0
        self._kept = 0
        clock.add_listener(self._on_clock_jump)

    def now(self) -> float:
        """The present on the watchdog's (monotonic) clock."""
        return self._clock.monotonic()

    def wall(self) -> float:
        """The present on the wall clock (epoch seconds), for records."""
        return self._clock.time()

    def real_wait_until(self, when: float) -> float | None:
        """Real seconds from now to ``when`` on the watchdog's clock (``None``:
        only a move of a manual clock gets there)."""
        return self._clock.real_wait(when - self._clock.monotonic())

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(when, callback, self)
        with self._cv:
            heapq.heappush(self._heap, (when, next(self._seq), timer))
            if self._thread is None:
                self._start()
            elif self._heap[0][2] is timer:
                self._cv.notify()  # the new timer is the nearest: wake up earlier
        return timer

    def keep(self) -> None:
        """Keep the thread, timers or none, until ``let_go()`` (a scheduler
        keeps it while it runs). Starting a thread when a task has filled
        memory can hang the starter — ``Thread.start()`` waits for a bootstrap
        that can die of ``MemoryError`` — and a forced shutdown must not hang."""
        with self._cv:
            self._kept += 1
            if self._thread is None:
                self._start()

    def let_go(self) -> None:
        with self._cv:
            self._kept = max(0, self._kept - 1)
            self._cv.notify()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
        self._thread.start()

    def pending(self) -> int:
        with self._cv:
            return len(self._heap) - self._cancelled

    def _cancel(self, timer: Timer) -> None:
        with self._cv:
            if timer.cancelled:
                return
            timer.cancelled = True
            self._cancelled += 1
            # Most runs end long before their deadline: drop their timers in bulk
            # so the heap holds live deadlines, not hours of cancelled ones.
            if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _on_clock_jump(self) -> None:
        with self._cv:
            self._cv.notify()

    def _serve(self) -> None:
        # Nothing may end this thread but an empty heap: every later deadline,
        # forced step and abandon time depends on it. Out of memory (a task
        # filled it), a wait or a callback fails for a moment: it waits a
        # little and goes on, and calls that callback again.
        while True:
            try:
                timer = self._next()
            except (MemoryError, RuntimeError):  # RuntimeError: "can't allocate lock"
                time.sleep(_SHORT_OF_MEMORY)
                continue
            if timer is None:
                return
            try:
                timer.callback()
            except MemoryError:  # a step lost to a moment's shortage could wedge its run
                self._again(timer)
            except Exception:  # a failing callback must not kill the watchdog
                log.exception("notebook_sched: a watchdog callback failed")

    def _again(self, timer: Timer) -> None:
        """Call ``timer`` again, a moment from now."""
        while True:
            time.sleep(_SHORT_OF_MEMORY)
            try:
                with self._cv:
                    timer.cancelled = False
                    heapq.heappush(self._heap, (self._clock.monotonic(), next(self._seq), timer))
                return
            except MemoryError:
                continue

    def _next(self) -> Timer | None:
        """The next timer that is due, once it is; ``None`` when none is left
        (the thread is then over: the next ``call_at`` starts another)."""
        with self._cv:
            while True:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled -= 1
                if not self._heap:
                    if self._kept:
                        self._cv.wait()
                        continue
                    self._thread = None
                    return None
                when, _, timer = self._heap[0]
                delay = self.real_wait_until(when)
                if delay is None or delay > 0:
                    self._cv.wait(delay)
                    continue
                heapq.heappop(self._heap)
                timer.cancelled = True  # fired: a late cancel() is a no-op, not a miscount
                return timer
