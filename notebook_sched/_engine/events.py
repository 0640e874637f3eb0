"""Frozen events the scheduler publishes, and the bus that delivers them.

The panel subscribes to them instead of polling the scheduler, and so can a
user (``app.subscribe``); the classes are public as ``notebook_sched.events``.
Each event carries its ``time``, timezone-aware, read from the scheduler's
clock (so a ``ManualClock`` stamps events too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._history.records import Reason, RunRecord
from .clock import Clock, to_datetime

__all__ = [
    "ConditionFailed",
    "Event",
    "EventBus",
    "RunFinished",
    "RunRetryScheduled",
    "RunStarted",
    "RunTerminating",
    "SchedulerStarted",
    "SchedulerStopped",
    "SchedulerStopping",
    "Subscription",
    "TaskDefined",
    "TaskDisabled",
    "TaskEnabled",
]

log = logging.getLogger("notebook_sched")


@dataclass(frozen=True)
class Event:
    """Base of every scheduler event.

    Attributes:
        time: when it happened, a timezone-aware ``datetime`` on the
            scheduler's clock. Keyword-only, so each event's own fields come
            first: ``RunStarted("poll", 7, ..., time=...)``.
    """

    time: datetime = field(kw_only=True)


@dataclass(frozen=True)
class SchedulerStarted(Event):
    """The scheduler entered ``"running"`` (``app.start()``, ``serve()``,
    ``run()``, or the panel's Start button)."""


@dataclass(frozen=True)
class SchedulerStopping(Event):
    """The scheduler is shutting down.

    Published when it enters ``"shutting_down"``, and once more, with
    ``forced=True``, when a graceful shutdown becomes a forced one.

    Attributes:
        forced: whether live runs are being terminated (reason ``"shutdown"``)
            rather than let finish.
    """

    forced: bool


@dataclass(frozen=True)
class SchedulerStopped(Event):
    """The scheduler entered ``"stopped"``: every run has ended."""


@dataclass(frozen=True)
class TaskDefined(Event):
    """A task was defined, or redefined (``@app.task`` on a name that exists).

    Attributes:
        task: the task's name.
    """

    task: str


@dataclass(frozen=True)
class TaskDisabled(Event):
    """``Task.disable()`` was called: no new run of the task starts.

    Attributes:
        task: the task's name.
    """

    task: str


@dataclass(frozen=True)
class TaskEnabled(Event):
    """``Task.enable()`` was called.

    Attributes:
        task: the task's name.
    """

    task: str


@dataclass(frozen=True)
class RunStarted(Event):
    """A run was launched; ``time`` is its start.

    Attributes:
        task: the task's name.
        run_id: the run's id, as in its ``RunRecord``.
        record: the run's record as it is at its start (status ``"run"``).
        deadline: when its timeout terminates it, or ``None``.
    """

    task: str
    run_id: int
    record: RunRecord
    deadline: datetime | None


@dataclass(frozen=True)
class RunTerminating(Event):
    """Termination of a live run was requested; it has not ended yet.

    Attributes:
        task: the task's name.
        run_id: the run's id.
        reason: ``"timeout" | "end_cond" | "shutdown" | "manual"``.
    """

    task: str
    run_id: int
    reason: Reason


@dataclass(frozen=True)
class RunFinished(Event):
    """A run ended and has its final record; ``time`` is its end.

    Attributes:
        record: the final ``RunRecord`` (status ``"success"``, ``"fail"``,
            ``"terminate"`` or ``"crash"``).
    """

    record: RunRecord


@dataclass(frozen=True)
class RunRetryScheduled(Event):
    """A failed or crashed run of a task with ``retries`` will be retried.

    Attributes:
        task: the task's name.
        attempt: the attempt number the retry will have (2 for the first retry).
        at: when the retry is to start.
    """

    task: str
    attempt: int
    at: datetime


@dataclass(frozen=True)
class ConditionFailed(Event):
    """A condition raised while it was checked; it counted as false.

    Published once per task and error, as the error is logged.

    Attributes:
        task: the task whose condition raised (``None`` for the session's
            ``shut_cond``).
        error: the error, with its traceback.
    """

    task: str | None
    error: str


class Subscription:
    """What ``app.subscribe()`` returns: ``cancel()`` it to stop the calls.

    Also a context manager: ``with app.subscribe(print):`` cancels at the end
    of the block.
    """

    __slots__ = ("_bus", "callback", "event_types")

    def __init__(
        self,
        bus: EventBus,
        callback: Callable[[Any], object],
        event_types: tuple[type[Event], ...],
    ) -> None:
        self._bus: EventBus | None = bus
        self.callback: Callable[[Any], object] = callback
        self.event_types: tuple[type[Event], ...] = event_types

    @property
    def active(self) -> bool:
        """Whether the callback is still called."""
        return self._bus is not None

    def cancel(self) -> None:
        """Stop calling the callback (from any thread; a second call does nothing)."""
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()

    def __repr__(self) -> str:
        kinds = ", ".join(t.__name__ for t in self.event_types) or "every event"
        state = "" if self.active else " (cancelled)"
        return f"<Subscription of {self.callback!r} to {kinds}{state}>"


class EventBus:
    """Delivers events to subscribers on the scheduler's loop.

    ``on_loop()`` tells whether the caller is on that loop's thread; ``post``
    hands a callback to it. A subscriber that raises is logged and skipped.
    """

    def __init__(
        self,
        on_loop: Callable[[], bool],
        post: Callable[[Callable[[], None]], None],
        clock: Clock,
    ) -> None:
        self._on_loop = on_loop
        self._post = post
        self._clock = clock
        self._subscriptions: list[Subscription] = []

    def subscribe(
        self, callback: Callable[[Any], object], event_types: tuple[type[Event], ...] = ()
    ) -> Subscription:
        if not callable(callback):
            raise TypeError(f"subscribe() needs a callable, got {callback!r}")
        for kind in event_types:
            if not (isinstance(kind, type) and issubclass(kind, Event)):
                raise TypeError(
                    f"subscribe() takes event classes of notebook_sched.events, got {kind!r}"
                )
        subscription = Subscription(self, callback, event_types)
        self._subscriptions = [*self._subscriptions, subscription]
        return subscription

    def remove(self, subscription: Subscription) -> None:
        self._subscriptions = [s for s in self._subscriptions if s is not subscription]

    @property
    def active(self) -> bool:
        """Whether anyone listens: the events of a run are made only then."""
        return bool(self._subscriptions)

    def now(self) -> datetime:
        """The present on the scheduler's clock, for an event's ``time``."""
        stamp = to_datetime(self._clock.time())
        assert stamp is not None
        return stamp

    def emit(self, event: Event) -> None:
        if not self._subscriptions:
            return
        if self._on_loop():
            self._deliver(event)
        else:
            self._post(lambda: self._deliver(event))

    def _deliver(self, event: Event) -> None:
        # The list is replaced, never changed in place: a callback may
        # subscribe or cancel while this loop runs.
        for subscription in self._subscriptions:
            kinds = subscription.event_types
            if kinds and not isinstance(event, kinds):
                continue
            if not subscription.active:
                continue
            try:
                subscription.callback(event)
            except Exception:
                log.exception("notebook_sched: an event subscriber failed")
