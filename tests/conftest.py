"""Shared fixtures: schedulers that are always stopped, and a check that no
child process outlives the test that started it."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator

import pytest

from notebook_sched import Scheduler


def child_pids(parent: int | None = None) -> set[int]:
    """Live (non-zombie) processes whose parent is ``parent`` (default: us),
    but for the zygote and the local Ray's guardian, which live as long as this
    process by design."""
    from notebook_sched._execution.process.zygote import zygote_pid
    from notebook_sched._execution.ray.cluster import guardian_pid

    parent = os.getpid() if parent is None else parent
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(entry))
    return found - {zygote_pid(), guardian_pid()}


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Block until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.002)


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Await until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.002)


@pytest.fixture(scope="session", autouse=True)
def zygote_stops_cleanly() -> Iterator[None]:
    """At the end, stop the zygote and check that it and its children are gone."""
    from notebook_sched._execution.process import zygote

    yield
    pid = zygote.zygote_pid()
    zygote.stop()
    if pid is not None:
        assert not pid_alive(pid)


@pytest.fixture
def make_scheduler() -> Iterator[Callable[..., Scheduler]]:
    """Build schedulers; each is force-stopped at teardown, and no child
    process may be left behind."""
    made: list[Scheduler] = []
    before = child_pids()

    def make(*args: object, **kwargs: object) -> Scheduler:
        app = Scheduler(*args, **kwargs)  # type: ignore[arg-type]
        made.append(app)
        return app

    yield make
    for app in made:
        force_stop(app)
    wait_until(lambda: not (child_pids() - before), timeout=10)


def force_stop(app: Scheduler) -> None:
    """Shut ``app`` down, forced, and wait until it has stopped when it runs
    on a thread of its own."""
    if app.state != "stopped":
        app.shut_down(force=True)
        if app._core.host.thread is not None:
            assert app.join(15), f"{app!r} did not stop"
