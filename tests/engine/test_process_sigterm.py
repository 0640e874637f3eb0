"""A process run that its flag wakes is terminated even when the SIGTERM
behind the flag comes late (``_child._Termination``).

The scheduler sets a run's flag, then sends SIGTERM. A child waiting on its
flag wakes at the first and may run ahead of the second into its next
blocking call; a signal that lands just before a system call begins does
not interrupt it, and its Python handler waits until the call returns: such
a run (``flag.wait(60)`` then ``time.sleep(60)``) was SIGKILLed a grace
later, its ``finally`` blocks not run — 2 runs in 200 to 400 ended by hand
under load. Here the late signal is made certain: the task blocks SIGTERM,
as if it had landed just before the sleep began.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

import cloudpickle

from notebook_sched.args import TerminationFlag
from notebook_sched.exc import TaskTerminationException
from tests.conftest import wait_until
from tests.faults.faults_support import final

cloudpickle.register_pickle_by_value(sys.modules[__name__])

GRACE = 5.0  # a run ended by SIGKILL takes this long; one ended by its flag, far less


def _terminated_by_hand(app, name: str, started) -> object:
    app.start()
    assert app.tasks[name].run() is True
    wait_until(started.exists, 15)
    began = time.monotonic()
    assert app.tasks[name].terminate() is True
    record = final(app, name)
    return record, time.monotonic() - began


def test_a_run_woken_by_its_flag_ends_before_a_late_sigterm(make_scheduler, tmp_path):
    app = make_scheduler(terminate_grace=GRACE)
    started, cleaned = tmp_path / "started", tmp_path / "cleaned"

    @app.task(execution="process")
    def polite(flag=TerminationFlag()):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # the signal comes late
        started.touch()
        try:
            flag.wait(60)
            time.sleep(60)
        finally:
            cleaned.write_text(str(flag.is_set()))

    record, took = _terminated_by_hand(app, "polite", started)
    assert (record.status, record.reason) == ("terminate", "manual"), record
    assert "TaskTerminationException" in record.error, record.error
    assert "SIGKILL" not in record.error, record.error
    assert took < GRACE / 2, took
    assert cleaned.read_text() == "True"  # its finally ran, and saw the flag set


def test_a_thread_of_the_run_sees_the_flag_and_sigterm_ends_the_main_one(make_scheduler, tmp_path):
    """Only the main thread raises (as a signal handler does): another thread
    of the task that waits on the flag sees it set, and the main thread's
    sleep is ended by the SIGTERM."""
    app = make_scheduler(terminate_grace=GRACE)
    started, seen = tmp_path / "started", tmp_path / "seen"

    @app.task(execution="process")
    def watched(flag=TerminationFlag()):
        def watch() -> None:
            try:
                seen.write_text(repr(flag.wait(60)))
            except TaskTerminationException:
                seen.write_text("raised")

        watcher = threading.Thread(target=watch)
        watcher.start()
        started.touch()
        try:
            time.sleep(60)
        finally:
            watcher.join(10)

    record, took = _terminated_by_hand(app, "watched", started)
    assert (record.status, record.reason) == ("terminate", "manual"), record
    assert "(signal 15)" in record.error, record.error
    assert took < GRACE / 2, took
    wait_until(seen.exists)
    assert seen.read_text() == "True"


def test_a_run_that_made_sigterm_its_own_sees_its_flag(make_scheduler, tmp_path):
    """A task with SIGTERM handled its own way is not interrupted by its
    flag either: it sees it set, and ends as it chooses."""
    app = make_scheduler(terminate_grace=GRACE)
    started = tmp_path / "started"

    @app.task(execution="process")
    def own_way(flag=TerminationFlag()):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        started.touch()
        while not flag.wait(60):
            pass
        return "stopped when asked"

    record, took = _terminated_by_hand(app, "own_way", started)
    assert record.result == "'stopped when asked'", record
    assert took < GRACE / 2, took


def test_runs_terminated_as_they_start_end_by_their_termination(make_scheduler):
    """``terminate()`` at once after ``run()``: the flag is set before the
    child runs, and SIGTERM follows its first message. Each run ends then,
    as terminated — not with a ``TaskTerminationException`` raised before
    the run's outcome was being taken (it left for the zygote's code: "exited
    with code 1 without a result", 63 runs in 100, each a traceback on the
    kernel's stderr), nor by SIGKILL after the grace."""
    app = make_scheduler(terminate_grace=GRACE)

    @app.task(execution="process")
    def sleeper():
        time.sleep(60)

    app.start()
    for _ in range(30):
        began = time.monotonic()
        assert app.tasks["sleeper"].run() is True
        assert app.tasks["sleeper"].terminate() is True
        record = final(app, "sleeper")
        assert (record.status, record.reason) == ("terminate", "manual"), record
        assert "without a result" not in record.error and "SIGKILL" not in record.error, record
        assert time.monotonic() - began < GRACE / 2
