"""What a process task forks: its whole process group ends with the run —
at the run's end, at its timeout (children that ignore SIGTERM too), at a
forced shutdown and when the interpreter that ran the scheduler is killed —
and a forked copy of the child that returns from the task never becomes the
run's record. Real processes; every one of them is checked gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import cloudpickle
import pytest

from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import final, kill_and_reap

pytestmark = pytest.mark.faults

# Process tasks defined here travel by value, helpers included.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

GONE_WITHIN = 5.0  # seconds: the group is killed when the child ends; this is slack


def _fork_sleepers(count: int, ignore_sigterm: bool = False) -> list[int]:
    """Fork ``count`` children of the calling process that sleep for a minute."""
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            if ignore_sigterm:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
    return pids


def _note_pids(path: Path, pids: list[int]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(" ".join(map(str, pids)))
    os.replace(tmp, path)


def _read_pids(path: Path, timeout: float = 20.0) -> list[int]:
    wait_until(path.exists, timeout)
    return [int(p) for p in path.read_text().split()]


def _all_gone(pids: list[int]) -> None:
    try:
        wait_until(lambda: not any(pid_alive(p) for p in pids), GONE_WITHIN)
    finally:
        left = [p for p in pids if pid_alive(p)]
        kill_and_reap(left)
    assert not left, f"{len(left)} forked processes outlived the run: {left[:10]}"


def test_two_hundred_forked_children_end_with_the_run(make_scheduler, tmp_path):
    pids_file = tmp_path / "pids"

    def forks_and_returns():
        _note_pids(pids_file, _fork_sleepers(200))
        return "forked"

    app = make_scheduler()
    app.task(execution="process", name="forker")(forks_and_returns)
    app.start()
    assert app.tasks["forker"].run() is True
    pids = _read_pids(pids_file)
    assert len(pids) == 200
    record = final(app, "forker", timeout=30)
    assert (record.status, record.result) == ("success", "'forked'")
    _all_gone(pids)
    assert app.tasks["forker"].status == "idle"


def _forks_stubborn_children(pids_file: Path) -> Callable[[], None]:
    """A task that forks 20 children ignoring SIGTERM, then sleeps."""

    def forks_and_waits() -> None:
        _note_pids(pids_file, _fork_sleepers(20, ignore_sigterm=True))
        time.sleep(60)

    return forks_and_waits


def test_children_that_ignore_sigterm_end_at_the_timeout(make_scheduler, tmp_path):
    pids_file = tmp_path / "pids"
    app = make_scheduler(terminate_grace=0.5)
    app.task(execution="process", name="forker", timeout=1.0)(_forks_stubborn_children(pids_file))
    app.start()
    app.tasks["forker"].run()
    pids = _read_pids(pids_file)
    record = final(app, "forker", timeout=30)
    assert (record.status, record.reason) == ("terminate", "timeout")
    _all_gone(pids)


def test_forked_children_end_at_a_forced_shutdown(make_scheduler, tmp_path):
    pids_file = tmp_path / "pids"
    app = make_scheduler(terminate_grace=0.5)
    app.task(execution="process", name="forker")(_forks_stubborn_children(pids_file))
    app.start()
    app.tasks["forker"].run()
    pids = _read_pids(pids_file)
    app.shut_down(force=True)
    assert app.join(15)
    record = app.tasks["forker"].last_run
    assert (record.status, record.reason) == ("terminate", "shutdown")
    _all_gone(pids)


def test_a_forked_copy_that_returns_is_not_the_record(make_scheduler, tmp_path):
    """The copy returns from the task first (the child waits for it to
    exit), then the child itself raises: the record is the child's failure."""

    def forks_a_returning_copy():
        copy = os.fork()
        if copy == 0:
            return "returned by the forked copy"
        os.waitpid(copy, 0)
        raise ValueError("the run's own child failed")

    app = make_scheduler()
    app.task(execution="process", name="forker")(forks_a_returning_copy)
    app.start()
    for _ in range(3):
        app.tasks["forker"].run()
        record = final(app, "forker")
        assert record.status == "fail", record
        assert "ValueError: the run's own child failed" in record.error
        assert record.result is None
        wait_until(lambda: app.tasks["forker"].status == "idle")


def test_a_forked_copy_reporting_progress_does_not_speak_for_the_run(make_scheduler, tmp_path):
    from notebook_sched.args import Progress

    def copy_reports(progress=Progress()):
        copy = os.fork()
        if copy == 0:
            progress(0.9, "from the copy")
            time.sleep(0.3)
            return "copy"
        progress(0.1, "from the child")
        os.waitpid(copy, 0)
        return "child"

    app = make_scheduler()
    app.task(execution="process", name="forker")(copy_reports)
    app.start()
    app.tasks["forker"].run()
    record = final(app, "forker")
    assert (record.status, record.result) == ("success", "'child'")


SCRIPT = """
import os, sys, time
from notebook_sched import Scheduler

FOLDER = {folder!r}

def note(name, text):
    with open(f"{{FOLDER}}/{{name}}.tmp", "w") as f:
        f.write(text)
    os.replace(f"{{FOLDER}}/{{name}}.tmp", f"{{FOLDER}}/{{name}}")

app = Scheduler()

@app.task(execution="process")
def forker():
    pids = []
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            time.sleep(120)
            os._exit(0)
        pids.append(pid)
    note("pids", " ".join(map(str, [os.getpid(), *pids])))
    time.sleep(120)

app.start()
app.tasks["forker"].run()
time.sleep(120)
"""


def test_forked_children_do_not_outlive_a_killed_interpreter(tmp_path):
    """The script running the scheduler is SIGKILLed while the run and its
    forked children live: the zygote sees the kernel gone and ends them all."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT.format(folder=str(tmp_path))))
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        pids = _read_pids(tmp_path / "pids", timeout=60)
        assert len(pids) == 21 and all(pid_alive(p) for p in pids)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        _all_gone(pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert not pid_alive(proc.pid)


def test_forked_children_end_when_the_zygote_is_killed(make_scheduler, tmp_path):
    """The zygote (which ends a run's group) is SIGKILLed during the run: the
    run is a crash, and its child and everything it forked are gone too."""
    from notebook_sched._execution.process import zygote

    pids_file = tmp_path / "pids"

    def forks_and_waits():
        _note_pids(pids_file, [os.getpid(), *_fork_sleepers(10, ignore_sigterm=True)])
        time.sleep(60)

    app = make_scheduler(terminate_grace=0.5)
    app.task(execution="process", name="forker")(forks_and_waits)
    app.start()
    app.tasks["forker"].run()
    pids = _read_pids(pids_file)
    server = zygote.zygote_pid()
    assert server is not None
    os.kill(server, signal.SIGKILL)
    record = final(app, "forker", timeout=15)
    assert record.status == "crash" and "zygote process died" in record.error, record
    _all_gone([server, *pids])
    pids_file.unlink()
    app.tasks["forker"].run()  # a new zygote serves the next run
    again = _read_pids(pids_file)
    app.tasks["forker"].terminate()
    assert final(app, "forker").reason == "manual"
    _all_gone(again)


def test_ending_a_runs_group_spares_the_zygote(make_scheduler):
    """Each child leads a group of its own: killing it never reaches the
    zygote, which forks the next run."""
    from notebook_sched._execution.process import zygote

    def leads_its_group():
        return os.getpgid(0) == os.getpid()

    app = make_scheduler()
    app.task(execution="process", name="quick")(leads_its_group)
    app.start()
    servers = []
    for _ in range(2):
        app.tasks["quick"].run()
        record = final(app, "quick")
        assert (record.status, record.result) == ("success", "True")
        wait_until(lambda: app.tasks["quick"].status == "idle")
        servers.append(zygote.zygote_pid())
    assert servers[0] is not None and servers[0] == servers[1] and pid_alive(servers[0])
