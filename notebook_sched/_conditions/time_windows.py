"""``time_of_second``, ``time_of_minute``, ``time_of_hour``, ``time_of_day``,
``time_of_week``, ``time_of_month``: true while the local wall clock is
inside a window, start included, end excluded; windows may wrap."""

from __future__ import annotations

from datetime import timedelta

from .base import Condition, Context
from .calendar import DAILY, HOURLY, MINUTELY, MONTHLY, SECONDLY, WEEKLY, Scale, Window
from .wallclock import ChangeCache, next_wall_change, wall

__all__ = [
    "TimeWindow",
    "WindowFactory",
    "time_of_day",
    "time_of_hour",
    "time_of_minute",
    "time_of_month",
    "time_of_second",
    "time_of_week",
]


class TimeWindow(Condition):
    """True while the local wall clock (``ctx.tz``, else the system's zone)
    reads a time inside ``window``."""

    def __init__(self, label: str, window: Window) -> None:
        self.label, self.window = label, window
        self._changes = ChangeCache()

    def _is_true(self, ctx: Context) -> bool:
        return self.window.contains(wall(ctx.now, ctx.tz))

    def next_change(self, ctx: Context) -> float | None:
        if self.window.full:
            return None
        if (known := self._changes.get(ctx.tz, ctx.now)) is not None:
            return known
        now = wall(ctx.now, ctx.tz)
        horizon = self.window.period.horizon
        edges = self.window.edges(now, now + timedelta(seconds=horizon))
        change = next_wall_change(
            self.window.contains, edges, ctx.now, ctx.tz, horizon, self.window.period.chunk
        )
        return self._changes.put(ctx.tz, ctx.now, change)

    def __str__(self) -> str:
        return f"{self.label} {self.window.text}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeWindow) and (other.label, other.window) == (
            self.label,
            self.window,
        )

    def __hash__(self) -> int:
        return hash((TimeWindow, self.label, self.window))


class WindowFactory:
    """Builds window conditions (``time_of_day.between("08:00", "18:00")``);
    not a condition itself."""

    def __init__(self, name: str, label: str, scale: Scale) -> None:
        self._name, self._label, self._scale = name, label, scale

    def between(self, start: object, end: object) -> Condition:
        """True from ``start`` (included) to ``end`` (excluded); wraps when
        ``end`` comes first."""
        return self._make("between", start, end)

    def after(self, start: object) -> Condition:
        """True from ``start`` (included) to the end of the day or week."""
        return self._make("after", start)

    def before(self, end: object) -> Condition:
        """True from the start of the day or week to ``end`` (excluded)."""
        return self._make("before", end)

    def at(self, moment: object) -> Condition:
        """True for one unit from ``moment``, as in Rocketry:
        ``time_of_week.on("Mon")`` all Monday, ``time_of_day.at("10:00")``
        10:00 to 11:00."""
        return self._make("at", moment)

    def on(self, moment: object) -> Condition:
        """The same as ``at``."""
        return self._make("at", moment)

    def starting(self, moment: object) -> Condition:
        """Rocketry's form for a whole period that begins at ``moment``: as a
        window of the clock it is always true."""
        return self._make("starting", moment)

    def _make(self, method: str, *args: object) -> Condition:
        try:
            window = getattr(self._scale, method)(*args)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{self._name}.{method}(): {exc}") from None
        return TimeWindow(self._label, window)

    def __repr__(self) -> str:
        return self._name


time_of_second: WindowFactory = WindowFactory("time_of_second", "time of second", SECONDLY)
time_of_second.__doc__ = """Windows of the second, in milliseconds: ``.before("500")``."""

time_of_minute: WindowFactory = WindowFactory("time_of_minute", "time of minute", MINUTELY)
time_of_minute.__doc__ = """Windows of the minute, in seconds: ``.before("45")``, ``.between("15",
"30.5")``."""

time_of_hour: WindowFactory = WindowFactory("time_of_hour", "time of hour", HOURLY)
time_of_hour.__doc__ = """Windows of the hour: ``.after("45:00")``, ``.between("15:00", "30:00")``
(minutes and seconds; ``"15"`` is 15:00)."""

time_of_day: WindowFactory = WindowFactory("time_of_day", "time of day", DAILY)
time_of_day.__doc__ = """Windows of the day: ``.between("08:00", "18:00")``, ``.after("08:00")``
(to midnight), ``.before("18:00")`` (from midnight), ``.at("10:00")`` (the hour
from 10:00). Times are ``"HH:MM"``, ``"HH:MM:SS"`` or ``"HH:MM:SS.ffffff"``, or an
int hour; ``"24:00"`` may end a window; ``between(x, x)`` is the whole day, as
in Rocketry."""

time_of_week: WindowFactory = WindowFactory("time_of_week", "time of week", WEEKLY)
time_of_week.__doc__ = """Windows of the week (from Monday): ``.between("Mon", "Fri")`` — a day
without a time as the end includes that whole day — or
``.between("Mon 08:00", "Fri 17:00")``, ``.after("Sat")``, ``.before("Fri")``,
``.on("Tuesday")``."""

time_of_month: WindowFactory = WindowFactory("time_of_month", "time of month", MONTHLY)
time_of_month.__doc__ = """Windows of the month: ``.between("1st", "5th")`` (through the 5th),
``.after("15.")``, ``.on("1st")``; days as ``"5"``, ``"5th"`` or ``"5."``,
optionally with a time."""
