"""Retries on the injectable clock: delays and backoff, what is retried,
attempt numbers, and what drops a pending retry."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime

import pytest

from notebook_sched import Scheduler
from notebook_sched._engine.clock import ManualClock, to_datetime
from notebook_sched.conds import every
from tests.conftest import until, wait_until

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()


async def settle() -> None:
    """Give a wrongly woken loop the chance to misfire."""
    await asyncio.sleep(0.02)


def attempts(app, name):
    return [(r.attempt, r.status) for r in app.runs(task=name)]


def test_delay_and_backoff_on_the_clock():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        entered = []

        @app.task(retries=3, retry_delay="10 seconds", retry_backoff=2)
        async def flaky():
            entered.append(clock.time() - START)
            raise RuntimeError("boom")

        app.start()
        task = app.tasks["flaky"]
        assert task.run() is True
        await until(lambda: task.next_retry is not None)
        assert task.next_retry == (2, to_datetime(START + 10))
        for wait, expected in ((10, [0, 10]), (20, [0, 10, 30]), (40, [0, 10, 30, 70])):
            clock.advance(wait - 0.5)
            await settle()
            assert len(entered) == len(expected) - 1  # not a moment early
            clock.advance(0.5)
            await until(lambda expected=expected: entered == expected)
        await until(lambda: task.last_run.status == "fail")
        assert task.next_retry is None  # three retries, then no more
        clock.advance(1000)
        await settle()
        assert entered == [0, 10, 30, 70]
        assert attempts(app, "flaky") == [(1, "fail"), (2, "fail"), (3, "fail"), (4, "fail")]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_a_retry_that_succeeds_ends_the_chain():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        calls = []

        @app.task(retries=5, retry_delay=1)
        async def second_time_lucky():
            calls.append(1)
            if len(calls) < 2:
                raise ValueError("not yet")
            return "ok"

        app.start()
        app.tasks["second_time_lucky"].run()
        await until(lambda: app.tasks["second_time_lucky"].next_retry is not None)
        clock.advance(1)
        await until(lambda: app.tasks["second_time_lucky"].last_run.status == "success")
        assert app.tasks["second_time_lucky"].next_retry is None
        assert attempts(app, "second_time_lucky") == [(1, "fail"), (2, "success")]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_terminated_is_never_retried():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)

        @app.task(retries=3, timeout=5)
        async def sleeper():
            await asyncio.sleep(3600)

        app.start()
        app.tasks["sleeper"].run()
        await until(lambda: app.tasks["sleeper"].status == "running")
        clock.advance(5)
        await until(lambda: app.tasks["sleeper"].last_run.status == "terminate")
        await settle()
        assert app.tasks["sleeper"].next_retry is None
        assert attempts(app, "sleeper") == [(1, "terminate")]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_crash_is_retried(make_scheduler):
    """A process run whose child dies (SIGKILL from inside) crashes, and is retried."""
    app = make_scheduler()

    marker = str(os.getpid())

    def dies_first():
        import pathlib

        flag = pathlib.Path(f"/tmp/pools-crash-{marker}")
        if not flag.exists():
            flag.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        flag.unlink()
        return "second"

    app.task(execution="process", name="dies_first", retries=2, retry_delay=0)(dies_first)
    app.start()
    app.tasks["dies_first"].run()
    wait_until(lambda: len([r for r in app.runs(task="dies_first") if r.status != "run"]) == 2, 30)
    assert attempts(app, "dies_first") == [(1, "crash"), (2, "success")]
    assert app.runs(task="dies_first")[1].result == "'second'"


def test_manual_run_is_attempt_one_and_drops_the_pending_retry():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)

        @app.task(retries=2, retry_delay=60)
        async def fails():
            raise RuntimeError("no")

        app.start()
        task = app.tasks["fails"]
        task.run()
        await until(lambda: task.next_retry is not None)
        assert task.run() is True  # by hand: a fresh attempt 1
        await until(lambda: len(app.runs(task="fails")) == 2 and task.last_run.status == "fail")
        assert task.next_retry == (2, to_datetime(START + 60))  # the new chain's first retry
        clock.advance(60)
        await until(lambda: len(app.runs(task="fails")) == 3)
        await until(lambda: task.last_run.status == "fail")
        assert attempts(app, "fails") == [(1, "fail"), (1, "fail"), (2, "fail")]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_shutdown_drops_a_pending_retry():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)

        @app.task(retries=2, retry_delay=10)
        async def fails():
            raise RuntimeError("no")

        app.start()
        app.tasks["fails"].run()
        await until(lambda: app.tasks["fails"].next_retry is not None)
        app.shut_down()
        await app.wait(5)
        assert app.state == "stopped"
        assert app.tasks["fails"].next_retry is None
        app.start()  # a new session has no retry of the old one
        clock.advance(100)
        await settle()
        assert attempts(app, "fails") == [(1, "fail")]
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_a_retry_uses_the_new_definition():
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)

        @app.task(name="job", retries=1, retry_delay=10)
        async def first():
            raise RuntimeError("old definition")

        app.start()
        app.tasks["job"].run()
        await until(lambda: app.tasks["job"].next_retry is not None)

        @app.task(name="job", retries=1, retry_delay=10)
        async def second():
            return "new definition"

        clock.advance(10)
        await until(lambda: app.tasks["job"].last_run.status == "success")
        record = app.tasks["job"].last_run
        assert (record.attempt, record.result) == (2, "'new definition'")
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_pending_retry_holds_the_start_condition():
    """While a retry waits, the start condition does not start another run."""

    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)

        @app.task(every("1 second"), retries=1, retry_delay=30)
        async def ticking():
            raise RuntimeError("no")

        app.start()
        await until(lambda: app.tasks["ticking"].next_retry is not None)
        for _ in range(5):
            clock.advance(5)
            await settle()
        assert attempts(app, "ticking") == [(1, "fail")]
        clock.advance(5)  # 30 s after the failure
        await until(lambda: len(app.runs(task="ticking")) >= 2)
        assert attempts(app, "ticking")[1][0] == 2
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"retries": -1}, "-1"),
        ({"retries": 1.5}, "1.5"),
        ({"retries": True}, "True"),
        ({"retries": "3"}, "'3'"),
        ({"retry_delay": -1}, "-1"),
        ({"retry_delay": float("nan")}, "nan"),
        ({"retry_delay": "soon"}, "'soon'"),
        ({"retry_backoff": 0.5}, "0.5"),
        ({"retry_backoff": float("nan")}, "nan"),
        ({"retry_backoff": "2"}, "'2'"),
    ],
)
def test_bad_retry_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        Scheduler().task(name="t", **kwargs)(lambda: None)
    assert fragment in str(info.value) and "'t'" in str(info.value)


def test_retry_delay_forms():
    app = Scheduler()
    app.task(name="a", retries=2, retry_delay="1 min", retry_backoff=1.5)(lambda: None)
    app.task(name="b", retries=1)(lambda: None)
    a, b = app.tasks["a"], app.tasks["b"]
    assert (a.retries, a.retry_delay, a.retry_backoff) == (2, 60.0, 1.5)
    assert (b.retries, b.retry_delay, b.retry_backoff) == (1, 0.0, 1.0)


def test_a_retry_is_announced():
    from notebook_sched.events import RunRetryScheduled

    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        seen = []
        app.subscribe(seen.append, RunRetryScheduled)

        @app.task(retries=1, retry_delay=10)
        async def fails():
            raise RuntimeError("no")

        app.start()
        app.tasks["fails"].run()
        await until(lambda: seen)
        clock.advance(10)
        await until(lambda: len(app.runs(task="fails")) == 2)
        await until(lambda: app.tasks["fails"].last_run.status == "fail")
        await settle()
        app.shut_down()
        await app.wait(5)
        return seen

    (event,) = asyncio.run(scenario())  # the retry itself failed too: no third attempt
    assert (event.task, event.attempt, event.at) == ("fails", 2, to_datetime(START + 10))
