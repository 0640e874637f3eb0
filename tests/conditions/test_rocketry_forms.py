"""Rocketry 2.5's ``rocketry.conds`` Python forms, with Rocketry's meaning,
evaluated around their boundaries on fixed instants (the injectable clock of
conditions is the context's ``now``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from wall_support import BERLIN, at, check_next_change, ctx

import notebook_sched.conds as conds
from notebook_sched.conds import (
    daily,
    hourly,
    time_of_day,
    time_of_hour,
    time_of_minute,
    time_of_month,
    time_of_second,
    time_of_week,
    weekly,
)

D = datetime  # 2024-06-03 is a Monday

ROCKETRY_CONDS = [
    "true", "false", "every", "secondly", "minutely", "hourly", "daily", "weekly", "monthly",
    "time_of_second", "time_of_minute", "time_of_hour", "time_of_day", "time_of_week",
    "time_of_month", "after_finish", "after_success", "after_fail", "after_all_finish",
    "after_all_success", "after_all_fail", "after_any_finish", "after_any_success",
    "after_any_fail", "running", "cron", "crontime", "condition",
]  # fmt: skip


@pytest.mark.parametrize("name", ROCKETRY_CONDS)
def test_every_name_of_rocketry_conds_is_here(name):
    assert name in conds.__all__ and hasattr(conds, name)


def value(cond, now, tz=BERLIN):
    return cond.is_true(ctx(at(now, tz), tz))


@pytest.mark.parametrize(
    ("cond", "inside", "outside"),
    [
        # start included, end excluded
        (
            time_of_day.between("08:00", "14:00"),
            [D(2024, 6, 3, 8), D(2024, 6, 3, 13, 59, 59)],
            [D(2024, 6, 3, 7, 59, 59), D(2024, 6, 3, 14)],
        ),
        # between(t, t) is the whole day (Rocketry)
        (
            time_of_day.between("10:00", "10:00"),
            [D(2024, 6, 3, 0), D(2024, 6, 3, 10), D(2024, 6, 3, 9, 59)],
            [],
        ),
        # .at/.on: one unit from the moment
        (
            time_of_day.at("10:00"),
            [D(2024, 6, 3, 10), D(2024, 6, 3, 10, 59, 59)],
            [D(2024, 6, 3, 9, 59, 59), D(2024, 6, 3, 11)],
        ),
        (
            time_of_week.on("Tuesday"),
            [D(2024, 6, 4), D(2024, 6, 4, 23, 59)],
            [D(2024, 6, 3, 23, 59), D(2024, 6, 5)],
        ),
        (time_of_week.after("Monday"), [D(2024, 6, 3), D(2024, 6, 9, 23, 59)], []),
        (time_of_week.before("Fri"), [D(2024, 6, 7, 23, 59)], [D(2024, 6, 8)]),
        (time_of_week.between(2, 3), [D(2024, 6, 4), D(2024, 6, 5, 23)], [D(2024, 6, 6)]),
        (
            time_of_month.between("1st", "2nd"),
            [D(2024, 6, 1), D(2024, 6, 2, 23, 59)],
            [D(2024, 6, 3)],
        ),
        (time_of_month.after("5th"), [D(2024, 6, 5), D(2024, 6, 30, 23)], [D(2024, 6, 4, 23, 59)]),
        (time_of_month.before("1."), [D(2024, 6, 1, 23, 59)], [D(2024, 6, 2)]),
        (time_of_month.on("15."), [D(2024, 6, 15, 12)], [D(2024, 6, 16)]),
        (time_of_hour.before("45:00"), [D(2024, 6, 3, 9, 44, 59)], [D(2024, 6, 3, 9, 45)]),
        (time_of_hour.after("45:00"), [D(2024, 6, 3, 9, 45)], [D(2024, 6, 3, 9, 44, 59)]),
        (
            time_of_hour.between("45:00", "50:00"),
            [D(2024, 6, 3, 9, 49, 59)],
            [D(2024, 6, 3, 9, 50)],
        ),
        (time_of_hour.at("30:00.0000"), [D(2024, 6, 3, 9, 30, 59)], [D(2024, 6, 3, 9, 31)]),
        (time_of_minute.before("45"), [D(2024, 6, 3, 9, 0, 44, 999999)], [D(2024, 6, 3, 9, 0, 45)]),
        (
            time_of_minute.between("15", "30.5"),
            [D(2024, 6, 3, 9, 0, 30, 400000)],
            [D(2024, 6, 3, 9, 0, 30, 500000)],
        ),
        (
            time_of_second.before("500"),
            [D(2024, 6, 3, 9, 0, 0, 499000)],
            [D(2024, 6, 3, 9, 0, 0, 500000)],
        ),
    ],
)
def test_time_of_windows(cond, inside, outside):
    assert all(value(cond, t) for t in inside)
    assert not any(value(cond, t) for t in outside)


@pytest.mark.parametrize(
    "cond",
    [
        time_of_week.on("Tuesday"),
        time_of_month.between("1st", "2nd"),
        time_of_hour.between("45:00", "50:00"),
        time_of_day.at("10:00"),
    ],
)
def test_next_change_of_the_new_windows_is_exact(cond):
    context = ctx(at(D(2024, 6, 3, 9, 10), BERLIN), BERLIN)
    check_next_change(cond, context, step=300, limit=40 * 86400, count=3)


def test_the_examples_of_rocketrys_readme_and_handbook_read_back():
    """``daily.at("10:00")``, ``weekly.on("Mon")``, ``hourly.at("42:00")``,
    ``monthly.starting("3rd")``: their str() is Rocketry's string syntax."""
    assert str(daily.at("07:00")) == "daily at 07:00"
    assert str(weekly.on("Mon")) == "weekly on Mon"
    assert str(hourly.at("42:00")) == "hourly at 42:00"
    assert str(conds.monthly.starting("3rd")) == "monthly starting 3rd"
    assert str(time_of_week.on("Tuesday")) == "time of week on Tue"
    for cond in (daily.at("07:00"), weekly.on("Mon"), time_of_month.after("5th")):
        assert conds.parse_condition(str(cond)) == cond


def test_daily_at_seven_runs_for_a_scheduler_started_at_seven_twenty():
    """The case from the issue: Rocketry's daily.at("07:00") still runs when
    the scheduler starts at 07:20."""
    context = ctx(at(D(2024, 6, 3, 7, 20), BERLIN), BERLIN, task="t")
    assert daily.at("07:00").is_true(context)
    assert hourly.at("42:00").is_true(ctx(at(D(2024, 6, 3, 9, 42, 30), BERLIN), BERLIN, task="t"))
