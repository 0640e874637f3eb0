"""A real ipykernel killed with SIGKILL while a process run (with a
grandchild of its own), a thread run and an async run are alive: no process
it started survives, and a scheduler that reopens the same ``runs_db`` shows
those runs as ``crash``."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from notebook_sched import Scheduler
from notebook_sched._execution.process import zygote
from tests.conftest import pid_alive
from tests.faults.faults_support import kill_and_reap
from tests.jupyter.kernel import descendants, start_kernel, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.jupyter]

CELL = """
import asyncio, os, subprocess, time
from notebook_sched import Scheduler
from notebook_sched._execution.process import zygote

FOLDER = {folder!r}
app = Scheduler(runs_db={db!r})

def note(name, pid):
    tmp = f"{{FOLDER}}/{{name}}.tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.replace(tmp, f"{{FOLDER}}/{{name}}")

@app.task(execution="process")
def in_child():
    note("child", os.getpid())
    helper = subprocess.Popen(["sleep", "600"])
    note("grandchild", helper.pid)
    time.sleep(600)

@app.task(execution="thread")
def in_thread():
    note("thread", os.getpid())
    time.sleep(600)

@app.task(execution="async")
async def in_loop():
    note("loop", os.getpid())
    await asyncio.sleep(600)

app.start()
for name in ("in_child", "in_thread", "in_loop"):
    assert app.tasks[name].run() is True
"""


def _pid(folder: Path, name: str) -> int:
    path = folder / name
    return int(wait_for(lambda: path.exists() and path.read_text(), 30, f"{name} pid file"))


def test_kernel_killed_with_sigkill_leaves_no_child_and_its_runs_crash(tmp_path):
    folder = tmp_path / "pids"
    folder.mkdir()
    db = tmp_path / "runs.sqlite"
    kernel = start_kernel(tmp_path)
    started: set[int] = set()
    try:
        kernel.run(textwrap.dedent(CELL.format(folder=str(folder), db=str(db))))
        child = _pid(folder, "child")
        grandchild = _pid(folder, "grandchild")
        assert _pid(folder, "thread") == _pid(folder, "loop") == kernel.pid
        zygote_pid = kernel.json("zygote.zygote_pid()")
        started = {kernel.pid, zygote_pid, child, grandchild}
        assert all(pid_alive(p) for p in started)
        assert {zygote_pid, child, grandchild} <= descendants(kernel.pid)

        # While the kernel lives, another scheduler on the file marks nothing.
        alive = Scheduler(runs_db=db)
        assert sorted((r.task, r.status) for r in alive.runs()) == [
            ("in_child", "run"),
            ("in_loop", "run"),
            ("in_thread", "run"),
        ]
        alive._core.history.close()

        killed_at = time.time()
        os.kill(kernel.pid, signal.SIGKILL)
        wait_for(
            lambda: not any(pid_alive(p) for p in started),
            15,
            "the kernel, its zygote, the run's child and grandchild all gone",
        )
    finally:
        kill_and_reap(started)
        kernel.shutdown()
    assert not any(pid_alive(p) for p in started)

    reopened = Scheduler(runs_db=db)
    records = reopened.runs()
    assert sorted(r.task for r in records) == ["in_child", "in_loop", "in_thread"]
    for record in records:
        assert record.status == "crash", record
        assert record.reason is None
        assert f"pid {kernel.pid}" in record.error, record.error
        assert record.end is not None and record.end.timestamp() >= killed_at - 1
    reopened._core.history.close()
    # Marked once: a third opening finds them final already.
    assert Scheduler(runs_db=db).runs() == records


def test_the_zygote_stops_by_itself_when_told(make_scheduler):
    """Boot a zygote, run one child, stop it: it exits on its own (code 0),
    promptly, instead of being killed after the 5 s wait. (Found by this
    suite: closing the socket under a thread blocked in recv() sent no EOF.)"""
    app = make_scheduler()

    @app.task(execution="process")
    def child():
        return os.getpid()

    app.start()
    app.tasks["child"].run()
    wait_for(lambda: app.tasks["child"].last_run.status == "success", 15)
    running = zygote._zygote
    assert running is not None and running.alive
    began = time.monotonic()
    zygote.stop()
    took = time.monotonic() - began
    assert not pid_alive(running.process.pid)
    assert running.process.returncode == 0, running.process.returncode
    assert took < 2.0, took
