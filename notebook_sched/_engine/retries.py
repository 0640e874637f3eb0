"""Retries: a run that ended ``fail`` or ``crash`` comes again, up to
``retries`` times; the n-th retry ``retry_delay * retry_backoff ** (n - 1)``
seconds after the run before it ended. A terminated run is never retried.

A pending retry waits for its moment without polling: a watchdog timer marks
the task on the agenda then, and the loop starts it like any other due run
(the injectable clock drives it in tests). While a retry is pending the task's start
condition is not looked at — the retry is the failed run's next chance, not a
new run. ``Task.run()`` by hand drops it and starts a fresh attempt 1; a
shutdown drops it. A retry runs the task's definition as it is when the retry
starts (a re-run cell's new one), and that definition's ``retries`` decides
whether it is retried again.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from .._history.records import RunRecord
from .clock import Clock, to_datetime
from .events import EventBus, RunRetryScheduled
from .timers import Timer, Watchdog

__all__ = ["NO_RETRY", "PendingRetry", "Retries", "RetryPolicy", "retry_policy"]

RETRIED = ("fail", "crash")


@dataclass(frozen=True)
class RetryPolicy:
    """How a task's failed runs are retried; ``delay`` in seconds."""

    retries: int = 0
    delay: float = 0.0
    backoff: float = 1.0

    def delay_of(self, attempt: int) -> float:
        """Seconds between the end of attempt ``attempt - 1`` and ``attempt``
        (2 is the first retry)."""
        return self.delay * self.backoff ** (attempt - 2)


NO_RETRY = RetryPolicy()


class PendingRetry(NamedTuple):
    """A retry that waits: its ``attempt`` number and when it starts — ``at``
    on the wall clock (as shown), ``due`` on the monotonic clock (as kept)."""

    attempt: int
    at: float
    due: float


def retry_policy(retries: object, delay: object, backoff: object, label: str) -> RetryPolicy:
    """Validate the decorator's ``retries``, ``retry_delay`` and ``retry_backoff``."""
    from .._durations import parse_timedelta

    if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
        raise ValueError(f"{label}: retries must be an integer >= 0, got {retries!r}")
    seconds = 0.0
    zero = isinstance(delay, numbers.Real) and not isinstance(delay, bool) and delay == 0
    if not zero:
        try:
            seconds = parse_timedelta(delay, what="retry_delay")
        except ValueError as exc:
            raise ValueError(f"{label}: {exc} (or 0 for none)") from None
    if (
        isinstance(backoff, bool)
        or not isinstance(backoff, numbers.Real)
        or not math.isfinite(float(backoff))
        or backoff < 1
    ):
        raise ValueError(f"{label}: retry_backoff must be a number >= 1, got {backoff!r}")
    if not retries:
        return NO_RETRY if (seconds, float(backoff)) == (0.0, 1.0) else RetryPolicy(0, seconds)
    return RetryPolicy(int(retries), seconds, float(backoff))


class _Defined(Protocol):
    @property
    def retry(self) -> RetryPolicy: ...


class Retried(Protocol):
    """A task as the retries read it: its newest definition."""

    @property
    def _definition(self) -> _Defined: ...


class Retries:
    """The pending retries of a scheduler's tasks, by task name (on the loop,
    under the scheduler's lock).

    A retry's delay is measured on the monotonic clock (a step of the wall
    clock neither stretches nor shortens it): a watchdog timer marks the task
    on the agenda when it is due, and the loop starts it then.
    """

    def __init__(
        self,
        clock: Clock,
        watchdog: Watchdog,
        due: Callable[[str], None],
        tasks: Mapping[str, Retried],
        bus: EventBus,
    ) -> None:
        self._clock = clock
        self._watchdog = watchdog
        self._due = due  # called (on the watchdog's thread) with the task whose retry is due
        self._tasks = tasks
        self._bus = bus
        self.pending: dict[str, PendingRetry] = {}
        self._timers: dict[str, Timer] = {}

    def after(
        self, name: str, policy: RetryPolicy, status: str, attempt: int, end: float
    ) -> PendingRetry | None:
        """A run of ``name`` (attempt ``attempt``) ended ``status`` at ``end``
        (wall clock): retry it if ``policy`` allows; the retry, or ``None``."""
        if status not in RETRIED or attempt > policy.retries:
            return None
        delay = policy.delay_of(attempt + 1)
        clock = self._clock
        waited = max(0.0, clock.time() - end)  # the end was recorded a moment ago
        due = clock.monotonic() + max(0.0, delay - waited)
        self.started(name)
        retry = self.pending[name] = PendingRetry(attempt + 1, end + delay, due)
        self._timers[name] = self._watchdog.call_at(due, lambda: self._due(name))
        return retry

    def after_ends(self, finished: Iterable[tuple[object, RunRecord, float]]) -> None:
        """Runs ended (under the lock), each ``(run, final record, end)``:
        retry those their task's newest definition (a redefined task's) lets
        be retried, each with a ``RunRetryScheduled`` event."""
        bus = self._bus
        for _, record, end in finished:
            task = self._tasks.get(record.task)
            if task is None:
                continue
            policy = task._definition.retry
            retry = self.after(record.task, policy, record.status, record.attempt, end)
            if retry is not None and bus.active:
                at = to_datetime(retry.at)
                assert at is not None
                bus.emit(RunRetryScheduled(record.task, retry.attempt, at, time=bus.now()))

    def is_due(self, retry: PendingRetry) -> bool:
        return self._clock.monotonic() >= retry.due

    def attempt_of(self, name: str) -> int:
        """The attempt number a run of ``name`` starting now has."""
        retry = self.pending.get(name)
        return retry.attempt if retry is not None else 1

    def started(self, name: str) -> None:
        """A run of ``name`` started: a pending retry is used up (or, for a
        run by hand, dropped)."""
        self.pending.pop(name, None)
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def clear(self) -> None:
        """A shutdown drops every pending retry."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.pending.clear()
