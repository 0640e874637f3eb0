"""The string forms: what parses to what, precedence, round trips through
str(), and errors that quote the string and point at the bad word."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notebook_sched._conditions.base import All, Any, Condition, Not, condition, false, true
from notebook_sched._conditions.parse import ConditionSyntaxError, parse_condition, to_condition
from notebook_sched.conds import (
    after_fail,
    after_finish,
    after_success,
    cron,
    daily,
    every,
    hourly,
    monthly,
    running,
    time_of_day,
    time_of_week,
    weekly,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", true),
        ("FALSE", false),
        ("every 10 seconds", every(10)),
        ("every 1 hour 20 min", every(4800)),
        ("every 1h20m", every(4800)),
        ("every 01:20:00", every(4800)),
        ("every 0.1 sec", every(0.1)),
        ("hourly", hourly),
        ("daily", daily),
        ("Weekly", weekly),
        ("monthly", monthly),
        ("daily between 08:00 and 18:00", daily.between("08:00", "18:00")),
        ("daily after 08:00", daily.after("08:00")),
        ("daily before 18:00", daily.before("18:00")),
        ("daily at 10:00", daily.at("10:00")),
        ("hourly between 15 and 45", hourly.between("15", "45")),
        ("weekly on Mon", weekly.at("Mon")),
        ("weekly on monday", weekly.at("Mon")),
        ("weekly between Mon 08:00 and Fri 17:00", weekly.between("Mon 08:00", "Fri 17:00")),
        ("monthly between 1st and 5th", monthly.between("1", "5")),
        ("monthly on 15th 10:00", monthly.at("15th 10:00")),
        ("time of day between 08:00 and 18:00", time_of_day.between("08:00", "18:00")),
        ("time of day after 08:00", time_of_day.after("08:00")),
        ("time of day before 18:00", time_of_day.before("18:00")),
        ("Time Of Day BETWEEN 22:00 AND 02:00", time_of_day.between("22:00", "02:00")),
        ("time of week between Mon and Fri", time_of_week.between("Mon", "Fri")),
        ("time of week after Sat 12:00", time_of_week.after("Sat 12:00")),
        ("after task 'a'", after_success("a")),
        ('after task "a" succeeded', after_success("a")),
        ("after task 'a' failed", after_fail("a")),
        ("after task 'a' finished", after_finish("a")),
        ("after task 'my task'", after_success("my task")),
        ("after task 'it\\'s'", after_success("it's")),
        ("task 'a' running", running("a")),
        ("task 'a' running more than 1 hour", running("a").more_than(3600)),
        ("cron */5 * * * *", cron("*/5 * * * *")),
        ("cron 0 8 * * mon-fri", cron("0 8 * * mon-fri")),
        ("cron '*/5 * * * *'", cron("*/5 * * * *")),
    ],
)
def test_parses(text, expected):
    assert parse_condition(text) == expected


def test_operators_and_precedence():
    a, b, c = daily, every(10), after_success("x")
    assert parse_condition("daily & every 10 seconds") == All(a, b)
    assert parse_condition("daily | every 10 seconds & after task 'x'") == Any(a, All(b, c))
    assert parse_condition("(daily | every 10 seconds) & after task 'x'") == All(Any(a, b), c)
    assert parse_condition("~daily & every 10 seconds") == All(Not(a), b)
    assert parse_condition("~(daily & every 10 seconds)") == Not(All(a, b))
    assert parse_condition("~~daily") == Not(Not(a))
    assert parse_condition("daily&hourly|true") == Any(All(daily, hourly), true)
    assert parse_condition("cron * * * * * & daily") == All(cron("* * * * *"), daily)
    assert parse_condition("every 10 seconds|daily") == Any(every(10), daily)
    assert parse_condition(" ( ( daily ) ) ") == daily


ROUND_TRIPS = [
    true,
    false,
    every("10 seconds"),
    every(0.25),
    every("1 day 2 hours 3 minutes 4.5 seconds"),
    cron("*/5 * * * *"),
    hourly,
    hourly.at("30:15"),
    daily.between("08:00", "18:00"),
    daily.between("22:00", "02:00:30"),
    daily.after("08:00"),
    daily.before("18:00"),
    daily.at("10:00"),
    weekly.at("Mon"),
    weekly.between("Mon 08:00", "Fri"),
    monthly.between("1st", "15th 12:00"),
    time_of_day.between("08:00", "24:00"),
    time_of_week.before("Fri 17:00"),
    after_success("a"),
    after_fail("it's"),
    after_finish('say "hi"'),
    after_finish("both ' and \""),
    running("a"),
    running("a").more_than("1h20m"),
    (daily & every(10)) | ~after_success("a"),
    ~(hourly | false),
]


@pytest.mark.parametrize("cond", ROUND_TRIPS, ids=str)
def test_str_parses_back(cond):
    parsed = parse_condition(str(cond))
    assert parsed == cond
    assert str(parsed) == str(cond)


_ATOMS = st.sampled_from([c for c in ROUND_TRIPS if not isinstance(c, All | Any | Not)])
_TREES = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a | b, inner, inner),
        st.builds(lambda a: ~a, inner),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(_TREES)
def test_any_combination_parses_back(cond):
    assert parse_condition(str(cond)) == cond


def test_str_of_a_custom_condition_is_not_in_the_language():
    with pytest.raises(ValueError):
        parse_condition(str(condition(lambda: True)))


# -- errors ---------------------------------------------------------------------

END = object()  # the error points at the end of the text


def locate(text, bad):
    """(start, width) of the bad word: given as (word, start) when it is not
    the first occurrence, or END."""
    if bad is END:
        return len(text), 1
    if isinstance(bad, tuple):
        return bad[1], len(bad[0])
    return text.index(bad), len(bad)


@pytest.mark.parametrize(
    ("text", "bad", "fragment"),
    [
        ("daily betwen 08:00 and 18:00", "betwen", "did you mean 'between'?"),
        ("evry 10 seconds", "evry", "did you mean 'every'?"),
        ("every 10 secnds", "secnds", "unknown unit 'secnds'"),
        ("every 10", "10", "no unit"),
        ("every", END, "ends too early; expected a duration"),
        ("every daily", "daily", "combine conditions with &"),
        ("(daily", "(", "never closed"),
        ("daily & (every 10 seconds | hourly", "(", "never closed"),
        ("daily)", ")", "no '(' to close"),
        ("(daily hourly)", "hourly", "expected between, after"),
        ("daily &", END, "ends too early"),
        ("& daily", "&", "expected a condition"),
        ("daily hourly", "hourly", "expected between, after, before, at, on, starting, &"),
        ("daily and hourly", "and", "combine conditions with & (and)"),
        ("daily or hourly", "or", "combine conditions with &"),
        ("not daily", "not", "combine conditions with &"),
        ("time of dya between 08:00 and 18:00", "dya", "did you mean 'day'?"),
        ("time day between 08:00 and 18:00", "day", "expected 'of'"),
        ("time of day", END, "expected between, after, before, on or at"),
        ("time of day during 08:00", "during", "expected between, after, before, on or at"),
        ("time of year after Jan", "year", "expected second, minute, hour, day, week or month"),
        ("time of day between 08:00 18:00", "18:00", "expected 'and'"),
        ("time of day between 25:00 and 18:00", "25:00", "hours go up to 23"),
        ("time of day between 08:00 and 8pm", "8pm", "'HH:MM' or 'HH:MM:SS'"),
        ("time of day after 24:00", "24:00", "can only end a window"),
        ("time of week between Mun and Fri", "Mun", "unknown day 'Mun'"),
        ("hourly at 75", "75", "minutes go from 00 to 59"),
        ("monthly on 32nd", "32nd", "from 1 to 31"),
        ("after task a", ("a", 11), "a task name in quotes"),
        ("after tsk 'a'", "tsk", "expected 'task'"),
        ("after task 'a' succeded", "succeded", "did you mean 'succeeded'?"),
        ("after task 'a", "'a", "the quote ' is never closed"),
        ("task a running", ("a", 5), "a task name in quotes"),
        ("task 'a' runing", "runing", "did you mean 'running'?"),
        ("task 'a' running more 1 hour", "1", "expected 'than'"),
        ("task 'a' running more than", END, "a duration"),
        ("cron */5 * * *", END, "five cron fields"),
        ("cron */5 * * * * *", ("*", 17), "expected &, |"),
        ("cron 61 * * * *", "61 * * * *", "is not valid"),
        ("cron '0 0 30 2 *'", "'0 0 30 2 *'", "never fires"),
        ("", END, "it is empty"),
        ("   ", END, "it is empty"),
        ("~", END, "ends too early"),
        ("true false", "false", "expected &, |"),
        ("'a'", "'a'", "unexpected quoted name 'a'"),
        ("__import__('os').system('ls')", "__import__", "expected a condition"),
    ],
)
def test_errors_quote_the_text_and_point_at_the_bad_word(text, bad, fragment):
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    first, shown, caret = str(info.value).split("\n")
    assert first.startswith(f"condition {text!r} is not understood at column ")
    assert fragment in first
    start, width = locate(text, bad)
    assert f"column {start + 1}:" in first
    if isinstance(bad, str) and bad.isalnum():
        assert repr(bad) in first  # the bad word is named
    assert shown == "    " + text
    assert caret == "    " + " " * start + "^" * width


def test_the_caret_lines_up_under_tabs():
    with pytest.raises(ValueError) as info:
        parse_condition("daily\tbetwen 08:00 and 18:00")
    _, shown, caret = str(info.value).split("\n")
    assert shown.index("betwen") == caret.index("^")


def test_syntax_errors_are_value_errors():
    assert issubclass(ConditionSyntaxError, ValueError)


@pytest.mark.parametrize("value", [None, 42, daily])
def test_parse_condition_takes_only_strings(value):
    with pytest.raises(TypeError, match="takes a string") as info:
        parse_condition(value)
    assert repr(value) in str(info.value)


# -- to_condition ------------------------------------------------------------------


def test_to_condition_passes_conditions_and_none_and_parses_strings():
    assert to_condition(None, what="start_cond") is None
    assert to_condition(daily, what="start_cond") is daily
    assert to_condition("daily & every 10 seconds", what="x") == daily & every(10)
    assert isinstance(to_condition("true", what="x"), Condition)


def test_to_condition_names_what_for_a_bad_string():
    with pytest.raises(ValueError) as info:
        to_condition("every 10 secnds", what="start_cond of task 'x'")
    assert str(info.value).startswith("start_cond of task 'x': condition 'every 10 secnds'")
    assert "secnds" in str(info.value)


@pytest.mark.parametrize(
    ("value", "hint"),
    [(42, ""), (True, ""), (object, ""), (["daily"], ""), (lambda: True, "condition(func)")],
)
def test_to_condition_refuses_other_types_by_name(value, hint):
    with pytest.raises(TypeError) as info:
        to_condition(value, what="end_cond of task 'x'")
    message = str(info.value)
    assert message.startswith("end_cond of task 'x' must be a condition")
    assert repr(value) in message and hint in message
