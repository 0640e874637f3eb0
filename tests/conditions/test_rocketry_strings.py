"""Rocketry's condition syntax reference (docs/condition_syntax/*.rst, its
handbook's examples and its own parser tests), string by string: each
parses to the same condition as the Python form, and its str() parses back
to an equal condition."""

from __future__ import annotations

import pytest

import notebook_sched.conds as conds
from notebook_sched._conditions.base import All, Any, Not
from notebook_sched._conditions.parse import ConditionSyntaxError, parse_condition
from notebook_sched.conds import (
    after_all_fail,
    after_all_finish,
    after_all_success,
    after_any_fail,
    after_any_finish,
    after_any_success,
    after_fail,
    after_finish,
    after_success,
    cron,
    daily,
    every,
    failed,
    false,
    finished,
    hourly,
    minutely,
    monthly,
    retry,
    running,
    scheduler_running,
    secondly,
    started,
    succeeded,
    terminated,
    time_of_day,
    time_of_hour,
    time_of_month,
    time_of_week,
    true,
    weekly,
)

ABC = ("first", "second", "third")

CASES = [
    # logical
    ("always true", true),
    ("always false", false),
    ("true", true),
    ("false", false),
    ("always true & always false", All(true, false)),
    ("always true | always false", Any(true, false)),
    ("~ always false", Not(false)),
    ("always", true),  # Rocketry's time periods "always" and "never" as conditions
    ("never", false),
    ("~never & (always)", All(Not(false), true)),
    ("(true & true)\n        | (false & ~\n        false)", (true & true) | (false & ~false)),
    ("true & false & ~(true | false)", true & false & ~(true | false)),
    # durations in Rocketry's forms
    ("every 2 hours, 30 minutes", every(9000)),
    ("every 1 day, 12 hour, 30 min, 20 sec", every(86400 + 12 * 3600 + 1800 + 20)),
    ("every 2 days 2 hours 20 seconds", every(2 * 86400 + 7200 + 20)),
    ("every 1 days 1 hours 30 minutes 30 seconds", every(86400 + 3600 + 1800 + 30)),
    ("every 1d, 5h, 10m, 20s", every(86400 + 5 * 3600 + 600 + 20)),
    ("every 1 days 16:05:01.00003", every(86400 + 16 * 3600 + 301.00003)),
    ("every +1 days 16:05:01", every(86400 + 16 * 3600 + 301)),
    # running
    ("task 'mytask' is running", running("mytask")),
    ("while task 'mytask' is running", running("mytask")),
    # pipelining
    ("after task 'other'", after_success("other")),
    ("after task 'other' succeeded", after_success("other")),
    ("after task 'other' failed", after_fail("other")),
    ("after task 'other' finished", after_finish("other")),
    ("after task 'group1.group-2.mytask+'", after_success("group1.group-2.mytask+")),
    ("after tasks 'first', 'second', 'third'", after_all_success(*ABC)),
    ("after tasks 'first', 'second', 'third' succeeded", after_all_success(*ABC)),
    ("after tasks 'first', 'second', 'third' failed", after_all_fail(*ABC)),
    ("after tasks 'first', 'second', 'third' finished", after_all_finish(*ABC)),
    ("after any tasks 'first', 'second', 'third' succeeded", after_any_success(*ABC)),
    ("after any tasks 'first', 'second', 'third' failed", after_any_fail(*ABC)),
    ("after any tasks 'first', 'second', 'third' finished", after_any_finish(*ABC)),
    ("after tasks 'do_a', 'do_b' succeeded", after_all_success("do_a", "do_b")),
    ("after any tasks 'do_a', 'do_b' failed", after_any_fail("do_a", "do_b")),
    ("after tasks 'a_task', 'another_task' finished", after_all_finish("a_task", "another_task")),
    # periods (Rocketry's test_parse cases_time and execution.rst)
    ("secondly", secondly),
    ("minutely", minutely),
    ("secondly starting 500", secondly.starting("500")),
    ("minutely starting 45", minutely.starting("45")),
    ("minutely before 45", minutely.before("45")),
    ("hourly starting 45:00", hourly.starting("45:00")),
    ("daily starting 10:00", daily.starting("10:00")),
    ("weekly starting Tuesday", weekly.starting("Tue")),
    ("monthly starting 1.", monthly.starting("1.")),
    ("monthly starting 3rd", monthly.starting("3rd")),
    ("hourly between 45:00 and 50:00", hourly.between("45:00", "50:00")),
    ("daily between 10:00 and 14:00", daily.between("10:00", "14:00")),
    ("daily between 22:00 and 23:00", daily.between("22:00", "23:00")),
    ("weekly between Tuesday and Wednesday", weekly.between("Tue", "Wed")),
    ("monthly between 1. and 15.", monthly.between("1.", "15.")),
    ("hourly after 45:00", hourly.after("45:00")),
    ("daily after 10:00", daily.after("10:00")),
    ("weekly after Tuesday", weekly.after("Tue")),
    ("monthly after 1.", monthly.after("1.")),
    ("hourly before 45:00", hourly.before("45:00")),
    ("daily before 10:00", daily.before("10:00")),
    ("weekly before Tuesday", weekly.before("Tue")),
    ("weekly before Friday", weekly.before("Fri")),
    ("monthly before 1.", monthly.before("1.")),
    ("weekly on Tuesday", weekly.on("Tue")),
    ("weekly on Monday", weekly.on("Monday")),
    ("hourly on 30:00.0000", hourly.at("30:00.0000")),
    # time of ... (fixed_interval.rst)
    ("time of hour between 45:00 and 50:00", time_of_hour.between("45:00", "50:00")),
    ("time of day between 10:00 and 14:00", time_of_day.between("10:00", "14:00")),
    ("time of week between Tuesday and Wednesday", time_of_week.between("Tue", "Wed")),
    ("time of month between 1st and 2nd", time_of_month.between("1st", "2nd")),
    ("time of hour after 45:00", time_of_hour.after("45:00")),
    ("time of day after 10:00", time_of_day.after("10:00")),
    ("time of week after Tuesday", time_of_week.after("Tue")),
    ("time of week after Monday", time_of_week.after("Mon")),
    ("time of month after 1.", time_of_month.after("1.")),
    ("time of month after 5th", time_of_month.after("5th")),
    ("time of hour before 45:00", time_of_hour.before("45:00")),
    ("time of day before 10:00", time_of_day.before("10:00")),
    ("time of week before Tuesday", time_of_week.before("Tue")),
    ("time of week on Tuesday", time_of_week.on("Tue")),
    ("time of week on Monday", time_of_week.on("Monday")),
    ("time of month before 1.", time_of_month.before("1.")),
    ("time of minute before 45", conds.time_of_minute.before("45")),
    ("time of day between 10:00 and 10:00", time_of_day.between("10:00", "10:00")),
    # cron
    ("cron * * * * *", cron("* * * * *")),
    ("cron 1 2 3 4 5", cron("1 2 3 4 5")),
    # task status (task_status.rst and Rocketry's test_parse)
    ("has succeeded this hour", succeeded.this_hour),
    ("has failed today between 08:00 and 16:00", failed.today.between("08:00", "16:00")),
    ("has started this week before Friday", started.this_week.before("Friday")),
    ("has terminated this month after 6th", terminated.this_month.after("6th")),
    ("has succeeded past 2 hours, 30 minutes", succeeded.in_past(9000)),
    ("has failed today", failed.today),
    ("has finished this minute", finished.this_minute),
    ("has succeeded this day", succeeded.today),
    ("has succeeded today on 10:00", succeeded.today.on("10:00")),
    ("has succeeded today starting 10:00", succeeded.today.starting("10:00")),
    ("task 'mytask' has succeeded", succeeded(task="mytask")),
    (
        "task 'mytask' has failed today between 10:00 and 12:00",
        failed(task="mytask").today.between("10:00", "12:00"),
    ),
    (
        "task 'mytask' has terminated this week between Mon and Fri",
        terminated(task="mytask").this_week.between("Mon", "Fri"),
    ),
    (
        "task 'mytask' has started this month between 1st and 5th",
        started(task="mytask").this_month.between("1st", "5th"),
    ),
    (
        "task 'mytask' has succeeded today before 10:00",
        succeeded(task="mytask").today.before("10:00"),
    ),
    ("task 'mytask' has failed in past 15 minutes", failed(task="mytask").in_past(900)),
    ("task 'mytask' has started past 15 minutes", started(task="mytask").in_past(900)),
    # scheduler (Rocketry's test_parse cases_scheduler)
    ("scheduler started 20 minutes ago", scheduler_running(less_than="20 minutes")),
    ("scheduler has run over 20 minutes", scheduler_running(more_than="20 minutes")),
    # ours, read back from str()
    ("retry 2", retry(2)),
    ("running more than 2 minutes", conds.running.more_than(120)),
    ("task 'a' is running >= 2", running("a") >= 2),
    (
        "(daily | after task 'mytask') & ~time of day after 10:00",
        (daily | after_success("mytask")) & ~time_of_day.after("10:00"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parses_like_rocketry(text, expected):
    cond = parse_condition(text)
    assert cond == expected
    assert parse_condition(str(cond)) == cond


@pytest.mark.parametrize(
    ("text", "bad", "why"),
    [
        ("always maybe", "maybe", "expected 'true' or 'false'"),
        ("after tasks missing quotes", "missing", "a task name in quotes"),
        ("after tasks 'a', 'b' crashed", "crashed", "succeeded, failed, finished, terminated"),
        ("after any task 'a'", "task", "'tasks'"),
        ("after tasks 'a',", "", "a task name in quotes"),
        ("task 'a' is walking", "walking", "'running'"),
        ("has won today", "won", "succeeded, failed, finished, started or terminated"),
        ("has failed this year", "year", "minute, hour, day, week or month"),
        ("has failed today between 25:00 and 12:00", "25:00", "hours go up to 23"),
        ("scheduler has run 3 cycles", "3", "'over'"),
        ("scheduler started 20 minutes", "", "'ago'"),
        ("task 'a' is running >= many", "many", "a number of runs"),
        ("task 'a' is running more than 1 hour less 2 hours", "2", "'than'"),
        ("task 'a' has inacted today", "inacted", "no counterpart"),
        ("has succeeded today >= some", "some", "a number of runs"),
        ("env prod", "prod", "an environment in quotes"),
        ("param 'x' present", "present", "'exists' or 'is'"),
        ("param 'x', 'y' is 'z'", "is", "'exists'"),
        ("param 'x' is fast", "fast", "a value in quotes"),
        ("param x exists", "x", "a parameter name in quotes"),
        ("scheduler has many cycles", "many", "run over, more than, less than"),
        ("scheduler has more than 3 laps", "laps", "'cycles'"),
    ],
)
def test_bad_strings_point_at_the_bad_word(text, bad, why):
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    message = str(info.value)
    assert why in message
    caret_line = message.splitlines()[-1]
    column = caret_line.index("^") - 4
    assert text[column:].startswith(bad)


def test_the_python_forms_of_many_tasks_take_tasks_names_and_functions():
    def do_a(): ...

    assert after_all_success(do_a, "b") == All(after_success("do_a"), after_success("b"))
    assert after_any_finish("a") == after_finish("a")  # one task: a combination of one
    assert str(after_any_fail("a", "b")) == "(after task 'a' failed | after task 'b' failed)"
    with pytest.raises(TypeError, match="at least one task"):
        after_all_success()
