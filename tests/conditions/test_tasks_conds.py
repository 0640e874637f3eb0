"""every, after_success / after_fail / after_finish, running: conditions on
the task's own and other tasks' runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notebook_sched._conditions.base import StaticContext
from notebook_sched._conditions.every import Every, every
from notebook_sched._conditions.running import Running, running
from notebook_sched._conditions.tasks import (
    TaskFinished,
    after_fail,
    after_finish,
    after_success,
)

T0 = 1_700_000_000.0


def context(now, **kwargs):
    kwargs.setdefault("started_at", T0)
    kwargs.setdefault("task", "me")
    return StaticContext(now=now, **kwargs)


# -- every ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "now", "expected"),
    [
        ({}, T0, (True, None)),  # never ran: at once
        # ran 6 s ago, before this scheduler started: the history counts (SPEC 5)
        ({"me": T0 - 5}, T0 + 1, (False, T0 + 5)),
        ({"me": T0 - 50}, T0 + 1, (True, None)),
        ({"me": T0}, T0 + 9.5, (False, T0 + 10)),
        ({"me": T0}, T0 + 10, (True, None)),
        ({"me": T0 + 3}, T0 + 30, (True, None)),
        ({"other": T0}, T0 + 1, (True, None)),
    ],
)
def test_every(starts, now, expected):
    cond, ctx = every("10 seconds"), context(now, starts=starts)
    assert (cond.is_true(ctx), cond.next_change(ctx)) == expected


def test_every_as_a_scheduler_condition_counts_from_the_start():
    cond = every(60)
    assert not cond.is_true(context(T0 + 59, task=None))
    assert cond.next_change(context(T0 + 59, task=None)) == T0 + 60
    assert cond.is_true(context(T0 + 60, task=None))


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.001, 10 * 86400),
    st.one_of(st.none(), st.floats(-86400, 86400)),
    st.floats(0, 20 * 86400),
)
def test_every_holds_until_next_change(interval, last, ahead):
    cond = every(interval)
    starts = {} if last is None else {"me": T0 + last}
    now = T0 + max(last or 0, 0) + ahead
    value, change = (
        cond.is_true(context(now, starts=starts)),
        cond.next_change(context(now, starts=starts)),
    )
    if change is None:
        assert value and cond.is_true(context(now + 10 * interval, starts=starts))
    else:
        assert not value and change > now
        assert not cond.is_true(context((now + change) / 2, starts=starts))
        assert cond.is_true(context(change, starts=starts))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(0, "0"), (-1, "-1"), ("10", "'10'"), ("10 secnds", "'10 secnds'"), (None, "None")],
)
def test_every_refuses_bad_intervals(value, fragment):
    with pytest.raises(ValueError) as info:
        every(value)
    assert fragment in str(info.value) and "every() interval" in str(info.value)


def test_every_str_equality_and_hash():
    assert str(every("10 seconds")) == "every 10 seconds"
    assert str(every("1h20m")) == "every 1 hour 20 minutes"
    assert str(every(timedelta(milliseconds=1500))) == "every 1.5 seconds"
    assert every("1 min") == every(60) == Every(timedelta(minutes=1))
    assert every(60) != every(61)
    assert len({every(60), every("60 s")}) == 1


# -- after_success / after_fail / after_finish ---------------------------------


@pytest.mark.parametrize(
    ("make", "finishes", "own_start", "expected"),
    [
        (after_success, {}, None, False),
        (after_success, {("a", "success"): T0 + 5}, None, True),
        (after_success, {("a", "success"): T0}, None, True),  # at the scheduler's start
        (after_success, {("a", "success"): T0 - 1}, None, False),  # before it
        (after_success, {("a", "fail"): T0 + 5}, None, False),
        (after_success, {("a", "success"): T0 + 5}, T0 + 6, False),  # already acted on
        (after_success, {("a", "success"): T0 + 7}, T0 + 6, True),
        (after_success, {("a", "success"): T0 + 6}, T0 + 6, False),  # the finish that started me
        (after_success, {("a", "success"): T0 + 5}, T0 - 100, True),  # own run is older
        (after_fail, {("a", "fail"): T0 + 5}, None, True),
        (after_fail, {("a", "success"): T0 + 5}, None, False),
        (after_finish, {("a", "fail"): T0 + 5}, None, True),
        (after_finish, {("a", "success"): T0 + 5}, None, True),
        (after_finish, {("a", "terminate"): T0 + 5}, None, True),
        (after_finish, {("a", "success"): T0 + 5}, T0 + 9, False),
    ],
)
def test_after(make, finishes, own_start, expected):
    starts = {} if own_start is None else {"me": own_start}
    ctx = context(T0 + 10, finishes=finishes, starts=starts)
    cond = make("a")
    assert cond.is_true(ctx) is expected
    assert cond.next_change(ctx) is None  # only runs change it, never time


class FakeTask:
    """Like the engine's Task: a string name, not callable."""

    name = "a"


def a():
    """Like a decorated task function."""


@pytest.mark.parametrize("task", ["a", FakeTask(), a])
def test_a_task_can_be_given_as_name_task_or_function(task):
    assert after_success(task) == TaskFinished("a", "success")
    assert running(task) == Running("a")
    assert after_success(task).task_refs() == frozenset({"a"})


@pytest.mark.parametrize(
    ("make", "task", "exc"),
    [
        (after_success, 42, TypeError),
        (after_fail, None, TypeError),
        (after_finish, object(), TypeError),
        (running, 3.5, TypeError),
        (after_success, "", ValueError),
        (running, "  ", ValueError),
    ],
)
def test_anything_else_is_refused_by_name(make, task, exc):
    with pytest.raises(exc) as info:
        make(task)
    assert repr(task) in str(info.value) and make.__name__ in str(info.value)


def test_after_str_equality_and_hash():
    assert str(after_success("a")) == "after task 'a' succeeded"
    assert str(after_fail("a")) == "after task 'a' failed"
    assert str(after_finish("it's")) == 'after task "it\'s" finished'
    assert after_success("a") != after_fail("a") and after_success("a") != after_success("b")
    assert len({after_success("a"), after_success(FakeTask())}) == 1
    with pytest.raises(ValueError, match="'succeeded'"):
        TaskFinished("a", "succeeded")


# -- running ----------------------------------------------------------------------


def test_running():
    ctx = context(T0 + 10, running={"a": T0 + 2})
    assert running("a").is_true(ctx)
    assert not running("b").is_true(ctx)
    assert running("a").next_change(ctx) is None


@pytest.mark.parametrize(
    ("since", "now", "expected"),
    [
        (None, T0 + 10, (False, None)),
        (T0, T0 + 3599, (False, T0 + 3600)),
        (T0, T0 + 3600, (True, None)),
        (T0, T0 + 7200, (True, None)),
    ],
)
def test_running_more_than(since, now, expected):
    cond = running("a").more_than("1 hour")
    ctx = context(now, running={} if since is None else {"a": since})
    assert (cond.is_true(ctx), cond.next_change(ctx)) == expected


def test_running_str_equality_and_refs():
    assert str(running("a")) == "task 'a' is running"
    assert str(running("a").more_than("1h20m")) == "task 'a' is running more than 1 hour 20 minutes"
    assert running("a").more_than(60) == running("a").more_than("1 minute")
    assert running("a") != running("a").more_than(60)
    assert running("a").more_than(60).task_refs() == frozenset({"a"})
    with pytest.raises(ValueError, match="'soon'"):
        running("a").more_than("soon")
