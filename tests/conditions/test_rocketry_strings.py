"""Rocketry's condition syntax reference (docs/condition_syntax/*.rst, its
handbook's examples and its own parser tests), string by string: each
parses to the same condition as the Python form, and its str() parses back
to an equal condition."""

from __future__ import annotations

import pytest

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
    every,
    false,
    running,
    true,
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
        ("after tasks 'a', 'b' crashed", "crashed", "succeeded, failed, finished"),
        ("after any task 'a'", "task", "'tasks'"),
        ("after tasks 'a',", "", "a task name in quotes"),
        ("task 'a' is walking", "walking", "'running'"),
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
