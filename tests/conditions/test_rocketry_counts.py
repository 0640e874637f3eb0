"""The Rocketry forms that read more than the latest event or the clock:
status conditions counting the run history (``succeeded.today >= 2``),
``scheduler_cycles``, and the conditions on ``app.params`` (``IsEnv``,
``ParamExists``) — evaluated on fixed instants, as strings and Python forms."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from wall_support import BERLIN, at, check_next_change, ctx

from notebook_sched.conds import (
    IsEnv,
    ParamExists,
    failed,
    finished,
    parse_condition,
    scheduler_cycles,
    started,
    succeeded,
)

D = datetime  # 2024-06-03 is a Monday


def history(now: datetime, **events: list[datetime]):
    """A context at ``now`` for task "t" with these starts ("start") and ends."""
    times = {("t", None if how == "start" else how): sorted(at(e, BERLIN) for e in when)
             for how, when in events.items()}  # fmt: skip
    starts = {"t": times[("t", None)][-1]} if ("t", None) in times else {}
    finishes = {("t", how): ts[-1] for (_, how), ts in times.items() if how is not None}
    return ctx(at(now, BERLIN), BERLIN, task="t", starts=starts, finishes=finishes, events=times)


# -- counting the history ----------------------------------------------------------


def test_a_window_sees_an_event_that_a_later_one_would_have_hidden():
    # succeeded at 11:00 and again at 12:30: at 13:00 the 10-12 window still had one
    context = history(D(2024, 6, 3, 13), success=[D(2024, 6, 3, 11), D(2024, 6, 3, 12, 30)])
    assert succeeded.today.between("10:00", "12:00").is_true(context)
    assert (succeeded.today == 2).is_true(context)
    assert not (succeeded.today.between("10:00", "12:00") >= 2).is_true(context)


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (succeeded.today >= 2, True),
        (succeeded.today > 2, False),
        (succeeded.today == 2, True),
        (succeeded.today != 2, False),
        (succeeded.today < 3, True),
        (succeeded.today <= 1, False),
        (succeeded >= 3, True),  # ever: yesterday's counts too
        (succeeded.this_hour == 1, True),
        (failed.today == 0, True),  # Rocketry's "has not failed today"
        (failed == 0, False),
        (finished.today == 2, True),
        (finished >= 4, True),  # three successes and a failure, any end
        (started.today == 3, True),
        (succeeded.in_past("2 hours") == 1, True),
        (succeeded.in_past("3 hours") == 2, True),
    ],
)
def test_counts_compare_like_rocketry(cond, expected):
    context = history(
        D(2024, 6, 3, 12, 40),
        start=[D(2024, 6, 3, 9), D(2024, 6, 3, 11), D(2024, 6, 3, 12)],
        success=[D(2024, 6, 2, 9), D(2024, 6, 3, 10, 5), D(2024, 6, 3, 12, 30)],
        fail=[D(2024, 6, 2, 11)],
    )
    assert cond.is_true(context) is expected


def test_finished_counts_every_kind_of_end_and_the_unknown_future_is_not_counted():
    context = history(
        D(2024, 6, 3, 12),
        success=[D(2024, 6, 3, 9)],
        terminate=[D(2024, 6, 3, 10)],
        crash=[D(2024, 6, 3, 11)],
        fail=[D(2024, 6, 3, 13)],  # after now: the wall clock was set back
    )
    assert (finished.today == 3).is_true(context)
    assert (failed.today == 0).is_true(context)
    assert failed.today.next_change(context) == at(D(2024, 6, 3, 13), BERLIN)


@pytest.mark.parametrize(
    ("cond", "text"),
    [
        (succeeded.today >= 2, "has succeeded today >= 2"),
        (failed(task="a").this_hour == 0, "task 'a' has failed this hour == 0"),
        (
            succeeded.today.between("10:00", "12:00") < 3,
            "has succeeded today between 10:00 and 12:00 < 3",
        ),
        (started.in_past("2 hours") != 1, "has started past 2 hours != 1"),
        (succeeded > 5, "has succeeded > 5"),
    ],
)  # fmt: skip
def test_compared_status_reads_back(cond, text):
    assert str(cond) == text
    assert parse_condition(text) == cond


def test_comparing_needs_a_count_and_comes_last():
    with pytest.raises(TypeError, match="count of runs, got 'two'"):
        succeeded.today >= "two"  # noqa: B015
    with pytest.raises(TypeError, match="count of runs, got -1"):
        succeeded.today >= -1  # noqa: B015
    with pytest.raises(TypeError, match="already compared"):
        (succeeded.today >= 1) >= 2  # noqa: B015
    with pytest.raises(ValueError, match="before comparing"):
        (succeeded >= 1).today  # noqa: B018
    with pytest.raises(ValueError, match="before comparing"):
        (succeeded.today >= 1).between("10:00", "12:00")
    assert succeeded.today == succeeded.today  # between conditions == is equality
    assert succeeded.today != failed.today


@pytest.mark.parametrize(
    "cond",
    [
        succeeded.today >= 2,
        succeeded.today == 1,
        succeeded.today.between("10:00", "12:00") >= 2,
        succeeded.this_hour < 2,
        succeeded.in_past("90 minutes") >= 2,
        succeeded.in_past("3 hours") == 1,
        failed.this_week == 0,
    ],
)
def test_next_change_of_counts_is_exact(cond):
    events = [D(2024, 6, 3, 10, 15), D(2024, 6, 3, 11, 0), D(2024, 6, 3, 11, 45)]
    context = history(D(2024, 6, 3, 12), success=events, fail=[D(2024, 6, 3, 9)])
    check_next_change(cond, context, step=900, limit=10 * 86400, count=4)


# -- scheduler_cycles --------------------------------------------------------------


@pytest.mark.parametrize(
    ("cond", "cycles", "expected", "settled"),
    [
        (scheduler_cycles(more_than=1), 1, False, False),
        (scheduler_cycles(more_than=1), 2, True, False),  # the last look may have seen 1
        (scheduler_cycles(more_than=1), 3, True, True),
        (scheduler_cycles(less_than=3), 2, True, False),
        (scheduler_cycles(less_than=3), 3, False, False),
        (scheduler_cycles(less_than=3), 4, False, True),
        (scheduler_cycles(), 0, False, False),
        (scheduler_cycles(), 2, True, True),
        (parse_condition("scheduler has 2 cycles"), 1, False, False),
        (parse_condition("scheduler has 2 cycles"), 2, True, False),
        (parse_condition("scheduler has 2 cycles"), 3, False, False),
        (parse_condition("scheduler has 2 cycles"), 4, False, True),
    ],
)
def test_scheduler_cycles(cond, cycles, expected, settled):
    context = ctx(100.0, n_cycles=cycles, cycle_sleep=0.25)
    assert cond.is_true(context) is expected
    # a count the next look may change asks for that look
    assert cond.next_change(context) == (None if settled else 100.25)


def test_scheduler_cycles_reads_like_rocketry():
    assert str(scheduler_cycles(more_than=3)) == "scheduler has more than 3 cycles"
    assert str(scheduler_cycles(less_than=3)) == "scheduler has less than 3 cycles"
    both = scheduler_cycles(more_than=1, less_than=5)
    assert str(both) == "(scheduler has more than 1 cycles & scheduler has less than 5 cycles)"
    for text in ["scheduler has more than 3 cycles", "scheduler has less than 3 cycles",
                 "scheduler has 3 cycles"]:  # fmt: skip
        assert str(parse_condition(text)) == text
    assert parse_condition("scheduler has more than 1 cycles") == scheduler_cycles(more_than=1)
    assert both.is_true(ctx(0.0, n_cycles=3)) and not both.is_true(ctx(0.0, n_cycles=5))
    with pytest.raises(ValueError, match=r"more_than=\.\.\.\) takes a number of cycles, got '1'"):
        scheduler_cycles(more_than="1")  # type: ignore[arg-type]


# -- params: IsEnv, ParamExists ----------------------------------------------------


@pytest.mark.parametrize(
    ("cond", "params", "expected"),
    [
        (IsEnv("prod"), {"env": "prod"}, True),
        (IsEnv("prod"), {"env": "dev"}, False),
        (IsEnv("prod"), {}, False),
        (ParamExists("db"), {"db": None}, True),
        (ParamExists("db", "user"), {"db": 1}, False),
        (ParamExists("db", "user"), {"db": 1, "user": 2}, True),
        (ParamExists(mode="fast"), {"mode": "fast"}, True),
        (ParamExists(mode="fast"), {"mode": "slow"}, False),
        (ParamExists(mode=None), {}, False),  # a missing one is not None
        (parse_condition("env 'prod'"), {"env": "prod"}, True),
        (parse_condition("param 'x' exists"), {"x": 0}, True),
        (parse_condition("param 'x', 'y' exists"), {"x": 0}, False),
        (parse_condition("param 'x' is 'y'"), {"x": "y"}, True),
        (parse_condition("param 'x' is 'y'"), {"x": "z"}, False),
    ],
)
def test_params_conditions(cond, params, expected):
    context = ctx(50.0, parameters=params, cycle_sleep=0.5)
    assert cond.is_true(context) is expected
    assert cond.next_change(context) == 50.5  # nothing tells when the user sets one


def test_params_conditions_read_back_and_refuse_bad_input():
    for cond, text in [
        (IsEnv("prod"), "env 'prod'"),
        (ParamExists("x"), "param 'x' exists"),
        (ParamExists("x", "y"), "param 'x', 'y' exists"),
        (ParamExists(x="y"), "param 'x' is 'y'"),
    ]:
        assert str(cond) == text
        assert parse_condition(text) == cond
    assert str(ParamExists("a", mode=2)) == "param 'a' exists & param 'mode' is 2"
    with pytest.raises(ValueError, match="name of an environment, like 'prod', got 3"):
        IsEnv(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs the name of a parameter"):
        ParamExists()
    with pytest.raises(ValueError, match="names of parameters, got 5"):
        ParamExists(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "cond",
    [
        succeeded.today.between("02:00", "03:00") >= 2,
        succeeded.today.between("02:00", "03:00") == 1,
        succeeded.today.between("01:00", "04:00") < 3,
        succeeded.today >= 3,
    ],
)
def test_counts_across_a_fold_count_both_readings_of_the_wall_clock(cond):
    # Berlin, 2024-10-27: 02:00-03:00 is shown twice; a success in each
    events = [
        at(D(2024, 10, 27, 2, 30), BERLIN, fold=0),
        at(D(2024, 10, 27, 2, 30), BERLIN, fold=1),
    ]
    events.append(at(D(2024, 10, 27, 1, 15), BERLIN))
    context = ctx(
        at(D(2024, 10, 27, 5), BERLIN), BERLIN, task="t",
        finishes={("t", "success"): max(events)}, events={("t", "success"): sorted(events)},
    )  # fmt: skip
    assert (succeeded.today.between("02:00", "03:00") == 2).is_true(context)
    check_next_change(cond, context, step=900, limit=3 * 86400)
    # the day after, at 02:30 (shown once): nothing of today counts
    assert not (succeeded.today >= 1).is_true(
        replace(context, now=at(D(2024, 10, 28, 2, 30), BERLIN))
    )
