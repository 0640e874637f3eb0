"""A run's termination: ONE object per run, whatever the reason.

Timeout, end condition, forced shutdown and ``Task.terminate()`` all call
``Termination.request(reason)``. The first reason is kept and reaches the
record. The polite step happens at once; the forced step after the grace
period, and again every grace period until the run ends (a thread may swallow
one injected exception); a forced shutdown also sets an abandon time, when a
run that still has not ended (a thread stuck in a C call) is given up with a
final record that says so. Every time lives on the watchdog, so it holds
while the loop is blocked, and on its monotonic clock, so a step of the wall
clock moves none of them.
"""

from __future__ import annotations

import threading
from typing import Protocol

from .._history.records import Reason
from .timers import Timer, Watchdog

__all__ = ["REASONS", "Reason", "Steps", "Termination"]

REASONS: tuple[Reason, ...] = ("timeout", "end_cond", "shutdown", "manual")
MIN_REPEAT = 0.05  # seconds between two forced steps when the grace is 0


class Steps(Protocol):
    """What a termination does to its run; called from any thread."""

    def polite(self) -> None: ...
    def force(self) -> None: ...
    def abandon(self, waited: float) -> None: ...
    def requested(self, reason: Reason) -> None: ...


class _NoSteps:
    """The steps of a run that has ended: a step asked for just as it ended
    does nothing."""

    def polite(self) -> None:
        pass

    def force(self) -> None:
        pass

    def abandon(self, waited: float) -> None:
        pass

    def requested(self, reason: Reason) -> None:
        pass


_NO_STEPS = _NoSteps()


class Termination:
    """When and why one run is to end, and the steps that end it. Its times
    (``deadline``, ``requested_at``, ``abandon_at``) are monotonic."""

    __slots__ = (
        "_lock", "_steps", "_timers", "_watchdog", "abandon_at", "deadline", "ended",
        "grace", "reason", "requested_at",
    )  # fmt: skip

    def __init__(
        self, steps: Steps, watchdog: Watchdog, grace: float, deadline: float | None
    ) -> None:
        self._steps = steps
        self._watchdog = watchdog
        self._lock = threading.Lock()
        self._timers: list[Timer] = []
        self.grace = grace
        self.deadline = deadline
        self.reason: Reason | None = None
        self.requested_at: float | None = None
        self.abandon_at: float | None = None
        self.ended = False
        if deadline is not None:
            self._timers.append(watchdog.call_at(deadline, self._on_deadline))

    def _on_deadline(self) -> None:
        self.request("timeout")

    def request(self, reason: Reason, *, abandon: bool = False) -> bool:
        """Ask the run to end (thread-safe). ``True`` if this call gave the
        reason; ``False`` if the run ended or a reason was given before (the
        first stands). ``abandon`` (a forced shutdown) sets the abandon time."""
        with self._lock:
            if self.ended:
                return False
            when = self._watchdog.now()
            # Each timer is made before the state that stands for it: out of
            # memory, a request that raised can be made again (the watchdog does).
            if abandon and self.abandon_at is None:
                at = when + 2 * self.grace + 1.0
                abandoning = self._watchdog.call_at(at, self._abandon)
                self.abandon_at = at
                self._timers.append(abandoning)
            if self.reason is not None:
                return False
            force = self._watchdog.call_at(when + self.grace, self._force)
            self.reason = reason
            self.requested_at = when
            self._timers.append(force)
        # Announced before the polite step: a run that obeys at once must not
        # have its end reported before its termination.
        self._steps.requested(reason)
        self._steps.polite()
        return True

    def _force(self) -> None:
        with self._lock:
            if self.ended:
                return
        self._steps.force()  # first: it allocates least, should memory be short
        with self._lock:
            if self.ended:
                return
            when = self._watchdog.now() + max(self.grace, MIN_REPEAT)
            self._timers.append(self._watchdog.call_at(when, self._force))

    def _abandon(self) -> None:
        with self._lock:
            if self.ended:
                return
        self._steps.abandon(2 * self.grace + 1.0)

    def end(self) -> bool:
        """The run is over: no step follows. ``False`` if it already was.

        The run is let go (its steps are its run: a cycle), so that the
        run's objects are freed the moment the scheduler drops them, not by
        the garbage collector — thousands of runs a second would otherwise
        fill its old generation, whose full collections stop the kernel."""
        with self._lock:
            if self.ended:
                return False
            self.ended = True
            self._steps = _NO_STEPS
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        return True
