"""notebook_sched.testing.ManualClock: the wall and monotonic clocks, and a
scheduler driven by it — durations on the monotonic one, windows on the wall."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

import notebook_sched.testing
from notebook_sched import Scheduler
from notebook_sched.conds import time_of_day
from notebook_sched.testing import ManualClock
from tests.conftest import until

START = datetime(2026, 11, 30, 7, 59, 0).astimezone()  # a Monday, 07:59 local


def test_it_moves_only_when_told():
    clock = ManualClock(START)
    assert clock.now() == START and clock.time() == START.timestamp()
    mono = clock.monotonic()
    time.sleep(0.01)
    assert clock.time() == START.timestamp() and clock.monotonic() == mono
    clock.advance(90)
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.monotonic() == mono + 90
    clock.step_wall(-3600)  # an NTP step back: durations do not move
    assert clock.now() == START + timedelta(seconds=90 - 3600)
    assert clock.monotonic() == mono + 90
    clock.step_wall(7200)
    assert clock.monotonic() == mono + 90


def test_its_start():
    before = time.time()
    assert before <= ManualClock().time() <= time.time()
    utc = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert ManualClock(utc).now() == utc and ManualClock(utc).now().tzinfo is not None
    assert ManualClock(1_700_000_000.0).time() == 1_700_000_000.0  # epoch seconds too
    with pytest.raises(ValueError, match="'noon'"):
        ManualClock("noon")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "1 s", True])
def test_bad_steps_are_refused_naming_the_value(bad: object):
    clock = ManualClock(START)
    with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(").replace(")", r"\)")):
        clock.advance(bad)  # type: ignore[arg-type]
    if bad != -1:
        with pytest.raises(ValueError):
            clock.step_wall(bad)  # type: ignore[arg-type]


def test_it_is_public_and_documented():
    assert ManualClock.__module__ == "notebook_sched.testing"
    assert dir(notebook_sched.testing) == ["ManualClock"]
    for name in ("advance", "step_wall", "now", "time", "monotonic"):
        assert getattr(ManualClock, name).__doc__, name
    assert "step_wall" in (notebook_sched.testing.__doc__ or "")


def test_a_wall_step_neither_shortens_nor_stretches_a_timeout():
    async def scenario() -> None:
        clock = ManualClock(START)
        app = Scheduler(clock=clock)

        @app.task(timeout=60)
        async def long() -> None:
            await asyncio.sleep(3600)

        app.start()
        task = app.tasks["long"]
        assert task.run()
        clock.step_wall(3600)  # an hour forward on the wall clock only
        await asyncio.sleep(0.05)
        assert task.status == "running"
        clock.advance(59)
        await asyncio.sleep(0.05)
        assert task.status == "running"
        clock.advance(1)  # 60 s on the monotonic clock: the timeout
        await until(lambda: not task.is_alive())
        record = task.last_run
        assert record is not None and (record.status, record.reason) == ("terminate", "timeout")
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_wall_clock_conditions_follow_a_wall_step():
    async def scenario() -> list[datetime]:
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        ran: list[datetime] = []

        @app.task(time_of_day.between("08:00", "09:00"))
        async def morning() -> None:
            ran.append(clock.now())

        app.start()
        await asyncio.sleep(0.05)
        assert ran == []
        clock.step_wall(60)  # 08:00 by the wall clock alone
        await until(lambda: len(ran) >= 1)
        app.shut_down()
        await app.wait(5)
        return ran

    ran = asyncio.run(scenario())
    assert ran[0] == START + timedelta(seconds=60)


def test_the_documented_example_runs():
    namespace: dict[str, object] = {}
    doc = notebook_sched.testing.__doc__ or ""
    code = doc.split("```python", 1)[1].split("```", 1)[0]
    exec(compile(code, "notebook_sched.testing example", "exec"), namespace)
    asyncio.run(namespace["test_the_morning_task"]())  # type: ignore[operator]
