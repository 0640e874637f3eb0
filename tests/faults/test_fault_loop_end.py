"""The asyncio loop under a running scheduler ends or closes — a script's
``asyncio.run(main())`` returns after ``app.start()``: the scheduler stops,
its live runs are terminated (reason ``"shutdown"``) and recorded, the state
is ``"stopped"``, ``Task.run()`` raises ``SchedulerNotRunning`` and leaves no
ghost run, and ``start()`` works again. Real child processes, a real SQLite
file."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import pytest

from notebook_sched.args import TerminationFlag
from notebook_sched.exc import SchedulerNotRunning
from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import final, kill_and_reap, read_pid, write_pid

pytestmark = pytest.mark.faults

cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(autouse=True)
def collect_the_closed_loops_tasks() -> Iterator[None]:
    """Tasks left pending on a closed loop are destroyed when the garbage
    collector finds them, running their coroutines' cleanup: here, after the
    test (and its schedulers) — not at some random moment later, which on
    Python 3.11 may be inside a compile() and break it."""
    yield
    gc.collect()


def _define(app, pid_file: Path) -> None:
    @app.task(execution="thread")
    def in_thread(flag=TerminationFlag()):
        flag.wait(60)
        return "flag seen"

    @app.task(execution="process")
    def in_child():
        write_pid(pid_file)
        time.sleep(60)

    @app.task(execution="async")
    async def in_loop():
        await asyncio.sleep(60)

    @app.task(execution="thread")
    def quick():
        return "quick"


LIVE = ("in_thread", "in_child", "in_loop")


def _rows(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as raw:
        return raw.execute("SELECT task, status, reason FROM runs").fetchall()


def _start_and_leave(app, pid_file: Path) -> int:
    """``asyncio.run`` of a main that starts the scheduler and three runs,
    then returns while they are alive; the child's pid."""
    child: list[int] = []

    async def main() -> None:
        app.start()
        for name in LIVE:
            assert app.tasks[name].run() is True
        await asyncio.to_thread(lambda: child.append(read_pid(pid_file)))
        assert all(app.tasks[name].status == "running" for name in LIVE)

    asyncio.run(main())
    return child[0]


def _ended_by_the_loop(app) -> None:
    assert app.state == "stopped"
    for name in LIVE:
        record = app.tasks[name].last_run
        assert (record.status, record.reason) == ("terminate", "shutdown"), (name, record)
        assert app.tasks[name].status == "idle"
    assert [r for r in app.runs() if r.status == "run"] == []
    app.shut_down(force=True)  # nothing left to do: no-op, and join() returns at once
    assert app.join(10)


def _refuses_then_starts_again(app) -> None:
    before = len(app.runs())
    for name in (*LIVE, "quick"):
        with pytest.raises(SchedulerNotRunning):
            app.tasks[name].run()
    assert len(app.runs()) == before  # no ghost run
    app.start()  # no loop runs now: on a thread of its own
    assert app.state == "running"
    assert app.tasks["quick"].run() is True
    assert (final(app, "quick").status, app.tasks["quick"].result) == ("success", "quick")
    app.shut_down()
    assert app.join(15)
    assert app.state == "stopped"


def test_asyncio_run_returning_stops_the_scheduler(make_scheduler, tmp_path, caplog):
    db = tmp_path / "runs.sqlite"
    pid_file = tmp_path / "pid"
    app = make_scheduler(runs_db=db, terminate_grace=0.5)
    _define(app, pid_file)
    began = time.monotonic()
    child = _start_and_leave(app, pid_file)
    try:
        # Bounded by a forced shutdown's: the thread obeyed its flag, the child its SIGTERM.
        assert time.monotonic() - began < 10
        assert not pid_alive(child)
        _ended_by_the_loop(app)
        assert "the asyncio loop the scheduler runs on is ending" in caplog.text
        wanted = sorted((name, "terminate", "shutdown") for name in LIVE)
        wait_until(lambda: sorted(_rows(db)) == wanted, 5)  # the writer has them
        _refuses_then_starts_again(app)
    finally:
        kill_and_reap([child])


def test_the_shutdown_tasks_run_when_the_loop_ends(make_scheduler, tmp_path):
    note = tmp_path / "said goodbye"
    pid_file = tmp_path / "pid"
    app = make_scheduler(terminate_grace=0.5)
    _define(app, pid_file)

    @app.task(on_shutdown=True, execution="thread")
    def goodbye():
        note.write_text("bye")
        return "bye"

    child = _start_and_leave(app, pid_file)
    try:
        _ended_by_the_loop(app)
        assert note.read_text() == "bye"
        assert app.tasks["goodbye"].last_run.status == "success"
    finally:
        kill_and_reap([child])


def _close_leaving_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Close ``loop`` with its tasks still pending, as the user's code does;
    their "destroyed but pending" notes, when collected, are not this test's
    to report (they would land in whichever test runs then)."""
    loop.set_exception_handler(lambda loop, context: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        loop.close()


def test_a_loop_closed_under_the_scheduler_is_noticed(make_scheduler, tmp_path):
    """``run_until_complete`` then ``close()``: no task is cancelled, the
    loop is just gone. The next use of the scheduler notices."""
    pid_file = tmp_path / "pid"
    app = make_scheduler(terminate_grace=0.5)
    _define(app, pid_file)
    loop = asyncio.new_event_loop()

    async def main() -> None:
        app.start()
        for name in LIVE:
            assert app.tasks[name].run() is True
        await asyncio.to_thread(read_pid, pid_file)

    loop.run_until_complete(main())
    child = read_pid(pid_file)
    _close_leaving_tasks(loop)
    try:
        # The first use notices; the thread and the child then end as at any
        # forced shutdown, the async run at once (its loop is gone).
        assert app.state in ("shutting_down", "stopped")
        assert app.tasks["in_loop"].last_run.reason == "shutdown"
        wait_until(lambda: app.state == "stopped", 10)
        wait_until(lambda: not pid_alive(child), 10)
        _ended_by_the_loop(app)
        _refuses_then_starts_again(app)
    finally:
        kill_and_reap([child])


def test_the_state_reads_stopped_once_the_loop_is_closed(make_scheduler):
    app = make_scheduler(terminate_grace=0.2)
    cleaned_up: list[str] = []

    @app.task(execution="async")
    async def waits():
        try:
            await asyncio.sleep(60)
        finally:
            cleaned_up.append("finally")

    loop = asyncio.new_event_loop()

    async def main() -> None:
        app.start()
        app.tasks["waits"].run()
        await asyncio.sleep(0)

    loop.run_until_complete(main())
    assert app.state == "running"  # the loop is idle, not closed: the scheduler is still on it
    _close_leaving_tasks(loop)
    assert app.state == "stopped"
    record = app.tasks["waits"].last_run
    assert (record.status, record.reason) == ("terminate", "shutdown")
    # Collected, the run's coroutine is closed and its finally runs. (The
    # watchdog lets go of the run when its cancelled timers come due.)
    del loop
    wait_until(lambda: gc.collect() >= 0 and cleaned_up == ["finally"], 10)


def test_a_run_coroutine_closed_with_its_loop_does_not_go_on():
    """Closing a suspended run's coroutine (what the garbage collector does to
    the tasks of a closed loop) ends it there: it must not catch GeneratorExit
    and go on to report an outcome — scheduler code run inside the collector,
    which on Python 3.11 broke the next compile() ("AST constructor recursion
    depth mismatch")."""
    from notebook_sched._execution.call import call_async

    class Pending:
        def __await__(self):  # suspends once, as an await on a future does
            yield None

    async def task():
        await Pending()

    coro = call_async(task, {}, time.time)
    coro.send(None)
    with pytest.raises(GeneratorExit):  # was: StopIteration with a "fail" outcome
        coro.throw(GeneratorExit)
