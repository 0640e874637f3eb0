"""Durations as users write them: seconds, ``"1 hour 20 min"``, ``"1h20m"``,
``"01:20:00"``, a ``timedelta`` — and ``"never"`` for a timeout."""

from __future__ import annotations

import math
import re
from datetime import timedelta

__all__ = ["format_duration", "parse_timedelta", "parse_timeout"]

_UNITS = {
    "ms": 0.001,
    "msec": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}
_MAX_SECONDS = 36500 * 86400.0  # a hundred years; beyond that, say "never"
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)
_CLOCK = re.compile(r"\s*(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)\s*")
_ACCEPTED = (
    "use seconds (0.5), a string like '10 seconds', '1 hour 20 min', '1h20m' or '01:20:00', "
    "or a datetime.timedelta"
)


def _fail(value: object, what: str, why: str, never: bool) -> ValueError:
    accepted = _ACCEPTED + (", or 'never'" if never else "")
    return ValueError(f"{what} {value!r} is not understood: {why}; {accepted}")


def _parse(value: object, what: str, never: bool) -> float:
    if isinstance(value, bool):
        raise _fail(value, what, "a bool is not a duration", never)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float):
        seconds = float(value)
        if math.isnan(seconds):
            raise _fail(value, what, "NaN is not a duration", never)
        if math.isinf(seconds):
            hint = "for no timeout, say 'never'" if never else "it must be finite"
            raise _fail(value, what, hint, never)
    elif isinstance(value, str):
        seconds = _parse_text(value, what, never)
    else:
        raise _fail(value, what, f"a {type(value).__name__} is not a duration", never)
    if seconds <= 0:
        raise _fail(value, what, "it must be more than zero", never)
    if seconds > _MAX_SECONDS:
        raise _fail(value, what, "it is longer than 36500 days", never)
    return seconds


def _parse_text(text: str, what: str, never: bool) -> float:
    if not text.strip():
        raise _fail(text, what, "it is empty", never)
    if match := _CLOCK.fullmatch(text):
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    total, pos = 0.0, 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            rest = text[pos:].strip()
            why = (
                f"{rest!r} has no unit"
                if re.fullmatch(r"[\d.]+", rest)
                else f"cannot read {rest!r}"
            )
            raise _fail(text, what, why, never)
        number, unit = match.groups()
        factor = _UNITS.get(unit.lower())
        if factor is None:
            raise _fail(text, what, f"unknown unit {unit!r}", never)
        total += float(number) * factor
        pos = match.end()
    return total


def parse_timedelta(value: object, *, what: str = "duration") -> float:
    """A duration in seconds (> 0); ``ValueError`` naming ``repr(value)`` otherwise."""
    return _parse(value, what, never=False)


def parse_timeout(value: object) -> float | None:
    """A timeout in seconds, or ``None`` for ``"never"`` (no timeout)."""
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    return _parse(value, "timeout", never=True)


def format_duration(seconds: float) -> str:
    """A compact, parseable form: ``"10 seconds"``, ``"1 hour 20 minutes"``."""
    parts = []
    rest = seconds
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(rest // size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
            rest -= count * size
    if rest or not parts:
        text = f"{rest:.6f}".rstrip("0").rstrip(".") if rest != int(rest) else str(int(rest))
        parts.append(f"{text} second{'s' if text != '1' else ''}")
    return " ".join(parts)
