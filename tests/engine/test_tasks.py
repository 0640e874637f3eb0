"""The task decorator, ``app.tasks`` and the run rules of the contract."""

from __future__ import annotations

import asyncio
import linecache
import os
import threading
import uuid
import warnings

import pytest

from notebook_sched import Scheduler
from notebook_sched.conds import condition
from tests.conftest import wait_until


def test_decorator_returns_function_unchanged():
    app = Scheduler()

    def f():
        return 1

    assert app.task()(f) is f
    assert f() == 1
    assert app.tasks["f"].name == "f"
    assert app.tasks["f"].execution == "thread"
    assert app.tasks["f"].status == "idle"
    assert app.tasks["f"].last_run is None
    assert app.tasks["f"].deadline is None


def test_default_execution_follows_the_function():
    app = Scheduler()

    @app.task()
    async def a(): ...

    @app.task()
    def b(): ...

    assert (app.tasks["a"].execution, app.tasks["b"].execution) == ("async", "thread")
    assert Scheduler(execution="process").task()(b) is b


def test_a_function_as_start_cond_is_refused_naming_the_task():
    app = Scheduler()

    def ready():
        return True

    with pytest.raises(TypeError, match=r"start_cond of task 'plain'.*condition\(func\)"):

        @app.task(ready)
        def plain(): ...


def test_redefinition_replaces(make_scheduler):
    app = make_scheduler()
    release = threading.Event()
    seen = []

    @app.task(name="t")
    def first():
        release.wait(5)
        seen.append("first")

    task = app.tasks["t"]
    app.start()
    task.run()

    @app.task(name="t")
    def second():
        seen.append("second")

    assert app.tasks["t"] is task  # the same handle follows the new definition
    assert task.func is second
    assert task.run() is False  # the old definition's run is still alive
    release.set()
    wait_until(lambda: not task.is_alive())
    assert task.run() is True
    wait_until(lambda: len(seen) == 2)
    assert seen == ["first", "second"]


def test_one_run_at_a_time(make_scheduler):
    app = make_scheduler()
    release = threading.Event()

    @app.task()
    def t():
        release.wait(5)

    app.start()
    assert app.tasks["t"].run() is True
    assert app.tasks["t"].run() is False
    release.set()
    wait_until(lambda: not app.tasks["t"].is_alive())
    assert len(app.runs("t")) == 1


def test_run_refused_when_disabled_or_end_cond_true_and_raises_when_stopped(make_scheduler):
    app = make_scheduler()

    @app.task(end_cond=condition(lambda: True))
    def ended(): ...

    @app.task(disabled=True)
    def off(): ...

    with pytest.raises(RuntimeError, match="stopped"):
        app.tasks["off"].run()
    app.start()
    assert app.tasks["ended"].run() is False
    assert app.tasks["off"].status == "disabled"
    assert app.tasks["off"].run() is False
    app.tasks["off"].enable()
    assert app.tasks["off"].run() is True


def test_not_started_while_end_condition_true(make_scheduler):
    app = make_scheduler(cycle_sleep=0.01)
    blocked = {"end": True}

    @app.task("every 0.01 seconds", end_cond=condition(lambda: blocked["end"]))
    def t(): ...

    app.start()
    assert not app.join(0.1)
    assert app.runs("t") == []
    blocked["end"] = False
    wait_until(lambda: app.runs("t"))


def test_task_run_in_the_same_step_as_start_is_honoured():
    async def cell():
        app = Scheduler()

        @app.task()
        async def t():
            return "ran"

        app.start()
        assert app.state == "running"
        assert app.tasks["t"].run() is True
        assert app.tasks["t"].last_run.status == "run"  # recorded at once
        app.shut_down()
        await app.wait(5)
        return app.tasks["t"].last_run

    record = asyncio.run(cell())
    assert (record.status, record.result) == ("success", "'ran'")


def test_a_crash_in_a_task_does_not_stop_the_scheduler(make_scheduler):
    app = make_scheduler()

    @app.task()
    def boom():
        raise ValueError("broken task")

    @app.task()
    def fine():
        return 1

    app.start()
    app.tasks["boom"].run()
    wait_until(lambda: app.tasks["boom"].last_run.status == "fail")
    assert "ValueError: broken task" in app.tasks["boom"].last_run.error
    assert app.state == "running"
    app.tasks["fine"].run()
    wait_until(lambda: app.tasks["fine"].last_run.status == "success")


def test_main_task_warns_about_timeout_and_end_cond():
    app = Scheduler()
    with pytest.warns(UserWarning, match="cannot be terminated"):
        app.task(execution="main", timeout=1)(lambda: None)
    with pytest.warns(UserWarning, match="cannot be terminated"):
        app.task(execution="main", name="e", end_cond="false")(lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app.task(execution="main", name="quiet")(lambda: None)


def test_runs_filters_and_session(make_scheduler):
    app = make_scheduler(timeout=5)
    assert app.session.config["timeout"] == 5
    assert app.session.tasks is not None

    @app.task()
    def ok():
        return {"a": 1}

    @app.task()
    def bad():
        raise RuntimeError("x")

    app.start()
    app.tasks["ok"].run()
    app.tasks["bad"].run()
    wait_until(lambda: len(app.runs(status="success")) == 1 and len(app.runs(status="fail")) == 1)
    assert [r.task for r in app.runs(task="ok")] == ["ok"]
    assert app.runs(task=app.tasks["bad"])[0].status == "fail"
    record = app.runs("ok")[0]
    assert record.result == "{'a': 1}"
    assert record.start.tzinfo is not None and record.end.tzinfo is not None
    assert record.runtime == (record.end - record.start).total_seconds()


def test_start_twice_warns_and_shut_down_when_idle_stops_at_once(make_scheduler):
    app = make_scheduler()
    app.start()
    with pytest.warns(UserWarning, match="already running"):
        app.start()
    app.shut_down()
    assert app.state == "stopped"
    assert app.join(5)


def test_a_running_scheduler_is_not_collected_when_its_name_is_rebound():
    import gc
    import weakref

    async def cell():
        app = Scheduler()

        @app.task()  # idle: no timer of the loop refers to the scheduler
        async def manual(): ...

        app.start()
        ref = weakref.ref(app)
        del app  # the cell defining app is re-run: the old one loses its name
        await asyncio.sleep(0.01)
        gc.collect()
        old = ref()
        assert old is not None and old.state == "running"
        assert old.tasks["manual"].run() is True
        old.shut_down()
        await old.wait(5)
        return old.tasks["manual"].last_run.status

    assert asyncio.run(cell()) == "success"


def test_a_process_run_keeps_the_source_of_a_cell_defined_function(make_scheduler):
    """A notebook cell's source exists only in the kernel's linecache (as
    IPython registers it); the child's traceback still shows the cell's file
    name and line — not cloudpickle's ``<dynamic-code>`` — and starts at the
    task's frame, not the child's wrapper."""
    cell = f"/tmp/ipykernel_{os.getpid()}/not-on-disk-{uuid.uuid4().hex}.py"
    source = "def from_a_cell():\n    values = [1, 2]\n    return values[5]\n"
    linecache.cache[cell] = (len(source), None, source.splitlines(True), cell)
    namespace: dict[str, object] = {}
    exec(compile(source, cell, "exec"), namespace)
    app = make_scheduler()
    app.task(execution="process", name="cell")(namespace["from_a_cell"])
    app.start()
    app.tasks["cell"].run()
    wait_until(lambda: app.tasks["cell"].last_run and app.tasks["cell"].last_run.status == "fail")
    error = app.tasks["cell"].last_run.error
    assert error.splitlines()[1:3] == [
        f'  File "{cell}", line 3, in from_a_cell',
        "    return values[5]",
    ], error
    assert "<dynamic-code>" not in error and "run_child" not in error
    assert error.endswith("IndexError: list index out of range")


def test_an_async_def_on_main_is_awaited_on_the_loop_as_rocketry_does(make_scheduler):
    """Rocketry awaits an ``async def`` given ``execution="main"``; so do we —
    on the scheduler's loop, where cancellation (its timeout) stops it."""
    app = make_scheduler()
    loops = []

    @app.task(execution="main")
    async def awaited():
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return "awaited"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it can be terminated: no "cannot be stopped" warning

        @app.task(execution="main", timeout=0.2)
        async def too_long():
            await asyncio.sleep(30)

    assert app.tasks["awaited"].execution == "main"
    assert app.tasks["too_long"].timeout == 0.2
    app.start()
    app.tasks["awaited"].run()
    app.tasks["too_long"].run()
    wait_until(lambda: app.tasks["awaited"].last_run.status == "success", timeout=10)
    assert app.tasks["awaited"].last_run.result == "'awaited'"
    assert loops == [app._core.host.loop]
    wait_until(lambda: app.tasks["too_long"].last_run.status != "run", timeout=10)
    record = app.tasks["too_long"].last_run
    assert (record.status, record.reason) == ("terminate", "timeout")
