"""A Ray run's handle against a fake connection: no Ray needed. A run's
deadline counts from its launch, so a run stopped while the local Ray is still
starting (seconds) ends at once, and is never sent to Ray."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from typing import Any

import pytest

from notebook_sched._execution.base import Job, Outcome, RunHandle
from notebook_sched._execution.output import OutputBuffer, dropped_line
from notebook_sched._execution.ray import handle as ray_handle


class FakeRef:
    def __init__(self) -> None:
        self.result: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def future(self) -> concurrent.futures.Future[Any]:
        return self.result


class FakeConnection:
    """Records what a handle asks of Ray."""

    def __init__(self) -> None:
        self.submitted: list[FakeRef] = []
        self.calls: list[str] = []

    def board(self) -> str:
        self.calls.append("board")
        return "board"

    def submit(
        self,
        payload: bytes,
        args: bytes,
        key: str,
        board: Any,
        name: str,
        options: dict,
        capture: dict | None = None,
    ) -> FakeRef:
        ref = FakeRef()
        self.submitted.append(ref)
        return ref

    def set_flag(self, board: Any, key: str) -> None:
        self.calls.append("set_flag")

    def release_flag(self, board: Any, key: str) -> None:
        self.calls.append("release_flag")

    def cancel(self, ref: Any) -> None:
        self.calls.append("cancel")


@pytest.fixture
def booting(monkeypatch) -> concurrent.futures.Future[Any]:
    """The connection, not made yet: the local Ray is still starting."""
    pending: concurrent.futures.Future[Any] = concurrent.futures.Future()
    monkeypatch.setattr(ray_handle, "connect", lambda address: pending)
    return pending


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def job(loop: asyncio.AbstractEventLoop, done: list[Outcome], flag: bool = True) -> Job:
    return Job(
        task="remote",
        run_id=1,
        func=lambda: None,
        flag_params=("flag",) if flag else (),
        loop=loop,
        now=lambda: 42.0,
        done=done.append,
        extra={"payload": b"payload", "resources": (), "ray_address": None},
    )


def test_a_run_stopped_while_ray_starts_ends_at_once_and_is_never_sent(booting, loop):
    done: list[Outcome] = []
    handle = ray_handle.start(job(loop, done))
    assert isinstance(handle, RunHandle)
    assert done == []  # waiting for Ray
    handle.stop()  # its deadline, say
    assert done == [Outcome("terminate", 42.0, error="terminated before it reached Ray")]
    connection = FakeConnection()
    booting.set_result(connection)  # Ray is up, seconds later
    assert connection.submitted == []
    assert connection.calls == []  # not even a flag board for it
    handle.stop()
    handle.force()
    assert len(done) == 1  # reported once


def test_a_run_forced_while_ray_starts_is_not_sent_either(booting, loop):
    done: list[Outcome] = []
    handle = ray_handle.start(job(loop, done))
    handle.stop()
    handle.force()
    booting.set_result(connection := FakeConnection())
    assert [outcome.status for outcome in done] == ["terminate"]
    assert connection.submitted == [] and connection.calls == []


def test_a_connection_failing_after_the_stop_changes_nothing(booting, loop):
    done: list[Outcome] = []
    ray_handle.start(job(loop, done)).stop()
    booting.set_exception(RuntimeError("could not start a local Ray"))
    assert [outcome.status for outcome in done] == ["terminate"]


def test_a_run_not_stopped_is_sent_once_ray_is_up(booting, loop):
    done: list[Outcome] = []
    handle = ray_handle.start(job(loop, done))
    booting.set_result(connection := FakeConnection())
    assert len(connection.submitted) == 1 and done == []
    handle.stop()  # now the polite step goes to the run's flag
    assert connection.calls == ["board", "set_flag"] and done == []
    connection.submitted[0].result.set_result((("terminate", "stopped", None, None), None))
    assert done == [Outcome("terminate", 42.0, error="stopped")]
    assert connection.calls[-1] == "release_flag"


def test_a_run_started_once_ray_is_up_reports_its_result(monkeypatch, loop):
    connected: concurrent.futures.Future[Any] = concurrent.futures.Future()
    connected.set_result(connection := FakeConnection())
    monkeypatch.setattr(ray_handle, "connect", lambda address: connected)
    done: list[Outcome] = []
    remote = job(loop, done, flag=False)
    remote.output = OutputBuffer()
    ray_handle.start(remote)
    assert len(connection.submitted) == 1
    written = (2, "it printed\n")  # the worker's buffer: 2 characters dropped, the rest
    connection.submitted[0].result.set_result((("success", None, "'ok'", None), written))
    assert done == [Outcome("success", 42.0, result="'ok'")]
    assert remote.output.text() == dropped_line(2) + "it printed\n"
    assert connection.calls == []  # no flag asked for, no board
