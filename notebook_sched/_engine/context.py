"""The scheduler's answer to what conditions ask (``Context``), read from
its ledger; made per evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from .._conditions.base import Context
from .ledger import Ledger

__all__ = ["EngineContext"]


class EngineContext(Context):
    __slots__ = (
        "_cycles", "_ledger", "_params", "cycle_sleep", "now", "started_at", "task", "tz",
    )  # fmt: skip

    def __init__(
        self,
        ledger: Ledger,
        now: float,
        task: str | None,
        tz: tzinfo | None,
        started_at: float,
        cycle_sleep: float,
        cycles: int = 0,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self._ledger = ledger
        self._cycles = cycles
        self._params = {} if params is None else params
        self.now = now
        self.task = task
        self.tz = tz
        self.started_at = started_at
        self.cycle_sleep = cycle_sleep

    def last_start(self, task: str) -> float | None:
        return self._ledger.starts.get(task)

    def last_finish(self, task: str, how: str) -> float | None:
        return self._ledger.last_finish(task, how)

    def elapsed(self, task: str, how: str | None = None) -> float | None:
        return self._ledger.elapsed(task, how, self.now)

    def uptime(self) -> float | None:
        began = self._ledger.session_began
        return super().uptime() if began is None else self._ledger.mono() - began

    def running_since(self, task: str) -> float | None:
        return self._ledger.running_since(task)

    def running_starts(self, task: str) -> list[float]:
        return self._ledger.running_starts(task)

    def fail_streak(self, task: str) -> int:
        return self._ledger.occurrences.fail_streak(task)

    def count_events(self, task: str, how: str | None, since: float, until: float) -> int:
        return self._ledger.occurrences.count(task, how, since, until)

    def nth_event(self, task: str, how: str | None, since: float, n: int = 0) -> float | None:
        return self._ledger.occurrences.nth(task, how, since, n)

    def cycles(self) -> int:
        return self._cycles

    def params(self) -> Mapping[str, object]:
        return self._params
