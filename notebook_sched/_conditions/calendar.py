"""Calendar periods (second, minute, hour, day, week, month) and windows
within them.

Everything here is wall-clock arithmetic on naive local datetimes: a day is
midnight to midnight as the clock on the wall shows it, whatever DST does to
its real length. ``wallclock`` turns that into instants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .points import (
    DAY,
    Point,
    read_clock,
    read_millis,
    read_minute,
    read_monthday,
    read_second,
    read_weekday,
)

__all__ = [
    "DAILY",
    "HOURLY",
    "MINUTELY",
    "MONTHLY",
    "SECONDLY",
    "WEEKLY",
    "Period",
    "Scale",
    "Window",
]


# Wall-clock arithmetic on naive datetimes: a second to a week always lasts
# as long on the wall, whatever DST does; only months differ.
_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_LENGTHS = {name: unit.total_seconds() for name, unit in _UNITS.items()}


@dataclass(frozen=True)
class Period:
    """A calendar period: ``"second"``, ``"minute"``, ``"hour"``, ``"day"``,
    ``"week"`` (from Monday) or ``"month"``."""

    name: str
    longest: float  # wall-clock seconds in the longest period of this kind
    # How far ahead a change is sought: far enough to find the next occurrence
    # of any window, even when a DST gap swallows one (or a month lacks the 31st).
    horizon: float
    # ...and in steps of this much, so that a change found early spares the
    # rest; about the spacing of a window's edges.
    chunk: float

    def start(self, moment: datetime) -> datetime:
        """The start of the period that ``moment`` lies in."""
        if self.name == "second":
            return moment.replace(microsecond=0, fold=0)
        if self.name == "minute":
            return moment.replace(second=0, microsecond=0, fold=0)
        if self.name == "hour":
            return moment.replace(minute=0, second=0, microsecond=0, fold=0)
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
        if self.name == "day":
            return day
        if self.name == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def shift(self, start: datetime, count: int) -> datetime:
        """The start of the period ``count`` periods after the one at ``start``."""
        if self.name == "month":
            month = start.month - 1 + count
            return start.replace(year=start.year + month // 12, month=month % 12 + 1)
        return start + _UNITS[self.name] * count

    def length(self, start: datetime) -> float:
        """Wall-clock seconds in the period that begins at ``start``."""
        fixed = _LENGTHS.get(self.name)
        return fixed if fixed is not None else (self.shift(start, 1) - start).total_seconds()

    def offset(self, moment: datetime) -> float:
        """Wall-clock seconds from the start of ``moment``'s period to ``moment``."""
        # Read off the fields: the same as ``moment - self.start(moment)``, and
        # several times faster (the scheduler asks on every evaluation).
        in_minute = moment.second + moment.microsecond / 1e6
        if self.name == "second":
            return moment.microsecond / 1e6
        if self.name == "minute":
            return in_minute
        in_hour = moment.minute * 60 + in_minute
        if self.name == "hour":
            return in_hour
        in_day = moment.hour * 3600 + in_hour
        if self.name == "day":
            return in_day
        if self.name == "week":
            return moment.weekday() * 86400 + in_day
        return (moment.day - 1) * 86400 + in_day


class Window:
    """The part ``[start, end)`` of every period, in wall-clock seconds from the
    period's start. ``end < start`` wraps into the next period; ``end`` of
    ``inf`` runs to the end of the period. A ``full`` window is the whole
    period, but its occurrences begin at ``start`` (Rocketry's
    ``weekly.starting("Tue")``, and ``between(x, x)``). ``text`` says how it
    was given (``"between 08:00 and 18:00"``), or is ``None`` for the whole
    period."""

    def __init__(
        self, period: Period, start: float, end: float, text: str | None, full: bool = False
    ) -> None:
        self.period = period
        # an end at or past the longest period is the period's end: one form for equality
        end = math.inf if end >= period.longest else end
        self.full: bool = full or (start == 0 and end == math.inf)
        self.start: float = float(start)
        self.end: float = math.inf if self.full else float(end)
        self.text: str | None = text

    def contains(self, moment: datetime) -> bool:
        """Whether the wall-clock reading ``moment`` is inside the window."""
        if self.full:
            return True
        offset = self.period.offset(moment)
        if self.start < self.end:
            return self.start <= offset < self.end
        return offset >= self.start or offset < self.end

    def occurrence_start(self, moment: datetime) -> datetime:
        """Where the latest occurrence of the window that began by ``moment``
        began (the one that contains it, if any); the part of a wrapping
        window after the period boundary belongs to the occurrence that began
        in the previous period."""
        start = self.period.start(moment)
        if self.period.offset(moment) < self.start:
            start = self.period.shift(start, -1)
        return self._at(start, self.start)

    def occurrence_end(self, moment: datetime) -> datetime:
        """Where the occurrence that ``occurrence_start(moment)`` began ends."""
        base = self.period.start(moment)
        if self.period.offset(moment) < self.start:
            base = self.period.shift(base, -1)
        if self.full or self.end < self.start:
            # the end lies in the next period
            return self._at(self.period.shift(base, 1), self.start if self.full else self.end)
        return self._at(base, self.end)

    def edges(self, first: datetime, last: datetime) -> list[datetime]:
        """Every wall time from before ``first`` to after ``last`` at which being
        inside the window, or its occurrence, may change."""
        found = []
        start = self.period.shift(self.period.start(first), -1)
        stop = self.period.shift(self.period.start(last), 2)
        while start <= stop:
            found.append(start)
            found.append(self._at(start, self.start))
            if self.end != math.inf:
                found.append(self._at(start, self.end))
            start = self.period.shift(start, 1)
        return found

    def _at(self, start: datetime, offset: float) -> datetime:
        # a month without the window's day: the window ends with the month
        return start + timedelta(seconds=min(offset, self.period.length(start)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Window) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[str, float, float]:
        return (self.period.name, self.start, self.end)

    def __repr__(self) -> str:
        return f"Window({self.period.name!r}, {self.start}, {self.end}, {self.text!r})"


@dataclass(frozen=True)
class Scale:
    """Builds windows of one period from the bounds users write, with
    Rocketry's meanings. ``unit`` is what ``.at()`` covers: the next smaller
    unit of the period (an hour of a day, a minute of an hour, a day of a week
    or month, a second of a minute, a millisecond of a second)."""

    period: Period
    read: Callable[..., Point]
    unit: float

    def whole(self) -> Window:
        """The whole period."""
        return Window(self.period, 0, math.inf, None)

    def between(self, start: object, end: object) -> Window:
        """From ``start`` (included) to ``end`` (excluded; a day named without
        a time, or an int, as ``end`` includes that day or unit); wraps when
        ``end`` comes first. Where it ends as it starts, the whole period
        with occurrences from ``start`` (Rocketry: ``time_of_day.between(t,
        t)`` is always true)."""
        first, last = self.read(start), self.read(end, end=True)
        text = f"between {first.text} and {last.text}"
        return self._window(first.offset, last.offset + last.span, text)

    def after(self, start: object) -> Window:
        """From ``start`` (included) to the end of the period."""
        first = self.read(start)
        return Window(self.period, first.offset, math.inf, f"after {first.text}")

    def before(self, end: object) -> Window:
        """From the start of the period to ``end`` (excluded; a day named
        without a time, or an int, includes that day or unit)."""
        last = self.read(end, end=True)
        return self._window(0.0, last.offset + last.span, f"before {last.text}")

    def at(self, moment: object) -> Window:
        """One unit from ``moment``, as in Rocketry: ``daily.at("10:00")`` is
        10:00 to 11:00, ``hourly.at("42:00")`` 42:00 to 43:00,
        ``weekly.at("Mon")`` all Monday, ``monthly.at("15th")`` the 15th."""
        point = self.read(moment)
        word = "on" if point.day else "at"
        end = point.offset + self.unit
        if end >= self.period.longest:  # wraps past the period's end, as Rocketry's does
            end -= self.period.longest
        return self._window(point.offset, end, f"{word} {point.text}")

    def starting(self, moment: object) -> Window:
        """The whole period, but its occurrences begin at ``moment``:
        ``weekly.starting("Tue")`` is once a week, weeks from Tuesday."""
        point = self.read(moment)
        return Window(self.period, point.offset, point.offset, f"starting {point.text}", full=True)

    def _window(self, start: float, end: float, text: str) -> Window:
        if end == start or (start == 0 and end >= self.period.longest):
            return Window(self.period, start, start, text, full=True)
        return Window(self.period, start, end, text)


SECOND = Period("second", 1, horizon=4, chunk=1)
MINUTE = Period("minute", 60, horizon=240, chunk=60)
HOUR = Period("hour", 3600, horizon=DAY, chunk=3600)
DAY_PERIOD = Period("day", DAY, horizon=4 * DAY, chunk=DAY)
WEEK = Period("week", 7 * DAY, horizon=16 * DAY, chunk=DAY)
MONTH = Period("month", 31 * DAY, horizon=100 * DAY, chunk=7 * DAY)

SECONDLY = Scale(SECOND, read_millis, 0.001)
MINUTELY = Scale(MINUTE, read_second, 1)
HOURLY = Scale(HOUR, read_minute, 60)
DAILY = Scale(DAY_PERIOD, read_clock, 3600)
WEEKLY = Scale(WEEK, read_weekday, DAY)
MONTHLY = Scale(MONTH, read_monthday, DAY)
