"""Tasks that fail in every way a user's code can: each run ends with a
``fail`` or ``crash`` record whose error says what happened, and the
scheduler and the other tasks go on (a second task runs afterwards)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import pytest

from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import final, kill_and_reap, read_pid

pytestmark = pytest.mark.faults

MB = 1 << 20

# Process tasks defined here travel by value, helpers included: a child does
# not import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class Fault:
    execution: str
    make: Callable[[Path], Callable[..., object]]  # given the pid file path
    status: str
    error: tuple[str, ...] = ()  # fragments the error must contain
    result: str | None = None  # the record's result, for runs that succeed
    result_prefix: str | None = None


def _pid(path: Path) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.replace(tmp, path)


# Each factory returns the task's function; process tasks write their pid
# first, so the test can check that the child is gone afterwards.


def raises(execution: str):
    def make(pid_file: Path):
        if execution == "async":

            async def task():
                raise ValueError("broken on purpose")

            return task

        def task():
            if execution == "process":
                _pid(pid_file)
            raise ValueError("broken on purpose")

        return task

    return make


def raises_base(exc_type: type[BaseException], execution: str):
    def make(pid_file: Path):
        if execution == "async":

            async def task():
                raise exc_type("from the task")

            return task

        def task():
            raise exc_type("from the task")

        return task

    return make


def calls_sys_exit(execution: str):
    def make(pid_file: Path):
        if execution == "async":

            async def task():
                sys.exit(7)

            return task

        def task():
            if execution == "process":
                _pid(pid_file)
            sys.exit(7)

        return task

    return make


def returns_lock(pid_file: Path):
    def task():
        _pid(pid_file)
        return threading.Lock()

    return task


def returns_generator(pid_file: Path):
    def task():
        _pid(pid_file)
        return (i for i in range(3))

    return task


def returns_unrepresentable(pid_file: Path):
    class Opaque:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    def task():
        _pid(pid_file)
        return Opaque()

    return task


def raises_unpicklable(pid_file: Path):
    class HoldsALock(Exception):
        def __init__(self) -> None:
            super().__init__("an exception holding a lock")
            self.lock = threading.Lock()

    def task():
        _pid(pid_file)
        raise HoldsALock()

    return task


def returns_megabytes(pid_file: Path):
    def task():
        _pid(pid_file)
        return "z" * (8 * MB)

    return task


def prints_megabytes(execution: str):
    def make(pid_file: Path):
        def task():
            if execution == "process":
                _pid(pid_file)
            chunk = "x" * MB + "\n"
            for _ in range(8):
                sys.stdout.write(chunk)
            sys.stdout.flush()
            return "printed"

        return task

    return make


def os_exit_3(pid_file: Path):
    def task():
        _pid(pid_file)
        os._exit(3)

    return task


def segfault(pid_file: Path):
    def task():
        import ctypes

        _pid(pid_file)
        ctypes.string_at(0)

    return task


def aborts(pid_file: Path):
    def task():
        _pid(pid_file)
        os.abort()

    return task


FAULTS = {
    "raise-thread": Fault("thread", raises("thread"), "fail", ("ValueError: broken on purpose",)),
    "raise-async": Fault("async", raises("async"), "fail", ("ValueError: broken on purpose",)),
    "raise-process": Fault(
        "process", raises("process"), "fail", ("ValueError: broken on purpose", "Traceback")
    ),
    "KeyboardInterrupt-thread": Fault(
        "thread", raises_base(KeyboardInterrupt, "thread"), "fail", ("KeyboardInterrupt",)
    ),
    "KeyboardInterrupt-async": Fault(
        "async", raises_base(KeyboardInterrupt, "async"), "fail", ("KeyboardInterrupt",)
    ),
    "unpicklable-exception-process": Fault(
        "process", raises_unpicklable, "fail", ("HoldsALock", "an exception holding a lock")
    ),
    "sys.exit-thread": Fault("thread", calls_sys_exit("thread"), "fail", ("SystemExit", "7")),
    "sys.exit-async": Fault("async", calls_sys_exit("async"), "fail", ("SystemExit", "7")),
    "sys.exit-process": Fault("process", calls_sys_exit("process"), "fail", ("SystemExit", "7")),
    "os._exit(3)-process": Fault("process", os_exit_3, "crash", ("code 3",)),
    "segfault-process": Fault("process", segfault, "crash", ("SIGSEGV",)),
    "abort-process": Fault("process", aborts, "crash", ("SIGABRT",)),
    "returns-lock-process": Fault(
        "process", returns_lock, "success", result_prefix="<unlocked _thread.lock object"
    ),
    "returns-generator-process": Fault(
        "process", returns_generator, "success", result_prefix="<generator object"
    ),
    "returns-unrepresentable-process": Fault(
        "process", returns_unrepresentable, "success", result_prefix="<unrepresentable Opaque"
    ),
    "returns-8MB-process": Fault(
        "process", returns_megabytes, "success", result_prefix="'zzzzzzzz"
    ),
    "prints-8MB-thread": Fault("thread", prints_megabytes("thread"), "success", result="'printed'"),
    "prints-8MB-process": Fault(
        "process", prints_megabytes("process"), "success", result="'printed'"
    ),
}


def healthy_task_runs(app) -> None:
    """The scheduler still runs, and so does another task."""
    assert app.state == "running"
    assert app.tasks["healthy"].run() is True
    record = final(app, "healthy")
    assert (record.status, record.result) == ("success", "'fine'"), record


def add_healthy(app) -> None:
    @app.task(execution="thread")
    def healthy():
        return "fine"


@pytest.mark.parametrize("name", FAULTS)
def test_fault_becomes_a_readable_record(make_scheduler, tmp_path, capfd, name):
    fault = FAULTS[name]
    pid_file = tmp_path / "pid"
    app = make_scheduler(terminate_grace=0.5)
    app.task(execution=fault.execution, name="faulty")(fault.make(pid_file))
    add_healthy(app)
    app.start()
    assert app.tasks["faulty"].run() is True
    record = final(app, "faulty", timeout=30)

    assert record.status == fault.status, (record, record.error)
    assert record.reason is None
    assert record.end is not None and record.runtime >= 0
    if fault.status in ("fail", "crash"):
        assert record.error, record
        for fragment in fault.error:
            assert fragment in record.error, record.error
        assert record.result is None
    else:
        assert record.error is None, record.error
        if fault.result is not None:
            assert record.result == fault.result
        if fault.result_prefix is not None:
            assert record.result.startswith(fault.result_prefix), record.result
            assert len(record.result) <= 200  # a short repr, even of megabytes
    assert app.tasks["faulty"].status == "idle"
    if fault.execution == "process":
        pid = read_pid(pid_file)
        assert pid != os.getpid()
        wait_until(lambda: not pid_alive(pid), timeout=10)
    healthy_task_runs(app)
    # The same task can run again after its fault.
    pid_file.unlink(missing_ok=True)
    assert app.tasks["faulty"].run() is True
    wait_until(lambda: len(app.runs("faulty")) == 2 and app.runs("faulty")[-1].status != "run", 30)
    assert app.runs("faulty")[-1].status == fault.status
    if name.startswith("prints-8MB"):
        # Captured into the records, bounded: each keeps the end of what it wrote.
        assert "x" * 1000 not in capfd.readouterr().out
        for record in app.runs("faulty"):
            first, body = record.output.split("\n", 1)
            assert first == f"[{8 * (MB + 1) - 65536:,} earlier characters dropped: output_limit]"
            assert body == ("x" * MB + "\n")[-65536:]


def _sleeper(pid_file: Path):
    def task():
        _pid(pid_file)
        time.sleep(30)

    return task


def test_child_killed_from_outside_with_sigkill_is_a_crash(make_scheduler, tmp_path):
    pid_file = tmp_path / "pid"
    app = make_scheduler()
    app.task(execution="process", name="victim")(_sleeper(pid_file))
    add_healthy(app)
    app.start()
    app.tasks["victim"].run()
    pid = read_pid(pid_file)
    try:
        assert app.tasks["victim"].status == "running"
        os.kill(pid, signal.SIGKILL)
        record = final(app, "victim")
    finally:
        kill_and_reap([pid])
    assert (record.status, record.reason) == ("crash", None)
    assert "SIGKILL" in record.error, record.error
    assert record.runtime < 10
    healthy_task_runs(app)


def test_child_terminated_from_outside_is_not_a_scheduler_termination(make_scheduler, tmp_path):
    """Termination has exactly four reasons (timeout, end_cond, shutdown,
    manual); a SIGTERM the scheduler did not send is none of them.
    (Found by this suite: it was 'terminate', "terminated by the scheduler".)"""
    pid_file = tmp_path / "pid"
    app = make_scheduler()
    app.task(execution="process", name="victim")(_sleeper(pid_file))
    add_healthy(app)
    app.start()
    app.tasks["victim"].run()
    pid = read_pid(pid_file)
    try:
        os.kill(pid, signal.SIGTERM)
        record = final(app, "victim")
    finally:
        kill_and_reap([pid])
    healthy_task_runs(app)
    assert record.status in ("crash", "fail"), (record, record.error)
    assert "SIGTERM" in record.error, record.error
    assert "by the scheduler" not in record.error


def test_a_forked_grandchild_does_not_keep_the_run_alive(make_scheduler, tmp_path):
    """The task returns at once but leaves a forked helper behind for 4 s:
    the run is over when the task's function returns. (Found by this suite:
    the parent read the result pipe to its end, which the helper held open.)"""
    grandchild_file = tmp_path / "grandchild"

    def leaves_a_helper():
        helper = os.fork()
        if helper == 0:
            time.sleep(4)
            os._exit(0)
        _pid_value(grandchild_file, helper)
        return "returned"

    app = make_scheduler()
    app.task(execution="process", name="parent")(leaves_a_helper)
    app.start()
    began = time.monotonic()
    app.tasks["parent"].run()
    helper = read_pid(grandchild_file)
    try:
        record = final(app, "parent")
        waited = time.monotonic() - began
    finally:
        kill_and_reap([helper])
    assert (record.status, record.result) == ("success", "'returned'")
    assert waited < 2.0, f"the record landed {waited:.1f} s after the start"
    assert record.runtime < 2.0


def _pid_value(path: Path, pid: int) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.replace(tmp, path)
