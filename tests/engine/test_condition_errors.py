"""Conditions that raise: false for that check, logged once per task and
error, kept as ``Task.condition_error``, and never the end of the scheduler —
``SystemExit`` and ``KeyboardInterrupt`` included."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from datetime import datetime

import pytest

from notebook_sched import Scheduler
from notebook_sched._engine.clock import ManualClock
from notebook_sched.conds import after_success, condition, every, false, true
from tests.conftest import until

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "raised" in r.getMessage() and r.exc_info]


@pytest.mark.parametrize(
    "exc",
    [ValueError("no config"), SystemExit("no config"), KeyboardInterrupt()],
    ids=["ValueError", "SystemExit", "KeyboardInterrupt"],
)
def test_a_raising_start_cond_is_false_logged_once_and_shown(exc, caplog):
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, cycle_sleep=0.01)
        failing = True
        checks = 0
        ran = []

        def ready():
            nonlocal checks
            checks += 1
            if failing:
                raise exc
            return True

        @app.task(condition(ready))
        async def guarded():
            ran.append("guarded")

        @app.task(every("1 second"))
        async def other():
            ran.append("other")

        app.start()
        # checked again and again (every cycle_sleep, at least every RETRY)
        for _ in range(3):
            clock.advance(1.0)
            await until(lambda n=checks: checks > n)
        assert app.state == "running"
        assert "guarded" not in ran and "other" in ran
        error = app.tasks["guarded"].condition_error
        assert error is not None
        assert error.splitlines()[0] == f"start_cond raised {type(exc).__name__}: {exc}"
        assert "Traceback" in error and "in ready" in error
        assert len(errors_logged(caplog)) == 1

        failing = False
        clock.advance(1.0)
        await until(lambda: "guarded" in ran)
        assert app.tasks["guarded"].condition_error is None
        app.shut_down()
        await app.wait(5)

    with caplog.at_level(logging.ERROR, logger="notebook_sched"):
        asyncio.run(scenario())
    record = errors_logged(caplog)[0]
    assert "task 'guarded'" in record.getMessage() and "start_cond" in record.getMessage()


def test_a_raising_end_cond_does_not_keep_the_task_from_starting(caplog):
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, cycle_sleep=0.01)
        release = asyncio.Event()
        started = []

        @app.task(true, end_cond=condition(lambda: 1 / 0))
        async def work():
            started.append(clock.time())
            await release.wait()

        app.start()
        await until(lambda: started)
        for _ in range(3):
            clock.advance(1.0)
            await asyncio.sleep(0.01)
        assert app.tasks["work"].is_alive()  # a raising end_cond is false: not terminated
        assert app.tasks["work"].condition_error.startswith(
            "end_cond raised ZeroDivisionError: division by zero"
        )
        assert app.tasks["work"].end_cond_true is False
        release.set()
        app.shut_down()
        await app.wait(5)
        assert app.runs(task="work")[0].status == "success"

    with caplog.at_level(logging.ERROR, logger="notebook_sched"):
        asyncio.run(scenario())
    assert len(errors_logged(caplog)) == 1


def test_a_raising_shut_cond_logs_once_and_the_other_branch_still_shuts_down(caplog):
    """run() returns: the part that raises is unknown, the part after it
    decides (a script-style, blocking run on a thread of its own)."""
    checks = 0

    def flaky():
        nonlocal checks
        checks += 1
        raise SystemExit("no config")

    app = Scheduler(cycle_sleep=0.01, shut_cond=condition(flaky) | after_success("last"))

    @app.task(every("0.01 seconds"))
    def busy():
        pass

    @app.task(condition(lambda: checks >= 20))
    def last():
        pass

    done = threading.Event()

    def run():
        app.run()
        done.set()

    with caplog.at_level(logging.ERROR, logger="notebook_sched"):
        thread = threading.Thread(target=run)
        thread.start()
        assert done.wait(30), "run() did not return"
        thread.join(5)
    assert checks >= 20
    logged = errors_logged(caplog)
    assert len(logged) == 1
    assert "the scheduler's shut_cond raised SystemExit: no config" in logged[0].getMessage()


def test_a_condition_raising_from_a_cell_raises_there():
    """Asked directly, the error is the answer: the user sees it."""
    cond = condition(lambda: sys.exit("no config"))
    with pytest.raises(SystemExit):
        cond.is_true()
    with pytest.raises(SystemExit):
        (cond | false).is_true()
    assert (cond | true).is_true()
    assert not (cond & false).is_true()


def test_redefining_a_task_forgets_its_condition_error(caplog):
    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, cycle_sleep=0.01)

        def broken():
            raise RuntimeError("broken")

        @app.task(condition(broken), name="t")
        async def first():
            pass

        app.start()
        await until(lambda: app.tasks["t"].condition_error is not None)
        app.task(condition(lambda: False), name="t")(first)
        assert app.tasks["t"].condition_error is None
        app.shut_down()
        await app.wait(5)

    with caplog.at_level(logging.ERROR, logger="notebook_sched"):
        asyncio.run(scenario())


def test_each_error_is_published_once_as_condition_failed(caplog):
    from notebook_sched.events import ConditionFailed

    async def scenario():
        clock = ManualClock(START)
        app = Scheduler(clock=clock, cycle_sleep=0.01)
        seen = []
        app.subscribe(seen.append, ConditionFailed)
        checks = 0

        def broken():
            nonlocal checks
            checks += 1
            raise KeyError("path")

        @app.task(condition(broken))
        async def t():
            pass

        app.start()
        for _ in range(3):
            clock.advance(1.0)
            await until(lambda n=checks: checks > n)
        app.shut_down()
        await app.wait(5)
        return seen

    with caplog.at_level(logging.ERROR, logger="notebook_sched"):
        seen = asyncio.run(scenario())
    assert len(seen) == 1
    assert seen[0].task == "t" and seen[0].error.startswith("start_cond raised KeyError: 'path'")
    assert seen[0].time.tzinfo is not None
