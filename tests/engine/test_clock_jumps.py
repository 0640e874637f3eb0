"""Clock jumps on the injectable clock: a laptop sleep, a wall clock stepped
back, and the DST days of Europe/Berlin — never a burst of runs, at most one
run per task per due time, exactly one a day for a daily time."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notebook_sched import Scheduler
from notebook_sched.conds import cron, daily, every
from notebook_sched.testing import ManualClock
from tests.conftest import until

BERLIN = ZoneInfo("Europe/Berlin")


def counting(app, names_conds):
    ran: Counter[str] = Counter()
    for name, cond in names_conds:

        async def work(name=name):
            ran[name] += 1

        app.task(cond, name=name)(work)
    return ran


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.002)


def test_an_eight_hour_sleep_starts_at_most_one_run_per_task():
    async def scenario():
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN))
        app = Scheduler(clock=clock, tz=BERLIN)
        ran = counting(
            app,
            [("often", every("10 minutes")), ("five", cron("*/5 * * * *")), ("hourly", "hourly")],
        )
        app.start()
        await until(lambda: sum(ran.values()) == 3)
        clock.advance(8 * 3600)  # the laptop slept through 48 intervals
        await until(lambda: sum(ran.values()) == 6)
        await settle()
        app.shut_down()
        await app.wait(5)
        return ran

    assert asyncio.run(scenario()) == {"often": 2, "five": 2, "hourly": 2}


def test_a_wall_clock_stepped_back_starts_nothing_again():
    async def scenario():
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, 30, tzinfo=BERLIN))
        app = Scheduler(clock=clock, tz=BERLIN)
        ran = counting(app, [("daily", daily.at("09:00")), ("cron", cron("0 9 * * *"))])
        app.start()
        await until(lambda: sum(ran.values()) == 2)
        clock.step_wall(-3600)  # NTP puts the wall clock back an hour: 08:00:30
        await settle()
        for _ in range(6):  # through 09:00 again
            clock.advance(600)
            await settle()
        app.shut_down()
        await app.wait(5)
        return ran

    assert asyncio.run(scenario()) == {"daily": 1, "cron": 1}


@pytest.mark.parametrize(
    "first_day", [datetime(2026, 3, 28), datetime(2026, 10, 24)], ids=["spring", "fall"]
)
def test_dst_days_run_a_daily_time_once_a_day(first_day):
    """02:30 does not exist on the spring-forward day and comes twice on the
    fall-back day: still exactly one run on each of the three days."""

    async def scenario():
        clock = ManualClock(first_day.replace(hour=12, tzinfo=BERLIN))
        app = Scheduler(clock=clock, tz=BERLIN)
        days: dict[str, list[str]] = {"daily": [], "cron": []}
        for name, cond in (("daily", daily.at("02:30")), ("cron", cron("30 2 * * *"))):

            async def work(name=name):
                days[name].append(datetime.fromtimestamp(clock.time(), BERLIN).date().isoformat())

            app.task(cond, name=name)(work)
        app.start()
        for _ in range(3 * 24 * 6):  # three days, ten minutes at a time
            clock.advance(600)
            await settle()
        app.shut_down()
        await app.wait(5)
        return days

    days = asyncio.run(scenario())
    expected = [first_day.replace(day=first_day.day + i).date().isoformat() for i in (1, 2, 3)]
    assert days == {"daily": expected, "cron": expected}
