"""Rocketry's task-status conditions: ``started``, ``succeeded``, ``failed``,
``finished``, ``terminated`` — "has it happened (in this period)?".

``succeeded`` alone is "the task has ever succeeded"; ``succeeded(task=a)``
asks about another task; ``succeeded.today`` (or ``.today()``),
``.this_minute``, ``.this_hour``, ``.this_week``, ``.this_month`` ask about
the current period of the wall clock, and ``.between()``, ``.after()``,
``.before()``, ``.on()``, ``.starting()`` narrow it — the latest occurrence of
that window up to now, as in Rocketry (``succeeded.today.between("10:00",
"12:00")`` asked at 09:00 looks at yesterday's 10:00-12:00).

The scheduler keeps, per task, the time of the latest event of each kind
(it never reads the history file on the loop): a status condition looks at
that one, so an event inside a narrowed window is hidden by a later one
after the window (succeeded at 11:00 and again at 12:30: at 13:00
``today.between("10:00", "12:00")`` is false).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .._durations import format_duration, parse_timedelta
from .base import Condition, Context
from .calendar import DAILY, HOURLY, MINUTELY, MONTHLY, WEEKLY, Scale, Window
from .tasks import task_name
from .wallclock import ChangeCache, next_wall_change, wall

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
    now), or within the ``past`` seconds."""

    def __init__(
        self,
        action: str,
        task: str | None = None,
        window: Window | None = None,
        past: float | None = None,
    ) -> None:
        if action not in _HOW:
            raise ValueError(f"action must be one of {', '.join(_HOW)}, got {action!r}")
        self.action: str = action
        self.task: str | None = task
        self.window: Window | None = window
        self.past: float | None = past
        self._changes = ChangeCache()

    # -- building --------------------------------------------------------------

    def __call__(self, task: object = None) -> Status:
        """``started(task=a)``: about another task; ``started.today()``: itself
        (so that ``.today`` reads with and without parentheses)."""
        if task is None:
            return self
        name = task_name(task, what=f"{self.action}()")
        return Status(self.action, name, self.window, self.past)

    def _in(self, scale: Scale) -> Status:
        if self.window is not None or self.past is not None:
            raise ValueError(f"{str(self)!r} already has a period; start from {self.action}")
        return Status(self.action, self.task, scale.whole())

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
        if self.window is not None or self.past is not None:
            raise ValueError(f"{str(self)!r} already has a period; start from {self.action}")
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

    # -- evaluating ------------------------------------------------------------

    def _last(self, ctx: Context) -> float | None:
        task = self.task if self.task is not None else ctx.task
        if task is None:
            return None  # a scheduler-level condition names no task of its own
        how = _HOW[self.action]
        return ctx.last_start(task) if how is None else ctx.last_finish(task, how)

    def _occurred(self, moment: datetime, last: datetime | None) -> bool:
        assert self.window is not None
        if last is None:
            return False
        return self.window.occurrence_start(moment) <= last < self.window.occurrence_end(moment)

    def _is_true(self, ctx: Context) -> bool:
        last = self._last(ctx)
        if last is None or last > ctx.now:
            return False
        if self.past is not None:
            return last > ctx.now - self.past
        if self.window is None:
            return True
        return self._occurred(wall(ctx.now, ctx.tz), wall(last, ctx.tz))

    def next_change(self, ctx: Context) -> float | None:
        last = self._last(ctx)
        if last is None or (self.window is None and self.past is None):
            return None  # only an event changes it
        if last > ctx.now:
            return last
        if self.past is not None:
            return last + self.past if last + self.past > ctx.now else None
        assert self.window is not None
        last_wall = wall(last, ctx.tz)
        key = (ctx.tz, last)
        if (known := self._changes.get(key, ctx.now)) is not None:
            return known
        now = wall(ctx.now, ctx.tz)
        horizon = self.window.period.horizon
        change = next_wall_change(
            lambda moment: self._occurred(moment, last_wall),
            self.window.edges(now, now + timedelta(seconds=horizon)),
            ctx.now,
            ctx.tz,
            horizon,
            self.window.period.chunk,
        )
        return self._changes.put(key, ctx.now, change)

    def task_refs(self) -> frozenset[str]:
        return frozenset() if self.task is None else frozenset({self.task})

    def __str__(self) -> str:
        who = "" if self.task is None else f"task {self.task!r} "
        text = f"{who}has {self.action}"
        if self.past is not None:
            return f"{text} past {format_duration(self.past)}"
        if self.window is not None:
            text += " " + self._period_word().replace("_", " ")
            if self.window.text is not None:
                text += " " + self.window.text
        return text

    def _key(self) -> tuple[object, ...]:
        return (self.action, self.task, self.window, self.past)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Status) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((Status, *self._key()))


def period_scale(words: str) -> Scale | None:
    """The scale of a period as Rocketry's strings name it (``"today"``)."""
    return _PERIOD_WORDS.get(words)


started: Status = Status("started")
succeeded: Status = Status("succeeded")
failed: Status = Status("failed")
finished: Status = Status("finished")
terminated: Status = Status("terminated")
