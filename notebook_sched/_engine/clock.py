"""Clocks: where the scheduler reads the time and how long it really waits.

Every time in the engine is a float of epoch seconds read from one ``Clock``.
Tests inject a ``ManualClock`` so scheduling logic runs without wall-clock
waits; the real scheduler uses ``SystemClock``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "ManualClock", "SystemClock", "to_datetime"]


class Clock:
    """The time source of a scheduler.

    ``time()`` is the present in epoch seconds. ``seconds_until(t)`` is how
    many real seconds a waiter should sleep to reach ``t`` on this clock, or
    ``None`` when only a jump of the clock can get there (a manual clock); a
    waiter then sleeps until a listener added with ``add_listener`` is called.
    """

    def time(self) -> float:
        raise NotImplementedError

    def seconds_until(self, when: float) -> float | None:
        raise NotImplementedError

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) whenever the clock jumps."""

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``."""


class SystemClock(Clock):
    """The wall clock (``time.time``)."""

    def time(self) -> float:
        return time.time()

    def seconds_until(self, when: float) -> float | None:
        return max(0.0, when - time.time())

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock(Clock):
    """A clock that moves only when told to; for tests.

    ``advance(seconds)`` and ``set(t)`` wake every waiter so it can re-check
    what became due.
    """

    def __init__(self, start: float | datetime = 1_700_000_000.0) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def time(self) -> float:
        return self._now

    def seconds_until(self, when: float) -> float | None:
        return 0.0 if when <= self._now else None

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)

    def set(self, when: float | datetime) -> None:
        self._now = when.timestamp() if isinstance(when, datetime) else float(when)
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
        return f"ManualClock({self._now!r})"


def to_datetime(epoch: float | None) -> datetime | None:
    """Epoch seconds as a timezone-aware local datetime (``None`` stays ``None``)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).astimezone()
