"""Durations as users write them: seconds, ``"1 hour 20 min"``, ``"1h20m"``,
``"01:20:00"``, a ``timedelta`` — and ``"never"`` for a timeout. Rocketry's
forms (which are pandas'), too: ``"1 days, 30 min"``, ``"1d, 5h, 10m, 20s"``,
``"1 days 16:05:01.00003"``, ``"+1 days 2 hours"``.

Strings are summed as exact fractions and rounded to a float once, so
``parse_timedelta(format_duration(x)) == x`` holds for every duration ``x``.
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

__all__ = ["DurationError", "format_duration", "parse_timedelta", "parse_timeout"]

_UNITS: dict[str, Fraction] = {
    name: Fraction(size)
    for names, size in (
        (("us", "usec", "usecs", "microsecond", "microseconds"), Fraction(1, 1_000_000)),
        (("ms", "msec", "msecs", "millisecond", "milliseconds"), Fraction(1, 1000)),
        (("s", "sec", "secs", "second", "seconds"), 1),
        (("m", "min", "mins", "minute", "minutes"), 60),
        (("h", "hr", "hrs", "hour", "hours"), 3600),
        (("d", "day", "days"), 86400),
        (("w", "wk", "wks", "week", "weeks"), 604800),
    )
    for name in names
}
_MAX_SECONDS = 36500 * 86400  # a hundred years; anything longer is meant as "never"
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
# One "<number><unit>" piece; the unit is any run of letters so that a typo is
# reported as an unknown unit rather than as unreadable text.
_PIECE = re.compile(rf"({_NUMBER})\s*([a-z]*)", re.IGNORECASE)
_CLOCK = re.compile(r"(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)")


class DurationError(ValueError):
    """A duration that cannot be read. ``why`` is the reason alone; ``span``
    the ``(start, end)`` of the offending part of a string value (``None``
    when no one part is to blame), so that a caller parsing a longer text can
    point at it."""

    def __init__(self, message: str, why: str = "", span: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.why, self.span = why, span


def _accepted(never: bool) -> str:
    forms = [
        "seconds (0.5)",
        "a string like '1 hour 20 min', '1h20m' or '01:20:00'",
        "a datetime.timedelta",
    ]
    if never:
        forms.append("'never'")
    return "use " + ", ".join(forms[:-1]) + ", or " + forms[-1]


def _fail(
    value: object, what: str, why: str, never: bool, span: tuple[int, int] | None = None
) -> DurationError:
    message = f"{what} {value!r} is not understood: {why}; {_accepted(never)}"
    return DurationError(message, why, span)


def _parse(value: object, what: str, never: bool) -> float:
    # bool is an int subclass, but True seconds is a mistake, never a duration
    if isinstance(value, bool):
        raise _fail(value, what, "a bool is not a duration", never)
    if isinstance(value, timedelta):
        exact: Fraction | float = Fraction(value // timedelta(microseconds=1), 1_000_000)
    elif isinstance(value, numbers.Real):
        try:
            exact = float(value)
        except OverflowError:  # an int too large for a float
            raise _fail(value, what, "it is longer than 36500 days", never) from None
        if math.isnan(exact):
            raise _fail(value, what, "NaN is not a duration", never)
        if math.isinf(exact) and exact > 0:
            hint = "for no timeout use 'never'" if never else "it must be finite"
            raise _fail(value, what, hint, never)
    elif isinstance(value, str):
        exact = _parse_text(value, what, never)
    else:
        raise _fail(value, what, f"a {type(value).__name__} is not a duration", never)
    if exact <= 0:
        raise _fail(value, what, "it must be more than zero", never)
    if exact > _MAX_SECONDS:
        raise _fail(value, what, "it is longer than 36500 days", never)
    return float(exact)


def _parse_text(text: str, what: str, never: bool) -> Fraction:
    stripped = text.strip()
    if not stripped:
        raise _fail(text, what, "it is empty", never, (0, len(text)))
    if stripped.startswith("-"):
        raise _fail(text, what, "it must be more than zero", never)
    # Rocketry's (pandas') forms too: a leading "+", pieces separated by commas
    # ("1 days, 30 min"), and a clock after the days ("1 days 16:05:01.00003").
    # Commas become blanks, so that offsets into ``text`` stay right.
    text = text.replace(",", " ")
    pos = len(text) - len(text.lstrip())
    if text.startswith("+", pos):
        pos += 1
    total, clock_seen = Fraction(0), False
    while pos < len(text):
        clock = _CLOCK.match(text, pos)
        if clock is not None and (clock.end() == len(text) or text[clock.end()].isspace()):
            if clock_seen:
                raise _fail(text, what, "it has two clock forms", never, clock.span())
            clock_seen = True
            hours, minutes, seconds = clock.groups()
            total += int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)
            pos = clock.end()
        else:
            word = text[pos:].split(None, 1)[0]
            if ":" in word:
                why = "a clock form is H:MM:SS, with minutes and seconds from 00 to 59"
                raise _fail(text, what, why, never, (pos, pos + len(word)))
            match = _PIECE.match(text, pos)
            if match is None:
                raise _fail(text, what, f"cannot read {word!r}", never, (pos, pos + len(word)))
            number, unit = match.groups()
            if not unit:
                raise _fail(text, what, f"{number!r} has no unit", never, match.span(1))
            factor = _UNITS.get(unit.lower())
            if factor is None:
                raise _fail(text, what, f"unknown unit {unit!r}", never, match.span(2))
            total += Fraction(number) * factor
            pos = match.end()
        pos += len(text[pos:]) - len(text[pos:].lstrip())
    return total


def parse_timedelta(value: object, *, what: str = "duration") -> float:
    """A duration in seconds, > 0.

    Accepts int or float seconds, a ``datetime.timedelta``, or a string such as
    ``"10 seconds"``, ``"0.1 sec"``, ``"1 hour 20 min"``, ``"1h20m"`` or
    ``"01:20:00"`` (units us, ms, s, m, h, d, w and their long forms, any
    case); pieces may be separated by commas and may end with a clock
    (``"1 days, 30 min"``, ``"1 days 16:05:01.00003"``), and a ``"+"`` may
    lead, as Rocketry (pandas) writes them.
    Anything else — zero, negative, NaN, infinite, a number without a unit, an
    unknown unit, more than 36500 days, another type — raises ``ValueError``
    whose message names ``what`` and contains ``repr(value)``.
    """
    return _parse(value, what, never=False)


def parse_timeout(value: object) -> float | None:
    """A timeout in seconds as ``parse_timedelta`` reads it, or ``None`` for
    the string ``"never"`` (any case): no timeout."""
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    return _parse(value, "timeout", never=True)


def format_duration(seconds: float) -> str:
    """A compact form that ``parse_timedelta`` reads back to the same float:
    ``"10 seconds"``, ``"1 hour 20 minutes"``, ``"0.123 seconds"``, ``"1 day"``."""
    # repr() is the shortest decimal that reads back as the same float; split
    # it exactly so that no digit is lost or invented.
    rest = Decimal(repr(float(seconds)))
    parts = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(rest // size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
            rest -= count * size
    if rest or not parts:
        text = format(rest.normalize(), "f")
        parts.append(f"{text} second{'' if text == '1' else 's'}")
    return " ".join(parts)
