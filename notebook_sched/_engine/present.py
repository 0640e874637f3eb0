"""The present state of schedulers, for a condition asked from a cell.

``running(task).is_true()`` and the like, called with no context, report the
state of the scheduler they are about: the newest one whose tasks they name,
running ones first. Every scheduler of the process registers here.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Protocol

from .._conditions import base as conditions
from .._conditions.base import Condition
from .clock import Clock

__all__ = ["register"]


class Present(Protocol):
    """A scheduler's core, as a condition asked from a cell sees it."""

    clock: Clock

    @property
    def tasks(self) -> Mapping[str, object]: ...
    @property
    def state(self) -> str: ...
    def context(self, now: float, task: str | None) -> conditions.Context: ...


_ALL: weakref.WeakValueDictionary[int, Present] = weakref.WeakValueDictionary()
_serial = iter(range(1, 1 << 62))


def register(core: Present) -> None:
    _ALL[next(_serial)] = core


def _present_context(cond: Condition) -> conditions.Context | None:
    refs = cond.task_refs()
    candidates = [core for _, core in sorted(_ALL.items())]
    candidates.sort(key=lambda core: core.state != "stopped")  # stable: newest last
    for core in reversed(candidates):
        if refs <= core.tasks.keys():
            return core.context(core.clock.time(), None)
    return None


conditions.set_present_context(_present_context)
