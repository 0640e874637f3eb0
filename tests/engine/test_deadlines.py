"""Runs end at their deadline, not at the next cycle — even while the loop is blocked."""

from __future__ import annotations

import asyncio
import time

import pytest

from notebook_sched.args import TerminationFlag
from notebook_sched.exc import TaskTerminationException
from tests.conftest import wait_until

TIMEOUT = 0.123  # on no cycle boundary


def flag_checker(execution: str):
    if execution == "async":

        async def work():
            await asyncio.sleep(10)

        return work
    if execution == "thread":

        def work(flag=TerminationFlag()):
            while not flag.is_set():  # checks its flag every 1 ms
                time.sleep(0.001)
            raise TaskTerminationException()

        return work

    def work():
        time.sleep(10)

    return work


@pytest.mark.parametrize("execution", ["async", "thread", "process"])
def test_terminated_within_20ms_of_deadline(make_scheduler, execution):
    app = make_scheduler(cycle_sleep=5)  # a cycle far longer than the timeout
    app.task(execution=execution, name="w", timeout=TIMEOUT)(flag_checker(execution))
    app.start()
    if execution == "process":  # the first process run of a process also boots the zygote
        app.tasks["w"].run()
        wait_until(lambda: app.tasks["w"].last_run.status != "run")
    lateness = []
    for _ in range(5):
        app.tasks["w"].run()
        wait_until(lambda: app.tasks["w"].last_run.status != "run")
        record = app.tasks["w"].last_run
        assert (record.status, record.reason) == ("terminate", "timeout")
        lateness.append(record.runtime - TIMEOUT)
    lateness.sort()
    assert lateness[0] >= 0
    # Within 20 ms; one outlier is tolerated, for a machine busy with other
    # work (the benchmark measures the real distribution).
    assert lateness[-2] < 0.020, lateness
    assert lateness[-1] < 0.100, lateness


def test_process_deadline_holds_while_the_loop_is_blocked(make_scheduler, tmp_path):
    """A main task blocks the scheduler's loop for 1 s; the process run's
    0.3 s deadline still kills its child on time."""
    app = make_scheduler()
    pid_file = tmp_path / "pid"

    @app.task(execution="process", timeout=0.3)
    def child():
        import os

        pid_file.write_text(str(os.getpid()))
        time.sleep(10)

    @app.task(execution="main")
    def blocker():
        time.sleep(1.0)

    app.start()
    app.tasks["child"].run()
    wait_until(lambda: pid_file.exists() and pid_file.read_text())
    pid = int(pid_file.read_text())
    started = time.monotonic()
    app.tasks["blocker"].run()  # posted to the loop, which it then blocks
    from tests.conftest import pid_alive

    wait_until(lambda: not pid_alive(pid), timeout=5)
    assert app.tasks["blocker"].status == "running"  # the loop is still blocked
    assert time.monotonic() - started < 0.9
    wait_until(lambda: app.tasks["child"].last_run.status != "run")
    assert app.tasks["child"].last_run.reason == "timeout"


def test_thread_deadline_holds_while_the_loop_is_blocked(make_scheduler):
    """The flag is set by the watchdog at the deadline, not when the blocked
    loop comes back; the record (written later) keeps the true end time."""
    app = make_scheduler()

    @app.task(execution="thread", timeout=0.3)
    def worker(flag=TerminationFlag()):
        flag.wait(10)
        raise TaskTerminationException()

    @app.task(execution="main")
    def blocker():
        time.sleep(1.0)

    app.start()
    app.tasks["worker"].run()
    app.tasks["blocker"].run()
    wait_until(lambda: app.tasks["worker"].last_run.status != "run")
    record = app.tasks["worker"].last_run
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert 0.3 <= record.runtime < 0.3 + 0.1
    assert app.tasks["blocker"].last_run.end > record.end  # recorded after the block
