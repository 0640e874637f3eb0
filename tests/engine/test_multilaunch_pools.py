"""A ``multilaunch=True`` task on a full pool: every run that is asked for or
comes due waits for a slot (not just one), they start in the order they
came, each with its own record; ``Task.terminate()`` and the end condition
take them all out of the queue, a shutdown too. On the injectable clock."""

from __future__ import annotations

import asyncio
from datetime import datetime

from notebook_sched import Scheduler
from notebook_sched._engine.clock import ManualClock
from notebook_sched.conds import every, time_of_day
from tests.conftest import until
from tests.engine.test_pools import gated, left_queue

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()  # a Monday, 07:59 local


def burst(app, name: str, order: list[str], gates: dict[str, asyncio.Event], **kwargs) -> None:
    """A multilaunch async task whose n-th run notes ``name#n`` and waits for its gate."""
    count = [0]

    async def work() -> int:
        count[0] += 1
        n = count[0]
        order.append(f"{name}#{n}")
        gate = gates.setdefault(f"{name}#{n}", asyncio.Event())
        await gate.wait()
        return n

    app.task(name=name, multilaunch=True, **kwargs)(work)


async def pool_of_one(clock=None, blocker=True, **kwargs):
    """A started scheduler with a pool of one slot, the multilaunch task
    ``many`` on it, and (``blocker``) a run of another task holding the slot."""
    app = Scheduler(clock=clock or ManualClock(START), pools={"one": 1})
    gates: dict[str, asyncio.Event] = {}
    order: list[str] = []
    if blocker:
        gated(app, ["blocker"], gates, order, pool="one")
    burst(app, "many", order, gates, pool="one", **kwargs)
    app.start()
    if blocker:
        assert app.tasks["blocker"].run()
        await until(lambda: order == ["blocker"])
    return app, gates, order


def test_each_asked_run_waits_and_they_start_in_order():
    async def scenario():
        app, gates, order = await pool_of_one()
        gated(app, ["other"], gates, order, pool="one")
        many = app.tasks["many"]
        assert [many.run() for _ in range(3)] == [True] * 3  # each one queued
        assert app.tasks["other"].run()
        assert many.status == "waiting" and many.queue_position == 1
        assert app.tasks["other"].queue_position == 4  # behind the three
        assert app.runs(task="many") == []  # waiting runs have no record yet
        gates["blocker"].set()
        await until(lambda: order == ["blocker", "many#1"])
        assert many.status == "running" and many.queue_position == 1  # two more wait
        for n in (1, 2, 3):
            await until(lambda n=n: f"many#{n}" in gates)
            gates[f"many#{n}"].set()
        gates["other"].set()
        await until(lambda: len(order) == 5 and app.tasks["other"].status == "idle")
        assert order == ["blocker", "many#1", "many#2", "many#3", "other"]
        records = app.runs(task="many")
        assert [r.status for r in records] == ["success"] * 3
        assert [r.result for r in records] == ["1", "2", "3"]
        assert all(r.attempt == 1 for r in records)
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_terminate_ends_the_live_run_and_takes_every_waiting_one_out():
    async def scenario():
        app, _, order = await pool_of_one(blocker=False)
        many = app.tasks["many"]
        assert [many.run() for _ in range(4)] == [True] * 4
        await until(lambda: order == ["many#1"])
        assert many.terminate() is True
        await until(lambda: len(app.runs(task="many")) == 4 and not many.is_alive())
        records = app.runs(task="many")
        assert sum(r.error is not None and left_queue(r, "manual") for r in records) == 3
        assert [r.reason for r in records] == ["manual"] * 4
        assert many.status == "idle" and many.queue_position is None
        assert order == ["many#1"]  # none of the waiting ones ran
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_each_due_time_queues_one_more_and_the_end_condition_takes_them_out():
    async def scenario():
        clock = ManualClock(START)  # 07:59
        app, gates, order = await pool_of_one(
            clock, start_cond=every("10 minutes"), end_cond=time_of_day.after("08:30")
        )
        many = app.tasks["many"]
        await until(lambda: many.status == "waiting")  # due at once: the pool is full
        for _ in range(2):  # two more due times, each one more waiting run
            clock.advance(10 * 60)
            await asyncio.sleep(0.05)
        waiting = app._core.pools.waiting
        await until(lambda: len(waiting.get("many", ())) == 3)
        clock.advance(11 * 60)  # 08:30: the end condition holds
        await until(lambda: len(app.runs(task="many")) >= 3)
        records = app.runs(task="many")
        assert len(records) == 3 and all(left_queue(r, "end_cond") for r in records)
        assert "many" not in waiting and order == ["blocker"]
        gates["blocker"].set()
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_a_shutdown_takes_every_waiting_run_out():
    async def scenario():
        app, gates, order = await pool_of_one()
        assert [app.tasks["many"].run() for _ in range(5)] == [True] * 5
        app.shut_down()
        records = app.runs(task="many")
        assert len(records) == 5 and all(left_queue(r, "shutdown") for r in records)
        gates["blocker"].set()
        await app.wait(5)
        assert order == ["blocker"]

    asyncio.run(scenario())
