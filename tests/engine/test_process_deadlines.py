"""A process run's deadline kept by the zygote as well as by the kernel
(``_execution/process/_deadlines.py``): when both act, the run ends once,
with the reason that came first. tests/faults/test_fault_gil.py has the case
the zygote is for (the kernel's GIL held by another thread)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from notebook_sched._execution.process._deadlines import Deadlines
from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import kill_and_reap


def _boot_zygote(app) -> None:
    """A first process run: the zygote boots on a process's first, which on
    a busy machine took longer than the deadlines below (the run was ended
    before its function began)."""

    @app.task(execution="process")
    def warm_up():
        pass

    assert app.tasks["warm_up"].run() is True
    wait_until(lambda: app.tasks["warm_up"].last_run.status != "run", 15)


def test_the_tasks_finally_is_not_cut_short_by_a_second_sigterm(make_scheduler, tmp_path):
    """At the deadline the kernel and the zygote both send SIGTERM: the child
    raises ``TaskTerminationException`` once, and its ``finally`` runs to
    its end (a second exception would cut its sleep short)."""
    app = make_scheduler(terminate_grace=3)
    done = tmp_path / "done"

    @app.task(execution="process", timeout=0.3)
    def cleans_up():
        try:
            time.sleep(30)
        finally:
            time.sleep(0.3)  # the second SIGTERM arrives in here
            done.write_text("yes")

    app.start()
    _boot_zygote(app)
    app.tasks["cleans_up"].run()
    wait_until(lambda: app.tasks["cleans_up"].last_run.status != "run", 10)
    record = app.tasks["cleans_up"].last_run
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert "During handling" not in record.error, record.error  # one exception
    assert done.read_text() == "yes"
    assert 0.5 < record.runtime < 2.5  # not killed after the grace either


def test_a_reason_before_the_deadline_stands(make_scheduler, tmp_path):
    """Terminated by hand before its deadline, a child that ignores SIGTERM
    is still alive when the zygote's deadline comes: the zygote steps in too,
    but the record keeps the first reason."""
    app = make_scheduler(terminate_grace=1.0)
    pid_file = tmp_path / "pid"

    @app.task(execution="process", timeout=0.4)
    def stubborn():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pid_file.write_text(str(os.getpid()))
        time.sleep(30)

    app.start()
    _boot_zygote(app)
    app.tasks["stubborn"].run()
    wait_until(lambda: pid_file.exists() and pid_file.read_text(), 10)
    assert app.tasks["stubborn"].terminate() is True
    wait_until(lambda: app.tasks["stubborn"].last_run.status != "run", 10)
    record = app.tasks["stubborn"].last_run
    assert (record.status, record.reason) == ("terminate", "manual")
    assert "SIGKILL" in record.error
    assert not pid_alive(int(pid_file.read_text()))


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "30"], process_group=0)


def _take_steps_until(deadlines: Deadlines, done, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "not done in time"
        wait = deadlines.wait()
        time.sleep(min(wait if wait is not None else 0.01, 0.01))
        deadlines.take_due()


def test_the_zygotes_steps_flag_then_sigterm_then_sigkill():
    """What the zygote does at a deadline, on a process of its own group
    that ignores SIGTERM (a shell trapping it): the flag is written, SIGTERM
    sent, SIGKILL a grace later; reaped, it was ended at its deadline."""
    child = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 30 & wait"], process_group=0)
    flag_r, flag_w = os.pipe()
    deadlines = Deadlines()
    try:
        at = time.monotonic() + 0.1
        deadlines.add(child.pid, at, 0.3, flag_w)
        assert deadlines.fds() == [flag_w]
        _take_steps_until(deadlines, lambda: time.monotonic() > at + 0.05)
        assert os.read(flag_r, 1) == b"x"
        assert child.poll() is None  # SIGTERM ignored
        _take_steps_until(deadlines, lambda: child.poll() is not None)
        assert child.returncode == -signal.SIGKILL
        assert time.monotonic() >= at + 0.3
        assert deadlines.forget(child.pid) is True
        assert deadlines.fds() == []
    finally:
        kill_and_reap({child.pid})
        child.wait()
        os.close(flag_r)


def test_runs_that_end_before_their_deadline_leave_nothing_behind():
    """A thousand runs with an hour's deadline that end at once: no step is
    taken for them, their flag ends are closed, and the heap does not keep
    an entry per run for the hour."""
    deadlines = Deadlines()
    child = _sleeper()
    try:
        for _ in range(1000):
            flag_r, flag_w = os.pipe()
            os.close(flag_r)
            deadlines.add(child.pid, time.monotonic() + 3600, 3.0, flag_w)
            assert deadlines.forget(child.pid) is False
        assert deadlines.fds() == []
        assert len(deadlines._steps) <= 130
        deadlines.take_due()
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)
