"""Frozen events the scheduler publishes; the panel subscribes to them instead
of polling the scheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from .._history.records import RunRecord

__all__ = [
    "Event",
    "EventBus",
    "RunFinished",
    "RunStarted",
    "RunTerminating",
    "StateChanged",
    "TaskChanged",
]

log = logging.getLogger("notebook_sched")


@dataclass(frozen=True)
class Event:
    """Base of every scheduler event."""


@dataclass(frozen=True)
class StateChanged(Event):
    state: str


@dataclass(frozen=True)
class TaskChanged(Event):
    """A task was defined, redefined, removed, disabled or enabled."""

    task: str


@dataclass(frozen=True)
class RunStarted(Event):
    record: RunRecord
    deadline: float | None


@dataclass(frozen=True)
class RunTerminating(Event):
    task: str
    run_id: int
    reason: str


@dataclass(frozen=True)
class RunFinished(Event):
    record: RunRecord


class EventBus:
    """Delivers events to subscribers on the scheduler's loop.

    ``on_loop()`` tells whether the caller is on that loop's thread; ``post``
    hands a callback to it. A subscriber that raises is logged and skipped.
    """

    def __init__(
        self, on_loop: Callable[[], bool], post: Callable[[Callable[[], None]], None]
    ) -> None:
        self._on_loop = on_loop
        self._post = post
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def cancel() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return cancel

    @property
    def active(self) -> bool:
        """Whether anyone listens: the events of a run are made only then."""
        return bool(self._subscribers)

    def emit(self, event: Event) -> None:
        if not self._subscribers:
            return
        if self._on_loop():
            self._deliver(event)
        else:
            self._post(lambda: self._deliver(event))

    def _deliver(self, event: Event) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("notebook_sched: an event subscriber failed")
