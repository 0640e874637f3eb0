"""The execution methods' shared parts, without a scheduler: ``call`` turns
what a function did into the run's outcome, and every method's ``start``
returns a ``RunHandle`` that reports the end once."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from notebook_sched._execution import async_, main, thread
from notebook_sched._execution.base import Job, Outcome, RunHandle
from notebook_sched._execution.call import (
    call,
    call_async,
    call_away,
    outcome_of_report,
    report,
)
from notebook_sched.exc import TaskTerminationException
from tests.conftest import wait_until


def clock() -> float:
    return 7.0


def fails() -> None:
    raise ValueError("bad input")


def test_a_returned_value_is_kept_as_its_short_repr_and_itself():
    assert call(lambda: "ok", {}, clock) == Outcome("success", 7.0, result="'ok'", value="ok")
    long = call(lambda: "x" * 500, {}, clock)
    assert long.result == "'" + "x" * 198 + "…"
    assert long.value == "x" * 500


def test_the_keyword_arguments_are_passed():
    assert call(lambda flag: flag * 2, {"flag": 21}, clock).result == "42"


def test_an_error_fails_the_run_with_its_traceback():
    outcome = call(fails, {}, clock)
    assert (outcome.status, outcome.end, outcome.result) == ("fail", 7.0, None)
    assert outcome.error is not None
    assert outcome.error.startswith("Traceback (most recent call last):")
    assert outcome.error.endswith("ValueError: bad input")


def test_termination_and_exits_are_caught_too():
    def terminated() -> None:
        raise TaskTerminationException("stop")

    def interrupted() -> None:
        raise KeyboardInterrupt

    assert call(terminated, {}, clock).status == "terminate"
    exited = call(lambda: sys.exit(7), {}, clock)
    assert exited == Outcome("fail", 7.0, error="SystemExit(7): the task called sys.exit()")
    outcome = call(interrupted, {}, clock)
    assert outcome.status == "fail" and outcome.error is not None
    assert outcome.error.endswith("KeyboardInterrupt")


def test_the_wrapper_frame_is_stripped_where_asked():
    kept = call(fails, {}, clock).error or ""
    stripped = call(fails, {}, clock, strip_wrapper=True).error or ""
    assert "in call\n" in kept
    assert "in call\n" not in stripped
    assert stripped.splitlines()[1].endswith("in fails")  # the task's frame comes first


def test_a_returned_coroutine_is_run_where_asked():
    async def work() -> str:
        await asyncio.sleep(0)
        return "awaited"

    assert call(work, {}, clock, run_coroutine=True).result == "'awaited'"
    sent = call_away(work, {})
    assert sent[:3] == ("success", None, "'awaited'")
    assert outcome_of_report(sent, 0.0).value == "awaited"


def test_finished_is_called_once_the_function_is_over():
    seen: list[str] = []
    call(lambda: seen.append("ran"), {}, clock, finished=lambda: seen.append("finished"))
    call(fails, {}, clock, finished=lambda: seen.append("finished"))
    assert seen == ["ran", "finished", "finished"]


def test_an_awaited_run_that_is_cancelled_is_terminated():
    async def forever() -> None:
        await asyncio.sleep(60)

    async def scenario() -> Outcome:
        task = asyncio.ensure_future(call_async(forever, {}, clock))
        await asyncio.sleep(0.01)
        task.cancel()
        return await task

    assert asyncio.run(scenario()) == Outcome("terminate", 7.0)


def test_a_report_travels_as_strings_and_comes_back_whole():
    outcome = Outcome("fail", 0.0, error="Traceback ...")
    sent = report(outcome)
    assert sent == ("fail", "Traceback ...", None, None)
    assert outcome_of_report(sent, 3.0) == Outcome("fail", 3.0, error="Traceback ...")


class Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.x == self.x


def test_a_reported_value_travels_pickled_and_its_repr_when_it_cannot():
    sent = report(call(lambda: [Point(3), {"a": 1}], {}, clock))
    assert isinstance(sent[3], bytes)
    assert outcome_of_report(sent, 3.0).value == [Point(3), {"a": 1}]
    unpicklable = report(call(lambda: threading.Lock(), {}, clock))
    back = outcome_of_report(unpicklable, 3.0)
    assert back.status == "success"
    assert isinstance(back.value, str) and back.value.startswith("<unlocked _thread.lock")
    assert back.value == back.result
    # Pickled where it ran, but its class cannot be found here: its short repr.
    assert outcome_of_report(("success", None, "<Gone>", b"not a pickle"), 3.0).value == "<Gone>"


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop running on a thread of its own, as the scheduler's does."""
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    runner.join(5)
    loop.close()


def job(loop: asyncio.AbstractEventLoop, func: Any, done: list[Outcome], **extra: Any) -> Job:
    return Job("work", 1, func, ("flag",), loop, clock, done.append, **extra)


async def awaited(flag: Any) -> str:
    return f"flag set: {flag.is_set()}"


@pytest.mark.parametrize(
    ("executor", "func", "is_async"),
    [
        (thread.start, lambda flag: f"flag set: {flag.is_set()}", False),
        (thread.start, awaited, True),
        (main.start, lambda flag: f"flag set: {flag.is_set()}", False),
        (async_.start, awaited, True),
    ],
    ids=["thread", "thread-async", "main", "async"],
)
def test_every_method_returns_a_handle_that_reports_once(loop, executor, func, is_async):
    done: list[Outcome] = []
    # Started on the loop's thread, as the scheduler starts runs.
    started: concurrent.futures.Future[RunHandle] = concurrent.futures.Future()
    run = job(loop, func, done, is_async=is_async)
    loop.call_soon_threadsafe(lambda: started.set_result(executor(run)))
    handle = started.result(5)
    assert isinstance(handle, RunHandle)
    wait_until(lambda: done, timeout=5)
    handle.stop()  # after the end: nothing to do
    handle.force()
    time.sleep(0.05)  # a second report would have come by now
    assert done == [Outcome("success", 7.0, result="'flag set: False'", value="flag set: False")]


def test_waiter_threads_are_kept_for_the_next_run():
    """A process run's waiter thread waits for the next run when it is done:
    runs one after another start no new threads."""
    from notebook_sched._execution.waiters import wait_in_thread

    def waiters() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "notebook_sched-waiter"]

    done = threading.Event()
    wait_in_thread(done.set)
    assert done.wait(5)
    wait_until(lambda: len(waiters()) >= 1, timeout=5)
    before = set(waiters())
    for _ in range(20):
        done = threading.Event()
        wait_in_thread(done.set)
        assert done.wait(5)
    assert set(waiters()) <= before  # (one idle 30 s may have ended meanwhile)
    # Two at once need two threads; both are kept.
    release = threading.Event()
    started = [threading.Event(), threading.Event()]
    for event in started:
        wait_in_thread(lambda e=event: (e.set(), release.wait(5)))
    assert all(e.wait(5) for e in started)
    release.set()
    assert len(waiters()) >= 2


def test_a_forced_step_after_its_run_reaches_no_other_run(loop):
    """A thread run's worker serves the next run once this one is over: an
    exception injected for the first (its handle forced late, as a watchdog
    may) must not land in the second, which runs in the same worker."""
    first: list[Outcome] = []
    ended = thread.start(job(loop, lambda flag: "first", first))
    wait_until(lambda: first, timeout=5)
    workers = []

    def spin(flag: Any) -> str:
        workers.append(threading.get_ident())
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:  # pure Python: an injection lands at once
            sum(range(50))
        return "second"

    second: list[Outcome] = []
    thread.start(job(loop, spin, second))
    wait_until(lambda: workers, timeout=5)
    while not second:
        ended.force()
        time.sleep(0.01)
    assert second[0].status == "success", second[0]
    assert first[0].result == "'first'"
