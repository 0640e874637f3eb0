"""time_of_day / time_of_week: inside the window by the local wall clock,
start included, end excluded, wrapping, and exact next changes across
midnight and DST changes."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from wall_support import (
    BERLIN,
    NEW_YORK,
    UTC,
    at,
    check_next_change,
    ctx,
    system_zone,
    zone_and_instant,
)

from notebook_sched._conditions.calendar import DAILY
from notebook_sched._conditions.time_windows import (
    TimeWindow,
    time_of_day,
    time_of_hour,
    time_of_month,
    time_of_week,
)


def is_true_at(cond, local, tz=BERLIN, fold=0):
    return cond.is_true(ctx(at(local, tz, fold), tz))


def next_change_at(cond, local, tz=BERLIN, fold=0):
    change = cond.next_change(ctx(at(local, tz, fold), tz))
    return None if change is None else datetime.fromtimestamp(change, tz).replace(tzinfo=None)


# 2024-06-03 is a Monday.
@pytest.mark.parametrize(
    ("cond", "local", "expected"),
    [
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 7, 59, 59), False),
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 8, 0), True),
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 17, 59, 59), True),
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 18, 0), False),
        (time_of_day.between("22:00", "02:00"), datetime(2024, 6, 3, 23, 0), True),
        (time_of_day.between("22:00", "02:00"), datetime(2024, 6, 3, 1, 59), True),
        (time_of_day.between("22:00", "02:00"), datetime(2024, 6, 3, 2, 0), False),
        (time_of_day.between("22:00", "02:00"), datetime(2024, 6, 3, 21, 59), False),
        (time_of_day.between("08:00:30", "08:00:31"), datetime(2024, 6, 3, 8, 0, 30), True),
        (time_of_day.between("08:00:30", "08:00:31"), datetime(2024, 6, 3, 8, 0, 31), False),
        (time_of_day.between("20:00", "24:00"), datetime(2024, 6, 3, 23, 59, 59), True),
        (time_of_day.between(time(8), time(9)), datetime(2024, 6, 3, 8, 30), True),
        (time_of_day.after("08:00"), datetime(2024, 6, 3, 8, 0), True),
        (time_of_day.after("08:00"), datetime(2024, 6, 3, 23, 59), True),
        (time_of_day.after("08:00"), datetime(2024, 6, 3, 0, 0), False),
        (time_of_day.before("18:00"), datetime(2024, 6, 3, 0, 0), True),
        (time_of_day.before("18:00"), datetime(2024, 6, 3, 18, 0), False),
        (time_of_week.between("Mon", "Fri"), datetime(2024, 6, 3, 0, 0), True),
        (time_of_week.between("Mon", "Fri"), datetime(2024, 6, 7, 23, 59), True),  # Fri
        (time_of_week.between("Mon", "Fri"), datetime(2024, 6, 8, 0, 0), False),  # Sat
        (time_of_week.between("Mon", "Fri"), datetime(2024, 6, 2, 23, 59), False),  # Sun
        (time_of_week.between("Mon 08:00", "Fri 17:00"), datetime(2024, 6, 3, 7, 59), False),
        (time_of_week.between("Mon 08:00", "Fri 17:00"), datetime(2024, 6, 5, 3, 0), True),
        (time_of_week.between("Mon 08:00", "Fri 17:00"), datetime(2024, 6, 7, 17, 0), False),
        (time_of_week.between("Fri 18:00", "Mon 06:00"), datetime(2024, 6, 9, 12, 0), True),
        (time_of_week.between("Fri 18:00", "Mon 06:00"), datetime(2024, 6, 3, 6, 0), False),
        (time_of_week.between("saturday", "SUNDAY"), datetime(2024, 6, 9, 23, 59), True),
        (time_of_week.between("Sat", "Sun"), datetime(2024, 6, 10, 0, 0), False),
        (time_of_week.between("Tue", "Mon"), datetime(2024, 6, 3, 12, 0), True),  # whole week
        (time_of_week.after("Sat"), datetime(2024, 6, 8, 0, 0), True),
        (time_of_week.after("Sat"), datetime(2024, 6, 7, 23, 59), False),
        (time_of_week.before("Fri"), datetime(2024, 6, 7, 23, 59), True),  # Fri included
        (time_of_week.before("Fri 17:00"), datetime(2024, 6, 7, 17, 0), False),
    ],
)
def test_inside_the_window(cond, local, expected):
    assert is_true_at(cond, local) is expected


def test_reads_the_clock_of_the_context_zone():
    window = time_of_day.between("08:00", "17:00")
    noon_in_new_york = at(datetime(2024, 6, 3, 12), NEW_YORK)  # 16:00 UTC, 18:00 in Berlin
    assert window.is_true(ctx(noon_in_new_york, NEW_YORK))
    assert window.is_true(ctx(noon_in_new_york, UTC))
    assert not window.is_true(ctx(noon_in_new_york, BERLIN))


@pytest.mark.parametrize(
    ("cond", "local", "expected"),
    [
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 7), datetime(2024, 6, 3, 8)),
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 8), datetime(2024, 6, 3, 18)),
        (time_of_day.between("08:00", "18:00"), datetime(2024, 6, 3, 19), datetime(2024, 6, 4, 8)),
        (time_of_day.between("22:00", "02:00"), datetime(2024, 6, 3, 23), datetime(2024, 6, 4, 2)),
        (time_of_day.after("08:00"), datetime(2024, 6, 3, 9), datetime(2024, 6, 4, 0)),
        (time_of_day.before("08:00"), datetime(2024, 6, 3, 9), datetime(2024, 6, 4, 0)),
        (time_of_week.between("Mon", "Fri"), datetime(2024, 6, 4, 9), datetime(2024, 6, 8, 0)),
        (time_of_week.between("Mon", "Fri"), datetime(2024, 6, 8, 9), datetime(2024, 6, 10, 0)),
        (time_of_day.after("00:00"), datetime(2024, 6, 3, 9), None),  # the whole day
        (time_of_week.between("Tue", "Mon"), datetime(2024, 6, 3, 9), None),  # the whole week
    ],
)
def test_next_change(cond, local, expected):
    assert next_change_at(cond, local) == expected


class TestDaylightSaving:
    """Berlin: 2024-03-31 02:00 CET jumps to 03:00 CEST; 2024-10-27 03:00 CEST
    falls back to 02:00 CET."""

    def test_a_window_entered_by_the_jump_starts_at_the_jump(self):
        window = time_of_day.between("02:30", "04:00")
        start = ctx(at(datetime(2024, 3, 31, 1, 0), BERLIN), BERLIN)
        jump = window.next_change(start)
        assert jump == datetime(2024, 3, 31, 1, 0, tzinfo=UTC).timestamp()
        assert window.is_true(ctx(jump, BERLIN))
        assert not window.is_true(ctx(jump - 0.001, BERLIN))

    def test_a_window_inside_the_gap_does_not_happen_that_day(self):
        window = time_of_day.between("02:00", "02:30")
        assert next_change_at(window, datetime(2024, 3, 31, 1, 0)) == datetime(2024, 4, 1, 2, 0)

    def test_the_repeated_hour_is_inside_twice(self):
        window = time_of_day.between("02:30", "04:00")
        t = at(datetime(2024, 10, 27, 1, 0), BERLIN)
        changes, values = [], []
        for _ in range(4):
            t = window.next_change(ctx(t, BERLIN))
            changes.append(datetime.fromtimestamp(t, UTC).strftime("%H:%M"))
            values.append(window.is_true(ctx(t, BERLIN)))
        # 02:30 CEST, 03:00 CEST -> 02:00 CET, 02:30 CET, 04:00 CET (in UTC)
        assert changes == ["00:30", "01:00", "01:30", "03:00"]
        assert values == [True, False, True, False]

    def test_a_window_ending_in_the_repeated_hour_ends_twice(self):
        window = time_of_day.between("01:00", "02:30")
        first_end = at(datetime(2024, 10, 27, 2, 30), BERLIN, fold=0)
        second_end = at(datetime(2024, 10, 27, 2, 30), BERLIN, fold=1)
        assert window.next_change(ctx(first_end - 60, BERLIN)) == first_end
        fall_back = datetime(2024, 10, 27, 1, 0, tzinfo=UTC).timestamp()
        assert window.next_change(ctx(first_end, BERLIN)) == fall_back
        assert window.next_change(ctx(fall_back, BERLIN)) == second_end

    def test_the_system_zone_is_used_without_a_context_zone(self):
        window = time_of_day.between("02:30", "04:00")
        with system_zone("Europe/Berlin"):
            start = ctx(at(datetime(2024, 3, 31, 1, 0), BERLIN), None)
            assert window.next_change(start) == datetime(2024, 3, 31, 1, tzinfo=UTC).timestamp()
            assert window.is_true(ctx(at(datetime(2024, 3, 31, 3, 0), BERLIN), None))
        with system_zone("UTC"):
            assert not window.is_true(ctx(at(datetime(2024, 3, 31, 3, 0), BERLIN), None))


@pytest.mark.parametrize(
    ("make", "value", "fragment"),
    [
        (lambda v: time_of_day.between(v, "18:00"), "25:00", "hours go up to 23"),
        (lambda v: time_of_day.between(v, "18:00"), "8am", "'HH:MM' or 'HH:MM:SS'"),
        (lambda v: time_of_day.between(v, "18:00"), "08:60", "up to 59"),
        (lambda v: time_of_day.between(v, "18:00"), "08:00:60", "up to 59"),
        (lambda v: time_of_day.between(v, "18:00"), "24:00", "can only end a window"),
        (lambda v: time_of_day.between(v, "18:00"), "", "'HH:MM' or 'HH:MM:SS'"),
        (lambda v: time_of_day.between("08:00", v), "24:01", "hours go up to 23"),
        (lambda v: time_of_day.after(v), "8.00", "'HH:MM' or 'HH:MM:SS'"),
        (lambda v: time_of_day.before(v), "18:00 pm", "'HH:MM' or 'HH:MM:SS'"),
        (lambda v: time_of_day.between(v, "18:00"), 24, "give 0 to 23"),
        (lambda v: time_of_month.after(v), "32nd", "from 1 to 31"),
        (lambda v: time_of_hour.before(v), "61:00", "from 00 to 59"),
        (lambda v: time_of_week.between(v, "Fri"), "Mun", "unknown day 'Mun'"),
        (lambda v: time_of_week.between("Mon", v), "Fri 25:00", "hours go up to 23"),
        (lambda v: time_of_week.between("Mon", v), "Fri 08:00 pm", "a day name like 'Mon'"),
        (lambda v: time_of_week.after(v), "", "a day name like 'Mon'"),
    ],
)
def test_bad_values_are_named(make, value, fragment):
    with pytest.raises(ValueError) as info:
        make(value)
    assert repr(value) in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [None, 8.0, ["08:00"]])
def test_non_strings_are_refused(value):
    with pytest.raises(TypeError) as info:
        time_of_day.after(value)
    assert repr(value) in str(info.value) and "time_of_day.after()" in str(info.value)


def test_str_equality_and_hash():
    assert str(time_of_day.between("8:00", "18:00")) == "time of day between 08:00 and 18:00"
    assert str(time_of_day.after("08:00:30")) == "time of day after 08:00:30"
    assert str(time_of_day.before("18:00")) == "time of day before 18:00"
    assert str(time_of_week.between("monday", "FRI 17:00")) == (
        "time of week between Mon and Fri 17:00"
    )
    assert time_of_day.after("08:00") == time_of_day.between("08:00", "24:00")
    assert time_of_day.after("08:00") != time_of_day.after("08:01")
    assert time_of_day.after("00:00") != time_of_week.after("Mon")
    assert len({time_of_day.before("18:00"), time_of_day.between("00:00", "18:00")}) == 1
    assert repr(time_of_day) == "time_of_day"
    assert TimeWindow("time of day", DAILY.after("08:00")).task_refs() == frozenset()


# -- next_change, checked against brute force ------------------------------------

# quarter hours, half of them around the small hours when clocks change
_QUARTERS = st.one_of(st.integers(0, 95), st.integers(4, 16)).map(
    lambda q: f"{q // 4:02}:{q % 4 * 15:02}"
)
_DAYS = st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
_WEEK_POINT = st.one_of(_DAYS, st.tuples(_DAYS, _QUARTERS).map(" ".join))


@st.composite
def day_windows(draw):
    kind = draw(st.sampled_from(["between", "after", "before"]))
    if kind == "between":
        start, end = draw(_QUARTERS), draw(_QUARTERS)
        if start == end:
            end = "24:00"
        return time_of_day.between(start, end)
    if kind == "after":
        return time_of_day.after(draw(_QUARTERS))
    return time_of_day.before(draw(_QUARTERS.filter(lambda q: q != "00:00")))


@st.composite
def week_windows(draw):
    kind = draw(st.sampled_from(["between", "after", "before"]))
    if kind == "between":
        start, end = draw(_WEEK_POINT), draw(_WEEK_POINT)
        try:
            return time_of_week.between(start, end)
        except ValueError:  # starts where it ends
            assume(False)
    if kind == "after":
        return time_of_week.after(draw(_WEEK_POINT))
    return time_of_week.before(draw(_WEEK_POINT.filter(lambda p: p != "Mon 00:00")))


@settings(max_examples=150, deadline=None)
@given(day_windows(), zone_and_instant())
def test_next_change_of_day_windows_is_exact(window, zone_now):
    tz, now = zone_now
    check_next_change(window, ctx(now, tz), step=900, limit=4 * 86400)


@settings(max_examples=60, deadline=None)
@given(week_windows(), zone_and_instant(days=8))
def test_next_change_of_week_windows_is_exact(window, zone_now):
    tz, now = zone_now
    check_next_change(window, ctx(now, tz), step=900, limit=16 * 86400)


@settings(max_examples=60, deadline=None)
@given(day_windows(), zone_and_instant())
def test_next_change_in_the_system_zone_is_exact(window, zone_now):
    tz, now = zone_now
    with system_zone(tz.key):
        check_next_change(window, ctx(now, None), step=900, limit=4 * 86400)


_SECONDS = st.integers(0, 86399).map(lambda s: f"{s // 3600:02}:{s // 60 % 60:02}:{s % 60:02}")


@settings(max_examples=100, deadline=None)
@given(
    _SECONDS,
    _SECONDS,
    zone_and_instant(step=1),
    st.lists(st.floats(0, 1, exclude_max=True), min_size=3, max_size=3),
)
def test_the_value_holds_until_next_change_and_flips_there(start, end, zone_now, fractions):
    if start == end:
        return
    window = time_of_day.between(start, end)
    tz, now = zone_now
    value = window.is_true(ctx(now, tz))
    change = window.next_change(ctx(now, tz))
    assert change is not None and now < change <= now + 2 * 86400
    # datetimes have microseconds: the last point checked is a millisecond short
    last = max(now, change - 1e-3)
    for t in [now, last, *(min(now + f * (change - now), last) for f in fractions)]:
        assert window.is_true(ctx(t, tz)) is value
    assert window.is_true(ctx(change, tz)) is not value
