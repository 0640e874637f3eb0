"""The actor that carries a run's termination flag and its progress between
the kernel and the Ray worker that runs it (one per connection).

A worker cannot read a pipe of the kernel's, so the run asks the board
``wait(key)`` before its function starts; the kernel's ``set(key)`` answers
that call with ``True`` (the polite step of termination), and
``release(key)`` — the run is over — with ``False``. Progress: the worker
sends ``progress(key, number, ...)`` (coalesced to ten a second); the kernel
asks ``next_progress(key, seen)``, which answers when a report newer than
``seen`` is there — one call per report, none while nothing changes — and
``None`` once the run is released.

Nothing here may depend on the order calls arrive in. Ray runs the calls of
an async actor as they come, not in the order they were made, even those of
one caller (its documentation says so; a worker's ``wait`` and ``release``
sent back to back were seen to arrive the other way round), and the kernel and
the worker are two callers anyway. Hence:

- a report carries its number, given by the worker as it sends it, and the
  board keeps the highest: a report that arrives late never replaces a newer
  one (it did, and a run's last progress was lost for good);
- a released key is remembered for ``RELEASED_FOR`` seconds: a ``wait``,
  ``set``, report or ``next_progress`` that arrives after the release — a
  killed worker's last call, the flag the kernel set as the run ended — is
  answered at once and holds nothing (it created an entry that no one would
  ever release: a leak in a long-lived kernel).

Plain asyncio, no Ray: ``RayConnection.board`` makes it an actor.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["RELEASED_FOR", "FlagBoard", "ProgressReport"]

# A call to the actor arrives within seconds even on a loaded machine; a
# released key is remembered far longer than that, then forgotten.
RELEASED_FOR = 600.0

ProgressReport = tuple[int, tuple[float, str]]  # (number, (fraction, message))
T = TypeVar("T")


class FlagBoard:
    """The termination flags of the runs on the cluster, and their progress
    reports (an async actor)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._waiting: dict[str, asyncio.Future[bool]] = {}
        self._set: set[str] = set()
        self._reports: dict[str, ProgressReport] = {}
        self._watchers: dict[str, asyncio.Future[ProgressReport | None]] = {}
        self._released: dict[str, float] = {}  # key -> when; oldest first

    async def wait(self, key: str) -> bool:
        if key in self._released:
            return False
        if key in self._set:
            return True
        return await _answered(self._waiting, key)

    async def set(self, key: str) -> None:
        if key in self._released:
            return
        self._set.add(key)
        _answer(self._waiting.pop(key, None), True)

    async def progress(self, key: str, number: int, fraction: float, message: str) -> None:
        held = self._reports.get(key)
        if key in self._released or (held is not None and held[0] >= number):
            return
        self._reports[key] = report = (number, (fraction, message))
        _answer(self._watchers.pop(key, None), report)

    async def next_progress(self, key: str, seen: int) -> ProgressReport | None:
        if key in self._released:
            return None
        report = self._reports.get(key)
        if report is not None and report[0] > seen:
            return report
        return await _answered(self._watchers, key)

    async def release(self, key: str) -> None:
        now = self._clock()
        self._forget_before(now - RELEASED_FOR)
        self._released.pop(key, None)
        self._released[key] = now
        self._set.discard(key)
        self._reports.pop(key, None)
        _answer(self._waiting.pop(key, None), False)
        _answer(self._watchers.pop(key, None), None)

    def _forget_before(self, moment: float) -> None:
        while self._released:
            key, when = next(iter(self._released.items()))
            if when >= moment:
                return
            del self._released[key]

    async def size(self) -> int:
        """Entries held for runs (a test checks that finished runs leave none)."""
        return len(self._waiting) + len(self._set) + len(self._reports) + len(self._watchers)

    async def remembered(self) -> int:
        """Released keys still remembered (none older than ``RELEASED_FOR``)."""
        return len(self._released)


async def _answered(futures: dict[str, asyncio.Future[T]], key: str) -> T:
    """The answer to the key's future, made by the first call that waits for
    it. Shared by the calls for that key: one of them cancelled must not
    cancel it for the others."""
    future = futures.get(key)
    if future is None:
        future = futures[key] = asyncio.get_running_loop().create_future()
    return await asyncio.shield(future)


def _answer(future: asyncio.Future[T] | None, value: T) -> None:
    if future is not None and not future.done():
        future.set_result(value)
