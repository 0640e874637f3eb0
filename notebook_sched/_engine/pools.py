"""Pools: named slots that cap how many runs of their tasks are alive at once
(``config={"pools": {"gpu": 1}}``, ``@app.task(pool="gpu")``).

A run that comes due while its pool is full waits in the pool's queue and
starts when a slot frees: the highest ``priority`` first, equal priorities in
the order they came due. Nothing is done for a waiting run while it waits —
no agenda entry (unless its task has an end condition to watch), no look per
loop step — so ten thousand queued runs cost the kernel nothing. Its run, and
so its record and its deadline, begins when it really starts.

A queue is a FIFO per priority level. Leaving the queue early (the task's end
condition, ``Task.terminate()``, a shutdown) only marks the entry, which the
queue skips when it comes to it; an entry knows its place in its level, so
``Task.queue_position`` costs a few additions however long the queue is.
A task has one waiting run at most, but a ``multilaunch`` task has one per
run that came due or was asked for: they wait in the order they came, and
leave the queue together.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections import deque
from collections.abc import Mapping

__all__ = ["Pools", "Waiting", "check_pool", "check_priority", "parse_pools"]


class Waiting:
    """A run that came due while its pool was full."""

    __slots__ = ("attempt", "gone", "index", "level", "pool", "since", "task")

    def __init__(self, task: str, pool: str, level: float, attempt: int, since: float) -> None:
        self.task = task
        self.pool = pool
        self.level = level  # its priority
        self.attempt = attempt
        self.since = since  # when it came due
        self.index = 0  # its place in its level, counting every entry that ever joined
        self.gone = False  # left the queue early


class _Level:
    """The entries of one priority in one pool, in the order they came."""

    __slots__ = ("entries", "first", "gone", "joined")

    def __init__(self) -> None:
        self.entries: deque[Waiting] = deque()
        self.joined = 0  # entries that ever joined (the next one's index)
        self.first = 0  # index of entries[0]
        self.gone: list[int] = []  # indexes of entries still in `entries` that left early

    def live(self) -> int:
        return len(self.entries) - len(self.gone)

    def pop(self) -> Waiting | None:
        entries = self.entries
        while entries:
            entry = entries.popleft()
            self.first += 1
            if not entry.gone:
                return entry
            self.gone.pop(0)  # the smallest index left early is this one
        return None


class _Pool:
    __slots__ = ("alive", "levels", "order", "slots")

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.alive = 0
        self.levels: dict[float, _Level] = {}
        self.order: list[float] = []  # the levels' priorities, highest first, negated

    def waiting(self) -> bool:
        return any(level.live() for level in self.levels.values())

    def level(self, priority: float) -> _Level:
        level = self.levels.get(priority)
        if level is None:
            level = self.levels[priority] = _Level()
            bisect.insort(self.order, -priority)
        return level

    def join(self, entry: Waiting) -> None:
        level = self.level(entry.level)
        entry.index = level.joined
        level.joined += 1
        level.entries.append(entry)

    def rejoin(self, entry: Waiting) -> None:
        level = self.level(entry.level)
        level.first -= 1
        entry.index = level.first
        level.entries.appendleft(entry)

    def pop(self) -> Waiting | None:
        for key in self.order:
            entry = self.levels[-key].pop()
            if entry is not None:
                return entry
        return None

    def place(self, entry: Waiting) -> int | None:
        # Read from any thread (the panel's) while the loop may change the
        # queue: a level that went away meanwhile means the entry left.
        ahead = 0
        for key in list(self.order):
            level = self.levels.get(-key)
            if level is None:
                continue
            if -key == entry.level:
                left = bisect.bisect_left(level.gone, entry.index)
                return ahead + entry.index - level.first - left + 1
            ahead += level.live()
        return None


class Pools:
    """The pools of one scheduler (on the loop, under the scheduler's lock)."""

    def __init__(self, sizes: Mapping[str, int]) -> None:
        self._pools = {name: _Pool(slots) for name, slots in sizes.items()}
        self.configured = bool(self._pools)
        # By task name, its waiting runs in the order they came (several:
        # multilaunch); a task has a key only while a run of it waits.
        self.waiting: dict[str, deque[Waiting]] = {}

    def take_slot(self, pool: str) -> bool:
        """Take a slot of ``pool`` for a run starting now; ``False`` if it is
        full, or if runs wait for it (they come first: see ``grant``)."""
        state = self._pools[pool]
        if state.alive < state.slots and not (self.waiting and state.waiting()):
            state.alive += 1
            return True
        return False

    def release(self, pool: str) -> bool:
        """A run of ``pool`` ended (or never started); ``True`` if a waiting
        run may start now."""
        state = self._pools.get(pool)
        if state is None:  # the pool was configured away: nothing to give back
            return False
        state.alive = max(0, state.alive - 1)
        return bool(state.order) and any(state.levels[-k].live() for k in state.order)

    def enqueue(self, task: str, pool: str, priority: float, attempt: int, now: float) -> Waiting:
        entry = Waiting(task, pool, priority, attempt, now)
        self._pools[pool].join(entry)
        self.waiting.setdefault(task, deque()).append(entry)
        return entry

    def requeue(self, entry: Waiting) -> None:
        """Put ``entry`` back at the head of its queue: it could not start."""
        self._pools[entry.pool].rejoin(entry)
        self.waiting.setdefault(entry.task, deque()).appendleft(entry)

    def _granted(self, entry: Waiting) -> None:
        mine = self.waiting[entry.task]
        if mine[0] is entry:
            mine.popleft()
        else:  # a task redefined with another priority: its runs may start out of turn
            mine.remove(entry)
        if not mine:
            del self.waiting[entry.task]

    def grant(self) -> list[Waiting]:
        """The waiting runs that may start now, each with a slot taken for it."""
        granted = []
        for state in self._pools.values():
            while state.alive < state.slots:
                entry = state.pop()
                if entry is None:
                    break
                state.alive += 1
                self._granted(entry)
                granted.append(entry)
        return granted

    def leave(self, task: str) -> list[Waiting]:
        """Take ``task``'s waiting runs out of their queue (oldest first)."""
        entries = list(self.waiting.pop(task, ()))
        for entry in entries:
            entry.gone = True
            level = self._pools[entry.pool].levels[entry.level]
            bisect.insort(level.gone, entry.index)
        return entries

    def drain(self) -> list[Waiting]:
        """Every waiting run, in queue order; the queues are left empty."""
        drained = []
        for state in self._pools.values():
            while (entry := state.pop()) is not None:
                drained.append(entry)
            state.levels.clear()
            state.order.clear()
        self.waiting.clear()
        return drained

    def place(self, task: str) -> int | None:
        """``task``'s (first) waiting run's place in its queue (1: it starts next)."""
        mine = self.waiting.get(task)
        try:
            entry = mine[0] if mine else None  # read from the panel's thread too
        except IndexError:
            entry = None
        return None if entry is None else self._pools[entry.pool].place(entry)

    def alive(self, pool: str) -> int:
        return self._pools[pool].alive


# ---------------------------------------------------------------- validation


def parse_pools(value: object) -> dict[str, int]:
    """The ``pools`` config: names to slot counts (integers >= 1)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"config 'pools' must be a dict such as {{\"gpu\": 1}}, got {value!r}")
    pools = {}
    for name, slots in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(
                f"config 'pools': a pool's name must be a non-empty string, got {name!r}"
            )
        if isinstance(slots, bool) or not isinstance(slots, numbers.Integral) or slots < 1:
            raise ValueError(
                f"config 'pools': pool {name!r} must have an integer >= 1 of slots, got {slots!r}"
            )
        pools[name] = int(slots)
    return pools


def check_pool(pool: object, sizes: Mapping[str, int], label: str) -> str | None:
    if pool is None:
        return None
    if not isinstance(pool, str) or pool not in sizes:
        known = ", ".join(map(repr, sizes)) or "none"
        raise ValueError(f"{label}: pool {pool!r} is not configured (config 'pools' has {known})")
    return pool  # type: ignore[return-value]


def check_priority(priority: object, label: str) -> float:
    if (
        isinstance(priority, bool)
        or not isinstance(priority, numbers.Real)
        or not math.isfinite(float(priority))
    ):
        raise ValueError(f"{label}: priority must be a finite number, got {priority!r}")
    return priority  # type: ignore[return-value]
