"""Calendar periods (hour, day, week, month) and windows within them.

Everything here is wall-clock arithmetic on naive local datetimes: a day is
midnight to midnight as the clock on the wall shows it, whatever DST does to
its real length. ``wallclock`` turns that into instants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .points import DAY, Point, read_clock, read_minute, read_monthday, read_weekday

__all__ = ["DAILY", "HOURLY", "MONTHLY", "WEEKLY", "Period", "Scale", "Window"]


# Wall-clock arithmetic on naive datetimes: an hour, a day and a week always
# last as long on the wall, whatever DST does; only months differ.
_UNITS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
_LENGTHS = {name: unit.total_seconds() for name, unit in _UNITS.items()}


@dataclass(frozen=True)
class Period:
    """A calendar period: ``"hour"``, ``"day"``, ``"week"`` (from Monday) or
    ``"month"``."""

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
        in_hour = moment.minute * 60 + moment.second + moment.microsecond / 1e6
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
    ``inf`` runs to the end of the period. ``text`` says how it was given
    (``"between 08:00 and 18:00"``), or is ``None`` for the whole period."""

    def __init__(
        self, period: Period, start: float, end: float, text: str | None, full: bool = False
    ) -> None:
        self.period = period
        # an end at or past the longest period is the period's end: one form for equality
        end = math.inf if end >= period.longest else end
        self.full = full or (start == 0 and end == math.inf)
        self.start, self.end = (0.0, math.inf) if self.full else (float(start), float(end))
        self.text = text

    def contains(self, moment: datetime) -> bool:
        """Whether the wall-clock reading ``moment`` is inside the window."""
        if self.full:
            return True
        offset = self.period.offset(moment)
        if self.start < self.end:
            return self.start <= offset < self.end
        return offset >= self.start or offset < self.end

    def occurrence_start(self, moment: datetime) -> datetime:
        """Where the occurrence of the window that contains ``moment`` began; the
        part of a wrapping window after the period boundary belongs to the
        occurrence that began in the previous period."""
        start = self.period.start(moment)
        if self.full:
            return start
        if self.period.offset(moment) < self.start:
            start = self.period.shift(start, -1)
        return self._at(start, self.start)

    def edges(self, first: datetime, last: datetime) -> list[datetime]:
        """Every wall time from before ``first`` to after ``last`` at which being
        inside the window, or its occurrence, may change."""
        found = []
        start = self.period.shift(self.period.start(first), -1)
        stop = self.period.shift(self.period.start(last), 2)
        while start <= stop:
            found.append(start)
            if not self.full:
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
    """Builds windows of one period from the strings users write."""

    period: Period
    read: Callable[..., Point]

    def whole(self) -> Window:
        """The whole period."""
        return Window(self.period, 0, math.inf, None)

    def between(self, start: object, end: object) -> Window:
        """From ``start`` (included) to ``end`` (excluded; a day without a time
        as ``end`` includes that whole day); wraps when ``end`` comes first."""
        first, last = self.read(start), self.read(end, end=True)
        stop = last.offset + (DAY if last.whole_day else 0)
        text = f"between {first.text} and {last.text}"
        if stop == first.offset:
            # "Tue" to the end of "Mon" is the whole week; "08:00" to "08:00"
            # could be nothing or everything, so it is refused.
            if not last.whole_day:
                raise ValueError(
                    f"the window between {start!r} and {end!r} starts where it ends; "
                    f"for the whole {self.period.name} leave the window out or use true"
                )
            return Window(self.period, 0, math.inf, text, full=True)
        return Window(self.period, first.offset, stop, text)

    def after(self, start: object) -> Window:
        """From ``start`` (included) to the end of the period."""
        first = self.read(start)
        return Window(self.period, first.offset, math.inf, f"after {first.text}")

    def before(self, end: object) -> Window:
        """From the start of the period to ``end`` (excluded; a day without a
        time includes that whole day)."""
        last = self.read(end, end=True)
        stop = last.offset + (DAY if last.whole_day else 0)
        if stop == 0:
            raise ValueError(f"the window before {end!r} is empty: nothing comes before it")
        return Window(self.period, 0, stop, f"before {last.text}")

    def at(self, moment: object) -> Window:
        """The span ``moment`` names: a minute for ``"10:00"``, a second for
        ``"10:00:30"``, a day for ``"Mon"`` or ``"15th"``."""
        point = self.read(moment)
        word = "on" if point.whole_day else "at"
        return Window(
            self.period, point.offset, point.offset + point.resolution, f"{word} {point.text}"
        )


HOUR = Period("hour", 3600, horizon=DAY, chunk=3600)
DAY_PERIOD = Period("day", DAY, horizon=4 * DAY, chunk=DAY)
WEEK = Period("week", 7 * DAY, horizon=16 * DAY, chunk=DAY)
MONTH = Period("month", 31 * DAY, horizon=100 * DAY, chunk=7 * DAY)

HOURLY = Scale(HOUR, read_minute)
DAILY = Scale(DAY_PERIOD, read_clock)
WEEKLY = Scale(WEEK, read_weekday)
MONTHLY = Scale(MONTH, read_monthday)
