"""hourly / daily / weekly / monthly: once per period, optionally only inside
a window of it; next changes at period boundaries and window edges."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from wall_support import BERLIN, NEW_YORK, UTC, at, check_next_change, ctx, zone_and_instant

from notebook_sched._conditions.periods import (
    Periodic,
    daily,
    hourly,
    minutely,
    monthly,
    secondly,
    weekly,
)


def state(cond, now, last=None, tz=BERLIN, fold=0, **kwargs):
    """(is_true, next_change as a local datetime) with the task last started at ``last``."""
    starts = {} if last is None else {"t": at(last, tz)}
    context = ctx(at(now, tz, fold), tz, task="t", starts=starts, **kwargs)
    change = cond.next_change(context)
    local = None if change is None else datetime.fromtimestamp(change, tz).replace(tzinfo=None)
    return cond.is_true(context), local


D = datetime  # 2024-06-03 is a Monday


@pytest.mark.parametrize(
    ("cond", "now", "last", "expected"),
    [
        # bare periods: true until the task starts in the period, then false until the next
        (daily, D(2024, 6, 3, 9), None, (True, None)),
        (daily, D(2024, 6, 3, 9), D(2024, 6, 2, 23, 59), (True, None)),
        (daily, D(2024, 6, 3, 9), D(2024, 6, 3, 0, 0), (False, D(2024, 6, 4))),
        (hourly, D(2024, 6, 3, 9, 30), D(2024, 6, 3, 9, 10), (False, D(2024, 6, 3, 10))),
        (hourly, D(2024, 6, 3, 9, 30), D(2024, 6, 3, 8, 59), (True, None)),
        (weekly, D(2024, 6, 5, 9), D(2024, 6, 3, 1), (False, D(2024, 6, 10))),
        (weekly, D(2024, 6, 5, 9), D(2024, 6, 2, 23), (True, None)),
        (monthly, D(2024, 6, 30, 9), D(2024, 6, 1), (False, D(2024, 7, 1))),
        (monthly, D(2024, 12, 30, 9), D(2024, 12, 1), (False, D(2025, 1, 1))),
        (monthly, D(2024, 6, 1, 0), D(2024, 5, 31, 23), (True, None)),
        # windows: also inside the window
        (daily.between("08:00", "18:00"), D(2024, 6, 3, 7), None, (False, D(2024, 6, 3, 8))),
        (daily.between("08:00", "18:00"), D(2024, 6, 3, 9), None, (True, D(2024, 6, 3, 18))),
        (
            daily.between("08:00", "18:00"),
            D(2024, 6, 3, 9),
            D(2024, 6, 3, 8),
            (False, D(2024, 6, 4, 8)),
        ),
        (
            daily.between("08:00", "18:00"),
            D(2024, 6, 3, 9),
            D(2024, 6, 3, 7),
            (True, D(2024, 6, 3, 18)),
        ),
        # .at(): one unit from the moment, as in Rocketry (an hour of a day)
        (daily.at("10:00"), D(2024, 6, 3, 10, 0, 59), None, (True, D(2024, 6, 3, 11))),
        (daily.at("10:00"), D(2024, 6, 3, 10, 59, 59), None, (True, D(2024, 6, 3, 11))),
        (daily.at("10:00"), D(2024, 6, 3, 11), None, (False, D(2024, 6, 4, 10))),
        (daily.at("10:00"), D(2024, 6, 3, 9, 59, 59), None, (False, D(2024, 6, 3, 10))),
        (daily.at("10:00:30"), D(2024, 6, 3, 10, 0, 30), None, (True, D(2024, 6, 3, 11, 0, 30))),
        (daily.at("23:30"), D(2024, 6, 4, 0, 15), D(2024, 6, 3, 22), (True, D(2024, 6, 4, 0, 30))),
        (daily.after("20:00"), D(2024, 6, 3, 19), None, (False, D(2024, 6, 3, 20))),
        (daily.before("06:00"), D(2024, 6, 3, 5), None, (True, D(2024, 6, 3, 6))),
        (hourly.between("15", "45"), D(2024, 6, 3, 9, 50), None, (False, D(2024, 6, 3, 10, 15))),
        (hourly.at("30:30"), D(2024, 6, 3, 9, 30, 30), None, (True, D(2024, 6, 3, 9, 31, 30))),
        (hourly.at("42:00"), D(2024, 6, 3, 9, 42, 59), None, (True, D(2024, 6, 3, 9, 43))),
        (hourly.at("42:00"), D(2024, 6, 3, 9, 43), None, (False, D(2024, 6, 3, 10, 42))),
        (hourly.at("30:00.0000"), D(2024, 6, 3, 9, 30), None, (True, D(2024, 6, 3, 9, 31))),
        (weekly.at("Mon"), D(2024, 6, 3, 9), None, (True, D(2024, 6, 4))),
        (weekly.at("Fri 17:00"), D(2024, 6, 3, 9), None, (False, D(2024, 6, 7, 17))),
        (weekly.on("Mon"), D(2024, 6, 3, 23, 59), D(2024, 6, 2), (True, D(2024, 6, 4))),
        (weekly.on("Mon"), D(2024, 6, 4), None, (False, D(2024, 6, 10))),
        # .starting(): the whole period, its occurrences from the moment
        (weekly.starting("Tue"), D(2024, 6, 3, 9), D(2024, 5, 28, 9), (False, D(2024, 6, 4))),
        (weekly.starting("Tue"), D(2024, 6, 4, 0, 1), D(2024, 6, 3, 9), (True, None)),
        (daily.starting("06:00"), D(2024, 6, 3, 5), D(2024, 6, 2, 7), (False, D(2024, 6, 3, 6))),
        (monthly.starting("3rd"), D(2024, 6, 2), D(2024, 5, 3), (False, D(2024, 6, 3))),
        (monthly.starting("3."), D(2024, 6, 3), D(2024, 5, 3), (True, None)),
        # between(x, x) is the same as starting(x)
        (
            daily.between("10:00", "10:00"),
            D(2024, 6, 3, 9),
            D(2024, 6, 2, 11),
            (False, D(2024, 6, 3, 10)),
        ),
        # secondly and minutely
        (
            secondly,
            D(2024, 6, 3, 9, 0, 0, 500000),
            D(2024, 6, 3, 9, 0, 0, 100000),
            (False, D(2024, 6, 3, 9, 0, 1)),
        ),
        (
            secondly.before("500"),
            D(2024, 6, 3, 9, 0, 1, 600000),
            None,
            (False, D(2024, 6, 3, 9, 0, 2)),
        ),
        (minutely, D(2024, 6, 3, 9, 0, 30), D(2024, 6, 3, 9, 0, 1), (False, D(2024, 6, 3, 9, 1))),
        (minutely.before("45"), D(2024, 6, 3, 9, 0, 30), None, (True, D(2024, 6, 3, 9, 0, 45))),
        (
            minutely.after("30.5"),
            D(2024, 6, 3, 9, 0, 30),
            None,
            (False, D(2024, 6, 3, 9, 0, 30, 500000)),
        ),
        # ints, as Rocketry takes them: an end int includes its unit
        (daily.between(10, 14), D(2024, 6, 3, 14, 59), None, (True, D(2024, 6, 3, 15))),
        (monthly.between("1.", "15."), D(2024, 6, 15, 23), None, (True, D(2024, 6, 16))),
        (weekly.between("Sat", "Sun"), D(2024, 6, 3, 9), D(2024, 6, 1), (False, D(2024, 6, 8))),
        (monthly.between("1st", "5th"), D(2024, 6, 5, 23), None, (True, D(2024, 6, 6))),
        (monthly.at("15"), D(2024, 6, 14, 9), None, (False, D(2024, 6, 15))),
        # a month without the 31st has no such window
        (monthly.at("31st"), D(2024, 4, 1), D(2024, 3, 31, 9), (False, D(2024, 5, 31))),
        (monthly.at("31st"), D(2024, 9, 1), D(2024, 8, 31, 9), (False, D(2024, 10, 31))),
    ],
)
def test_state_and_next_change(cond, now, last, expected):
    assert state(cond, now, last) == expected


def test_a_window_wrapping_midnight_is_one_occurrence():
    night = daily.between("22:00", "02:00")
    started = D(2024, 6, 3, 22, 30)
    # after midnight it is still the same night: no second run
    assert state(night, D(2024, 6, 4, 1), started) == (False, D(2024, 6, 4, 22))
    assert state(night, D(2024, 6, 4, 22), started) == (True, D(2024, 6, 5, 2))
    # a night that began before the task ever ran is open until 02:00
    assert state(night, D(2024, 6, 4, 1), D(2024, 6, 3, 21)) == (True, D(2024, 6, 4, 2))


def test_a_wrapping_month_window_after_a_short_month():
    # February 2025 has no 30th: that occurrence begins on March 1st
    window = monthly.between("30th", "2nd")
    assert state(window, D(2025, 3, 1, 12), D(2025, 3, 1, 0, 10)) == (False, D(2025, 3, 30))
    assert state(window, D(2025, 3, 1, 12), D(2025, 2, 28, 23)) == (True, D(2025, 3, 3))


def test_a_run_before_the_window_does_not_count_for_it():
    # started by hand at 07:00, the 08:00-18:00 run is still due
    assert state(daily.between("08:00", "18:00"), D(2024, 6, 3, 9), D(2024, 6, 3, 7))[0]


class TestDaylightSaving:
    def test_days_end_at_wall_clock_midnight(self):
        # 2024-03-31 in Berlin is 23 hours long
        ran = D(2024, 3, 31, 12)
        now = at(D(2024, 3, 31, 13), BERLIN)
        change = daily.next_change(ctx(now, BERLIN, task="t", starts={"t": at(ran, BERLIN)}))
        assert change == datetime(2024, 3, 31, 22, 0, tzinfo=UTC).timestamp()

    def test_no_second_run_in_the_repeated_hour(self):
        # 2024-10-27 in Berlin shows 02:00-03:00 twice
        first_pass = D(2024, 10, 27, 2, 30)
        assert state(hourly, D(2024, 10, 27, 2, 40), first_pass, fold=1) == (
            False,
            D(2024, 10, 27, 3),
        )
        assert state(daily.at("02:30"), D(2024, 10, 27, 2, 30), first_pass, fold=1)[0] is False

    def test_a_window_the_gap_cuts_starts_at_the_jump(self):
        # 02:30-03:30 on the day the clock jumps from 02:00 to 03:00: from 03:00
        assert state(daily.at("02:30"), D(2024, 3, 31, 1), None) == (False, D(2024, 3, 31, 3))
        assert state(daily.between("02:15", "02:45"), D(2024, 3, 31, 1), None) == (
            False,
            D(2024, 4, 1, 2, 15),
        )

    def test_new_york(self):
        # 2024-03-10 02:00 EST jumps to 03:00 EDT
        assert state(daily.after("02:15"), D(2024, 3, 10, 1), None, tz=NEW_YORK) == (
            False,
            D(2024, 3, 10, 3, 0),
        )


def test_a_scheduler_condition_counts_from_the_scheduler_start():
    started = at(D(2024, 6, 3, 9), BERLIN)
    context = ctx(at(D(2024, 6, 3, 12), BERLIN), BERLIN, started_at=started)
    assert not daily.is_true(context)
    assert daily.next_change(context) == at(D(2024, 6, 4), BERLIN)


def test_str_equality_and_hash():
    assert str(daily) == "daily"
    assert str(daily.between("8:00", "18:00")) == "daily between 08:00 and 18:00"
    assert str(daily.at("10:00")) == "daily at 10:00"
    assert str(daily.after("10:00")) == "daily after 10:00"
    assert str(daily.before("10:00")) == "daily before 10:00"
    assert str(hourly.between("5", "45:30")) == "hourly between 05 and 45:30"
    assert str(weekly.at("monday")) == "weekly on Mon"
    assert str(weekly.at("Mon 10:00")) == "weekly at Mon 10:00"
    assert str(monthly.between("1", "15")) == "monthly between 1st and 15th"
    assert daily.between("08:00", "24:00") == daily.after("08:00")
    assert daily.between("00:00", "24:00") == daily
    assert daily != hourly and daily.at("10:00") != daily.at("10:01")
    assert len({daily.at("10:00"), daily.between("10:00", "11:00")}) == 1
    assert weekly.on("Mon") == weekly.at("Monday") == weekly.between("Mon", "Mon")
    assert str(weekly.starting("Tuesday")) == "weekly starting Tue"
    assert str(monthly.at("1.")) == "monthly on 1st"
    assert str(hourly.at("30:00.0000")) == "hourly at 30:00.0000"
    assert str(daily.between(10, 14)) == "daily between 10:00 and 15:00"
    assert str(secondly.before("500")) == "secondly before 500"
    assert str(minutely.after("30.5")) == "minutely after 30.5"
    assert isinstance(daily, Periodic) and daily.task_refs() == frozenset()


@pytest.mark.parametrize(
    ("make", "value", "fragment"),
    [
        (daily.at, "25:00", "hours go up to 23"),
        (daily.at, "10", "'HH:MM' or 'HH:MM:SS'"),
        (daily.after, "24:00", "can only end"),
        (hourly.at, "75", "from 00 to 59"),
        (hourly.at, "10:00:00", "'MM' or 'MM:SS'"),
        (hourly.at, "60", "from 00 to 59"),
        (daily.between, 24, "give 0 to 23"),
        (weekly.at, 8, "give 1 to 7"),
        (minutely.at, "61", "from 00 to 59"),
        (secondly.at, "1000", "from 0 to 999"),
        (secondly.at, "abc", "milliseconds"),
        (weekly.at, "Mun", "unknown day 'Mun'"),
        (weekly.at, "Mon 8am", "a day name like 'Mon'"),
        (monthly.at, "32", "from 1 to 31"),
        (monthly.at, "0th", "from 1 to 31"),
        (monthly.at, "2st", "from 1 to 31"),
        (monthly.at, "first", "from 1 to 31"),
    ],
)
def test_bad_values_are_named(make, value, fragment):
    with pytest.raises(ValueError) as info:
        make(*([value] * (2 if make.__name__ == "between" else 1)))
    assert repr(value) in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("value", [None, 8.5, ["10:00"], True])
def test_non_strings_are_refused(value):
    with pytest.raises(TypeError) as info:
        daily.at(value)
    assert repr(value) in str(info.value) and "daily.at()" in str(info.value)


def test_a_window_cannot_be_added_twice():
    with pytest.raises(ValueError, match="'daily at 10:00' already has a window"):
        daily.at("10:00").between("08:00", "18:00")


# -- next_change, checked against brute force ------------------------------------

_QUARTERS = st.one_of(st.integers(0, 95), st.integers(4, 16)).map(
    lambda q: f"{q // 4:02}:{q % 4 * 15:02}"
)
_MINUTES = st.sampled_from(["00", "15", "30", "45"])
_DAYS = st.sampled_from(["Mon", "Wed", "Sun"])


@st.composite
def windowed(draw, base, point, kinds=("bare", "between", "after", "before")):
    kind = draw(st.sampled_from(kinds))
    try:
        if kind == "bare":
            return base
        if kind == "between":
            return base.between(draw(point), draw(point))
        return getattr(base, kind)(draw(point))
    except ValueError:  # empty, or starts where it ends
        assume(False)


@st.composite
def last_start(draw, now):
    """None, or a start up to 40 days back (rarely a little in the future)."""
    return draw(st.one_of(st.none(), st.floats(now - 40 * 86400, now + 3600)))


@settings(max_examples=120, deadline=None)
@given(
    st.one_of(
        windowed(daily, _QUARTERS),
        windowed(hourly, _MINUTES),
        windowed(weekly, st.one_of(_DAYS, st.tuples(_DAYS, _QUARTERS).map(" ".join))),
    ),
    zone_and_instant(days=8),
    st.data(),
)
def test_next_change_is_exact(cond, zone_now, data):
    tz, now = zone_now
    last = data.draw(last_start(now))
    context = ctx(now, tz, task="t", starts={} if last is None else {"t": last})
    check_next_change(cond, context, step=900, limit=cond.window.period.horizon)


@settings(max_examples=40, deadline=None)
@given(
    st.one_of(
        windowed(daily, _QUARTERS, kinds=["at"]),
        windowed(hourly, _MINUTES, kinds=["at"]),
        windowed(weekly, st.tuples(_DAYS, _QUARTERS).map(" ".join), kinds=["at"]),
    ),
    zone_and_instant(days=2),
    st.data(),
)
def test_next_change_of_one_minute_windows_is_exact(cond, zone_now, data):
    # .at("10:15") of hourly is a minute long: off the quarter-hour grid
    tz, now = zone_now
    last = data.draw(last_start(now))
    context = ctx(now, tz, task="t", starts={} if last is None else {"t": last})
    check_next_change(cond, context, step=60, limit=cond.window.period.horizon, count=2)


@settings(max_examples=30, deadline=None)
@given(
    windowed(
        monthly,
        st.sampled_from(["1st", "2nd", "15th", "29th", "30th", "31st"]),
        kinds=("bare", "between", "after", "before", "at"),
    ),
    st.sampled_from([BERLIN, NEW_YORK]),
    st.integers(0, 430 * 24),
    st.data(),
)
def test_next_change_of_monthly_is_exact(cond, tz, hours, data):
    now = at(D(2024, 1, 1), tz) + hours * 3600.0 + data.draw(st.sampled_from([0, 0.5]))
    last = data.draw(last_start(now))
    context = ctx(now, tz, task="t", starts={} if last is None else {"t": last})
    check_next_change(cond, context, step=3600, limit=100 * 86400, count=2)
