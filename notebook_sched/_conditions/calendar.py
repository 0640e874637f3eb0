"""Wall-clock windows and calendar periods.

A ``Window`` is a span inside a repeating cycle (an hour, a day, a week, a
month) of local wall-clock time: start included, end excluded, wrapping past
the cycle's end when the end comes before the start. A ``Period`` is "once
per hour/day/week/month", optionally only inside a window. Both know the next
moment their answer may change, so the scheduler sleeps until then.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from .base import Condition, Context

__all__ = ["DAY", "HOUR", "MONTH", "WEEK", "Cycle", "Period", "Window", "WindowBuilder"]

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def local(epoch: float, tz: tzinfo | None) -> datetime:
    """Naive local wall-clock time of ``epoch``."""
    if tz is None:
        return datetime.fromtimestamp(epoch)
    return datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


def epoch_of(naive: datetime, tz: tzinfo | None) -> float:
    """Epoch of a naive local wall-clock time (gaps and folds resolved by the zone)."""
    if tz is None:
        return naive.timestamp()
    return naive.replace(tzinfo=tz).timestamp()


class Cycle:
    """A repeating calendar unit and how to read times inside it."""

    def __init__(self, name: str, unit: str) -> None:
        self.name = name
        self.unit = unit

    def start(self, dt: datetime) -> datetime:
        dt = dt.replace(microsecond=0, second=0, minute=0)
        if self.name == "hour":
            return dt
        dt = dt.replace(hour=0)
        if self.name == "week":
            return dt - timedelta(days=dt.weekday())
        if self.name == "month":
            return dt.replace(day=1)
        return dt

    def next(self, start: datetime) -> datetime:
        if self.name == "hour":
            return start + timedelta(hours=1)
        if self.name == "day":
            return start + timedelta(days=1)
        if self.name == "week":
            return start + timedelta(days=7)
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return start.replace(year=year, month=month)

    def parse(self, text: object, *, as_end: bool = False) -> tuple[timedelta, timedelta]:
        """``(offset from the cycle's start, resolution)`` of a time in this cycle.
        An end given as a whole day (``"Fri"``, ``"15th"``) means the end of it."""
        if not isinstance(text, str):
            raise TypeError(
                f"a time in the {self.name} must be a string like {self.unit}, got {text!r}"
            )
        value = text.strip().lower()
        offset: timedelta | None = None
        resolution = timedelta(seconds=1)
        if self.name == "day":
            offset, resolution = _clock(value, hours=True)
        elif self.name == "hour":
            offset, resolution = _clock(value, hours=False)
        elif self.name == "week":
            day, _, rest = value.partition(" ")
            index = _weekday(day)
            if index is not None:
                if rest.strip():
                    clock = _clock(rest.strip(), hours=True)
                    if clock[0] is not None:
                        offset, resolution = timedelta(days=index) + clock[0], clock[1]
                else:
                    offset, resolution = timedelta(days=index), timedelta(days=1)
        elif self.name == "month":
            match = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", value)
            if match and 1 <= int(match.group(1)) <= 31:
                offset, resolution = timedelta(days=int(match.group(1)) - 1), timedelta(days=1)
        if offset is None:
            raise ValueError(f"{text!r} is not a time in the {self.name}: use {self.unit}")
        if as_end and resolution >= timedelta(days=1):
            offset += resolution
        return offset, resolution


def _clock(value: str, *, hours: bool) -> tuple[timedelta | None, timedelta]:
    if hours:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", value)
        if not match:
            return None, timedelta(0)
        h, m, s = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        if h > 23 or m > 59 or s > 59:
            return None, timedelta(0)
        step = timedelta(seconds=1) if match.group(3) else timedelta(minutes=1)
        return timedelta(hours=h, minutes=m, seconds=s), step
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", value)
    if not match:
        return None, timedelta(0)
    m, s = int(match.group(1)), int(match.group(2) or 0)
    if m > 59 or s > 59:
        return None, timedelta(0)
    step = timedelta(seconds=1) if match.group(2) else timedelta(minutes=1)
    return timedelta(minutes=m, seconds=s), step


def _weekday(text: str) -> int | None:
    if text in _DAYS:
        return _DAYS.index(text)
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    return None


HOUR = Cycle("hour", "'MM' or 'MM:SS' (minute of the hour)")
DAY = Cycle("day", "'HH:MM' or 'HH:MM:SS'")
WEEK = Cycle("week", "a day name ('Mon', 'Friday'), optionally with a time ('Mon 08:00')")
MONTH = Cycle("month", "a day of the month ('1', '15', '1st', '15th')")


class Window(Condition):
    """True while the local wall clock is inside ``[start, end)`` of each cycle."""

    def __init__(self, cycle: Cycle, start: timedelta, end: timedelta, text: str) -> None:
        if start == end:
            raise ValueError(f"the window {text!r} is empty: its start and end are the same")
        self.cycle, self.start, self.end, self.text = cycle, start, end, text

    def _inside(self, offset: timedelta) -> bool:
        if self.start < self.end:
            return self.start <= offset < self.end
        return offset >= self.start or offset < self.end

    def _is_true(self, ctx: Context) -> bool:
        now = local(ctx.now, ctx.tz)
        return self._inside(now - self.cycle.start(now))

    def next_change(self, ctx: Context) -> float | None:
        now = local(ctx.now, ctx.tz)
        begin = self.cycle.start(now)
        candidates = []
        for _ in range(3):  # this cycle, the next, and one more for DST oddities
            for boundary in (self.start, self.end):
                when = epoch_of(begin + boundary, ctx.tz)
                if when > ctx.now:
                    candidates.append(when)
            if candidates:
                return min(candidates)
            begin = self.cycle.next(begin)
        return None

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Window) and (other.cycle.name, other.start, other.end) == (
            self.cycle.name,
            self.start,
            self.end,
        )

    def __hash__(self) -> int:
        return hash((Window, self.cycle.name, self.start, self.end))


class WindowBuilder:
    """``time_of_day`` / ``time_of_week``: builds windows of one cycle."""

    def __init__(self, cycle: Cycle, label: str) -> None:
        self._cycle, self._label = cycle, label

    def between(self, start: str, end: str) -> Window:
        return Window(
            self._cycle,
            self._cycle.parse(start)[0],
            self._cycle.parse(end, as_end=True)[0],
            f"{self._label} between {start} and {end}",
        )

    def after(self, start: str) -> Window:
        return Window(
            self._cycle,
            self._cycle.parse(start)[0],
            _full(self._cycle),
            f"{self._label} after {start}",
        )

    def before(self, end: str) -> Window:
        return Window(
            self._cycle,
            timedelta(0),
            self._cycle.parse(end, as_end=True)[0],
            f"{self._label} before {end}",
        )

    def __repr__(self) -> str:
        return f"<{self._label}: use .between(), .after() or .before()>"


def _full(cycle: Cycle) -> timedelta:
    # The window runs to the cycle's end; a month's end varies, 31 days covers it.
    return {
        "hour": timedelta(hours=1),
        "day": timedelta(days=1),
        "week": timedelta(days=7),
        "month": timedelta(days=31),
    }[cycle.name]


class Period(Condition):
    """Once per cycle: true while the task has not started in the present
    cycle (and, with a window, while inside it)."""

    def __init__(self, cycle: Cycle, name: str, window: Window | None = None) -> None:
        self.cycle, self.name, self.window = cycle, name, window

    def _ran_this_cycle(self, ctx: Context) -> tuple[bool, datetime]:
        begin = self.cycle.start(local(ctx.now, ctx.tz))
        last = ctx.last_start(ctx.task) if ctx.task is not None else None
        return last is not None and last >= epoch_of(begin, ctx.tz), begin

    def _is_true(self, ctx: Context) -> bool:
        ran, _ = self._ran_this_cycle(ctx)
        return not ran and (self.window is None or self.window._is_true(ctx))

    def next_change(self, ctx: Context) -> float | None:
        ran, begin = self._ran_this_cycle(ctx)
        if ran:
            return epoch_of(self.cycle.next(begin), ctx.tz)
        return self.window.next_change(ctx) if self.window is not None else None

    def _windowed(self, start: timedelta, end: timedelta, text: str) -> Period:
        return Period(self.cycle, self.name, Window(self.cycle, start, end, text))

    def at(self, when: str) -> Period:
        offset, resolution = self.cycle.parse(when)
        return self._windowed(offset, offset + resolution, f"{self.name} at {when}")

    def between(self, start: str, end: str) -> Period:
        return self._windowed(
            self.cycle.parse(start)[0],
            self.cycle.parse(end, as_end=True)[0],
            f"{self.name} between {start} and {end}",
        )

    def after(self, start: str) -> Period:
        return self._windowed(
            self.cycle.parse(start)[0], _full(self.cycle), f"{self.name} after {start}"
        )

    def before(self, end: str) -> Period:
        return self._windowed(
            timedelta(0), self.cycle.parse(end, as_end=True)[0], f"{self.name} before {end}"
        )

    def __str__(self) -> str:
        return self.window.text if self.window is not None else self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Period) and (other.name, other.window) == (self.name, self.window)

    def __hash__(self) -> int:
        return hash((Period, self.name, self.window))
