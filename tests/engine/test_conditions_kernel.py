"""Conditions in a real kernel: one calling ``sys.exit()`` or raising
``KeyboardInterrupt`` — start, end and shut conditions alike — neither ends
the kernel nor stops the scheduler (it used to end the kernel, silently);
``is_true()`` asked from a cell tells the scheduler's present state."""

from __future__ import annotations

import pytest

from tests.jupyter.conftest import kernel  # noqa: F401 - the fixture
from tests.jupyter.kernel import Kernel, wait_for

pytestmark = pytest.mark.jupyter


def test_sys_exit_and_keyboard_interrupt_in_conditions_keep_the_kernel(kernel: Kernel):  # noqa: F811
    pid = kernel.json("__import__('os').getpid()")
    kernel.run(
        """
import sys
from notebook_sched import Scheduler
from notebook_sched.conds import condition, every

def no_config():
    sys.exit("no config")

def interrupted():
    raise KeyboardInterrupt

app = Scheduler(cycle_sleep=0.02, shut_cond=condition(no_config))
ticks = 0

@app.task(condition(no_config))
def never():
    pass

@app.task(every("0.05 seconds"), end_cond=condition(interrupted))
def tick():
    global ticks
    ticks += 1

app.start()
"""
    )
    wait_for(lambda: kernel.json("ticks") >= 5, 20, "tick to run while conditions raise")
    state = kernel.json(
        "[__import__('os').getpid(), app.state, app.tasks['never'].condition_error.splitlines()[0],"
        " app.tasks['tick'].condition_error.splitlines()[0], len(app.runs(task='never'))]"
    )
    assert state == [
        pid,
        "running",
        "start_cond raised SystemExit: no config",
        "end_cond raised KeyboardInterrupt: ",
        0,
    ]
    kernel.run("app.shut_down()\nimport asyncio\nawait app.wait(10)")
    assert kernel.json("app.state") == "stopped"


def test_running_is_true_from_a_cell_while_the_task_runs(kernel: Kernel):  # noqa: F811
    kernel.run(
        """
import threading
from notebook_sched import Scheduler
from notebook_sched.conds import running

app = Scheduler()
release = threading.Event()

@app.task(execution="thread")
def x():
    release.wait(20)

app.start()
before = running(app.tasks["x"]).is_true()
app.tasks["x"].run()
"""
    )
    wait_for(lambda: kernel.json("app.tasks['x'].is_alive()"), 15, "x to run")
    assert kernel.json(
        "[before, running(app.tasks['x']).is_true(), (running('x') >= 1).is_true()]"
    ) == [False, True, True]
    kernel.run("release.set()")
    wait_for(lambda: not kernel.json("app.tasks['x'].is_alive()"), 15, "x to end")
    assert kernel.json("running(app.tasks['x']).is_true()") is False
    kernel.run("app.shut_down()\nawait app.wait(10)")
