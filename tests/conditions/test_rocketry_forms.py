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
    failed,
    finished,
    hourly,
    retry,
    running,
    scheduler_running,
    started,
    succeeded,
    terminated,
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
    "after_any_fail", "started", "succeeded", "failed", "finished", "retry",
    "scheduler_running", "scheduler_cycles", "running", "cron", "crontime", "condition",
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


# -- task status: started, succeeded, failed, finished, terminated ----------------


def status(cond, now, task="t", **events):
    """is_true and next_change (local) with the events given as local times:
    ``success=D(...)``, ``start=D(...)``, ``terminate=D(...)``."""
    finishes = {
        (name, how): at(t, BERLIN)
        for how, t in events.items()
        if how != "start"
        for name in ["t", "other"]
    }
    starts = (
        {"t": at(events["start"], BERLIN), "other": at(events["start"], BERLIN)}
        if "start" in events
        else {}
    )
    context = ctx(at(now, BERLIN), BERLIN, task=task, starts=starts, finishes=finishes)
    change = cond.next_change(context)
    local = None if change is None else datetime.fromtimestamp(change, BERLIN).replace(tzinfo=None)
    return cond.is_true(context), local


@pytest.mark.parametrize(
    ("cond", "now", "events", "expected"),
    [
        # ever
        (succeeded, D(2024, 6, 3, 9), {"success": D(2020, 1, 1)}, (True, None)),
        (succeeded, D(2024, 6, 3, 9), {"fail": D(2024, 6, 3, 8)}, (False, None)),
        (started, D(2024, 6, 3, 9), {"start": D(2024, 6, 3, 8)}, (True, None)),
        # in the current period: until it ends
        (
            succeeded.today,
            D(2024, 6, 3, 9),
            {"success": D(2024, 6, 3, 0, 0)},
            (True, D(2024, 6, 4)),
        ),
        (succeeded.today(), D(2024, 6, 3, 9), {"success": D(2024, 6, 2, 23, 59)}, (False, None)),
        (
            failed.this_hour,
            D(2024, 6, 3, 9, 59),
            {"fail": D(2024, 6, 3, 9)},
            (True, D(2024, 6, 3, 10)),
        ),
        (
            finished.this_minute,
            D(2024, 6, 3, 9, 0, 59),
            {"success": D(2024, 6, 3, 9, 0, 1)},
            (True, D(2024, 6, 3, 9, 1)),
        ),
        (finished.this_week, D(2024, 6, 9, 23), {"fail": D(2024, 6, 3)}, (True, D(2024, 6, 10))),
        (
            terminated.this_month,
            D(2024, 6, 30),
            {"terminate": D(2024, 6, 1)},
            (True, D(2024, 7, 1)),
        ),
        (started.this_day, D(2024, 6, 3, 9), {"start": D(2024, 6, 3, 8)}, (True, D(2024, 6, 4))),
        # narrowed: the latest occurrence of the window up to now (Rocketry's rollback)
        (
            succeeded.today.between("10:00", "12:00"),
            D(2024, 6, 3, 13),
            {"success": D(2024, 6, 3, 11)},
            (True, D(2024, 6, 4, 10)),
        ),
        (
            succeeded.today.between("10:00", "12:00"),
            D(2024, 6, 3, 13),
            {"success": D(2024, 6, 3, 12)},
            (False, None),
        ),
        (
            succeeded.today.between("10:00", "12:00"),
            D(2024, 6, 4, 9),
            {"success": D(2024, 6, 3, 11)},
            (True, D(2024, 6, 4, 10)),
        ),
        (
            failed.this_week.on("Monday"),
            D(2024, 6, 5),
            {"fail": D(2024, 6, 3, 15)},
            (True, D(2024, 6, 10)),
        ),
        (
            started.this_week.before("Friday"),
            D(2024, 6, 8),
            {"start": D(2024, 6, 7, 23)},
            (True, D(2024, 6, 10)),
        ),
        (
            terminated.this_month.after("6th"),
            D(2024, 6, 20),
            {"terminate": D(2024, 6, 5)},
            (False, None),
        ),
        # in the past: until it is that old
        (
            succeeded.in_past("2 hours, 30 minutes"),
            D(2024, 6, 3, 9),
            {"success": D(2024, 6, 3, 7)},
            (True, D(2024, 6, 3, 9, 30)),
        ),
        (
            succeeded.in_past("1 hour"),
            D(2024, 6, 3, 9),
            {"success": D(2024, 6, 3, 8)},
            (False, None),
        ),
        # another task
        (
            succeeded(task="other").today,
            D(2024, 6, 3, 9),
            {"success": D(2024, 6, 3, 8)},
            (True, D(2024, 6, 4)),
        ),
    ],
)
def test_status_conditions(cond, now, events, expected):
    assert status(cond, now, **events) == expected


def test_status_of_no_task_and_its_errors():
    assert not succeeded.is_true(ctx(at(D(2024, 6, 3), BERLIN), BERLIN))  # a shut_cond: no task
    with pytest.raises(ValueError, match="already has a period"):
        succeeded.today.this_week  # noqa: B018
    with pytest.raises(ValueError, match="needs a whole period first"):
        succeeded.between("10:00", "12:00")
    with pytest.raises(ValueError, match=r"succeeded.today.between\(\)"):
        succeeded.today.between("25:00", "12:00")
    assert succeeded(task="a").task_refs() == frozenset({"a"})
    assert succeeded.today.task_refs() == frozenset()


@pytest.mark.parametrize(
    ("cond", "text"),
    [
        (succeeded.today, "has succeeded today"),
        (failed.this_hour, "has failed this hour"),
        (
            succeeded(task="a").today.between("10:00", "12:00"),
            "task 'a' has succeeded today between 10:00 and 12:00",
        ),
        (failed.this_week.on("Monday"), "has failed this week on Mon"),
        (terminated.this_month.after("6th"), "has terminated this month after 6th"),
        (started, "has started"),
        (succeeded.in_past(9000), "has succeeded past 2 hours 30 minutes"),
        (finished.this_minute, "has finished this minute"),
    ],
)
def test_status_str_is_rocketrys_string(cond, text):
    assert str(cond) == text
    assert conds.parse_condition(text) == cond


# -- running, retry, scheduler_running ---------------------------------------------


def running_ctx(now, starts, task="t"):
    context = ctx(now, BERLIN, task=task)
    context.running_starts = lambda name: starts if name == "a" or task == name else []  # type: ignore[method-assign]
    return context


@pytest.mark.parametrize(
    ("cond", "starts", "now", "expected"),
    [
        (running("a"), [], 100.0, (False, None)),
        (running("a"), [50.0], 100.0, (True, None)),
        (running("a") >= 2, [50.0], 100.0, (False, None)),
        (running("a") >= 2, [50.0, 60.0], 100.0, (True, None)),
        (running("a") > 1, [50.0, 60.0], 100.0, (True, None)),
        (running("a") <= 1, [50.0, 60.0], 100.0, (False, None)),
        (running("a") < 1, [], 100.0, (True, None)),
        (running("a") == 0, [], 100.0, (True, None)),
        (running("a") != 0, [], 100.0, (False, None)),
        (running("a").more_than(60), [50.0], 100.0, (False, 110.0)),
        (running("a").more_than(60), [50.0], 110.0, (True, None)),
        (running("a").less_than("2 mins"), [50.0], 169.0, (True, 170.0)),
        (running("a").less_than("2 mins"), [50.0], 170.0, (False, None)),
        (running("a").between("1 min", "2 mins"), [50.0], 100.0, (False, 110.0)),
        (running("a").between("1 min", "2 mins"), [50.0], 110.0, (True, 170.0)),
        (running.more_than("2 mins"), [0.0], 120.0, (True, None)),
        (running <= 4, [1.0, 2.0, 3.0, 4.0], 10.0, (True, None)),
        (~running, [1.0], 10.0, (False, None)),
    ],
)
def test_running(cond, starts, now, expected):
    context = running_ctx(now, starts)
    assert (cond.is_true(context), cond.next_change(context)) == expected


def test_running_reads_like_rocketry_and_compares_like_it():
    assert str(running("a")) == "task 'a' is running"
    assert str(running("a") >= 2) == "task 'a' is running >= 2"
    assert str(running.more_than("2 mins")) == "running more than 2 minutes"
    assert (
        str(running("a").between(60, 120))
        == "task 'a' is running more than 1 minute less than 2 minutes"
    )
    for cond in (
        running("a") >= 2,
        running.more_than(120),
        running("a").between(60, 120),
        running <= 4,
    ):
        assert conds.parse_condition(str(cond)) == cond
    assert running("a") == running("a") and running("a") != running("b")
    assert len({running("a"), running("a")}) == 1
    with pytest.raises(TypeError, match="count of runs"):
        running("a") >= "2"  # noqa: B015
    with pytest.raises(TypeError, match="already names its task"):
        running("a")("b")


@pytest.mark.parametrize(
    ("cond", "streak", "alive", "expected"),
    [
        (retry(2), 0, False, False),
        (retry(2), 1, False, True),
        (retry(2), 2, False, True),
        (retry(2), 3, False, False),
        (retry(2), 1, True, False),  # not while a run is alive
        (retry(0), 1, False, False),
        (retry, 50, False, True),  # any number of times
    ],
)
def test_retry(cond, streak, alive, expected):
    context = ctx(
        100.0, BERLIN, task="t", fail_streaks={"t": streak}, running={"t": 90.0} if alive else {}
    )
    assert cond.is_true(context) is expected
    assert not cond.is_true(ctx(100.0, BERLIN, fail_streaks={"t": 1}))  # no task: no retry


def test_retry_reads_back_and_refuses_bad_counts():
    assert str(retry(2)) == "retry 2" and str(retry) == "retry"
    assert conds.parse_condition("retry 2") == retry(2)
    assert conds.parse_condition("daily | retry") == daily | retry
    with pytest.raises(ValueError, match="-2"):
        retry(-2)


@pytest.mark.parametrize(
    ("cond", "up", "expected"),
    [
        (scheduler_running(more_than="5 minutes"), 299.0, (False, 300.0)),
        (scheduler_running(more_than="5 minutes"), 300.0, (True, None)),
        (scheduler_running(less_than="5 minutes"), 299.0, (True, 300.0)),
        (scheduler_running(less_than="5 minutes"), 300.0, (False, None)),
        (scheduler_running(more_than=60, less_than=120), 90.0, (True, 120.0)),
        (scheduler_running(more_than=60, less_than=120), 30.0, (False, 60.0)),
        (scheduler_running(), 0.0, (True, None)),
    ],
)
def test_scheduler_running(cond, up, expected):
    context = ctx(1000.0 + up, BERLIN, started_at=1000.0)
    change = cond.next_change(context)
    assert (cond.is_true(context), None if change is None else change - 1000.0) == expected
    assert conds.parse_condition(str(cond)) == cond


# -- every(..., based=...) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("based", "events", "expected"),
    [
        ("run", {"start": 90.0}, (False, 100.0)),
        ("success", {"start": 95.0, "success": 80.0}, (True, None)),
        ("success", {"start": 95.0, "success": 92.0}, (False, 102.0)),
        ("fail", {"fail": 91.0}, (False, 101.0)),
        ("finish", {"success": 85.0, "terminate": 93.0}, (False, 103.0)),
        ("finish", {}, (True, None)),
    ],
)
def test_every_based_on_another_event(based, events, expected):
    cond = conds.every("10 seconds", based=based)
    starts = {"t": events["start"]} if "start" in events else {}
    finishes = {("t", how): t for how, t in events.items() if how != "start"}
    context = ctx(95.0, BERLIN, task="t", starts=starts, finishes=finishes, started_at=0.0)
    assert (cond.is_true(context), cond.next_change(context)) == expected


def test_every_based_reads_back_and_refuses_the_unknown():
    cond = conds.every("1 hour", based="success")
    assert str(cond) == "every 1 hour based on success"
    assert conds.parse_condition(str(cond)) == cond != conds.every("1 hour")
    with pytest.raises(ValueError, match="'inaction'"):
        conds.every("1 hour", based="inaction")


# -- status: next_change against a brute-force walk ---------------------------------


@pytest.mark.parametrize(
    "cond",
    [
        succeeded.today,
        succeeded.this_hour,
        failed.this_week.on("Wed"),
        succeeded.today.between("10:00", "12:00"),
        succeeded.today.between("22:00", "02:00"),
        finished.this_month.after("5th"),
        started.in_past("90 minutes"),
    ],
)
@pytest.mark.parametrize("hours_before", [0.5, 3, 11, 30, 80])
def test_status_next_change_is_exact(cond, hours_before):
    now = at(D(2024, 6, 5, 11, 15), BERLIN)
    last = now - hours_before * 3600
    context = ctx(
        now,
        BERLIN,
        task="t",
        starts={"t": last},
        finishes={("t", "success"): last, ("t", "fail"): last},
    )
    check_next_change(cond, context, step=900, limit=40 * 86400, count=2)
