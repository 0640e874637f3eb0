"""A live run and its termination: ONE mechanism for every reason.

Timeout, end condition, forced shutdown and ``Task.terminate()`` all call
``Run.terminate(reason)``. The first reason is kept and reaches the record;
the executor's polite step happens at once and its forced step after the grace
period, both timed by the watchdog so they hold even while the loop is blocked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._history.records import RunRecord
from .timers import Timer, Watchdog

if TYPE_CHECKING:
    from .._execution.base import RunHandle
    from .task import TaskDefinition

__all__ = ["Run"]


class Run:
    """One alive run: its record, its executor handle and its deadline."""

    def __init__(
        self,
        definition: TaskDefinition,
        record: RunRecord,
        start: float,
        deadline: float | None,
        watchdog: Watchdog,
        grace: float,
        on_terminating: Callable[[Run], None],
    ) -> None:
        self.definition = definition
        self.record = record
        self.start = start
        self.deadline = deadline
        self.reason: str | None = None
        self.terminate_requested_at: float | None = None
        self.handle: RunHandle | None = None
        self.finished = False
        self._watchdog = watchdog
        self._grace = grace
        self._on_terminating = on_terminating
        self._lock = threading.Lock()
        self._timers: list[Timer] = []
        if deadline is not None:
            self._timers.append(watchdog.call_at(deadline, lambda: self.terminate("timeout")))

    @property
    def task(self) -> str:
        return self.definition.name

    @property
    def run_id(self) -> int:
        return self.record.run_id

    def attach(self, handle: RunHandle) -> None:
        """Give the run its executor handle; a termination requested before
        this moment is carried out now."""
        with self._lock:
            self.handle = handle
            pending = self.reason is not None and not self.finished
        if pending:
            handle.stop()

    def terminate(self, reason: str, now: float | None = None) -> bool:
        """Request termination (thread-safe). ``False`` if the run already ended
        or termination was already requested (the first reason stands)."""
        with self._lock:
            if self.finished or self.reason is not None:
                return False
            self.reason = reason
            handle = self.handle
            when = now if now is not None else self._watchdog._clock.time()
            self.terminate_requested_at = when
            self._timers.append(self._watchdog.call_at(when + self._grace, self._force))
        if handle is not None:
            handle.stop()
        self._on_terminating(self)
        return True

    def _force(self) -> None:
        with self._lock:
            if self.finished:
                return
            handle = self.handle
            # Keep forcing every grace period: a thread may swallow one
            # injection, and a run whose handle is not attached yet needs a later try.
            when = self._watchdog._clock.time() + max(self._grace, 0.05)
            self._timers.append(self._watchdog.call_at(when, self._force))
        if handle is not None:
            handle.force()

    def mark_finished(self) -> bool:
        """Note the end of the run; ``False`` if it was already final."""
        with self._lock:
            if self.finished:
                return False
            self.finished = True
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        return True
