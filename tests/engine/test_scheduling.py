"""Scheduling logic on an injected clock: no wall-clock waits."""

from __future__ import annotations

import asyncio
from datetime import datetime

from notebook_sched import Scheduler
from notebook_sched.conds import after_success, daily, every, time_of_day
from notebook_sched.testing import ManualClock
from tests.conftest import until

START = datetime(2026, 11, 30, 7, 59, 0).astimezone()  # a Monday, 07:59 local


def test_every_fires_at_once_then_each_interval():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        ran = []

        @app.task(every("10 seconds"))
        async def tick():
            ran.append(clock.time() - START.timestamp())

        app.start()
        await until(lambda: len(ran) == 1)
        clock.advance(9.9)
        await asyncio.sleep(0.02)  # give a wrongly woken loop the chance to misfire
        assert len(ran) == 1
        clock.advance(0.1)
        await until(lambda: len(ran) == 2)
        clock.advance(10)
        await until(lambda: len(ran) == 3)
        app.shut_down()
        await app.wait(5)
        return ran

    assert asyncio.run(scenario()) == [0, 10, 20]


def test_pipeline_after_success():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        order = []

        @app.task(daily)
        async def extract():
            order.append("extract")

        @app.task(after_success(extract))
        async def load():
            order.append("load")

        @app.task("after task 'load' succeeded")
        async def report():
            order.append("report")

        app.start()
        await until(lambda: len(order) == 3)
        clock.advance(3600)
        await asyncio.sleep(0.02)
        assert len(order) == 3  # daily: once a day, and the pipeline follows it only
        clock.set(datetime(2026, 12, 1, 0, 0, 1))
        await until(lambda: len(order) == 6)
        app.shut_down()
        await app.wait(5)
        return order

    assert asyncio.run(scenario()) == ["extract", "load", "report"] * 2


def test_time_window_start_and_end():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        release = asyncio.Event()

        @app.task(time_of_day.between("08:00", "09:00"), end_cond=time_of_day.after("08:30"))
        async def window():
            await release.wait()

        app.start()
        await asyncio.sleep(0.02)
        assert app.runs() == []  # 07:59: not yet
        clock.advance(60)  # 08:00
        await until(lambda: app.tasks["window"].status == "running")
        clock.advance(29 * 60)  # 08:29
        await asyncio.sleep(0.02)
        assert app.tasks["window"].status == "running"
        clock.advance(60)  # 08:30: the end condition becomes true
        await until(lambda: app.tasks["window"].last_run.status == "terminate")
        assert app.tasks["window"].last_run.reason == "end_cond"
        await asyncio.sleep(0.02)
        assert len(app.runs()) == 1  # not restarted while its end condition holds
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())
