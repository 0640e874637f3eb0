"""Widget callbacks from other threads while the scheduler shuts down
(JupyterLab sends comms over subshells): Shut down, Force shut down and the
rows' Run buttons clicked from several threads at once during a graceful
shutdown raise nothing, deadlock nothing (every join is bounded), start no
run after the shutdown began, and leave a panel that still works.

Both the kernel's way (the panel built on the running loop: clicks are handed
to it) and a script's (no running loop: clicks act on the clicking thread).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time

import pytest

from notebook_sched import Scheduler
from notebook_sched.args import TerminationFlag
from tests.conftest import until, wait_until

pytestmark = pytest.mark.faults

pytest.importorskip("ipywidgets")

CLICKERS = 6
TASKS = 4


def define(app: Scheduler) -> None:
    for i in range(TASKS):

        def slow(flag=TerminationFlag()):
            flag.wait(1.0)  # graceful shutdown waits for it; forced sets the flag
            return "done"

        app.task(execution="thread", name=f"slow{i}")(slow)

        async def quick():
            await asyncio.sleep(0.01)

        app.task(execution="async", name=f"quick{i}")(quick)


class Clickers:
    """Threads that click at random until told to stop; errors are kept."""

    def __init__(self, panel, seed: int) -> None:
        self.errors: list[BaseException] = []
        self.clicks = 0
        self.stop = threading.Event()
        self.started = threading.Barrier(CLICKERS + 1)
        # Until ``escalate`` is set only the rows' Run buttons (the graceful
        # shutdown goes on meanwhile); then Shut down and Force too.
        self.escalate = threading.Event()
        self._run_buttons = [row.run_button for row in panel.rows.values()]
        self._all = [panel.shutdown_button, panel.force_button, *self._run_buttons]
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(
                target=self._click,
                args=(random.Random(seed + i),),
                name=f"clicker-{i}",
                daemon=True,
            )
            for i in range(CLICKERS)
        ]
        for thread in self.threads:
            thread.start()

    def _click(self, rng: random.Random) -> None:
        try:
            self.started.wait(10)
            while not self.stop.is_set():
                buttons = self._all if self.escalate.is_set() else self._run_buttons
                rng.choice(buttons).click()
                with self._lock:
                    self.clicks += 1
        except BaseException as exc:
            self.errors.append(exc)

    def go(self) -> None:
        self.started.wait(10)

    def join(self, timeout: float = 10.0) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"clicker threads deadlocked: {alive}"
        assert not self.errors, self.errors


def problems(caplog) -> list[str]:
    """Log records that mean an exception somewhere: a widget callback that
    raised (ipywidgets logs a warning), a loop callback that raised, an error
    of the scheduler."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or "Exception in callback" in r.getMessage()
    ]


def check_runs(app: Scheduler, shutdown_at: float) -> None:
    records = app.runs()
    assert records, "no run ever started"
    assert all(r.status != "run" for r in records), records
    late = [r for r in records if r.start.timestamp() > shutdown_at]
    assert not late, f"runs started after the shutdown began: {late}"


def test_clicks_from_threads_during_graceful_shutdown_on_the_loop(caplog):
    caplog.set_level(logging.WARNING)
    loop_errors: list[dict] = []

    async def scenario():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: loop_errors.append(ctx))
        app = Scheduler(terminate_grace=0.2)
        define(app)
        panel = app.panel()
        app.start()
        for i in range(TASKS):
            assert app.tasks[f"slow{i}"].run() is True
        await until(lambda: all(app.tasks[f"slow{i}"].status == "running" for i in range(TASKS)))
        clickers = Clickers(panel, seed=1)
        shutdown_at = time.time()
        app.shut_down()
        assert app.state == "shutting_down"
        clickers.go()
        try:
            await until(lambda: clickers.clicks > 300, 5)
            assert app.state == "shutting_down"  # Run clicks neither started nor stopped anything
            clickers.escalate.set()
            await app.wait(2 * 0.2 + 1 + 5)  # even if every click forced: bounded
            # Clicks go on against the stopped scheduler for a while.
            stopped_clicks = clickers.clicks
            await until(lambda: clickers.clicks > stopped_clicks + 100, 10)
        finally:
            await asyncio.to_thread(clickers.join)
        # Actions handed to the loop before the join run now.
        for _ in range(3):
            await asyncio.sleep(0)
        assert app.state == "stopped"
        assert clickers.clicks > 100
        check_runs(app, shutdown_at)
        # The panel still steers: Start, then a Run click (from another thread).
        count = len(app.runs())
        panel.start_button.click()
        assert app.state == "running"
        clicker = threading.Thread(target=panel.rows["quick0"].run_button.click)
        clicker.start()
        await asyncio.to_thread(clicker.join, 5)
        await until(lambda: len(app.runs()) == count + 1, 5)
        await until(lambda: app.runs()[-1].status == "success", 5)
        app.shut_down()
        await app.wait(5)
        panel.close()

    asyncio.run(scenario())
    assert not loop_errors, loop_errors
    assert not problems(caplog), problems(caplog)


def test_clicks_from_threads_during_graceful_shutdown_in_a_script(caplog):
    """No running loop: the scheduler runs on a thread of its own and the
    panel acts on whichever thread clicks."""
    caplog.set_level(logging.WARNING)
    app = Scheduler(terminate_grace=0.2)
    define(app)
    panel = app.panel()
    app.start()
    try:
        for i in range(TASKS):
            assert app.tasks[f"slow{i}"].run() is True
        wait_until(lambda: all(app.tasks[f"slow{i}"].status == "running" for i in range(TASKS)))
        clickers = Clickers(panel, seed=2)
        shutdown_at = time.time()
        app.shut_down()
        assert app.state == "shutting_down"
        clickers.go()
        try:
            wait_until(lambda: clickers.clicks > 300, 5)
            assert app.state == "shutting_down"
            clickers.escalate.set()
            assert app.join(2 * 0.2 + 1 + 5), "the scheduler did not stop"
            stopped_clicks = clickers.clicks
            wait_until(lambda: clickers.clicks > stopped_clicks + 100, 10)
        finally:
            clickers.join()
        assert app.state == "stopped"
        check_runs(app, shutdown_at)
        count = len(app.runs())
        panel.start_button.click()
        wait_until(lambda: app.state == "running")
        clicker = threading.Thread(target=panel.rows["quick0"].run_button.click)
        clicker.start()
        clicker.join(5)
        wait_until(lambda: len(app.runs()) == count + 1 and app.runs()[-1].status == "success")
    finally:
        app.shut_down(force=True)
        assert app.join(10)
        panel.close()
    assert not problems(caplog), problems(caplog)
