"""cron: true within each matching minute until the task starts in it (as in
Rocketry); each wall-clock fire time fires once, a skipped one at the jump."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wall_support import BERLIN, NEW_YORK, UTC, ZONES, at, ctx, system_zone, zone_and_instant

from notebook_sched._conditions.cron import Cron, cron, crontime
from notebook_sched._conditions.wallclock import wall

D = datetime


def local(t, tz=BERLIN):
    return datetime.fromtimestamp(t, tz).replace(tzinfo=None)


def state(cond, now, last=None, tz=BERLIN, **kwargs):
    """(is_true, next_change as local time) with the task last started at ``last``."""
    starts = {} if last is None else {"t": at(last, tz)}
    context = ctx(at(now, tz), tz, task="t", starts=starts, **kwargs)
    change = cond.next_change(context)
    return cond.is_true(context), None if change is None else local(change, tz)


@pytest.mark.parametrize(
    ("cond", "now", "last", "expected"),
    [
        # true within each matching minute until the task starts in it (Rocketry's meaning)
        (cron("*/5 * * * *"), D(2024, 6, 3, 10, 4, 59), None, (False, D(2024, 6, 3, 10, 5))),
        (cron("*/5 * * * *"), D(2024, 6, 3, 10, 5), None, (True, D(2024, 6, 3, 10, 6))),
        (cron("*/5 * * * *"), D(2024, 6, 3, 10, 5, 59), None, (True, D(2024, 6, 3, 10, 6))),
        (cron("*/5 * * * *"), D(2024, 6, 3, 10, 6), None, (False, D(2024, 6, 3, 10, 10))),
        # started in the minute: spent until the next fire time
        (
            cron("*/5 * * * *"),
            D(2024, 6, 3, 10, 5, 30),
            D(2024, 6, 3, 10, 5, 1),
            (False, D(2024, 6, 3, 10, 10)),
        ),
        # a run before the minute does not count for it
        (
            cron("*/5 * * * *"),
            D(2024, 6, 3, 10, 5, 30),
            D(2024, 6, 3, 10, 4, 59),
            (True, D(2024, 6, 3, 10, 6)),
        ),
        # every minute: the next minute is another fire time
        (
            cron("* * * * *"),
            D(2024, 6, 3, 10, 0, 30),
            D(2024, 6, 3, 10, 0, 1),
            (False, D(2024, 6, 3, 10, 1)),
        ),
        (
            cron("* * * * *"),
            D(2024, 6, 3, 10, 0, 30),
            D(2024, 6, 3, 9, 59, 1),
            (True, D(2024, 6, 3, 10, 1)),
        ),
        # crontime: the clock alone
        (
            crontime("*/5 * * * *"),
            D(2024, 6, 3, 10, 5, 30),
            D(2024, 6, 3, 10, 5, 1),
            (True, D(2024, 6, 3, 10, 6)),
        ),
        (crontime("*/5 * * * *"), D(2024, 6, 3, 10, 6), None, (False, D(2024, 6, 3, 10, 10))),
    ],
)
def test_true_within_each_matching_minute_until_the_task_starts(cond, now, last, expected):
    assert state(cond, now, last) == expected


def test_fire_times_missed_while_running_are_not_made_up():
    # the 10:00 run lasted until 10:17: 10:05, 10:10 and 10:15 passed; 10:20 is next
    assert state(cron("*/5 * * * *"), D(2024, 6, 3, 10, 17), D(2024, 6, 3, 10, 0)) == (
        False,
        D(2024, 6, 3, 10, 20),
    )


def test_a_scheduler_started_inside_a_matching_minute_runs_at_once():
    started = at(D(2024, 6, 3, 10, 5, 30), BERLIN)
    context = ctx(started, BERLIN, task="t", started_at=started)
    assert cron("*/5 * * * *").is_true(context)


def test_a_run_of_an_earlier_session_in_the_same_minute_counts():
    # the history outlives the kernel: a run at 10:05:10 before a restart at 10:05:30
    context = ctx(
        at(D(2024, 6, 3, 10, 5, 30), BERLIN),
        BERLIN,
        task="t",
        started_at=at(D(2024, 6, 3, 10, 5, 30), BERLIN),
        starts={"t": at(D(2024, 6, 3, 10, 5, 10), BERLIN)},
    )
    assert not cron("*/5 * * * *").is_true(context)


def test_a_scheduler_condition_counts_from_the_scheduler_start():
    def context(started):
        return ctx(at(D(2024, 6, 3, 10, 0, 30), BERLIN), BERLIN, started_at=at(started, BERLIN))

    assert cron("0 10 * * *").is_true(context(D(2024, 6, 3, 9, 59)))
    assert not cron("0 10 * * *").is_true(context(D(2024, 6, 3, 10, 0, 10)))
    assert not cron("0 11 * * *").is_true(context(D(2024, 6, 3, 9, 59)))


@pytest.mark.parametrize(
    ("expression", "after", "tz", "fire"),
    [
        ("0 8 * * mon-fri", D(2024, 6, 7, 9), BERLIN, D(2024, 6, 10, 8)),
        ("30 1 1 * *", D(2024, 6, 1, 2), BERLIN, D(2024, 7, 1, 1, 30)),
        ("0 0 29 2 *", D(2024, 3, 1), BERLIN, D(2028, 2, 29)),
        ("0 12 * * *", D(2024, 6, 3, 12), BERLIN, D(2024, 6, 4, 12)),  # strictly after
        # a fire time in the spring gap fires at the jump (03:00 CEST)
        ("30 2 * * *", D(2024, 3, 31, 1), BERLIN, D(2024, 3, 31, 3, 0)),
        ("*/10 2 * * *", D(2024, 3, 10, 1, 59), NEW_YORK, D(2024, 3, 10, 3, 0)),
    ],
)
def test_next_fire(expression, after, tz, fire):
    assert local(Cron(expression).next_fire(at(after, tz), tz), tz) == fire


class TestFold:
    """Berlin 2024-10-27: 02:00-03:00 happens twice."""

    def test_a_fire_time_in_the_repeated_hour_fires_once(self):
        daily_0230 = Cron("30 2 * * *")
        first = daily_0230.next_fire(at(D(2024, 10, 27, 1), BERLIN), BERLIN)
        assert first == at(D(2024, 10, 27, 2, 30), BERLIN, fold=0)
        assert local(daily_0230.next_fire(first, BERLIN)) == D(2024, 10, 28, 2, 30)

    def test_frequent_fire_times_pause_during_the_second_pass(self):
        every15 = Cron("*/15 * * * *")
        second_pass = at(D(2024, 10, 27, 2, 5), BERLIN, fold=1)
        fire = every15.next_fire(second_pass, BERLIN)
        assert local(fire) == D(2024, 10, 27, 3, 0)
        assert fire - second_pass == 55 * 60


def test_the_system_zone_is_used_without_a_context_zone():
    with system_zone("Europe/Berlin"):
        fire = Cron("30 2 * * *").next_fire(at(D(2024, 3, 31, 1), BERLIN), None)
    assert fire == datetime(2024, 3, 31, 1, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("61 * * * *", "is not valid"),
        ("* 24 * * *", "is not valid"),
        ("* * * *", "has 4 fields, not 5"),
        ("0 * * * * *", "has 6 fields, not 5"),
        ("", "has 0 fields"),
        ("a b c d e", "is not valid"),
        ("@daily", "has 1 fields"),
        ("0 0 30 2 *", "never fires"),
        ("*/0 * * * *", "is not valid"),
    ],
)
def test_bad_expressions_are_named(expression, fragment):
    with pytest.raises(ValueError) as info:
        cron(expression)
    assert repr(expression) in str(info.value) and fragment in str(info.value)
    assert "'*/5 * * * *'" in str(info.value)  # and the form is shown


@pytest.mark.parametrize("value", [5, None, ["*", "*", "*", "*", "*"]])
def test_non_strings_are_refused(value):
    with pytest.raises(TypeError, match="cron expression string") as info:
        cron(value)
    assert repr(value) in str(info.value)


def test_str_equality_and_hash():
    assert str(cron("*/5  * * * *")) == "cron '*/5 * * * *'"
    assert cron("*/5 * * * *") == cron(" */5 * * * * ")
    assert cron("*/5 * * * *") != cron("*/6 * * * *")
    assert len({cron("0 * * * *"), cron("0  *  * * *")}) == 1


# -- next_fire against a brute-force walk of the wall clock -----------------------

_FIELDS = {
    "minute": [("*", set(range(60))), ("*/5", set(range(0, 60, 5))), ("0", {0}),
               ("15,45", {15, 45}), ("*/7", set(range(0, 60, 7))), ("30", {30})],
    "hour": [("*", set(range(24))), ("2", {2}), ("1-3", {1, 2, 3}), ("*/2", set(range(0, 24, 2))),
             ("0", {0}), ("23", {23})],
    "dow": [("*", set(range(7))), ("1-5", {1, 2, 3, 4, 5}), ("sun", {0})],
}  # fmt: skip


def _pick(name):
    return st.sampled_from(_FIELDS[name])


def brute_next_fire(minutes, hours, days, after, tz):
    """Walk the minutes after ``after``: a wall-clock minute fires the first
    time the clock shows it, or when the clock jumps past it."""
    seen = max(wall(after - k * 60, tz) for k in range(0, 180))  # the wall clock's high mark
    t = (after // 60 + 1) * 60
    while True:
        shown = wall(t, tz)
        mark = seen.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while mark <= shown:  # every minute the clock reaches for the first time
            if mark.minute in minutes and mark.hour in hours and (mark.weekday() + 1) % 7 in days:
                return t
            mark += timedelta(minutes=1)
        seen = max(seen, shown)
        t += 60


@settings(max_examples=80, deadline=None)
@given(_pick("minute"), _pick("hour"), _pick("dow"), zone_and_instant(step=60, days=2))
def test_next_fire_matches_a_walk_of_the_wall_clock(minute, hour, dow, zone_now):
    tz, after = zone_now
    expression = f"{minute[0]} {hour[0]} * * {dow[0]}"
    expected = brute_next_fire(minute[1], hour[1], dow[1], after, tz)
    assert Cron(expression).next_fire(after, tz) == expected, expression


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES), st.floats(0, 3 * 86400), st.floats(0, 3 * 86400))
def test_value_and_next_change_agree(tz, since, ahead):
    every15 = Cron("*/15 * * * *")
    last = at(D(2024, 10, 26, 12), tz) + since
    now = last + ahead
    context = ctx(now, tz, task="t", starts={"t": last})
    fire = every15.next_fire(now - 60, tz)  # the fire time whose minute now may lie in
    in_minute = fire <= now
    assert every15.is_true(context) is (in_minute and last < fire)
    change = every15.next_change(context)
    assert change == (fire + 60 if in_minute and last < fire else every15.next_fire(now, tz))
    # nothing changes before it
    for t in (now, (now + change) / 2, change - 1e-3):
        assert every15.is_true(replace(context, now=t)) is every15.is_true(context)
