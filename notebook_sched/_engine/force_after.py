"""``shut_down(force_after=...)``: a graceful shutdown that becomes a forced
one when that much time has passed and runs are still alive.

The moment lives on the watchdog, like a run's deadline, so it comes on time
while the loop is blocked; it belongs to one session (a stopped and restarted
scheduler has none) and is cancelled when the scheduler stops.
"""

from __future__ import annotations

import math
import numbers
import threading
from typing import Protocol

from .timers import Timer, Watchdog

__all__ = ["ForceAfter", "parse_force_after"]


def parse_force_after(value: object) -> float:
    """Seconds (0 or more) or a duration string, as for a timeout."""
    from .._durations import parse_timedelta

    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if number and math.isfinite(float(value)) and value == 0:  # type: ignore[arg-type]
        return 0.0
    try:
        return parse_timedelta(value, what="force_after")
    except ValueError as exc:
        raise ValueError(f"shut_down(): {exc}") from None


class Forced(Protocol):
    """What the forced step asks of its scheduler."""

    @property
    def state(self) -> str: ...
    @property
    def lock(self) -> threading.RLock: ...
    def generation(self) -> int: ...
    def shut_down(self, force: bool = False) -> None: ...


class ForceAfter:
    """The forced step of one graceful shutdown, at ``at`` (monotonic clock)."""

    def __init__(self, watchdog: Watchdog, scheduler: Forced) -> None:
        self._watchdog = watchdog
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._timer: Timer | None = None
        self.at: float | None = None

    def set(self, at: float, session: int) -> None:
        """Force at ``at`` (the earlier moment wins over one set before)."""
        with self._lock:
            if self.at is not None and self.at <= at:
                return
            if self._timer is not None:
                self._timer.cancel()
            self.at = at
            self._timer = self._watchdog.call_at(at, lambda: self._force(session))

    def _force(self, session: int) -> None:
        # On the watchdog's thread: the session that set it, still shutting down.
        scheduler = self._scheduler
        with scheduler.lock:
            if scheduler.generation() == session and scheduler.state == "shutting_down":
                scheduler.shut_down(force=True)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self.at = None
