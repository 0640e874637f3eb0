"""Rocketry's conditions driving a real scheduler on the injectable clock:
what the condition tests check on fixed instants, end to end."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

from notebook_sched import Scheduler
from notebook_sched._engine.clock import ManualClock
from notebook_sched.conds import (
    cron,
    daily,
    retry,
    running,
    scheduler_running,
    succeeded,
)
from tests.conftest import until

MONDAY_0720 = datetime(2026, 11, 30, 7, 20, 0).timestamp()  # local wall clock


def test_is_true_from_a_cell_tells_the_present_state_while_the_task_runs():
    async def scenario():
        app = Scheduler()
        release = threading.Event()

        @app.task(execution="thread")
        def work():
            release.wait(10)

        app.start()
        x = app.tasks["work"]
        assert not running(x).is_true()
        assert x.run()
        await until(x.is_alive)
        states = [running(x).is_true(), (running(x) >= 1).is_true(), (running(x) >= 2).is_true()]
        release.set()
        await until(lambda: not x.is_alive())
        states.append(running(x).is_true())
        app.shut_down()
        await app.wait(5)
        return states

    assert asyncio.run(scenario()) == [True, True, False, False]


def test_daily_at_seven_runs_when_the_scheduler_starts_at_seven_twenty_and_cron_at_once():
    async def scenario():
        clock = ManualClock(MONDAY_0720)
        app = Scheduler(clock=clock)
        ran = []

        @app.task(daily.at("07:00"))
        async def morning():
            ran.append("morning")

        @app.task(cron("* * * * *"))
        async def minutely():
            ran.append("cron")

        app.start()
        await until(lambda: sorted(ran) == ["cron", "morning"])
        clock.advance(30)  # same minute: spent
        await asyncio.sleep(0.02)
        assert sorted(ran) == ["cron", "morning"]
        clock.advance(30)  # the next minute
        await until(lambda: ran.count("cron") == 2)
        clock.advance(3600)  # 08:21: the 07:00 hour is over
        await until(lambda: ran.count("cron") == 3)
        app.shut_down()
        await app.wait(5)
        return ran.count("morning")

    assert asyncio.run(scenario()) == 1


def test_retry_runs_a_failed_task_again_at_most_n_times_in_a_row():
    async def scenario():
        clock = ManualClock(MONDAY_0720)
        app = Scheduler(clock=clock)
        attempts = []

        @app.task(daily | retry(2))
        async def flaky():
            attempts.append(clock.time())
            raise RuntimeError("down")

        app.start()
        await until(lambda: len(attempts) == 3)
        clock.advance(60)
        await asyncio.sleep(0.05)
        app.shut_down()
        await app.wait(5)
        return len(attempts), [r.status for r in app.runs(task="flaky")]

    assert asyncio.run(scenario()) == (3, ["fail"] * 3)


def test_a_status_condition_follows_the_other_tasks_runs():
    async def scenario():
        clock = ManualClock(MONDAY_0720)
        app = Scheduler(clock=clock)
        order = []

        @app.task(daily)
        async def extract():
            order.append("extract")

        @app.task(succeeded(task="extract").today & daily)
        async def report():
            order.append("report")

        app.start()
        await until(lambda: order == ["extract", "report"])
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_scheduler_running_as_a_shut_cond_stops_the_scheduler():
    async def scenario():
        clock = ManualClock(MONDAY_0720)
        app = Scheduler(clock=clock, shut_cond=scheduler_running(more_than="5 minutes"))
        app.start()
        clock.advance(299)
        await asyncio.sleep(0.02)
        assert app.state == "running"
        clock.advance(1)
        await app.wait(5)
        return app.state

    assert asyncio.run(scenario()) == "stopped"


def test_running_itself_as_an_end_condition_terminates_the_run():
    async def scenario():
        clock = ManualClock(MONDAY_0720)
        app = Scheduler(clock=clock)

        @app.task(end_cond=running.more_than("2 mins"))
        async def long():
            await asyncio.sleep(60)

        app.start()
        assert app.tasks["long"].run()
        clock.advance(119)
        await asyncio.sleep(0.02)
        assert app.tasks["long"].is_alive()
        clock.advance(1)
        await until(lambda: not app.tasks["long"].is_alive())
        app.shut_down()
        await app.wait(5)
        return app.runs(task="long")[-1].reason

    assert asyncio.run(scenario()) == "end_cond"


def test_running_counts_the_overlapping_runs_of_a_multilaunch_task():
    """Rocketry's ``running <= 4`` with multilaunch: at most that many at once;
    ``running(t) >= 2`` for another task."""

    async def scenario():
        clock = ManualClock(MONDAY_0720)
        app = Scheduler(clock=clock)
        release = asyncio.Event()
        watched = []

        @app.task(running < 3, multilaunch=True)
        async def parallel():
            await release.wait()

        @app.task(running(parallel) >= 2)
        async def watcher():
            watched.append(clock.time())

        app.start()
        for _ in range(6):  # a multilaunch task starts at most one more run per cycle
            clock.advance(0.1)
            await asyncio.sleep(0.02)
        await until(lambda: len(app.runs(task="parallel", status="run")) == 3)
        await until(lambda: watched)
        alive = len(app.runs(task="parallel", status="run"))
        release.set()
        app.shut_down()
        await app.wait(5)
        return alive

    assert asyncio.run(scenario()) == 3
