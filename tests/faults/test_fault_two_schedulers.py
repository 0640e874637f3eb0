"""Two schedulers in one process (issue 18; the everyday cause: re-running a
notebook's first cells makes a new ``app`` while the old one still runs).
Making a ``Scheduler`` while another runs warns, naming the running one and
how to stop it; starting a second one on the same ``runs_db`` file — however
its path is spelled — is refused with a ``RuntimeError`` naming the file (both
used to run: an ``every 1 s`` task ran 12 times in 5.1 s). Schedulers on
different files, or in memory, run side by side. In a real kernel too."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import warnings

import pytest

from notebook_sched import Scheduler
from notebook_sched.testing import ManualClock
from tests.conftest import wait_until
from tests.faults.faults_support import final
from tests.jupyter.conftest import kernel  # noqa: F401 - the fixture
from tests.jupyter.kernel import ANSI, Kernel, stderr

pytestmark = pytest.mark.faults


def ticking(app: Scheduler) -> dict[str, int]:
    ran = {"tick": 0}

    @app.task("every 1 second", execution="async")
    async def tick():
        ran["tick"] += 1

    return ran


def test_making_a_scheduler_while_one_runs_warns_naming_it(make_scheduler, tmp_path):
    old = make_scheduler(runs_db=tmp_path / "runs.sqlite")
    ticking(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none runs: no warning
        spare = make_scheduler()
    old.start()
    with pytest.warns(UserWarning) as caught:
        new = Scheduler()  # (stopped: nothing to clean up)
    assert len(caught) == 1 and caught[0].filename == __file__  # points at the caller
    text = str(caught[0].message)
    assert "Scheduler.list_running()[0] is <Scheduler running: 1 tasks (1 " in text, text
    assert str(tmp_path / "runs.sqlite") in text
    assert "old_app.shut_down()" in text and "Scheduler.list_running()[0].shut_down()" in text
    assert Scheduler.list_running() == [old]
    assert new.state == spare.state == "stopped"
    Scheduler.list_running()[0].shut_down()  # as the warning says
    assert old.join(10)
    assert Scheduler.list_running() == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_scheduler()


def _spellings(tmp_path) -> dict[str, str]:
    real = tmp_path / "runs.sqlite"
    (tmp_path / "sub").mkdir()
    os.symlink(real, tmp_path / "link.sqlite")
    return {
        "the same string": str(real),
        "a relative path": os.path.relpath(real),
        "a detour": str(tmp_path / "sub" / ".." / "runs.sqlite"),
        "a symbolic link": str(tmp_path / "link.sqlite"),
    }


def test_a_second_scheduler_on_the_same_file_is_refused(make_scheduler, tmp_path):
    clock = ManualClock()
    first = make_scheduler(runs_db=tmp_path / "runs.sqlite", clock=clock)
    ran = ticking(first)
    first.start()
    wait_until(lambda: ran["tick"] == 1)
    # (A hard link is refused at construction: SQLite names the WAL by the path.)
    for how, path in _spellings(tmp_path).items():
        with pytest.warns(UserWarning, match="another Scheduler of this process is running"):
            second = make_scheduler(runs_db=path, clock=clock)
        seconds = ticking(second)
        with pytest.raises(RuntimeError) as refused:
            second.start()
        message = str(refused.value)
        assert repr(path) in message, (how, message)
        assert "Scheduler.list_running()[0].shut_down()" in message, message
        assert second.state == "stopped" and Scheduler.list_running() == [first], how

        async def serve(app=second):
            await asyncio.wait_for(app.serve(), 10)

        with pytest.raises(RuntimeError, match=re.escape(repr(path))):
            asyncio.run(serve())
        assert second.state == "stopped" and seconds["tick"] == 0, how
    # One scheduler runs the task: five seconds, five more runs, not twice that.
    for _ in range(5):
        n = ran["tick"]
        clock.advance(1)
        wait_until(lambda n=n: ran["tick"] == n + 1)
    assert ran["tick"] == 6
    first.shut_down()
    assert first.join(10)
    assert second.start() is None and second.state == "running"  # the file is free now
    wait_until(lambda: seconds["tick"] == 1)


def test_a_scheduler_whose_loop_was_closed_under_it_lets_go_of_the_file(tmp_path):
    """``run_until_complete`` then ``close()`` left the first one "running":
    the second one's start notices it is not, and starts. The tick's run,
    launched in the loop's last turn, never took a step: its coroutine is
    closed then, not left to the garbage collector to warn that it "was never
    awaited" (in whichever later test collects it)."""
    gc.disable()  # collected where it is looked for, not in between
    try:
        _closed_loop_lets_go_of_the_file(tmp_path)
    finally:
        gc.enable()


def _closed_loop_lets_go_of_the_file(tmp_path) -> None:
    path = tmp_path / "runs.sqlite"
    first = Scheduler(runs_db=path)
    ticking(first)
    loop = asyncio.new_event_loop()

    async def main(app: Scheduler = first) -> None:
        app.start()
        # Asked for in the loop's last turn: the run is launched, and its
        # coroutine never takes a step.
        asyncio.get_running_loop().call_soon(app.tasks["tick"].run)

    loop.run_until_complete(main())
    loop.set_exception_handler(lambda loop, context: None)  # its tasks are left pending
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        loop.close()
    assert first._core.state == "running"  # not noticed yet
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it is not running: no warning names it
        second = Scheduler(runs_db=path)
    second.start()
    try:
        assert (second.state, first.state) == ("running", "stopped")
        assert Scheduler.list_running() == [second]
    finally:
        second.shut_down()
        assert second.join(10)
    assert first.tasks["tick"].last_run.status == "terminate"
    # The closed loop's pending tasks go now, not in a later test.
    del first, second, loop, main
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    unawaited = [str(w.message) for w in caught if "never awaited" in str(w.message)]
    assert not unawaited, unawaited


def test_different_files_and_memory_run_side_by_side(make_scheduler, tmp_path):
    apps = [
        make_scheduler(runs_db=tmp_path / "a.sqlite"),
        make_scheduler(runs_db=tmp_path / "b.sqlite"),
        make_scheduler(),
        make_scheduler(runs_db=":memory:"),
    ]  # made while none runs: no warning
    for app in apps:

        @app.task(execution="thread")
        def job():
            return "ran"

    for app in apps:
        app.start()
    assert Scheduler.list_running() == apps
    for app in apps:
        assert app.tasks["job"].run() is True
        assert final(app, "job").result == "'ran'"


FIRST_CELL = """
from notebook_sched import Scheduler
app = Scheduler(runs_db="runs.sqlite")
ticks = globals().get("ticks", [])

@app.task("every 1 second", execution="async")
async def tick():
    ticks.append(id(app))

app.start()
"""


@pytest.mark.jupyter
def test_re_running_a_notebooks_first_cell_in_a_kernel(kernel: Kernel):  # noqa: F811
    kernel.run(FIRST_CELL)
    old = kernel.json("id(app)")
    outputs, error = kernel.execute(FIRST_CELL)  # the first cell again
    assert error is not None and error["ename"] == "RuntimeError", error
    assert "runs.sqlite" in error["evalue"] and "shut_down()" in error["evalue"], error
    warned = ANSI.sub("", stderr(outputs))
    assert "another Scheduler of this process is running" in warned, warned
    assert "<Scheduler running: 1 tasks" in warned and "old_app.shut_down()" in warned, warned
    # The old one runs on alone; the notebook's `app` is the new, stopped one.
    state = kernel.json("[app.state, [id(s) for s in Scheduler.list_running()]]")
    assert state == ["stopped", [old]]
    kernel.run("old_app = Scheduler.list_running()[0]\nold_app.shut_down()\nawait old_app.wait(10)")
    kernel.run("app.start()")
    new = kernel.json("id(app)")
    assert kernel.json("[app.state, len(Scheduler.list_running())]") == ["running", 1]
    wait_until(lambda: new in kernel.json("ticks"), 20)
    ticks = kernel.json("ticks")
    # Each tick came from one scheduler at a time: never the two at once.
    first_new = ticks.index(new)
    assert set(ticks[:first_new]) == {old} and set(ticks[first_new:]) == {new}
    kernel.run("app.shut_down()\nawait app.wait(10)")
