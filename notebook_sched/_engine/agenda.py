"""The agenda: which tasks the loop must look at, and when.

Each task has at most one "check at" time (when its conditions may next
change) in a heap, and a task can be marked dirty (look now: a run of it or of
a task it watches started or finished). The loop takes what is due and sleeps
until ``next_time()``: no polling, and the cost of a step is the number of
tasks due, not the number of tasks.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable

__all__ = ["Agenda"]


class Agenda:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._check_at: dict[str, float] = {}
        self._seq = itertools.count()
        self._dirty: set[str] = set()
        self._watchers: dict[str, set[str]] = {}  # task → tasks whose conditions watch it
        self._watched: dict[str, frozenset[str]] = {}  # task → the tasks it watches

    def check_at(self, name: str, when: float | None) -> None:
        """Look at ``name`` at ``when`` (``None``: only when an event marks it)."""
        if when is None:
            self._check_at.pop(name, None)
            return
        if self._check_at.get(name) == when:
            return
        self._check_at[name] = when
        heapq.heappush(self._heap, (when, next(self._seq), name))
        if len(self._heap) > 2 * len(self._check_at) + 64:  # drop superseded entries
            self._heap = [(t, next(self._seq), n) for n, t in self._check_at.items()]
            heapq.heapify(self._heap)

    def mark(self, names: Iterable[str]) -> None:
        """Look at these tasks at the next step."""
        self._dirty.update(names)

    def mark_with_watchers(self, name: str, itself: bool = True) -> None:
        """Look at every task whose conditions watch ``name`` (and at ``name``)."""
        if itself:
            self._dirty.add(name)
        self._dirty.update(self._watchers.get(name, ()))

    def watch(self, name: str, refs: Iterable[str]) -> None:
        """``name``'s conditions now watch the tasks ``refs`` (and no others)."""
        for ref in self._watched.pop(name, ()):
            self._watchers[ref].discard(name)
        refs = frozenset(refs)
        if refs:
            self._watched[name] = refs
        for ref in refs:
            self._watchers.setdefault(ref, set()).add(name)
        self._check_at.pop(name, None)

    def take_due(self, now: float) -> set[str]:
        """The tasks to look at now (due or marked); they leave the agenda."""
        while self._heap and self._heap[0][0] <= now:
            when, _, name = heapq.heappop(self._heap)
            if self._check_at.get(name) == when:
                del self._check_at[name]
                self._dirty.add(name)
        due, self._dirty = self._dirty, set()
        return due

    @property
    def has_marked(self) -> bool:
        return bool(self._dirty)

    def next_time(self) -> float | None:
        """The earliest "check at" time, or ``None``."""
        while self._heap and self._check_at.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # superseded
        return self._heap[0][0] if self._heap else None
