"""A process run's child serves the next process run when its run left
nothing behind (``_execution/process/_reuse.py``), and only then: not after
a run that left a thread, a child process or a timer, nor after one that
was terminated. A kept child sees the kernel's directory, environment and
import path as they are when its next run starts, its runs' output stays
their own, and it is gone when it has been idle a few seconds, when the
scheduler stops and when the zygote does. Real processes, every one of
them checked gone."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from notebook_sched._execution.process import zygote
from notebook_sched._execution.process._workers import IDLE_FOR
from notebook_sched.args import TerminationFlag
from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import final, kill_and_reap, read_pid

# The tasks below travel by value (as a notebook cell's do).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _pid() -> int:
    import os

    return os.getpid()


def write_pid(path: Path, pid: int) -> None:
    """For tasks: a pid written whole, then renamed."""
    import os

    with open(f"{path}.tmp", "w") as f:
        f.write(str(pid))
    os.replace(f"{path}.tmp", path)


def _run(app, name: str) -> object:
    """One run of ``name`` to its end; its return value."""
    before = app.tasks[name].last_run
    assert app.tasks[name].run() is True
    wait_until(
        lambda: (
            (r := app.tasks[name].last_run) is not None and r is not before and r.status != "run"
        ),
        20,
    )
    # Idle: the slot, and the child, are free for the next run.
    wait_until(lambda: app.tasks[name].status == "idle", 20)
    return app.tasks[name].result


def _two_runs(make_scheduler, first, **task_options):
    """The pid of a run of ``first``, and of a clean run right after it."""
    app = make_scheduler(terminate_grace=0.5)
    app.task(execution="process", name="first", **task_options)(first)
    app.task(execution="process", name="then")(_pid)
    app.start()
    _run(app, "first")
    record = app.tasks["first"].last_run
    return app, record, _run(app, "then")


def test_a_clean_runs_child_serves_the_next_run(make_scheduler):
    app, record, then = _two_runs(make_scheduler, _pid)
    assert record.status == "success"
    first = app.tasks["first"].result
    assert first == then != os.getpid()
    again = _run(app, "first")
    assert again == first
    assert pid_alive(first)

    def leads_its_group():
        import os

        return os.getpgid(0) == os.getpid(), os.getpid()

    app.task(execution="process", name="group")(leads_its_group)
    assert _run(app, "group") == (True, first)  # still a group of its own, not the zygote's


def test_not_kept_after_a_run_that_left_a_thread(make_scheduler):
    def leaves_a_thread():
        import os
        import threading

        threading.Thread(target=threading.Event().wait, args=(60,), daemon=True).start()
        return os.getpid()

    app, record, then = _two_runs(make_scheduler, leaves_a_thread)
    first = app.tasks["first"].result
    assert record.status == "success" and first != then
    wait_until(lambda: not pid_alive(first), 10)


def test_not_kept_after_a_run_that_left_a_child(make_scheduler, tmp_path):
    noted = tmp_path / "forked"

    def leaves_a_child():
        import os
        import time

        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        write_pid(noted, pid)
        return os.getpid()

    app, record, then = _two_runs(make_scheduler, leaves_a_child)
    forked = read_pid(noted)
    first = app.tasks["first"].result
    assert record.status == "success" and first != then
    try:
        wait_until(lambda: not pid_alive(first) and not pid_alive(forked), 10)
    finally:
        kill_and_reap([forked])


def test_not_kept_after_a_run_that_left_a_detached_grandchild(make_scheduler, tmp_path):
    """A grandchild in a session of its own, orphaned at once: the kept
    child is its subreaper, so it is still seen as the run's."""
    noted = tmp_path / "grandchild"

    def detaches_a_grandchild():
        import os
        import time

        child = os.fork()
        if child == 0:
            os.setsid()
            if os.fork() == 0:
                write_pid(noted, os.getpid())
                time.sleep(60)
            os._exit(0)
        os.waitpid(child, 0)
        while not os.path.exists(noted):
            time.sleep(0.001)
        return os.getpid()

    app, record, then = _two_runs(make_scheduler, detaches_a_grandchild)
    grandchild = read_pid(noted)
    first = app.tasks["first"].result
    try:
        assert record.status == "success" and first != then
    finally:
        # Out of the run's group by its own doing (setsid): ended here, as
        # before reuse; only a group of its own was ever ended with a run.
        with contextlib.suppress(ProcessLookupError):
            os.kill(grandchild, signal.SIGKILL)
        wait_until(lambda: not pid_alive(grandchild), 10)


def test_not_kept_after_a_run_that_set_a_timer(make_scheduler):
    def sets_a_timer():
        import os
        import signal

        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 60)
        return os.getpid()

    app, record, then = _two_runs(make_scheduler, sets_a_timer)
    assert record.status == "success" and app.tasks["first"].result != then


def test_not_kept_after_a_terminated_run(make_scheduler, tmp_path):
    noted = tmp_path / "terminated"

    def waits(flag=TerminationFlag()):
        import os

        write_pid(noted, os.getpid())
        flag.wait(60)
        return os.getpid()  # returned, but after its termination was asked for

    app = make_scheduler(terminate_grace=0.5)
    app.task(execution="process", name="waits")(waits)
    app.task(execution="process", name="then")(_pid)
    app.start()
    kept = _run(app, "then")
    assert app.tasks["waits"].run() is True
    terminated = read_pid(noted)
    assert terminated == kept  # the kept child was handed the run
    app.tasks["waits"].terminate()
    record = final(app, "waits", 20)
    assert (record.status, record.reason) == ("terminate", "manual")
    wait_until(lambda: app.tasks["waits"].status == "idle", 20)
    assert _run(app, "then") != terminated
    wait_until(lambda: not pid_alive(terminated), 10)


def test_not_kept_after_a_run_timed_out(make_scheduler, tmp_path):
    noted = tmp_path / "timed_out"

    def sleeps():
        import os
        import time

        write_pid(noted, os.getpid())
        time.sleep(60)

    _, record, then = _two_runs(make_scheduler, sleeps, timeout=0.5)
    assert (record.status, record.reason) == ("terminate", "timeout")
    timed_out = read_pid(noted)
    assert then != timed_out
    wait_until(lambda: not pid_alive(timed_out), 10)


def test_a_kept_child_sees_the_kernels_directory_environment_and_path(
    make_scheduler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def where():
        import os
        import sys

        return os.getpid(), os.getcwd(), os.environ.get("NS_REUSE"), sys.path[-1]

    def wanders():
        import os
        import sys

        os.chdir("/")
        os.environ["NS_REUSE"] = "changed by a run"
        os.environ["NS_REUSE_LEFT"] = "by a run"
        sys.path.append("/nowhere")
        return os.getpid()

    app = make_scheduler()
    app.task(execution="process", name="where")(where)
    app.task(execution="process", name="wanders")(wanders)
    app.start()
    first = _run(app, "where")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NS_REUSE", "second")
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path / "second")])
    assert _run(app, "where") == (first[0], str(tmp_path), "second", str(tmp_path / "second"))
    assert _run(app, "wanders") == first[0]

    def left():
        import os

        return os.getpid(), os.getcwd(), os.environ.get("NS_REUSE"), "NS_REUSE_LEFT" in os.environ

    app.task(execution="process", name="left")(left)
    assert _run(app, "left") == (first[0], str(tmp_path), "second", False)


def test_a_kept_childs_runs_keep_their_own_output(make_scheduler):
    def writes(n: int):
        def write():
            import logging
            import os
            import warnings

            print(f"print {n}")
            os.write(1, f"fd {n}\n".encode())
            logging.getLogger("ns_reuse").warning("log %d", n)
            warnings.warn("the same warning each run", UserWarning, stacklevel=1)
            return os.getpid()

        return write

    app = make_scheduler()
    for n in range(3):
        app.task(execution="process", name=f"w{n}")(writes(n))
    app.start()
    pids = {_run(app, f"w{n}") for n in range(3)}
    assert len(pids) == 1
    for n in range(3):
        output = app.tasks[f"w{n}"].last_run.output
        others = [m for m in range(3) if m != n]
        assert f"print {n}\n" in output and f"fd {n}\n" in output, output
        assert f"WARNING ns_reuse: log {n}" in output, output
        assert "UserWarning: the same warning each run" in output, output
        assert not any(f"print {m}" in output or f"log {m}" in output for m in others), output


def _kept(make_scheduler):
    """A scheduler, and the kept child its one run left free."""
    app = make_scheduler()
    app.task(execution="process", name="pid")(_pid)
    app.start()
    return app, _run(app, "pid")


def test_a_kept_child_goes_after_being_idle(make_scheduler):
    app, kept = _kept(make_scheduler)
    idle_from = time.monotonic()  # a little after it became free
    assert pid_alive(kept)
    wait_until(lambda: not pid_alive(kept), IDLE_FOR + 10)
    assert time.monotonic() - idle_from >= IDLE_FOR / 2  # not at once: when idle long enough
    assert app.state == "running"
    assert _run(app, "pid") != kept


def test_a_kept_child_goes_when_the_scheduler_stops(make_scheduler):
    began = time.monotonic()  # before it became free
    app, kept = _kept(make_scheduler)
    app.shut_down()
    assert app.join(15)
    wait_until(lambda: not pid_alive(kept), 10)
    # Sooner than its idle time would have ended it: the scheduler's stop did.
    assert time.monotonic() - began < IDLE_FOR, "gone only when idle long enough"


def test_kept_children_go_with_the_zygote(make_scheduler):
    app = make_scheduler()
    app.task(execution="process", name="pid", multilaunch=True)(_pid)
    app.start()
    kept = _run(app, "pid")
    server = zygote.zygote_pid()
    assert server is not None
    zygote.stop()
    assert not pid_alive(server)
    wait_until(lambda: not pid_alive(kept), 10)
    assert _run(app, "pid") != kept  # a new zygote serves the next run


def test_a_pool_of_two_slots_is_served_by_two_children(make_scheduler):
    def pid_after(seconds: float = 0.005) -> int:
        import os
        import time

        time.sleep(seconds)
        return os.getpid()

    app = make_scheduler(pools={"cpu": 2})
    names = [f"p{i}" for i in range(40)]
    for name in names:
        app.task(execution="process", name=name, pool="cpu")(pid_after)
    app.start()
    for name in names:
        assert app.tasks[name].run() is True
    wait_until(lambda: all(app.tasks[n].status == "idle" for n in names), 60)
    records = [app.tasks[n].last_run for n in names]
    assert all(r is not None and r.status == "success" for r in records), records
    pids = {app.tasks[n].result for n in names}
    assert len(pids) <= 2, pids  # two forks, then the same two children


SCRIPT = """
import os, sys, time
from notebook_sched import Scheduler

app = Scheduler()

@app.task(execution="process")
def pid():
    return os.getpid()

app.start()
pids = []
for i in range(2):
    app.tasks["pid"].run()
    while len(app.runs("pid", status="success")) <= i or app.tasks["pid"].status != "idle":
        time.sleep(0.01)
    pids.append(app.tasks["pid"].result)
with open({path!r} + ".tmp", "w") as f:
    f.write(" ".join(map(str, pids)))
os.replace({path!r} + ".tmp", {path!r})
time.sleep(120)
"""


def test_kept_children_do_not_outlive_a_killed_interpreter(tmp_path):
    import subprocess

    noted = tmp_path / "pids"
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(path=str(noted)))
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        wait_until(noted.exists, 60)
        first, second = (int(p) for p in noted.read_text().split())
        assert first == second and pid_alive(first)  # kept, and free now
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: not pid_alive(first), 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if noted.exists():
            kill_and_reap([int(p) for p in noted.read_text().split() if pid_alive(int(p))])


def test_what_a_run_left_buffered_is_its_own_output(make_scheduler):
    """A run that put another ``sys.stdout`` in place leaves a partial line
    in the stream it replaced: a kept child flushes it into that run's
    output, never into the next run's."""

    def leaves_a_partial_line():
        import os
        import sys

        captured = sys.stdout
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the next run's stdout is put back)
        captured.write("partial line of run a")
        return os.getpid()

    def prints():
        import os

        print("from run b")
        return os.getpid()

    app = make_scheduler()
    app.task(execution="process", name="a")(leaves_a_partial_line)
    app.task(execution="process", name="b")(prints)
    app.start()
    kept = _run(app, "a")
    assert _run(app, "b") == kept
    assert "partial line of run a" in app.tasks["a"].last_run.output
    assert app.tasks["b"].last_run.output == "from run b\n"
