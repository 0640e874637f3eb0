"""``secondly``, ``minutely``, ``hourly``, ``daily``, ``weekly``, ``monthly``:
once per period, optionally only inside a window of it
(``daily.between("08:00", "18:00")``), as Rocketry's are."""

from __future__ import annotations

from datetime import datetime, timedelta

from .base import Condition, Context
from .calendar import DAILY, HOURLY, MINUTELY, MONTHLY, SECONDLY, WEEKLY, Scale, Window
from .runs import own_last_start
from .wallclock import ChangeCache, next_wall_change, wall

__all__ = ["Periodic", "daily", "hourly", "minutely", "monthly", "secondly", "weekly"]


class Periodic(Condition):
    """True when the task has not started in the current period (second,
    minute, hour, day, week from Monday, month of the local wall clock) and,
    with a window, the clock is inside it.

    With a window, "the current period" is the current occurrence of the
    window, so a window wrapping midnight (``daily.between("22:00", "02:00")``)
    is one occurrence, not two. Bare periods have ``.at()``, ``.between()``,
    ``.after()`` and ``.before()`` to add a window.
    """

    def __init__(self, name: str, scale: Scale, window: Window | None = None) -> None:
        self.name: str = name
        self._scale = scale
        self.window: Window = window if window is not None else scale.whole()
        self._changes = ChangeCache()

    def at(self, moment: object) -> Periodic:
        """Only within one unit from ``moment``, as in Rocketry:
        ``daily.at("10:00")`` is 10:00 to 11:00, ``hourly.at("42:00")`` that
        minute, ``weekly.at("Mon")`` all Monday, ``monthly.at("15th")`` the 15th."""
        return self._with("at", moment)

    def on(self, moment: object) -> Periodic:
        """The same as ``at``: ``weekly.on("Mon")``."""
        return self._with("at", moment)

    def starting(self, moment: object) -> Periodic:
        """Once per period, periods beginning at ``moment``:
        ``weekly.starting("Tue")`` runs once from each Tuesday to the next,
        ``daily.starting("06:00")`` once from 06:00 to 06:00."""
        return self._with("starting", moment)

    def between(self, start: object, end: object) -> Periodic:
        """Only from ``start`` (included) to ``end`` (excluded; a day without a
        time as the end includes that day); wraps when ``end`` comes first."""
        return self._with("between", start, end)

    def after(self, start: object) -> Periodic:
        """Only from ``start`` to the end of the period."""
        return self._with("after", start)

    def before(self, end: object) -> Periodic:
        """Only from the start of the period to ``end``."""
        return self._with("before", end)

    def _with(self, method: str, *args: object) -> Periodic:
        if self.window.text is not None:
            raise ValueError(f"{str(self)!r} already has a window; start from {self.name}")
        try:
            window = getattr(self._scale, method)(*args)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{self.name}.{method}(): {exc}") from None
        return Periodic(self.name, self._scale, window)

    def _inside(self, moment: datetime, last: datetime | None) -> bool:
        # Compared as wall readings, so a run in the first pass of a DST fold
        # still counts during the second pass.
        if not self.window.contains(moment):
            return False
        return last is None or last < self.window.occurrence_start(moment)

    def _last_wall(self, ctx: Context) -> datetime | None:
        last = own_last_start(ctx)
        return None if last is None else wall(last, ctx.tz)

    def _is_true(self, ctx: Context) -> bool:
        return self._inside(wall(ctx.now, ctx.tz), self._last_wall(ctx))

    def next_change(self, ctx: Context) -> float | None:
        last, now = self._last_wall(ctx), wall(ctx.now, ctx.tz)
        if self.window.full and self._inside(now, last):
            return None  # true until the task starts, which is not a matter of time
        key = (ctx.tz, last)
        if (known := self._changes.get(key, ctx.now)) is not None:
            return known
        horizon = self.window.period.horizon
        edges = self.window.edges(now, now + timedelta(seconds=horizon))
        change = next_wall_change(
            lambda moment: self._inside(moment, last),
            edges,
            ctx.now,
            ctx.tz,
            horizon,
            self.window.period.chunk,
        )
        return self._changes.put(key, ctx.now, change)

    def __str__(self) -> str:
        return self.name if self.window.text is None else f"{self.name} {self.window.text}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Periodic) and (other.name, other.window) == (
            self.name,
            self.window,
        )

    def __hash__(self) -> int:
        return hash((Periodic, self.name, self.window))


secondly: Periodic = Periodic("secondly", SECONDLY)
minutely: Periodic = Periodic("minutely", MINUTELY)
hourly: Periodic = Periodic("hourly", HOURLY)
daily: Periodic = Periodic("daily", DAILY)
weekly: Periodic = Periodic("weekly", WEEKLY)
monthly: Periodic = Periodic("monthly", MONTHLY)
