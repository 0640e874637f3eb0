"""``cron("*/5 * * * *")``: standard five-field cron on the local wall clock,
with Rocketry's meaning: true within each matching minute until the task
starts in it — so a scheduler started at 10:05:30 runs a ``*/5`` task at once.

The fire times are the local wall-clock minutes the expression matches. Each
fires once: a time the clock shows twice (a DST fold) fires the first time; a
time the clock skips (a DST gap) fires at the jump, for a minute.
"""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo

from croniter import croniter
from croniter.croniter import CroniterBadDateError

from .base import Condition, Context
from .runs import own_last_start
from .wallclock import instants, transitions, wall

__all__ = ["Cron", "CronTime", "cron", "crontime"]

_MINUTE = 60.0

_FORMS = (
    "use five fields: minute hour day-of-month month day-of-week, like '*/5 * * * *' "
    "or '0 8 * * mon-fri'"
)


class Cron(Condition):
    """True from each fire time for a minute, unless the task has started
    since that fire time. A scheduler-level condition (``shut_cond``) counts
    from the scheduler's start. ``crontime`` is the clock alone."""

    clock_only = False

    def __init__(self, expression: object) -> None:
        if not isinstance(expression, str):
            raise TypeError(f"cron() takes a cron expression string, got {expression!r}; {_FORMS}")
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(
                f"cron expression {expression!r} has {len(fields)} fields, not 5; {_FORMS}"
            )
        self.expression = " ".join(fields)
        self._remembered: tuple[float, tzinfo | None, float] = (float("nan"), None, 0.0)
        _check(self.expression, expression)

    def next_fire(self, after: float, tz: tzinfo | None) -> float:
        """The first fire time later than epoch ``after``."""
        # The reference (a last start) changes only when the task starts, while
        # the scheduler and the panel ask again and again: remember one answer.
        remembered = self._remembered
        if remembered[:2] == (after, tz):
            return remembered[2]
        fire = self._next_fire(after, tz)
        self._remembered = (after, tz, fire)
        return fire

    def _next_fire(self, after: float, tz: tzinfo | None) -> float:
        times = croniter(self.expression, wall(after, tz))
        while True:
            # wall times ahead of wall(after) still fire before ``after`` when
            # ``after`` lies in the second pass of a fold: skip those
            fire = _instant(times.get_next(datetime), tz)
            if fire > after:
                return fire

    def _current(self, ctx: Context) -> float | None:
        """The fire time whose minute ``ctx.now`` lies in, or ``None``."""
        fire = self.next_fire(ctx.now - _MINUTE, ctx.tz)
        return fire if fire <= ctx.now else None

    def _is_true(self, ctx: Context) -> bool:
        fire = self._current(ctx)
        if fire is None:
            return False
        if self.clock_only:
            return True
        last = own_last_start(ctx)
        return last is None or last < fire

    def next_change(self, ctx: Context) -> float | None:
        fire = self._current(ctx)
        if fire is not None and self._is_true(ctx):
            return fire + _MINUTE  # its minute ends (or the task starts: an event)
        return self.next_fire(ctx.now, ctx.tz)

    def __str__(self) -> str:
        return f"{'crontime' if self.clock_only else 'cron'} {self.expression!r}"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.expression == self.expression  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.expression))


class CronTime(Cron):
    """True within each matching minute, whatever the task did (Rocketry's
    ``crontime``: the clock alone, to combine with other conditions)."""

    clock_only = True


@functools.lru_cache(maxsize=1024)
def _check(normal: str, expression: object) -> None:
    """Refuse an expression that does not parse or never fires. Remembered:
    checking takes croniter ~150 us, and a notebook may define a thousand
    tasks on the same few expressions."""
    try:
        # one step proves it parses and fires at all ("0 0 30 2 *" never does)
        croniter(normal, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(f"cron expression {expression!r} never fires; {_FORMS}") from None
    except (ValueError, KeyError, IndexError) as exc:  # croniter's errors are ValueErrors
        raise ValueError(f"cron expression {expression!r} is not valid ({exc}); {_FORMS}") from None


def _instant(local: datetime, tz: tzinfo | None) -> float:
    """When the wall clock first reads ``local``, or jumps past it."""
    found = instants(local, tz)
    if found:
        return found[0]
    # In a gap: the two fold readings of the skipped time straddle the jump.
    naive = [local.replace(fold=0), local.replace(fold=1)]
    ends = [d.timestamp() if tz is None else d.replace(tzinfo=tz).timestamp() for d in naive]
    jumps = transitions(min(ends) - 1, max(ends), tz)
    return jumps[0]


def cron(expression: str) -> Condition:
    """Standard five-field cron (``"*/5 * * * *"``) on the local wall clock:
    true within each matching minute until the task starts in it."""
    return Cron(expression)


def crontime(expression: str) -> Condition:
    """True within each minute ``expression`` matches, whatever the task did."""
    return CronTime(expression)
