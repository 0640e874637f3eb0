"""Pools on the injectable clock: limits, the waiting status and queue
places, priority then order, the timeout from the real start, and what takes
a waiting run out of its queue (each with its record). A process-pool case
runs real child processes."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from pathlib import Path

import pytest

from notebook_sched import Scheduler
from notebook_sched._engine.clock import ManualClock
from notebook_sched.conds import every, time_of_day
from tests.conftest import until, wait_until

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()  # a Monday, 07:59 local


async def settle() -> None:
    await asyncio.sleep(0.02)


def gated(app, names, gates, order, **kwargs):
    """Async tasks that note their start and wait for their gate."""
    for name in names:
        gates[name] = asyncio.Event()

        async def work(name=name):
            order.append(name)
            await gates[name].wait()

        app.task(name=name, **kwargs)(work)


def test_limit_waiting_status_and_places():
    async def scenario():
        app = Scheduler(clock=ManualClock(START), pools={"cpu": 2})
        gates, order = {}, []
        names = ["a", "b", "c", "d", "e"]
        gated(app, names, gates, order, pool="cpu")
        app.start()
        assert [app.tasks[n].run() for n in names] == [True] * 5  # queued counts as True
        await until(lambda: order == ["a", "b"])
        tasks = app.tasks
        assert [tasks[n].status for n in names] == ["running"] * 2 + ["waiting"] * 3
        assert [tasks[n].queue_position for n in names] == [None, None, 1, 2, 3]
        assert tasks["c"].run() is False  # already waiting
        assert not tasks["c"].is_alive() and tasks["c"].deadline is None
        assert [r.task for r in app.runs()] == ["a", "b"]  # a waiting run has no record yet
        gates["a"].set()
        await until(lambda: order == ["a", "b", "c"])
        assert [tasks[n].queue_position for n in ("d", "e")] == [1, 2]
        await settle()
        assert sum(tasks[n].status == "running" for n in names) == 2
        for name in names:
            gates[name].set()
        await until(lambda: len(order) == 5 and all(t.status == "idle" for t in tasks.values()))
        assert [r.status for r in app.runs()] == ["success"] * 5
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_priority_then_order():
    async def scenario():
        app = Scheduler(clock=ManualClock(START), pools={"one": 1})
        gates, order = {}, []
        gated(app, ["blocker"], gates, order, pool="one")
        ranks = {"p0a": 0, "p5a": 5, "p0b": 0, "p5b": 5, "p1": 1, "neg": -2}
        for name, rank in ranks.items():
            gated(app, [name], gates, order, pool="one", priority=rank)
        app.start()
        app.tasks["blocker"].run()
        await until(lambda: order == ["blocker"])
        for name in ranks:
            assert app.tasks[name].run() is True
        places = {name: app.tasks[name].queue_position for name in ranks}
        assert places == {"p5a": 1, "p5b": 2, "p1": 3, "p0a": 4, "p0b": 5, "neg": 6}
        for gate in gates.values():
            gate.set()
        await until(lambda: len(order) == 7)
        assert order == ["blocker", "p5a", "p5b", "p1", "p0a", "p0b", "neg"]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_priority_orders_a_due_burst():
    async def scenario():
        app = Scheduler(clock=ManualClock(START))
        order = []
        for rank in (3, 1, 5, 2, 4):

            async def work(rank=rank):
                order.append(rank)

            app.task(every("1 hour"), name=f"t{rank}", priority=rank)(work)
        app.start()
        await until(lambda: len(order) == 5)
        assert order == [5, 4, 3, 2, 1]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_timeout_counts_from_the_real_start():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, pools={"one": 1})
        gates, order = {}, []
        gated(app, ["blocker"], gates, order, pool="one")
        gated(app, ["late"], gates, order, pool="one", timeout=10)
        app.start()
        app.tasks["blocker"].run()
        await until(lambda: order == ["blocker"])
        app.tasks["late"].run()
        clock.advance(60)  # far past the timeout, while it waits
        await settle()
        assert app.tasks["late"].status == "waiting"
        gates["blocker"].set()
        await until(lambda: app.tasks["late"].status == "running")
        record = app.tasks["late"].last_run
        assert record.start.timestamp() == pytest.approx(START + 60)
        assert app.tasks["late"].deadline.timestamp() == pytest.approx(START + 70)
        clock.advance(9.5)
        await settle()
        assert app.tasks["late"].status == "running"
        clock.advance(0.5)
        await until(lambda: app.tasks["late"].last_run.status == "terminate")
        assert app.tasks["late"].last_run.reason == "timeout"
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def left_queue(record, reason):
    return (
        record.status == "terminate"
        and record.reason == reason
        and record.start == record.end
        and "before it started" in record.error
    )


def test_end_cond_terminate_and_disable_take_waiting_runs_out():
    async def scenario():
        clock = ManualClock(START)  # 07:59
        app = Scheduler(clock=clock, pools={"one": 1})
        gates, order = {}, []
        gated(app, ["blocker"], gates, order, pool="one")
        gated(app, ["until830"], gates, order, pool="one", end_cond=time_of_day.after("08:30"))
        gated(app, ["manual", "off", "last"], gates, order, pool="one")
        app.start()
        app.tasks["blocker"].run()
        await until(lambda: order == ["blocker"])
        for name in ("until830", "manual", "off", "last"):
            app.tasks[name].run()
        assert app.tasks["manual"].terminate() is True
        assert left_queue(app.tasks["manual"].last_run, "manual")
        assert app.tasks["manual"].status == "idle"
        app.tasks["off"].disable()
        assert left_queue(app.tasks["off"].last_run, "manual")
        assert app.tasks["off"].status == "disabled"
        clock.advance(31 * 60)  # 08:30: the end condition holds
        await until(lambda: app.tasks["until830"].last_run is not None)
        assert left_queue(app.tasks["until830"].last_run, "end_cond")
        assert app.tasks["last"].queue_position == 1
        gates["blocker"].set()
        await until(lambda: order == ["blocker", "last"])
        counts = app.run_counts()
        assert counts["until830"] == {"terminate": 1} and counts["manual"] == {"terminate": 1}
        for gate in gates.values():
            gate.set()
        app.shut_down()
        await app.wait(5)
        assert order == ["blocker", "last"]  # none of those that left ever ran

    asyncio.run(scenario())


@pytest.mark.parametrize("force", [True, False])
def test_shutdown_empties_the_queues(force):
    async def scenario():
        app = Scheduler(clock=ManualClock(START), pools={"one": 1})
        gates, order = {}, []
        gated(app, ["blocker", "w1", "w2"], gates, order, pool="one")
        app.start()
        for name in ("blocker", "w1", "w2"):
            app.tasks[name].run()
        await until(lambda: order == ["blocker"])
        app.shut_down(force=force)
        for name in ("w1", "w2"):
            assert app.tasks[name].status == "idle"
            assert left_queue(app.tasks[name].last_run, "shutdown")
        if not force:
            assert app.state == "shutting_down"  # the live run goes on
            gates["blocker"].set()
        await app.wait(5)
        assert order == ["blocker"]
        blocker = app.tasks["blocker"].last_run
        assert (blocker.status, blocker.reason) == (
            ("terminate", "shutdown") if force else ("success", None)
        )
        assert len(app.runs()) == 3

    asyncio.run(scenario())


def test_a_retry_waits_in_the_pool():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, pools={"one": 1})
        gates, order = {}, []
        gated(app, ["blocker"], gates, order, pool="one")

        @app.task(pool="one", retries=1, retry_delay=5)
        async def flaky():
            order.append("flaky")
            raise RuntimeError("no")

        app.start()
        app.tasks["flaky"].run()
        await until(lambda: app.tasks["flaky"].next_retry is not None)
        app.tasks["blocker"].run()
        await until(lambda: "blocker" in order)
        clock.advance(5)
        await until(lambda: app.tasks["flaky"].status == "waiting")
        assert app.tasks["flaky"].next_retry is None
        gates["blocker"].set()
        await until(lambda: order.count("flaky") == 2)
        await until(lambda: app.tasks["flaky"].last_run.status == "fail")
        assert [r.attempt for r in app.runs(task="flaky")] == [1, 2]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_process_pool_of_two(make_scheduler, tmp_path):
    """Real child processes: never more than two alive at once."""
    app = make_scheduler(pools={"cpu": 2})

    def stamp(path):
        def work():
            began = time.time()
            time.sleep(0.3)
            Path(path).write_text(f"{began} {time.time()}")

        return work

    names = [f"p{i}" for i in range(6)]
    for name in names:
        app.task(execution="process", name=name, pool="cpu")(stamp(str(tmp_path / name)))
    app.start()
    assert all(app.tasks[n].run() for n in names)
    assert sum(app.tasks[n].status == "waiting" for n in names) == 4
    wait_until(lambda: all((tmp_path / n).exists() for n in names), 30)
    wait_until(lambda: all(app.tasks[n].status == "idle" for n in names), 10)
    spans = [tuple(map(float, (tmp_path / n).read_text().split())) for n in names]
    for began, _ in spans:  # at any moment at most two children were inside work()
        assert sum(b <= began < e for b, e in spans) <= 2
    assert [r.status for r in app.runs()] == ["success"] * 6


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"pools": {"gpu": 0}}, "0"),
        ({"pools": {"gpu": -1}}, "-1"),
        ({"pools": {"gpu": 1.5}}, "1.5"),
        ({"pools": {"gpu": True}}, "True"),
        ({"pools": ["gpu"]}, "['gpu']"),
        ({"pools": {"": 1}}, "''"),
        ({"catch_up": "yes"}, "'yes'"),
    ],
)
def test_bad_pool_config(config, fragment):
    with pytest.raises(ValueError) as info:
        Scheduler(config=config)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"pool": "gpu"}, "'gpu'"),
        ({"pool": 3}, "3"),
        ({"priority": math.nan}, "nan"),
        ({"priority": "high"}, "'high'"),
        ({"priority": True}, "True"),
    ],
)
def test_bad_pool_arguments(kwargs, fragment):
    app = Scheduler(pools={"cpu": 2})
    with pytest.raises(ValueError) as info:
        app.task(name="t", **kwargs)(lambda: None)
    assert fragment in str(info.value) and "'t'" in str(info.value)


def test_the_queue_itself():
    """Places count only live entries; a free slot goes to the queue first."""
    from notebook_sched._engine.pools import Pools

    pools = Pools({"one": 1})
    assert pools.take_slot("one") and not pools.take_slot("one")
    for i, rank in enumerate([0, 0, 3, 0, 3]):
        pools.enqueue(f"t{i}", "one", rank, 1, now=float(i))
    assert [pools.place(f"t{i}") for i in range(5)] == [3, 4, 1, 5, 2]
    pools.leave("t0")
    pools.leave("t2")
    assert [pools.place(f"t{i}") for i in range(5)] == [None, 2, None, 3, 1]
    assert pools.release("one") is True  # a slot is free and runs wait
    assert pools.take_slot("one") is False  # a newcomer does not jump the queue
    (granted,) = pools.grant()
    assert granted.task == "t4" and pools.place("t1") == 1
    pools.requeue(granted)  # it could not start: back at the head
    assert [pools.place(n) for n in ("t4", "t1", "t3")] == [1, 2, 3]
    pools.release("one")
    assert [e.task for e in pools.drain()] == ["t4", "t1", "t3"]
    assert pools.waiting == {} and pools.take_slot("one")
