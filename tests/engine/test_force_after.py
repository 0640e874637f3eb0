"""``shut_down(force_after=...)`` on the injectable clock: graceful, then
forced when that much time has passed with runs alive."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime

import pytest

from notebook_sched import Scheduler
from notebook_sched._engine.clock import ManualClock, to_datetime
from tests.conftest import until

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()


async def settle() -> None:
    await asyncio.sleep(0.02)


async def stuck_app(clock):
    """A started scheduler whose one run never ends by itself."""
    app = Scheduler(clock=clock)

    @app.task()
    async def stuck():
        await asyncio.Event().wait()

    app.start()
    app.tasks["stuck"].run()
    await until(lambda: app.tasks["stuck"].status == "running")
    return app


@pytest.mark.parametrize("form", [30, 30.0, "30 seconds", "00:00:30"])
def test_graceful_becomes_forced(form):
    async def scenario():
        clock = ManualClock(START)
        app = await stuck_app(clock)
        app.session.shut_down(force_after=form)
        assert app.state == "shutting_down"
        assert app.force_at == to_datetime(START + 30)
        clock.advance(29.9)
        await settle()
        assert app.state == "shutting_down" and app.tasks["stuck"].status == "running"
        clock.advance(0.1)
        await app.wait(5)
        record = app.tasks["stuck"].last_run
        assert (record.status, record.reason) == ("terminate", "shutdown")
        assert app.force_at is None

    asyncio.run(scenario())


def test_a_second_call_still_forces_at_once():
    async def scenario():
        clock = ManualClock(START)
        app = await stuck_app(clock)
        app.shut_down(force_after="1 hour")
        app.shut_down()
        await app.wait(5)
        assert app.tasks["stuck"].last_run.reason == "shutdown"

    asyncio.run(scenario())


def test_the_deadline_belongs_to_its_session():
    """A scheduler that stopped before its deadline starts again without it."""

    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        gate = asyncio.Event()

        @app.task()
        async def quick():
            await gate.wait()

        app.start()
        app.tasks["quick"].run()
        await until(lambda: app.tasks["quick"].status == "running")
        app.shut_down(force_after=10)
        gate.set()
        await app.wait(5)  # ended on its own, gracefully
        assert app.tasks["quick"].last_run.status == "success" and app.force_at is None
        gate.clear()
        app.start()
        app.tasks["quick"].run()
        await until(lambda: app.tasks["quick"].status == "running")
        clock.advance(60)
        await settle()
        assert app.state == "running" and app.tasks["quick"].status == "running"
        gate.set()
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_nothing_alive_stops_at_once():
    app = Scheduler(clock=ManualClock(START))

    async def scenario():
        app.start()
        app.shut_down(force_after=30)
        assert app.state == "stopped" and app.force_at is None

    asyncio.run(scenario())


@pytest.mark.parametrize("value", [-1, math.nan, "soon", True, "-5 s", [30]])
def test_bad_force_after(value):
    app = Scheduler()
    with pytest.raises(ValueError) as info:
        app.shut_down(force_after=value)
    assert repr(value) in str(info.value)
