"""The scheduler's answer to what conditions ask (``Context``)."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from .._conditions.base import Context

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = ["EngineContext"]

_FINAL = ("success", "fail", "terminate", "crash")


class EngineContext(Context):
    """A context reading the scheduler's live state; made per evaluation."""

    __slots__ = ("_s", "cycle_sleep", "now", "started_at", "task", "tz")

    def __init__(self, scheduler: Scheduler, now: float, task: str | None) -> None:
        self._s = scheduler
        self.now = now
        self.task = task
        self.tz: tzinfo | None = scheduler._tz
        self.started_at = scheduler._started_at
        self.cycle_sleep = scheduler._config.cycle_sleep

    def last_start(self, task: str) -> float | None:
        return self._s._starts.get(task)

    def last_finish(self, task: str, how: str) -> float | None:
        finishes = self._s._finishes
        if how == "finish":
            return max(
                (t for s in _FINAL if (t := finishes.get((task, s))) is not None), default=None
            )
        return finishes.get((task, how))

    def running_since(self, task: str) -> float | None:
        run = self._s._live.get(task)
        return run.start if run is not None else None
