"""How the runs of pooled tasks start: at once when their pool has a free
slot, else in its queue (``pools.py``) until one frees.

A slot is taken when a run is made and given back when its final record is
made, so "alive" means what the run history says. Each time runs of a pool
end, the loop is asked (once per batch of ends) to start the waiting runs
that now fit: each is made then — its record, its attempt number, its
deadline counted from this real start. A waiting run that leaves its queue
early (its end condition, ``Task.terminate()``, ``Task.disable()``, a
shutdown) gets a final record of its own, status ``"terminate"``, whose
``error`` says it never started.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from .._history.history import IdsExhausted
from .._history.records import Reason
from .agenda import Agenda
from .clock import Clock
from .ledger import Ended, Ledger
from .pools import Pools, Waiting
from .retries import Retries
from .timers import Watchdog

if TYPE_CHECKING:
    from .run import Run
    from .task import Task

__all__ = ["Queueing"]

IDS_RETRY = 0.1  # seconds before records that found no run id at hand are tried again


class Queued(Protocol):
    """What the queueing asks of its scheduler."""

    @property
    def state(self) -> str: ...
    @property
    def lock(self) -> threading.RLock: ...
    def make_runs(
        self, tasks: list[Task], attempts: list[int] | None, now: float, /
    ) -> list[Run]: ...
    def start_run(self, run: Run, loop: asyncio.AbstractEventLoop) -> None: ...
    def holds_end_cond(self, task: Task, now: float) -> bool: ...


class Hosting(Protocol):
    """Where the scheduler's loop runs (``hosting.Host``)."""

    loop: asyncio.AbstractEventLoop | None

    def post(self, callback: Callable[[], None]) -> None: ...


class Queueing:
    def __init__(
        self,
        core: Queued,
        host: Hosting,
        pools: Pools,
        retries: Retries,
        tasks: Mapping[str, Task],
        agenda: Agenda,
        ledger: Ledger,
        clock: Clock,
        watchdog: Watchdog,
    ) -> None:
        self._core = core
        self._host = host
        self.pools = pools
        self._retries = retries
        self._tasks = tasks
        self._agenda = agenda
        self._ledger = ledger
        self._clock = clock
        self._watchdog = watchdog
        self._fill_posted = False

    def admit(
        self, tasks: list[Task], attempts: list[int] | None, now: float
    ) -> tuple[list[Task], list[int] | None]:
        """Of ``tasks`` (under the lock), those that may start now: no pool,
        or a free slot of it (taken for them); the others join their queue."""
        pools = self.pools
        starting: list[Task] = []
        kept: list[int] = []
        for i, task in enumerate(tasks):
            definition = task._definition
            attempt = attempts[i] if attempts is not None else 1
            if definition.pool is None or pools.take_slot(definition.pool):
                starting.append(task)
                kept.append(attempt)
                continue
            pools.enqueue(task.name, definition.pool, definition.priority, attempt, now)
            self._retries.started(task.name)  # the retry waits in the queue now
            if definition.end_cond is not None:
                self._agenda.mark([task.name])  # its end condition is watched while it waits
        return starting, (kept if attempts is not None else None)

    def not_started(self, definitions: Sequence[object]) -> None:
        """Runs given a slot were not made after all (no run id at hand)."""
        for definition in definitions:
            pool = getattr(definition, "pool", None)
            if pool is not None:
                self.pools.release(pool)

    def ended(self, finished: Sequence[Ended]) -> None:
        """Runs ended (under the lock): their slots are free, start what now fits."""
        refill = False
        for run, _, _ in finished:
            if (pool := run.definition.pool) is not None:
                refill = self.pools.release(pool) or refill
        if refill:
            self.fill_soon()

    def fill_soon(self) -> None:
        if not self._fill_posted:
            self._fill_posted = True
            self._host.post(self.fill)

    def fill(self) -> None:
        """Start the waiting runs that fit in their pools (on the loop)."""
        core = self._core
        with core.lock:
            self._fill_posted = False
            if core.state != "running":
                return
            now = self._clock.time()
            granted = self.pools.grant()
            starting: list[Task] = []
            attempts: list[int] = []
            dropped: list[tuple[Waiting, Reason]] = []
            for entry in granted:
                task = self._tasks.get(entry.task)
                if task is None or task.disabled or core.holds_end_cond(task, now):
                    self.pools.release(entry.pool)
                    dropped.append((entry, "end_cond" if task and not task.disabled else "manual"))
                    continue
                if task._definition.pool != entry.pool:  # redefined meanwhile: its new pool
                    self.pools.release(entry.pool)
                    moved, _ = self.admit([task], [entry.attempt], now)
                    if not moved:
                        continue
                starting.append(task)
                attempts.append(entry.attempt)
            runs = core.make_runs(starting, attempts, now) if starting else []
            for task, attempt in zip(starting[len(runs) :], attempts[len(runs) :], strict=True):
                # No run id at hand: back to the head of the queue until one is.
                definition = task._definition
                assert definition.pool is not None
                entry = Waiting(task.name, definition.pool, definition.priority, attempt, now)
                self.pools.requeue(entry)
            self.record_left(dropped, now)
            if dropped and self.pools.waiting:
                self.fill_soon()  # the slots given back may fit others
        loop = self._host.loop
        if loop is not None:
            for run in runs:
                core.start_run(run, loop)

    def leave(self, name: str, reason: Reason, now: float) -> bool:
        """``name``'s waiting runs leave their queue, each with its record (under the lock)."""
        entries = self.pools.leave(name)
        if not entries:
            return False
        self.record_left([(entry, reason) for entry in entries], now)
        return True

    def drain(self, reason: Reason, now: float) -> None:
        """Every waiting run leaves its queue (a shutdown), each with its record."""
        self.record_left([(entry, reason) for entry in self.pools.drain()], now)

    def record_left(self, left: list[tuple[Waiting, Reason]], now: float) -> None:
        if not left:
            return
        items: list[tuple[str, int, Reason, str]] = [
            (
                entry.task,
                entry.attempt,
                reason,
                f"left the queue of pool {entry.pool!r} before it started ({reason})",
            )
            for entry, reason in left
        ]
        try:
            done = self._ledger.record_unstarted(items, now)
        except IdsExhausted:
            done = 0
        if done < len(items):  # no run id at hand for the rest: try again soon
            rest = left[done:]
            self._watchdog.call_at(
                now + IDS_RETRY, lambda: self._host.post(lambda: self._record_later(rest))
            )

    def _record_later(self, left: list[tuple[Waiting, Reason]]) -> None:
        with self._core.lock:
            self.record_left(left, self._clock.time())
