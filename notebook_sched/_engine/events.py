"""Frozen events the scheduler publishes; the panel subscribes to them instead
of polling the scheduler."""

from __future__ import annotations

from dataclasses import dataclass

from .._history.records import RunRecord

__all__ = ["Event", "RunFinished", "RunStarted", "RunTerminating", "StateChanged", "TaskChanged"]


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
