"""A kernel with more than 1,024 open files, and a process run the kernel
loses track of.

A notebook that holds many sockets or files (a crawler, a pool of database
connections) gets descriptors above 1,023 for every new pipe. ``select()``
refuses those: every process run's waiter failed with ``filedescriptor out
of range in select()``, and the run stayed ``running`` for good (until a
forced shutdown abandoned it). The pipes are now watched with ``poll()``,
and whatever goes wrong while the kernel follows a child ends the run as a
crash, with the child killed.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator

import pytest

from notebook_sched._execution.process import handle
from tests.conftest import pid_alive, wait_until
from tests.faults.faults_support import final

pytestmark = pytest.mark.faults

HELD = 1100  # open files beyond select()'s 1,024


@pytest.fixture
def many_files() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < HELD + 200:
        pytest.skip(f"the hard limit on open files is {hard}: fewer than {HELD + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, HELD + 200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(HELD)]
    try:
        assert max(held) > 1024
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_process_runs_work_in_a_kernel_with_many_open_files(make_scheduler, many_files):
    app = make_scheduler()

    @app.task(execution="process")
    def child():
        print("from the child")
        return 42

    app.start()
    for _ in range(3):
        assert app.tasks["child"].run() is True
        record = final(app, "child")
        assert (record.status, record.result) == ("success", "42"), record.error
        assert record.output == "from the child\n"


def test_a_child_the_kernel_cannot_follow_is_killed_and_its_run_is_a_crash(
    make_scheduler, monkeypatch
):
    real = handle.read_child
    pids: list[int] = []

    def read_child(result_fd, output_fd, zygote_fd, on_output, on_progress, on_pid, *rest):
        def started(pid: int) -> None:
            on_pid(pid)
            pids.append(pid)
            raise RuntimeError("a bug in the reader")

        return real(result_fd, output_fd, zygote_fd, on_output, on_progress, started, *rest)

    monkeypatch.setattr(handle, "read_child", read_child)
    app = make_scheduler()

    @app.task(execution="process")
    def sleeper():
        import time

        time.sleep(120)

    app.start()
    assert app.tasks["sleeper"].run() is True
    record = final(app, "sleeper")
    assert record.status == "crash"
    assert "could not be followed" in record.error and "a bug in the reader" in record.error
    assert app.tasks["sleeper"].status == "idle"
    assert len(pids) == 1
    wait_until(lambda: not pid_alive(pids[0]), 10)
