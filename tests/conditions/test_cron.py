"""cron: a fire time after the task's last start (or the scheduler's start)
makes it true; each wall-clock fire time fires once, a skipped one at the jump."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wall_support import BERLIN, NEW_YORK, UTC, ZONES, at, ctx, system_zone, zone_and_instant

from notebook_sched._conditions.base import StaticContext
from notebook_sched._conditions.cron import Cron, cron
from notebook_sched._conditions.wallclock import wall

D = datetime


def local(t, tz=BERLIN):
    return datetime.fromtimestamp(t, tz).replace(tzinfo=None)


def test_true_once_a_fire_time_has_passed_since_the_last_start():
    every5 = cron("*/5 * * * *")
    started = at(D(2024, 6, 3, 10, 1), BERLIN)
    before = ctx(at(D(2024, 6, 3, 10, 4, 59), BERLIN), BERLIN, task="t", started_at=started)
    assert not every5.is_true(before)
    assert every5.next_change(before) == at(D(2024, 6, 3, 10, 5), BERLIN)
    due = ctx(at(D(2024, 6, 3, 10, 5), BERLIN), BERLIN, task="t", started_at=started)
    assert every5.is_true(due) and every5.next_change(due) is None


def test_fire_times_missed_while_running_collapse_into_one_start():
    every5 = cron("*/5 * * * *")
    started = at(D(2024, 6, 3, 10, 0), BERLIN)
    # the 10:00 run lasted until 10:17: 10:05, 10:10 and 10:15 passed
    late = at(D(2024, 6, 3, 10, 17), BERLIN)
    context = ctx(late, BERLIN, task="t", started_at=started - 3600, starts={"t": started})
    assert every5.is_true(context)
    # started again at 10:17: the missed ones are spent
    context = ctx(late, BERLIN, task="t", started_at=started - 3600, starts={"t": late})
    assert not every5.is_true(context)
    assert local(every5.next_change(context)) == D(2024, 6, 3, 10, 20)


def test_a_run_from_before_the_scheduler_started_does_not_count():
    hourly = cron("0 * * * *")
    started = at(D(2024, 6, 3, 10, 30), BERLIN)
    context = ctx(
        at(D(2024, 6, 3, 10, 45), BERLIN),
        BERLIN,
        task="t",
        started_at=started,
        starts={"t": started - 86400},
    )
    assert not hourly.is_true(context)  # 10:00 was before the scheduler started
    assert local(hourly.next_change(context)) == D(2024, 6, 3, 11)


def test_a_scheduler_condition_counts_from_the_scheduler_start():
    context = ctx(
        at(D(2024, 6, 3, 10, 45), BERLIN), BERLIN, started_at=at(D(2024, 6, 3, 9, 59), BERLIN)
    )
    assert cron("0 10 * * *").is_true(context)
    assert not cron("0 11 * * *").is_true(context)


def test_without_any_start_only_fire_times_to_come_count():
    context = StaticContext(now=at(D(2024, 6, 3, 10, 45), BERLIN), tz=BERLIN)
    context.started_at = None  # a scheduler that has not started
    assert not cron("* * * * *").is_true(context)
    assert local(cron("* * * * *").next_change(context)) == D(2024, 6, 3, 10, 46)


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
    started = at(D(2024, 10, 26, 12), tz) + since
    now = started + ahead
    context = ctx(now, tz, task="t", started_at=started)
    change = every15.next_change(context)
    fire = every15.next_fire(started, tz)
    assert every15.is_true(context) is (fire <= now)
    assert change == (None if fire <= now else fire)
