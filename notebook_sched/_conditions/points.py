"""Reading the moments that bound a window: ``"08:00"``, ``"45:30"`` (minute of
the hour), ``"Mon 08:00"``, ``"15th"``.

Each reader returns a ``Point``: its offset in wall-clock seconds from the
start of the period it lies in, and how long a span its text names (a minute
for ``"10:00"``, a second for ``"10:00:30"``, a day for ``"Mon"``), which is
what ``.at()`` covers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

__all__ = [
    "WEEKDAYS",
    "Point",
    "ordinal",
    "read_clock",
    "read_minute",
    "read_monthday",
    "read_weekday",
]

DAY = 86400
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: i for i, name in enumerate(d.lower() for d in WEEKDAYS)} | {
    name: i for i, name in enumerate(_FULL_DAYS)
}

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_MINUTE = re.compile(r"(\d{1,2})(?::(\d{2}))?")
_MONTHDAY = re.compile(r"(\d{1,2})(st|nd|rd|th)?", re.IGNORECASE)

_CLOCK_FORMS = "use 'HH:MM' or 'HH:MM:SS' on a 24-hour clock, like '08:00' or '17:30:15'"


@dataclass(frozen=True)
class Point:
    """A moment within a period, as a window bound."""

    offset: float  # wall-clock seconds from the start of the period
    resolution: float  # the span the text names, in seconds
    text: str  # the normalised text, readable again by the same reader
    whole_day: bool = False  # a day without a time: as an end it includes that day


def _bad(kind: str, value: object, forms: str, why: str = "") -> ValueError:
    return ValueError(f"{kind} {value!r} is not understood{': ' + why if why else ''}; {forms}")


def _need_str(kind: str, value: object, forms: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{kind} must be a string, got {value!r}; {forms}")
    return value.strip()


def read_clock(value: object, *, end: bool = False) -> Point:
    """A time of day: ``"HH:MM"`` or ``"HH:MM:SS"`` (or a ``datetime.time``);
    ``"24:00"`` only as an end."""
    if isinstance(value, time):
        if value.microsecond or value.tzinfo is not None:
            raise _bad("time", value, _CLOCK_FORMS, "give whole seconds and no time zone")
        value = value.strftime("%H:%M:%S" if value.second else "%H:%M")
    text = _need_str("time", value, _CLOCK_FORMS)
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise _bad("time", value, _CLOCK_FORMS)
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3]) if match[3] is not None else 0
    if minute > 59 or second > 59:
        raise _bad("time", value, _CLOCK_FORMS, "minutes and seconds go up to 59")
    if hour > 24 or (hour == 24 and (minute or second)):
        raise _bad("time", value, _CLOCK_FORMS, "hours go up to 23")
    if hour == 24 and not end:
        raise _bad("time", value, _CLOCK_FORMS, "'24:00' can only end a window")
    normal = f"{hour:02}:{minute:02}" + (f":{second:02}" if match[3] is not None else "")
    resolution = 1 if match[3] is not None else 60
    return Point(hour * 3600 + minute * 60 + second, resolution, normal)


_MINUTE_FORMS = "use 'MM' or 'MM:SS' (minute of the hour), like '15' or '45:30'"


def read_minute(value: object, *, end: bool = False) -> Point:
    """A minute of the hour: ``"MM"`` or ``"MM:SS"``; ``"60"`` only as an end."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _need_str("minute of the hour", value, _MINUTE_FORMS)
    match = _MINUTE.fullmatch(text)
    if match is None:
        raise _bad("minute of the hour", value, _MINUTE_FORMS)
    minute = int(match[1])
    second = int(match[2]) if match[2] is not None else 0
    if second > 59 or minute > 60 or (minute == 60 and (second or not end)):
        raise _bad("minute of the hour", value, _MINUTE_FORMS, "minutes go from 00 to 59")
    normal = f"{minute:02}" + (f":{second:02}" if match[2] is not None else "")
    return Point(minute * 60 + second, 1 if match[2] is not None else 60, normal)


_WEEKDAY_FORMS = "use a day name like 'Mon' or 'Monday', optionally with a time like 'Mon 08:00'"


def read_weekday(value: object, *, end: bool = False) -> Point:
    """A day of the week, ``"Mon"`` or ``"Monday"`` (any case), optionally
    followed by a time: ``"Mon 08:00"``."""
    return _day_and_time("day of the week", value, _WEEKDAY_FORMS, end, _weekday_number)


def _weekday_number(word: str) -> tuple[int, str] | None:
    number = _DAY_NUMBERS.get(word.lower())
    return None if number is None else (number, WEEKDAYS[number])


_MONTHDAY_FORMS = (
    "use a day of the month from 1 to 31 like '1', '15' or '15th', "
    "optionally with a time like '15th 08:00'"
)


def read_monthday(value: object, *, end: bool = False) -> Point:
    """A day of the month, ``"15"`` or ``"15th"`` (or the int 15), optionally
    followed by a time: ``"15th 08:00"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _day_and_time("day of the month", value, _MONTHDAY_FORMS, end, _monthday_number)


def ordinal(number: int) -> str:
    """``1`` → ``"1st"``, ``12`` → ``"12th"``, ``22`` → ``"22nd"``."""
    if 11 <= number % 100 <= 13:
        return f"{number}th"
    return f"{number}" + {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def _monthday_number(word: str) -> tuple[int, str] | None:
    match = _MONTHDAY.fullmatch(word)
    if match is None:
        return None
    number = int(match[1])
    if not 1 <= number <= 31:
        return None
    # "1th" or "2st" is a typo worth reporting, not guessing
    if match[2] is not None and match[2].lower() != ordinal(number)[-2:]:
        return None
    return number - 1, ordinal(number)


def _day_and_time(
    kind: str,
    value: object,
    forms: str,
    end: bool,
    day_number: Callable[[str], tuple[int, str] | None],
) -> Point:
    text = _need_str(kind, value, forms)
    words = text.split()
    if not 1 <= len(words) <= 2:
        raise _bad(kind, value, forms)
    found = day_number(words[0])
    if found is None:
        raise _bad(kind, value, forms, f"unknown day {words[0]!r}")
    number, name = found
    if len(words) == 1:
        return Point(number * DAY, DAY, name, whole_day=True)
    try:
        clock = read_clock(words[1], end=end)
    except ValueError as exc:
        raise _bad(kind, value, forms, str(exc).split(";")[0]) from None
    return Point(number * DAY + clock.offset, clock.resolution, f"{name} {clock.text}")
