"""Rocketry's task-status conditions: ``started``, ``succeeded``, ``failed``,
``finished``, ``terminated`` — "has it happened (in this period)?", and how
many times (``succeeded.today >= 2``, ``started.this_hour == 0``).

``succeeded`` alone is "the task has ever succeeded"; ``succeeded(task=a)``
asks about another task; ``succeeded.today`` (or ``.today()``),
``.this_minute``, ``.this_hour``, ``.this_week``, ``.this_month`` ask about
the current period of the wall clock, and ``.between()``, ``.after()``,
``.before()``, ``.on()``, ``.starting()`` narrow it — the latest occurrence of
that window up to now, as in Rocketry (``succeeded.today.between("10:00",
"12:00")`` asked at 09:00 looks at yesterday's 10:00-12:00).

They count the task's run history: the scheduler keeps every start and end
of each task in memory (loaded from the history file when it starts, then fed
by its runs), so a check is a lookup, never a read of the file on the loop.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from .._durations import format_duration, parse_timedelta
from .base import Condition, Context
from .calendar import DAILY, HOURLY, MINUTELY, MONTHLY, WEEKLY, Scale, Window
from .running import COMPARISONS
from .tasks import task_name
from .wallclock import ChangeCache, first_instant, next_wall_change, wall

__all__ = ["Status", "failed", "finished", "started", "succeeded", "terminated"]

# action -> how Context.last_finish names it (None: a start)
_HOW = {
    "started": None,
    "succeeded": "success",
    "failed": "fail",
    "finished": "finish",
    "terminated": "terminate",
}
# what each period reads as in Rocketry's strings
_PERIOD_WORDS = {
    "this minute": MINUTELY,
    "this hour": HOURLY,
    "today": DAILY,
    "this week": WEEKLY,
    "this month": MONTHLY,
}


class Status(Condition):
    """True when ``task`` (``None``: the task the condition belongs to) has
    had ``action`` ever, within ``window`` (the latest occurrence of it up to
    now), or within the ``past`` seconds — at least once, or with ``compare``
    (``(">=", 2)``) that many times."""

    def __init__(
        self,
        action: str,
        task: str | None = None,
        window: Window | None = None,
        past: float | None = None,
        compare: tuple[str, int] | None = None,
    ) -> None:
        if action not in _HOW:
            raise ValueError(f"action must be one of {', '.join(_HOW)}, got {action!r}")
        self.action: str = action
        self.task: str | None = task
        self.window: Window | None = window
        self.past: float | None = past
        self.compare: tuple[str, int] | None = compare
        self._changes = ChangeCache()

    # -- building --------------------------------------------------------------

    def __call__(self, task: object = None) -> Status:
        """``started(task=a)``: about another task; ``started.today()``: itself
        (so that ``.today`` reads with and without parentheses)."""
        if task is None:
            return self
        name = task_name(task, what=f"{self.action}()")
        return Status(self.action, name, self.window, self.past, self.compare)

    def _in(self, scale: Scale) -> Status:
        self._unbounded("a period")
        return Status(self.action, self.task, scale.whole())

    def _unbounded(self, what: str) -> None:
        if self.window is not None or self.past is not None:
            raise ValueError(f"{str(self)!r} already has a period; start from {self.action}")
        if self.compare is not None:
            raise ValueError(f"give {str(self)!r} {what} before comparing it with a count")

    @property
    def this_minute(self) -> Status:
        """Within the current minute of the wall clock."""
        return self._in(MINUTELY)

    @property
    def this_hour(self) -> Status:
        """Within the current hour."""
        return self._in(HOURLY)

    @property
    def today(self) -> Status:
        """Within the current day (from midnight)."""
        return self._in(DAILY)

    @property
    def this_day(self) -> Status:
        """The same as ``today``."""
        return self._in(DAILY)

    @property
    def this_week(self) -> Status:
        """Within the current week (from Monday)."""
        return self._in(WEEKLY)

    @property
    def this_month(self) -> Status:
        """Within the current month."""
        return self._in(MONTHLY)

    def in_past(self, duration: object) -> Status:
        """Within the last ``duration`` (Rocketry's ``"has succeeded past 2 hours"``)."""
        self._unbounded("a period")
        seconds = parse_timedelta(duration, what=f"{self.action}.in_past()")
        return Status(self.action, self.task, None, seconds)

    def between(self, start: object, end: object) -> Status:
        """Within the latest ``start``-``end`` window of the period."""
        return self._narrow("between", start, end)

    def after(self, start: object) -> Status:
        """Within the period, from ``start``."""
        return self._narrow("after", start)

    def before(self, end: object) -> Status:
        """Within the period, up to ``end``."""
        return self._narrow("before", end)

    def at(self, moment: object) -> Status:
        """Within one unit from ``moment`` (``this_week.on("Mon")``: on Monday)."""
        return self._narrow("at", moment)

    def on(self, moment: object) -> Status:
        """The same as ``at``."""
        return self._narrow("at", moment)

    def starting(self, moment: object) -> Status:
        """Within the period, periods beginning at ``moment``."""
        return self._narrow("starting", moment)

    def _narrow(self, method: str, *args: object) -> Status:
        scale = self._scale()
        if self.compare is not None:
            raise ValueError(f"narrow {str(self)!r} before comparing it with a count")
        if scale is None or self.window is None or self.window.text is not None:
            raise ValueError(
                f"{str(self)!r}.{method}() needs a whole period first, like "
                f"{self.action}.today.{method}(...)"
            )
        try:
            window = getattr(scale, method)(*args)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{self.action}.{self._period_word()}.{method}(): {exc}") from None
        return Status(self.action, self.task, window)

    def _scale(self) -> Scale | None:
        if self.window is None:
            return None
        return next(s for s in _PERIOD_WORDS.values() if s.period == self.window.period)

    def _period_word(self) -> str:
        scale = self._scale()
        return next(word for word, s in _PERIOD_WORDS.items() if s is scale).replace(" ", "_")

    # -- comparing with a count ---------------------------------------------

    def _compared(self, op: str, other: object) -> Status:
        if not isinstance(other, int) or isinstance(other, bool) or other < 0:
            raise TypeError(f"{self.action} compares with a count of runs, got {other!r}")
        if self.compare is not None:
            raise TypeError(f"{str(self)!r} is already compared")
        return Status(self.action, self.task, self.window, self.past, (op, other))

    def __ge__(self, other: object) -> Status:
        return self._compared(">=", other)

    def __gt__(self, other: object) -> Status:
        return self._compared(">", other)

    def __le__(self, other: object) -> Status:
        return self._compared("<=", other)

    def __lt__(self, other: object) -> Status:
        return self._compared("<", other)

    # ``succeeded.today == 0`` is a condition, as in Rocketry; between
    # conditions, == is equality
    def __eq__(self, other: object) -> Status | bool:  # type: ignore[override]
        if isinstance(other, int) and not isinstance(other, bool):
            return self._compared("==", other)
        return isinstance(other, Status) and other._key() == self._key()

    def __ne__(self, other: object) -> Status | bool:  # type: ignore[override]
        if isinstance(other, int) and not isinstance(other, bool):
            return self._compared("!=", other)
        return not (isinstance(other, Status) and other._key() == self._key())

    def __hash__(self) -> int:
        return hash((Status, *self._key()))

    def _key(self) -> tuple[object, ...]:
        return (self.action, self.task, self.window, self.past, self.compare)

    # -- evaluating ------------------------------------------------------------

    def _task(self, ctx: Context) -> str | None:
        # None for a scheduler-level condition: it names no task of its own
        return self.task if self.task is not None else ctx.task

    def _holds(self, count: int) -> bool:
        if self.compare is None:
            return count > 0
        op, other = self.compare
        return COMPARISONS[op](count, other)

    def _count_at(self, ctx: Context, task: str, moment: datetime) -> int:
        """The events in the window's occurrence at wall time ``moment`` (up
        to ``ctx.now``: later ones are not known yet)."""
        assert self.window is not None
        since = first_instant(self.window.occurrence_start(moment), ctx.tz)
        until = min(first_instant(self.window.occurrence_end(moment), ctx.tz), _just_after(ctx.now))
        return ctx.count_events(task, _HOW[self.action], since, until)

    def _is_true(self, ctx: Context) -> bool:
        task = self._task(ctx)
        if task is None:
            return False
        how, now = _HOW[self.action], ctx.now
        if self.past is not None:
            count = ctx.count_events(task, how, _just_after(now - self.past), _just_after(now))
        elif self.window is None:
            count = ctx.count_events(task, how, -math.inf, _just_after(now))
        else:
            count = self._count_at(ctx, task, wall(now, ctx.tz))
        return self._holds(count)

    def next_change(self, ctx: Context) -> float | None:
        task = self._task(ctx)
        if task is None or (self.window is None and self.past is None):
            return None  # only an event changes it
        how, now = _HOW[self.action], ctx.now
        if self.past is not None:
            return self._past_change(ctx, task, how)
        last = ctx.last_start(task) if how is None else ctx.last_finish(task, how)
        if last is None:
            return None
        assert self.window is not None
        # An event after now (the wall clock was set back) counts once now
        # reaches it; until then the value depends on now, so is not cached.
        later = ctx.nth_event(task, how, _just_after(now))
        # the events of the task: its latest and how many (they only ever grow)
        key = (ctx.tz, task, last, ctx.count_events(task, how, -math.inf, math.inf))
        if later is None and (known := self._changes.get(key, now)) is not None:
            return known
        moment = wall(now, ctx.tz)
        horizon = self.window.period.horizon
        change = next_wall_change(
            lambda at: self._holds(self._count_at(ctx, task, at)),
            self.window.edges(moment, moment + timedelta(seconds=horizon)),
            now,
            ctx.tz,
            horizon,
            self.window.period.chunk,
        )
        if later is not None:
            return later if change is None else min(later, change)
        return self._changes.put(key, now, change)

    def _past_change(self, ctx: Context, task: str, how: str | None) -> float | None:
        """When the count of the last ``past`` seconds next changes the value:
        as its events leave the span one by one, or one of the future (the
        wall clock was set back) enters it."""
        assert self.past is not None
        now, since = ctx.now, _just_after(ctx.now - self.past)
        later = ctx.nth_event(task, how, _just_after(now))
        count = ctx.count_events(task, how, since, _just_after(now))
        value = self._holds(count)
        for left in range(1, count + 1):
            if self._holds(count - left) != value:
                leaving = ctx.nth_event(task, how, since, left - 1)
                assert leaving is not None
                gone = leaving + self.past
                return gone if later is None else min(gone, later)
        return later

    def task_refs(self) -> frozenset[str]:
        return frozenset() if self.task is None else frozenset({self.task})

    def __str__(self) -> str:
        who = "" if self.task is None else f"task {self.task!r} "
        text = f"{who}has {self.action}"
        if self.past is not None:
            text += f" past {format_duration(self.past)}"
        elif self.window is not None:
            text += " " + self._period_word().replace("_", " ")
            if self.window.text is not None:
                text += " " + self.window.text
        if self.compare is not None:
            text += f" {self.compare[0]} {self.compare[1]}"
        return text


def _just_after(t: float) -> float:
    # ends are exclusive: this takes in an event at ``t`` itself
    return math.nextafter(t, math.inf)


def period_scale(words: str) -> Scale | None:
    """The scale of a period as Rocketry's strings name it (``"today"``)."""
    return _PERIOD_WORDS.get(words)


started: Status = Status("started")
succeeded: Status = Status("succeeded")
failed: Status = Status("failed")
finished: Status = Status("finished")
terminated: Status = Status("terminated")
