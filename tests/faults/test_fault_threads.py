"""Thread runs that will not stop: one that ignores its flag is stopped by the
injected exception after ``terminate_grace`` (whatever the reason, and again
if it swallows one); one stuck in a C call shows ``terminating`` and a forced
shutdown gives up on it after a bounded wait, with a record that says so.

tests/engine/test_termination.py covers the timeout case of the first and a
5 s sleep abandoned from a running state; these extend both.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time

import pytest

from notebook_sched import Scheduler
from notebook_sched.conds import condition
from notebook_sched.exc import TaskTerminationException
from tests.conftest import until, wait_until
from tests.faults.faults_support import final

pytestmark = pytest.mark.faults

GRACE = 0.3


def spin() -> None:
    """A pure-Python loop that never looks at its flag."""
    while True:
        sum(range(50))


def add_healthy(app) -> None:
    @app.task(execution="async")
    async def healthy():
        return "fine"


def healthy_runs(app) -> None:
    assert app.state == "running"
    assert app.tasks["healthy"].run() is True
    record = final(app, "healthy")
    assert (record.status, record.result) == ("success", "'fine'")


def _request(app, reason: str, stop: dict) -> None:
    if reason == "manual":
        assert app.tasks["stubborn"].terminate() is True
    elif reason == "end_cond":
        stop["now"] = True
    else:
        app.shut_down(force=True)


@pytest.mark.parametrize("reason", ["manual", "end_cond", "shutdown"])
def test_flag_ignoring_thread_is_stopped_by_injection_after_grace(make_scheduler, reason):
    stop = {"now": False}
    app = make_scheduler(terminate_grace=GRACE, cycle_sleep=0.01)
    app.task(execution="thread", name="stubborn", end_cond=condition(lambda: stop["now"]))(spin)
    add_healthy(app)
    app.start()
    app.tasks["stubborn"].run()
    wait_until(lambda: app.tasks["stubborn"].status == "running")
    asked = time.time()
    _request(app, reason, stop)
    if reason != "shutdown":
        wait_until(lambda: app.tasks["stubborn"].status == "terminating")
    record = final(app, "stubborn")
    assert (record.status, record.reason) == ("terminate", reason)
    assert "TaskTerminationException" in record.error
    # Not before the grace period (the flag comes first), and soon after it.
    late = record.end.timestamp() - asked
    assert GRACE - 0.05 <= late < GRACE + 0.5, late
    if reason == "shutdown":
        assert app.join(5)
        app.start()
    healthy_runs(app)


def test_thread_swallowing_injections_is_forced_again_each_grace(make_scheduler):
    caught: list[float] = []
    app = make_scheduler(timeout=0.2, terminate_grace=GRACE)

    @app.task(execution="thread")
    def swallower():
        while True:
            try:
                spin()
            except TaskTerminationException:
                caught.append(time.time())
                if len(caught) == 3:
                    raise

    add_healthy(app)
    app.start()
    app.tasks["swallower"].run()
    record = final(app, "swallower")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert len(caught) == 3
    gaps = [b - a for a, b in itertools.pairwise(caught)]
    assert all(gap >= GRACE - 0.05 for gap in gaps), gaps
    assert 0.2 + 3 * GRACE - 0.05 <= record.runtime < 0.2 + 3 * GRACE + 0.6, record.runtime
    healthy_runs(app)


def _thread_named(prefix: str) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name.startswith(prefix)), None)


def test_thread_stuck_in_sleep_shows_terminating_and_forced_shutdown_abandons_it():
    """On the caller's loop, as in a kernel: a run stuck in time.sleep(30)
    past its timeout stays ``terminating``; a forced shutdown stops the
    scheduler at 2 x grace + 1 s and the record says the run was abandoned."""

    async def scenario():
        app = Scheduler(terminate_grace=GRACE)

        @app.task(execution="thread", timeout=0.2)
        def stuck():
            time.sleep(30)

        add_healthy(app)
        app.start()
        try:
            app.tasks["stuck"].run()
            run_id = app.tasks["stuck"].last_run.run_id
            await until(lambda: app.tasks["stuck"].status == "terminating", 5)
            # Well past deadline and grace (injections every grace period):
            # still stuck in the C call, still shown as such.
            held_until = time.monotonic() + 0.2 + 3 * GRACE
            while time.monotonic() < held_until:
                assert app.tasks["stuck"].status == "terminating"
                assert app.tasks["stuck"].last_run.status == "run"
                await asyncio.sleep(0.02)
            forced = time.monotonic()
            app.shut_down(force=True)
            assert app.state == "shutting_down"
            await app.wait(2 * GRACE + 1 + 5)
            took = time.monotonic() - forced
        finally:
            if app.state != "stopped":
                app.shut_down(force=True)
                await app.wait(10)
        assert 2 * GRACE + 1 - 0.1 <= took < 2 * GRACE + 1 + 1.0, took
        record = app.tasks["stuck"].last_run
        assert record.run_id == run_id
        assert (record.status, record.reason) == ("terminate", "timeout")
        assert "abandoned" in record.error and "C call" in record.error
        # Abandoned, not stopped: its thread still sleeps; the scheduler
        # starts again and runs other tasks meanwhile.
        thread = _thread_named(f"notebook_sched:stuck:{run_id}")
        assert thread is not None and thread.is_alive()
        app.start()
        healthy = app.tasks["healthy"]
        assert healthy.run() is True
        await until(lambda: healthy.last_run.status != "run", 5)
        assert healthy.last_run.status == "success"
        app.shut_down()
        await app.wait(5)
        assert [r.status for r in app.runs()] == ["terminate", "success"]

    asyncio.run(scenario())


def test_a_second_shutdown_call_abandons_a_stuck_thread_and_its_late_end_changes_nothing(
    caplog,
):
    """Graceful, then a second ``shut_down()`` (forced): bounded. When the
    abandoned thread finally returns, its record stays as it was and no
    error is logged."""
    returned = threading.Event()

    async def scenario():
        app = Scheduler(terminate_grace=0.2)

        @app.task(execution="thread")
        def blocked():
            try:
                time.sleep(2.5)
            finally:
                returned.set()

        app.start()
        app.tasks["blocked"].run()
        await until(lambda: app.tasks["blocked"].status == "running", 5)
        app.shut_down()
        await asyncio.sleep(0)
        assert app.state == "shutting_down"  # graceful: waiting for the run
        began = time.monotonic()
        app.shut_down()  # the second call forces
        await app.wait(10)
        took = time.monotonic() - began
        record = app.tasks["blocked"].last_run
        assert took < 2 * 0.2 + 1 + 1.0, took
        assert (record.status, record.reason) == ("terminate", "shutdown")
        assert "abandoned" in record.error
        assert not returned.is_set()
        app.start()  # running again when the old thread comes back
        await until(returned.is_set, 10)
        name = f"notebook_sched:blocked:{record.run_id}"
        thread = _thread_named(name)
        if thread is not None:  # done with the run (a kept worker then goes by another name)
            await until(lambda: not thread.is_alive() or thread.name != name, 5)
        # The thread queued its report before it was done: one turn of the loop
        # would apply a (wrong) late finish.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert app.runs() == [record]
        assert app.tasks["blocked"].status == "idle"
        app.shut_down()
        await app.wait(5)

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
