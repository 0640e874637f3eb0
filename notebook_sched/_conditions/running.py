"""``running``: whether a task has live runs, as Rocketry has it.

``running(a)`` is true while ``a`` has a live run; ``running`` alone asks
about the task the condition belongs to (``end_cond=running.more_than("2
mins")``). ``.more_than(d)``, ``.less_than(d)`` and ``.between(d1, d2)`` count
only runs that have lasted that long; comparing with a number counts the
runs (``running(a) >= 2``, with ``multilaunch``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from .._durations import format_duration, parse_timedelta
from .base import Condition, Context
from .tasks import task_name

__all__ = ["COMPARISONS", "Running", "running"]

COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


class Running(Condition):
    """True while ``task`` (``None``: the task the condition belongs to) has
    live runs that have lasted at least ``more_than`` and less than
    ``less_than`` seconds — at least one, or with ``compare`` (``(">=", 2)``)
    that many."""

    __name__: str  # the module's ``running`` is called like the function it replaces

    def __init__(
        self,
        task: str | None,
        more_than: float | None = None,
        less_than: float | None = None,
        compare: tuple[str, int] | None = None,
    ) -> None:
        self.task: str | None = task
        self.near: float | None = more_than
        self.far: float | None = less_than
        self.compare: tuple[str, int] | None = compare

    def __call__(self, task: object) -> Running:
        """``running(task)``: about ``task`` (a ``Task``, its name or function)."""
        if self.task is not None:
            raise TypeError(f"{str(self)!r} already names its task")
        return Running(task_name(task, what="running()"), self.near, self.far, self.compare)

    def more_than(self, duration: object) -> Running:
        """Only runs that have lasted ``duration`` (seconds, ``"2 mins"``, a
        ``timedelta``) or more."""
        return self._with(near=parse_timedelta(duration, what="running.more_than()"))

    def less_than(self, duration: object) -> Running:
        """Only runs that have lasted less than ``duration``."""
        return self._with(far=parse_timedelta(duration, what="running.less_than()"))

    def between(self, more_than: object, less_than: object) -> Running:
        """Only runs that have lasted ``more_than`` or more, but less than ``less_than``."""
        return self.more_than(more_than).less_than(less_than)

    def _with(self, **changes: float) -> Running:
        near, far = changes.get("near", self.near), changes.get("far", self.far)
        return Running(self.task, near, far, self.compare)

    def _compared(self, op: str, other: object) -> Running:
        if not isinstance(other, int) or isinstance(other, bool) or other < 0:
            raise TypeError(f"running() compares with a count of runs, got {other!r}")
        if self.compare is not None:
            raise TypeError(f"{str(self)!r} is already compared")
        return Running(self.task, self.near, self.far, (op, other))

    def __ge__(self, other: object) -> Running:
        return self._compared(">=", other)

    def __gt__(self, other: object) -> Running:
        return self._compared(">", other)

    def __le__(self, other: object) -> Running:
        return self._compared("<=", other)

    def __lt__(self, other: object) -> Running:
        return self._compared("<", other)

    # ``running(a) == 0`` is a condition, as in Rocketry; between conditions,
    # == is equality
    def __eq__(self, other: object) -> Running | bool:  # type: ignore[override]
        if isinstance(other, int) and not isinstance(other, bool):
            return self._compared("==", other)
        return isinstance(other, Running) and other._key() == self._key()

    def __ne__(self, other: object) -> Running | bool:  # type: ignore[override]
        if isinstance(other, int) and not isinstance(other, bool):
            return self._compared("!=", other)
        return not (isinstance(other, Running) and other._key() == self._key())

    def __hash__(self) -> int:
        return hash((Running, *self._key()))

    def _key(self) -> tuple[object, ...]:
        return (self.task, self.near, self.far, self.compare)

    def _starts(self, ctx: Context) -> list[float]:
        task = self.task if self.task is not None else ctx.task
        return [] if task is None else ctx.running_starts(task)

    def _count(self, ctx: Context) -> int:
        now, near, far = ctx.now, self.near or 0.0, self.far
        lasted = [now - start for start in self._starts(ctx)]
        return sum(1 for t in lasted if t >= near and (far is None or t < far))

    def _is_true(self, ctx: Context) -> bool:
        count = self._count(ctx)
        if self.compare is None:
            return count > 0
        op, other = self.compare
        return COMPARISONS[op](count, other)

    def next_change(self, ctx: Context) -> float | None:
        times = []
        for start in self._starts(ctx):
            for bound in (self.near, self.far):
                if bound is not None and start + bound > ctx.now:
                    times.append(start + bound)
        return min(times, default=None)

    def task_refs(self) -> frozenset[str]:
        return frozenset() if self.task is None else frozenset({self.task})

    def __str__(self) -> str:
        text = "running" if self.task is None else f"task {self.task!r} is running"
        if self.near is not None:
            text += f" more than {format_duration(self.near)}"
        if self.far is not None:
            text += f" less than {format_duration(self.far)}"
        if self.compare is not None:
            text += f" {self.compare[0]} {self.compare[1]}"
        return text


running: Running = Running(None)
running.__name__ = "running"
running.__doc__ = """``running(task)``: true while ``task`` (a ``Task``, its name or its
function) has a live run; ``running`` alone, the task the condition belongs
to. ``.more_than("1 hour")``, ``.less_than(...)``, ``.between(...)`` count only
runs that have lasted that long; ``running(task) >= 2`` counts the runs."""
