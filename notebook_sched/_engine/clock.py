"""Clocks: where the scheduler reads the time and how long it really waits.

A clock has two faces. The wall clock (``time()``, epoch seconds) dates the
records and drives the wall-clock conditions (windows, ``daily.at``, cron).
The monotonic clock (``monotonic()``) measures durations — timeouts, grace
periods — so a step of the wall clock (NTP, a resume from suspend) neither
stretches nor shortens them. Tests inject a ``ManualClock`` (public as
``notebook_sched.testing.ManualClock``) so scheduling logic runs without
wall-clock waits; the real scheduler uses ``SystemClock``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from .._history.records import to_datetime

__all__ = ["Clock", "ManualClock", "SystemClock", "to_datetime"]


class Clock:
    """The time source of a scheduler.

    ``time()`` is the wall clock in epoch seconds, ``monotonic()`` a clock
    that only moves forward, for durations. ``real_wait(seconds)`` is how many
    real seconds a waiter should sleep for ``seconds`` of this clock to pass,
    or ``None`` when only a jump of the clock can get there (a manual clock);
    a waiter then sleeps until a listener added with ``add_listener`` is
    called.
    """

    def time(self) -> float:
        raise NotImplementedError

    def monotonic(self) -> float:
        raise NotImplementedError

    def real_wait(self, seconds: float) -> float | None:
        """How long a waiter really sleeps for ``seconds`` of this clock's time:
        ``None`` means until the clock is moved (a manual clock)."""
        raise NotImplementedError

    def seconds_until(self, when: float) -> float | None:
        """``real_wait`` until the wall-clock time ``when``."""
        return self.real_wait(when - self.time())

    def wall_of(self, monotonic: float) -> float:
        """The wall-clock time a monotonic time is (or was) at, as of now."""
        return self.time() + (monotonic - self.monotonic())

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) whenever the clock jumps."""

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``."""


class SystemClock(Clock):
    """The system's clocks (``time.time`` and ``time.monotonic``)."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def real_wait(self, seconds: float) -> float | None:
        """Real time passes as this clock's does: ``seconds`` (never negative)."""
        return max(0.0, seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number of seconds, got {value!r}")
    return float(value)


class ManualClock(Clock):
    """A clock that moves only when told to: for tests of schedules, with no
    waiting.

    Give it to a scheduler as ``Scheduler(clock=ManualClock(...))``; the
    scheduler then reads every time from it and sleeps until it is moved.

    Args:
        start: where the wall clock starts, a timezone-aware ``datetime``
            (a naive one is taken as local time) or epoch seconds; default: now.

    Example:
        ```python
        from datetime import datetime, timezone
        from notebook_sched import Scheduler
        from notebook_sched.testing import ManualClock

        clock = ManualClock(datetime(2026, 1, 5, 7, 59, tzinfo=timezone.utc))
        app = Scheduler(clock=clock)
        ...
        clock.advance(60)     # a minute passes, on both clocks, at once
        clock.step_wall(-30)  # an NTP step: only the wall clock moves
        ```
    """

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            self._wall = time.time()
        elif isinstance(start, datetime):
            self._wall = start.timestamp()
        else:
            self._wall = _seconds(start, "ManualClock start")
        self._mono = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def time(self) -> float:
        """The wall clock, in epoch seconds."""
        return self._wall

    def monotonic(self) -> float:
        """The monotonic clock, in seconds from the clock's creation."""
        return self._mono

    def now(self) -> datetime:
        """The wall clock as a timezone-aware local ``datetime``."""
        return datetime.fromtimestamp(self._wall, tz=UTC).astimezone()

    def real_wait(self, seconds: float) -> float | None:
        """Due now: no wait; later: until ``advance`` or ``step_wall`` moves the clock."""
        return 0.0 if seconds <= 0 else None

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` (>= 0) pass: the wall and monotonic clocks move
        together, and every waiter of the scheduler looks at what became due."""
        step = _seconds(seconds, "ManualClock.advance")
        if step < 0:
            raise ValueError(
                f"ManualClock.advance needs seconds >= 0 (time does not run back; "
                f"step_wall() moves the wall clock back), got {seconds!r}"
            )
        with self._lock:
            self._wall += step
            self._mono += step
        self._jumped()

    def step_wall(self, seconds: float) -> None:
        """Move only the wall clock, by ``seconds`` (either way), as an NTP step
        or a resume from suspend does: durations (timeouts, grace periods) are
        not affected; wall-clock conditions see the new time."""
        step = _seconds(seconds, "ManualClock.step_wall")
        with self._lock:
            self._wall += step
        self._jumped()

    def set(self, when: datetime | float) -> None:
        """Set the wall clock to ``when``, moving the monotonic clock as far
        when that is forward (as ``advance``), leaving it when backward (as
        ``step_wall``)."""
        wall = when.timestamp() if isinstance(when, datetime) else _seconds(when, "when")
        with self._lock:
            self._mono += max(0.0, wall - self._wall)
            self._wall = wall
        self._jumped()

    def _jumped(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            callback()

    def add_listener(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()!r}, monotonic={self._mono!r})"
