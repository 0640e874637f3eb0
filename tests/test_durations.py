"""Durations: what parse_timedelta / parse_timeout accept, what they refuse
(naming the value), and format_duration reading back exactly."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notebook_sched._durations import (
    DurationError,
    format_duration,
    parse_timedelta,
    parse_timeout,
)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (10, 10.0),
        (0.5, 0.5),
        (Fraction(1, 4), 0.25),
        (timedelta(minutes=3), 180.0),
        (timedelta(microseconds=1), 1e-6),
        ("1 hour", 3600.0),
        ("10 seconds", 10.0),
        ("0.1 sec", 0.1),
        (".5s", 0.5),
        ("1 hour 20 min", 4800.0),
        ("1h20m", 4800.0),
        ("1h 20m", 4800.0),
        ("  1H20M  ", 4800.0),
        ("01:20:00", 4800.0),
        ("1:20:00.25", 4800.25),
        ("250ms", 0.25),
        ("2 milliseconds", 0.002),
        ("1 day 1 hour 1 minute 1 second", 90061.0),
        ("1 week", 604800.0),
        ("2 weeks", 1209600.0),
        ("1.5 hours", 5400.0),
        ("36500 days", 36500 * 86400.0),
        # Rocketry's (pandas') forms
        ("1 days, 30 min", 86400 + 1800.0),
        ("1d, 5h, 10m, 20s", 86400 + 5 * 3600 + 600 + 20.0),
        ("1 days 16:05:01.00003", 86400 + 16 * 3600 + 5 * 60 + 1.00003),
        ("+1 days 16:05:01", 86400 + 16 * 3600 + 5 * 60 + 1.0),
        ("+1 days, 2 hours", 86400 + 7200.0),
        ("2 hours, 30 minutes", 9000.0),
        ("1 day, 12 hour, 30 min, 20 sec", 86400 + 12 * 3600 + 1800 + 20.0),
        ("2 days 2 hours 20 seconds", 2 * 86400 + 7200 + 20.0),
        ("250us", 0.00025),
        ("3 microseconds", 3e-6),
    ],
)
def test_accepted(value, seconds):
    assert parse_timedelta(value) == seconds
    assert parse_timeout(value) == seconds


@pytest.mark.parametrize("value", ["never", "NEVER", " Never "])
def test_never_is_no_timeout(value):
    assert parse_timeout(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (0, "more than zero"),
        (0.0, "more than zero"),
        (-1, "more than zero"),
        (-math.inf, "more than zero"),
        (math.nan, "NaN"),
        (True, "bool"),
        (False, "bool"),
        (None, "NoneType"),
        ([1], "list"),
        (b"10 s", "bytes"),
        (timedelta(0), "more than zero"),
        (timedelta(seconds=-5), "more than zero"),
        (timedelta(days=36501), "36500 days"),
        (36500 * 86400 + 1, "36500 days"),
        (10**400, "36500 days"),
        ("", "empty"),
        ("   ", "empty"),
        ("10", "no unit"),
        ("1 hour 20", "'20' has no unit"),
        ("1 hourr", "unknown unit 'hourr'"),
        ("10 secnds", "unknown unit 'secnds'"),
        ("-5 seconds", "more than zero"),
        ("0 seconds", "more than zero"),
        ("0:00:00", "more than zero"),
        ("10 seconds and 5 minutes", "cannot read 'and'"),
        ("1:61:00", "minutes and seconds from 00 to 59"),
        ("1:20", "H:MM:SS"),
        ("soon", "cannot read 'soon'"),
        ("100000 days", "36500 days"),
        ("never", "cannot read 'never'"),  # only a timeout may be "never"
        ("-1 days, 2 hours", "more than zero"),
        ("+", "more than zero"),
        ("1 days 01:00:00 02:00:00", "two clock forms"),
        ("1 days 16:05", "H:MM:SS"),
    ],
)
def test_refused_with_the_value_in_the_message(value, why):
    with pytest.raises(ValueError) as info:
        parse_timedelta(value, what="interval")
    message = str(info.value)
    assert message.startswith(f"interval {value!r} is not understood")
    assert why in message
    assert "'1 hour 20 min'" in message and "datetime.timedelta" in message
    assert "'never'" not in message.split(";")[-1]


def test_timeout_messages_offer_never():
    with pytest.raises(ValueError) as info:
        parse_timeout("1 hourr")
    assert str(info.value) == (
        "timeout '1 hourr' is not understood: unknown unit 'hourr'; use seconds (0.5), "
        "a string like '1 hour 20 min', '1h20m' or '01:20:00', a datetime.timedelta, or 'never'"
    )


def test_infinity_suggests_never():
    with pytest.raises(ValueError, match="for no timeout use 'never'"):
        parse_timeout(math.inf)
    with pytest.raises(ValueError, match="must be finite"):
        parse_timedelta(math.inf)


@pytest.mark.parametrize(
    ("text", "span"),
    [("1 hourr", (2, 7)), ("10", (0, 2)), ("1 hour 20", (7, 9)), ("5 s and", (4, 7))],
)
def test_errors_point_at_the_bad_part(text, span):
    with pytest.raises(DurationError) as info:
        parse_timedelta(text)
    assert info.value.span == span


def test_an_error_rebuilt_from_its_message_keeps_its_type():
    # callers prefix messages with type(exc)(f"{label}: {exc}")
    with pytest.raises(DurationError) as info:
        parse_timeout(0)
    rebuilt = type(info.value)(f"task 'x': {info.value}")
    assert isinstance(rebuilt, ValueError) and str(rebuilt).startswith("task 'x': timeout 0")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (10, "10 seconds"),
        (1, "1 second"),
        (0.123, "0.123 seconds"),
        (60, "1 minute"),
        (4800, "1 hour 20 minutes"),
        (86400, "1 day"),
        (90061.5, "1 day 1 hour 1 minute 1.5 seconds"),
        (3600.25, "1 hour 0.25 seconds"),
        (1e-5, "0.00001 seconds"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=1e-9, max_value=36500 * 86400.0, allow_nan=False),
        st.integers(min_value=1, max_value=36500 * 86400).map(float),
        st.integers(min_value=1, max_value=10**9).map(lambda ms: ms / 1000),
    )
)
def test_format_duration_reads_back_exactly(seconds):
    text = format_duration(seconds)
    assert parse_timedelta(text) == seconds
    assert re.search(r"\d[eE]", text) is None  # plain decimals, never 1e-05
