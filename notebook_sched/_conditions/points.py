"""Reading the moments that bound a window, as Rocketry users write them:
``"500"`` (milliseconds of the second), ``"30"`` / ``"30.5"`` (second of
the minute), ``"45:30"`` / ``"30:00.0000"`` (minute of the hour),
``"08:00"`` (time of day), ``"Mon 08:00"``, ``"15th"`` / ``"15."`` — or the
int Rocketry takes for each (an hour of the day, a day of the week from 1,
…).

Each reader returns a ``Point``: its offset in wall-clock seconds from the
start of the period it lies in, the text it reads back from, and ``span``:
how much an end bound covers beyond its offset — a day named without a time
(``"between Mon and Fri"`` includes Friday) and an int (Rocketry's
``time_of_day.between(10, 14)`` includes the 14 o'clock hour) cover their
whole unit; other text covers nothing (``"14:00"`` as an end is 14:00).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from fractions import Fraction

__all__ = [
    "DAY",
    "WEEKDAYS",
    "Point",
    "ordinal",
    "read_clock",
    "read_millis",
    "read_minute",
    "read_monthday",
    "read_second",
    "read_weekday",
]

DAY = 86400
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: i for i, name in enumerate(d.lower() for d in WEEKDAYS)} | {
    name: i for i, name in enumerate(_FULL_DAYS)
}

_FRACTION = r"(?:\.(\d{1,6}))?"
_CLOCK = re.compile(rf"(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}){_FRACTION})?")
_MINUTE = re.compile(rf"(\d{{1,2}})(?::(\d{{2}}){_FRACTION})?")
_SECOND = re.compile(rf"(\d{{1,2}}){_FRACTION}")
_MILLIS = re.compile(r"\d{1,4}(?:\.\d{1,3})?")
_MONTHDAY = re.compile(r"(\d{1,2})(st|nd|rd|th|\.)?", re.IGNORECASE)


@dataclass(frozen=True)
class Point:
    """A moment within a period, as a window bound."""

    offset: float  # wall-clock seconds from the start of the period
    text: str  # the normalised text, readable again by the same reader
    span: float = 0.0  # what it covers as an end: a whole day, hour, ... or nothing
    day: bool = False  # a day without a time: ``.at`` of it reads "on Mon"


def _bad(kind: str, value: object, forms: str, why: str = "") -> ValueError:
    return ValueError(f"{kind} {value!r} is not understood{': ' + why if why else ''}; {forms}")


def _need_str(kind: str, value: object, forms: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{kind} must be a string, got {value!r}; {forms}")
    return value.strip()


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _whole(
    kind: str, value: int, low: int, high: int, forms: str, unit: float, name: Callable[[int], str]
) -> Callable[[bool], Point]:
    """An int bound (Rocketry's form): the unit it names; as an end, through it."""
    if not low <= value <= high:
        raise _bad(kind, value, forms, f"give {low} to {high}")

    def point(end: bool) -> Point:
        offset = (value - low) * unit
        return Point(offset, name(value + 1) if end else name(value), unit)

    return point


def _seconds(whole: str | None, fraction: str | None) -> tuple[Fraction, str]:
    """Seconds (``"05"``) and an optional fraction (``"0003"``), exactly, with
    their text (``":05.0003"``)."""
    if whole is None:
        return Fraction(0), ""
    value = Fraction(int(whole)) + (Fraction(int(fraction), 10 ** len(fraction)) if fraction else 0)
    return value, f":{whole}" + (f".{fraction}" if fraction else "")


_CLOCK_FORMS = (
    "use 'HH:MM' or 'HH:MM:SS' on a 24-hour clock, like '08:00' or '17:30:15' "
    "(seconds may have a fraction: '17:30:15.5'), or an int hour from 0 to 23"
)


def read_clock(value: object, *, end: bool = False) -> Point:
    """A time of day: ``"HH:MM"``, ``"HH:MM:SS"``, ``"HH:MM:SS.ffffff"``, a
    ``datetime.time``, or an int hour (as an end, through that hour);
    ``"24:00"`` only as an end."""
    if (hour := _int(value)) is not None:
        return _whole("time", hour, 0, 23, _CLOCK_FORMS, 3600, lambda h: f"{h:02}:00")(end)
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise _bad("time", value, _CLOCK_FORMS, "give no time zone")
        value = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    text = _need_str("time", value, _CLOCK_FORMS)
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise _bad("time", value, _CLOCK_FORMS)
    hour, minute = int(match[1]), int(match[2])
    second, second_text = _seconds(match[3], match[4])
    if minute > 59 or second >= 60:
        raise _bad("time", value, _CLOCK_FORMS, "minutes and seconds go up to 59")
    if hour > 24 or (hour == 24 and (minute or second)):
        raise _bad("time", value, _CLOCK_FORMS, "hours go up to 23")
    if hour == 24 and not end:
        raise _bad("time", value, _CLOCK_FORMS, "'24:00' can only end a window")
    return Point(float(hour * 3600 + minute * 60 + second), f"{hour:02}:{minute:02}{second_text}")


_MINUTE_FORMS = (
    "use 'MM' or 'MM:SS' (minute of the hour), like '15' or '45:30' (seconds may have "
    "a fraction: '30:00.0000'), or an int minute from 0 to 59"
)


def read_minute(value: object, *, end: bool = False) -> Point:
    """A minute of the hour: ``"MM"``, ``"MM:SS"``, ``"MM:SS.ffff"``, or an int
    minute (as an end, through that minute); ``"60"`` only as an end."""
    if (minute := _int(value)) is not None:
        return _whole("minute of the hour", minute, 0, 59, _MINUTE_FORMS, 60, _two)(end)
    text = _need_str("minute of the hour", value, _MINUTE_FORMS)
    match = _MINUTE.fullmatch(text)
    if match is None:
        raise _bad("minute of the hour", value, _MINUTE_FORMS)
    minute = int(match[1])
    second, second_text = _seconds(match[2], match[3])
    if second >= 60 or minute > 60 or (minute == 60 and (second or not end)):
        raise _bad("minute of the hour", value, _MINUTE_FORMS, "minutes go from 00 to 59")
    return Point(float(minute * 60 + second), f"{minute:02}{second_text}")


_SECOND_FORMS = "use 'SS' or 'SS.ffffff' (second of the minute), like '30' or '30.5'"


def read_second(value: object, *, end: bool = False) -> Point:
    """A second of the minute: ``"SS"`` or ``"SS.ffffff"``, or an int second
    (as an end, through that second); ``"60"`` only as an end."""
    if (second := _int(value)) is not None:
        return _whole("second of the minute", second, 0, 59, _SECOND_FORMS, 1, _two)(end)
    text = _need_str("second of the minute", value, _SECOND_FORMS)
    match = _SECOND.fullmatch(text)
    if match is None:
        raise _bad("second of the minute", value, _SECOND_FORMS)
    seconds, _ = _seconds(match[1], match[2])
    if seconds > 60 or (seconds == 60 and not end):
        raise _bad("second of the minute", value, _SECOND_FORMS, "seconds go from 00 to 59")
    return Point(float(seconds), text)


_MILLIS_FORMS = "use milliseconds of the second from 0 to 999, like '500' or '250.5'"


def read_millis(value: object, *, end: bool = False) -> Point:
    """A millisecond of the second: ``"500"``, ``"250.5"``, or an int (as an
    end, through that millisecond); ``"1000"`` only as an end."""
    if (millis := _int(value)) is not None:
        return _whole("millisecond", millis, 0, 999, _MILLIS_FORMS, 0.001, str)(end)
    text = _need_str("millisecond", value, _MILLIS_FORMS)
    if _MILLIS.fullmatch(text) is None:
        raise _bad("millisecond", value, _MILLIS_FORMS)
    fraction = Fraction(text)
    if fraction > 1000 or (fraction == 1000 and not end):
        raise _bad("millisecond", value, _MILLIS_FORMS, "they go from 0 to 999")
    return Point(float(fraction / 1000), text)


def _two(number: int) -> str:
    return f"{number:02}"


_WEEKDAY_FORMS = (
    "use a day name like 'Mon' or 'Monday', optionally with a time like 'Mon 08:00', "
    "or a day number from 1 (Monday) to 7"
)


def read_weekday(value: object, *, end: bool = False) -> Point:
    """A day of the week, ``"Mon"`` or ``"Monday"`` (any case) or an int from
    1 (Monday) to 7, optionally followed by a time: ``"Mon 08:00"``."""
    if (number := _int(value)) is not None:
        value = WEEKDAYS[number - 1] if 1 <= number <= 7 else value
        if isinstance(value, int):
            raise _bad("day of the week", value, _WEEKDAY_FORMS, "give 1 to 7")
    return _day_and_time("day of the week", value, _WEEKDAY_FORMS, end, _weekday_number)


def _weekday_number(word: str) -> tuple[int, str] | None:
    number = _DAY_NUMBERS.get(word.lower())
    return None if number is None else (number, WEEKDAYS[number])


_MONTHDAY_FORMS = (
    "use a day of the month from 1 to 31 like '1', '15', '15th' or '15.', "
    "optionally with a time like '15th 08:00'"
)


def read_monthday(value: object, *, end: bool = False) -> Point:
    """A day of the month, ``"15"``, ``"15th"`` or ``"15."`` (or the int 15),
    optionally followed by a time: ``"15th 08:00"``."""
    if (number := _int(value)) is not None:
        value = str(number)
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
    # "1th" or "2st" is a typo worth reporting, not guessing; "1." is Rocketry's
    suffix = (match[2] or "").lower()
    if suffix not in ("", ".") and suffix != ordinal(number)[-2:]:
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
        return Point(float(number * DAY), name, DAY, day=True)
    try:
        clock = read_clock(words[1], end=end)
    except ValueError as exc:
        raise _bad(kind, value, forms, str(exc).split(";")[0]) from None
    return Point(number * DAY + clock.offset, f"{name} {clock.text}")
