"""The condition protocol, the evaluation context and the combinators."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import overload

__all__ = [
    "CONDITION_ERRORS",
    "All",
    "Any",
    "Condition",
    "Context",
    "FuncCondition",
    "Not",
    "Paced",
    "StaticContext",
    "condition",
    "false",
    "set_present_context",
    "true",
]


# What a condition may raise and still leave the scheduler running: everything
# but the cancellation of the loop's own task (a synchronous condition is never
# cancelled, so a CancelledError is not its own).
CONDITION_ERRORS = (Exception, SystemExit, KeyboardInterrupt)


class Context:
    """What a condition may look at when it is evaluated.

    ``now`` is epoch seconds; ``tz`` the zone of the wall clock that
    time-of-day conditions read (``None``: the system's local zone); ``task`` the
    name of the task whose condition is being evaluated (``None`` for a
    scheduler-level condition); ``started_at`` when the scheduler last started;
    ``cycle_sleep`` how often unpredictable conditions are re-checked.
    """

    now: float
    tz: tzinfo | None
    task: str | None
    started_at: float | None
    cycle_sleep: float

    def last_start(self, task: str) -> float | None:
        """When ``task`` last started (any scheduler session, from the history)."""
        raise NotImplementedError

    def last_finish(self, task: str, how: str) -> float | None:
        """When ``task`` last finished ``how``: ``"success"``, ``"fail"``, or
        ``"finish"`` (any end)."""
        raise NotImplementedError

    def elapsed(self, task: str, how: str | None = None) -> float | None:
        """Seconds since ``task`` last started (``how`` ``None``) or last
        finished ``how``; ``None`` if it never did. A scheduler measures the
        runs of its own process on the monotonic clock (a step of the wall
        clock changes no duration); this default reads the wall clock."""
        last = self.last_start(task) if how is None else self.last_finish(task, how)
        return None if last is None else self.now - last

    def uptime(self) -> float | None:
        """Seconds since the scheduler last started (``None``: unknown); a
        scheduler measures it on the monotonic clock, this default on the wall."""
        return None if self.started_at is None else self.now - self.started_at

    def running_since(self, task: str) -> float | None:
        """The start of ``task``'s live run, or ``None`` when it has none."""
        raise NotImplementedError

    def running_starts(self, task: str) -> list[float]:
        """The starts of all of ``task``'s live runs (several with multilaunch)."""
        start = self.running_since(task)
        return [] if start is None else [start]

    def fail_streak(self, task: str) -> int:
        """How many of ``task``'s latest finished runs failed in a row (0 when
        the latest did not fail)."""
        raise NotImplementedError

    def count_events(self, task: str, how: str | None, since: float, until: float) -> int:
        """How many times ``task`` started (``how`` ``None``) or finished
        ``how`` (``"success"``, ``"fail"``, ``"terminate"``, ``"crash"``,
        ``"finish"``: any end) at a moment ``since <= t < until``. A scheduler
        counts its whole run history; this default knows only the latest."""
        last = self.last_start(task) if how is None else self.last_finish(task, how)
        return int(last is not None and since <= last < until)

    def nth_event(self, task: str, how: str | None, since: float, n: int = 0) -> float | None:
        """The ``n``-th (from 0) such moment at or after ``since`` (``None``: none)."""
        last = self.last_start(task) if how is None else self.last_finish(task, how)
        return last if n == 0 and last is not None and last >= since else None

    def cycles(self) -> int:
        """How many times the scheduler has looked at its due tasks since it
        last started (Rocketry's scheduler cycles)."""
        return 0

    def params(self) -> Mapping[str, object]:
        """The scheduler's ``params`` (Rocketry's session parameters)."""
        return {}


@dataclass
class StaticContext(Context):
    """A context built from plain values; the default for ``is_true()`` with no
    argument, and handy in tests."""

    now: float = field(default_factory=time.time)
    tz: tzinfo | None = None
    task: str | None = None
    started_at: float | None = None  # type: ignore[assignment]
    cycle_sleep: float = 0.1
    starts: dict[str, float] = field(default_factory=dict)
    finishes: dict[tuple[str, str], float] = field(default_factory=dict)
    running: dict[str, float] = field(default_factory=dict)
    fail_streaks: dict[str, int] = field(default_factory=dict)
    # every start (how None) and end (how "success", ...) of each task, when a
    # test needs more than the latest of each
    events: dict[tuple[str, str | None], list[float]] = field(default_factory=dict)
    n_cycles: int = 0
    parameters: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.started_at is None:
            self.started_at = self.now

    def last_start(self, task: str) -> float | None:
        return self.starts.get(task)

    def last_finish(self, task: str, how: str) -> float | None:
        if how == "finish":
            ends = [t for (name, _), t in self.finishes.items() if name == task]
            return max(ends, default=None)
        return self.finishes.get((task, how))

    def running_since(self, task: str) -> float | None:
        return self.running.get(task)

    def fail_streak(self, task: str) -> int:
        return self.fail_streaks.get(task, 0)

    def _times(self, task: str, how: str | None) -> list[float] | None:
        if how == "finish":
            ends = [self.events.get((task, s)) for s in ("success", "fail", "terminate", "crash")]
            if all(e is None for e in ends):
                return None
            return sorted(t for e in ends if e is not None for t in e)
        return self.events.get((task, how))

    def count_events(self, task: str, how: str | None, since: float, until: float) -> int:
        times = self._times(task, how)
        if times is None:
            return super().count_events(task, how, since, until)
        return sum(1 for t in times if since <= t < until)

    def nth_event(self, task: str, how: str | None, since: float, n: int = 0) -> float | None:
        times = self._times(task, how)
        if times is None:
            return super().nth_event(task, how, since, n)
        later = sorted(t for t in times if t >= since)
        return later[n] if n < len(later) else None

    def cycles(self) -> int:
        return self.n_cycles

    def params(self) -> Mapping[str, object]:
        return self.parameters


_present: Callable[[Condition], Context | None] | None = None


def set_present_context(provider: Callable[[Condition], Context | None]) -> None:
    """Install what ``is_true()`` with no context asks for the present state
    (the engine does; conditions know nothing of schedulers)."""
    global _present
    _present = provider


class Condition:
    """Base of every condition. Subclasses implement ``is_true``,
    ``next_change`` and ``__str__``; ``task_refs`` when they watch other tasks."""

    def is_true(self, ctx: Context | None = None) -> bool:
        """Whether the condition holds in ``ctx``; with none (from a cell), in
        the present state of the scheduler whose tasks it names (the newest,
        running ones first), or else now with no history."""
        if ctx is None:
            ctx = _present(self) if _present is not None else None
        return self._is_true(ctx if ctx is not None else StaticContext())

    def next_change(self, ctx: Context) -> float | None:
        """The earliest time after ``ctx.now`` at which ``is_true`` may change by
        the passing of time alone, or ``None`` when time alone never changes it
        (a run starting or finishing is an event the scheduler reacts to anyway)."""
        return None

    def task_refs(self) -> frozenset[str]:
        """Names of the tasks whose runs this condition watches."""
        return frozenset()

    def _is_true(self, ctx: Context) -> bool:
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return All(self, _check(other, "&"))

    def __or__(self, other: Condition) -> Condition:
        return Any(self, _check(other, "|"))

    def __invert__(self) -> Condition:
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth of condition {str(self)!r} depends on when it is asked: "
            "use .is_true(), and &, |, ~ instead of and, or, not"
        )

    def __repr__(self) -> str:
        return f"<condition {self}>"


def _check(other: object, op: str) -> Condition:
    if not isinstance(other, Condition):
        raise TypeError(f"cannot combine a condition with {other!r} using {op!r}")
    return other


def _earliest(times: Iterable[float | None]) -> float | None:
    return min((t for t in times if t is not None), default=None)


class _Combination(Condition):
    symbol = ""

    def __init__(self, *conditions: Condition) -> None:
        flat: list[Condition] = []
        for cond in conditions:
            # (a & b) & c is kept as one flat a & b & c: shorter str(), cheaper checks
            flat.extend(cond.conditions if type(cond) is type(self) else [cond])
        self.conditions: tuple[Condition, ...] = tuple(flat)

    def next_change(self, ctx: Context) -> float | None:
        return _earliest(c.next_change(ctx) for c in self.conditions)

    def task_refs(self) -> frozenset[str]:
        return frozenset().union(*(c.task_refs() for c in self.conditions))

    def __str__(self) -> str:
        return "(" + f" {self.symbol} ".join(map(str, self.conditions)) + ")"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.conditions == self.conditions  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.conditions))


class All(_Combination):
    """True when every condition is true (``a & b``).

    A part that raises is unknown: a false part still makes the whole false;
    otherwise the error is raised (and the scheduler counts the check false).
    """

    symbol = "&"

    def _is_true(self, ctx: Context) -> bool:
        error: BaseException | None = None
        for cond in self.conditions:
            try:
                if not cond._is_true(ctx):
                    return False
            except CONDITION_ERRORS as exc:
                error = error or exc
        if error is not None:
            raise error
        return True


class Any(_Combination):
    """True when at least one condition is true (``a | b``).

    A part that raises is unknown: a true part still makes the whole true
    (``shut_cond=condition(flaky) | scheduler_running(more_than="1 hour")``
    still shuts down); otherwise the error is raised.
    """

    symbol = "|"

    def _is_true(self, ctx: Context) -> bool:
        error: BaseException | None = None
        for cond in self.conditions:
            try:
                if cond._is_true(ctx):
                    return True
            except CONDITION_ERRORS as exc:
                error = error or exc
        if error is not None:
            raise error
        return False


class Not(Condition):
    """True when the condition is false (``~a``)."""

    def __init__(self, condition: Condition) -> None:
        self.condition = condition

    def _is_true(self, ctx: Context) -> bool:
        return not self.condition._is_true(ctx)

    def next_change(self, ctx: Context) -> float | None:
        return self.condition.next_change(ctx)

    def task_refs(self) -> frozenset[str]:
        return self.condition.task_refs()

    def __str__(self) -> str:
        return f"~{self.condition}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Not) and other.condition == self.condition

    def __hash__(self) -> int:
        return hash((Not, self.condition))


class _Constant(Condition):
    """``true`` or ``false``: a condition that always holds, or never does
    (``app.task(true)`` runs again as soon as a run ends)."""

    def __init__(self, value: bool) -> None:
        self.value: bool = value

    def _is_true(self, ctx: Context) -> bool:
        return self.value

    def __str__(self) -> str:
        return "true" if self.value else "false"


true: Condition = _Constant(True)
false: Condition = _Constant(False)


class Paced(Condition):
    """A condition that time alone does not decide and that cannot say when it
    changes (a function of the user's, ``app.params``, the scheduler's
    cycles): the scheduler re-checks it every ``cycle_sleep`` seconds, and
    catching up cannot replay it."""

    def next_change(self, ctx: Context) -> float | None:
        return ctx.now + ctx.cycle_sleep


class FuncCondition(Paced):
    """Any callable returning bool; it cannot say when it changes, so the
    scheduler re-checks it every ``cycle_sleep`` seconds."""

    def __init__(self, func: Callable[[], object], name: str | None = None) -> None:
        if not callable(func):
            raise TypeError(f"condition() needs a callable returning bool, got {func!r}")
        self.func = func
        self.name: str = name or str(getattr(func, "__name__", repr(func)))

    def _is_true(self, ctx: Context) -> bool:
        return bool(self.func())

    def __str__(self) -> str:
        return f"condition({self.name})"


@overload
def condition(func: Callable[[], object]) -> Condition: ...
@overload
def condition(func: None = None) -> Callable[[Callable[[], object]], Condition]: ...


def condition(
    func: Callable[[], object] | None = None,
) -> Condition | Callable[[Callable[[], object]], Condition]:
    """Wrap a callable returning bool as a condition (usable as a decorator:
    ``@condition``, or Rocketry's ``@condition()``)."""
    if func is None:
        return FuncCondition
    return FuncCondition(func)
