"""Every termination path, for async, thread and process runs.

The scheduler runs on a thread of its own (as in a script); each task would
write a file after a while, so "no file" proves it was stopped in time.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from notebook_sched.args import TerminationFlag
from notebook_sched.conds import condition
from notebook_sched.exc import TaskTerminationException
from tests.conftest import wait_until

EXECUTIONS = ["async", "thread", "process"]


def slow_writer(execution: str, path: Path, seconds: float = 1.0):
    """A task that writes ``path`` after ``seconds`` unless stopped first."""
    if execution == "async":

        async def work():
            await asyncio.sleep(seconds)
            path.write_text("done")
            return "ok"

        return work
    if execution == "thread":

        def work(flag=TerminationFlag()):
            if flag.wait(seconds):
                raise TaskTerminationException("flag set")
            path.write_text("done")
            return "ok"

        return work

    def work():  # process: SIGTERM raises TaskTerminationException in the child
        time.sleep(seconds)
        path.write_text("done")
        return "ok"

    return work


def final(app, name: str, timeout: float = 15.0):
    wait_until(lambda: (r := app.tasks[name].last_run) is not None and r.status != "run", timeout)
    return app.tasks[name].last_run


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_session_timeout_terminates(make_scheduler, tmp_path, execution):
    app = make_scheduler(config={"timeout": 0.1})
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out))
    app.start()
    assert app.tasks["slow"].run() is True
    record = final(app, "slow")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert not out.exists()
    assert record.runtime is not None and record.runtime < 0.1 + 0.5


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_task_timeout_overrides_session(make_scheduler, tmp_path, execution):
    app = make_scheduler(config={"timeout": 0.1})
    out = tmp_path / "out"
    app.task(execution=execution, name="slow", timeout="5 seconds")(
        slow_writer(execution, out, 0.3)
    )
    app.start()
    app.tasks["slow"].run()
    record = final(app, "slow")
    assert (record.status, record.reason, record.result) == ("success", None, "'ok'")
    assert out.read_text() == "done"


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_never_overrides_session_timeout(make_scheduler, tmp_path, execution):
    app = make_scheduler(timeout=0.1)
    out = tmp_path / "out"
    app.task(execution=execution, name="slow", timeout="never")(slow_writer(execution, out, 0.3))
    assert app.tasks["slow"].timeout is None
    app.start()
    app.tasks["slow"].run()
    assert final(app, "slow").status == "success"
    assert out.exists()


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_end_condition_terminates(make_scheduler, tmp_path, execution):
    app = make_scheduler(cycle_sleep=0.01)
    out = tmp_path / "out"
    stop = {"now": False}
    app.task(execution=execution, name="slow", end_cond=condition(lambda: stop["now"]))(
        slow_writer(execution, out, 2.0)
    )
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].status == "running")
    stop["now"] = True
    record = final(app, "slow")
    assert (record.status, record.reason) == ("terminate", "end_cond")
    assert not out.exists()


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_manual_terminate(make_scheduler, tmp_path, execution):
    app = make_scheduler()
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 2.0))
    app.start()
    app.tasks["slow"].run()
    assert app.tasks["slow"].is_alive()
    wait_until(lambda: app.tasks["slow"].last_run is not None)
    assert app.tasks["slow"].terminate() is True
    record = final(app, "slow")
    assert (record.status, record.reason) == ("terminate", "manual")
    assert not out.exists()
    assert app.tasks["slow"].terminate() is False  # nothing alive any more


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_graceful_shutdown_waits_for_runs(make_scheduler, tmp_path, execution):
    app = make_scheduler()
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 0.4))
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].last_run is not None)
    app.shut_down()
    assert app.state == "shutting_down"
    assert app.tasks["slow"].run() is False  # no new run while shutting down
    assert app.join(15)
    assert app.state == "stopped"
    record = app.tasks["slow"].last_run
    assert record.status == "success" and out.exists()


def _forced(app, out, trigger) -> None:
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].status == "running")
    trigger(app)
    assert app.join(15)
    record = app.tasks["slow"].last_run
    assert (record.status, record.reason) == ("terminate", "shutdown")
    assert not out.exists()


FORCED_TRIGGERS = {
    "force=True": lambda app: app.shut_down(force=True),
    "session.shut_down(force=True)": lambda app: app.session.shut_down(force=True),
    "second call": lambda app: (app.shut_down(), app.shut_down()),
}


@pytest.mark.parametrize("trigger", FORCED_TRIGGERS)
@pytest.mark.parametrize("execution", EXECUTIONS)
def test_forced_shutdown(make_scheduler, tmp_path, execution, trigger):
    app = make_scheduler()
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 3.0))
    _forced(app, out, FORCED_TRIGGERS[trigger])


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_instant_shutdown_forces(make_scheduler, tmp_path, execution):
    app = make_scheduler(instant_shutdown=True)
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 3.0))
    _forced(app, out, lambda app: app.shut_down())


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_fatal_error_forces_shutdown(make_scheduler, tmp_path, execution):
    app = make_scheduler()
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 3.0))

    def broken_slice(loop):  # stands in for a bug inside the scheduler's loop
        raise RuntimeError("scheduler bug")

    def trigger(app):
        app._core.loop._slice = broken_slice
        app._core.wake()

    _forced(app, out, trigger)


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_second_shutdown_during_graceful_wait_forces(make_scheduler, tmp_path, execution):
    app = make_scheduler()
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 3.0))
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].status == "running")
    app.shut_down()
    assert not app.join(0.2)  # the graceful shutdown really is waiting for the run
    assert app.state == "shutting_down"
    app.shut_down()
    assert app.join(15)
    record = app.tasks["slow"].last_run
    assert (record.status, record.reason) == ("terminate", "shutdown")


@pytest.mark.parametrize("execution", EXECUTIONS)
def test_restart_after_forced_shutdown_is_graceful(make_scheduler, tmp_path, execution):
    app = make_scheduler()
    out = tmp_path / "out"
    app.task(execution=execution, name="slow")(slow_writer(execution, out, 0.4))
    app.start()
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].status == "running")
    app.shut_down(force=True)
    assert app.join(15)
    assert app.tasks["slow"].last_run.reason == "shutdown"

    app.start()
    assert app.state == "running"
    app.tasks["slow"].run()
    wait_until(lambda: app.tasks["slow"].last_run.status == "run")
    app.shut_down()  # a first call again: graceful, the run finishes
    assert app.join(15)
    assert app.tasks["slow"].last_run.status == "success"
    assert out.exists()


def test_shut_cond_shuts_down_gracefully(make_scheduler):
    done = []
    app = make_scheduler(shut_cond=condition(lambda: len(done) >= 2), cycle_sleep=0.01)

    @app.task("every 0.05 seconds", execution="thread")
    def tick():
        done.append(1)

    app.start()
    assert app.join(15)
    assert len(done) >= 2
    assert all(r.status == "success" for r in app.runs("tick"))


def test_thread_ignoring_flag_gets_injected_exception(make_scheduler):
    app = make_scheduler(timeout=0.1, terminate_grace=0.2)

    @app.task(execution="thread")
    def stubborn():
        while True:  # pure Python: the injected exception lands here
            sum(range(100))

    app.start()
    app.tasks["stubborn"].run()
    record = final(app, "stubborn")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert "TaskTerminationException" in record.error
    assert 0.3 - 0.05 < record.runtime < 0.3 + 0.5


def test_thread_blocked_in_c_call_shows_terminating(make_scheduler):
    app = make_scheduler(timeout=0.1, terminate_grace=0.1)

    @app.task(execution="thread")
    def blocked():
        time.sleep(1.0)  # a C call: the injected exception waits for it

    app.start()
    app.tasks["blocked"].run()
    wait_until(lambda: app.tasks["blocked"].status == "terminating")
    time.sleep(0.5)  # well past deadline and grace: still stuck in the C call
    assert app.tasks["blocked"].status == "terminating"
    assert app.tasks["blocked"].last_run.status == "run"
    record = final(app, "blocked")
    assert (record.status, record.reason) == ("terminate", "timeout")
    assert record.runtime >= 0.95


def test_forced_shutdown_abandons_a_run_stuck_in_c(make_scheduler):
    app = make_scheduler(terminate_grace=0.1)

    @app.task(execution="thread")
    def stuck():
        time.sleep(5)

    app.start()
    app.tasks["stuck"].run()
    wait_until(lambda: app.tasks["stuck"].status == "running")
    started = time.monotonic()
    app.shut_down(force=True)
    assert app.join(10)
    assert time.monotonic() - started < 3  # bounded: 2 x grace + 1 s
    record = app.tasks["stuck"].last_run
    assert (record.status, record.reason) == ("terminate", "shutdown")
    assert "abandoned" in record.error
