"""Defects found by tests written outside the project."""

from __future__ import annotations

import threading

from notebook_sched import Scheduler
from notebook_sched.conds import after_success, running
from tests.conftest import wait_until


def test_the_bare_decorator_defines_the_task():
    app = Scheduler()

    @app.task
    def plain():
        return "plain"

    @app.task
    async def coro():
        return "coro"

    assert plain() == "plain"  # the function itself, unchanged
    assert set(app.tasks) == {"plain", "coro"}
    assert (app.tasks["plain"].execution, app.tasks["coro"].execution) == ("thread", "async")
    assert app.tasks["plain"].start_cond is None  # runs only when asked, as @app.task()


def test_is_true_from_a_cell_reports_the_present_state(make_scheduler):
    app = make_scheduler()
    release = threading.Event()

    @app.task(execution="thread")
    def busy():
        release.wait(10)

    app.start()
    assert running(app.tasks["busy"]).is_true() is False
    assert app.tasks["busy"].run()
    wait_until(lambda: app.tasks["busy"].status == "running")
    assert running(app.tasks["busy"]).is_true() is True
    assert running("busy").is_true() is True
    assert after_success(busy).is_true() is False
    release.set()
    wait_until(lambda: app.tasks["busy"].last_run.status == "success")
    assert running(app.tasks["busy"]).is_true() is False
    assert after_success(busy).is_true() is True
