"""The public events: their types, filtering, cancelling, timestamps, and the
order of one run's events."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import datetime, timedelta

import pytest

from notebook_sched import Scheduler, events
from notebook_sched.args import TerminationFlag
from notebook_sched.events import (
    Event,
    RunFinished,
    RunStarted,
    RunTerminating,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    Subscription,
    TaskDefined,
    TaskDisabled,
    TaskEnabled,
)
from notebook_sched.testing import ManualClock
from tests.conftest import until

START = datetime(2026, 11, 30, 9, 0, 0).astimezone()

CONTRACT_FIELDS = {
    "SchedulerStarted": [],
    "SchedulerStopping": ["forced"],
    "SchedulerStopped": [],
    "TaskDefined": ["task"],
    "RunStarted": ["task", "run_id"],
    "RunTerminating": ["task", "run_id", "reason"],
    "RunFinished": ["record"],
    "RunRetryScheduled": ["task", "attempt", "at"],
    "ConditionFailed": ["task", "error"],
}


def test_the_contract_events_are_frozen_timestamped_dataclasses():
    for name, fields in CONTRACT_FIELDS.items():
        cls = getattr(events, name)
        assert issubclass(cls, Event) and dataclasses.is_dataclass(cls), name
        assert cls.__module__ == "notebook_sched.events"
        names = [f.name for f in dataclasses.fields(cls)]
        assert names[0] == "time" and names[1 : 1 + len(fields)] == fields, (name, names)
        assert cls.__doc__, name
    stopping = SchedulerStopping(True, time=START)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stopping.forced = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        SchedulerStopping(True)  # type: ignore[call-arg]  # no time: not an event


def test_one_run_and_the_scheduler_in_order_with_times_from_the_clock():
    async def scenario() -> list[Event]:
        clock = ManualClock(START)
        app = Scheduler(clock=clock)
        seen: list[Event] = []
        app.subscribe(seen.append)

        @app.task(execution="async", timeout=5)
        async def slow() -> None:
            await asyncio.sleep(3600)

        app.start()
        assert app.tasks["slow"].run()
        await until(lambda: any(isinstance(e, RunStarted) for e in seen))
        clock.advance(5)  # the timeout: terminated, then finished
        await until(lambda: any(isinstance(e, RunFinished) for e in seen))
        app.shut_down()
        await app.wait(5)
        return seen

    seen = asyncio.run(scenario())
    kinds = [type(e) for e in seen]
    assert kinds == [
        TaskDefined, SchedulerStarted, RunStarted, RunTerminating, RunFinished,
        SchedulerStopping, SchedulerStopped,
    ]  # fmt: skip
    for event in seen:
        assert event.time.tzinfo is not None
    started, terminating, finished = seen[2], seen[3], seen[4]
    assert isinstance(started, RunStarted) and started.task == "slow"
    assert started.time == started.record.start == START
    assert started.deadline == START + timedelta(seconds=5)
    assert isinstance(terminating, RunTerminating)
    assert (terminating.task, terminating.run_id, terminating.reason) == (
        "slow", started.run_id, "timeout",
    )  # fmt: skip
    assert terminating.time == START + timedelta(seconds=5)
    assert isinstance(finished, RunFinished) and finished.record.run_id == started.run_id
    assert finished.record.status == "terminate" and finished.time == finished.record.end
    stopping = seen[5]
    assert isinstance(stopping, SchedulerStopping) and stopping.forced is False


def test_filter_by_type_and_cancel():
    app = Scheduler()
    defined: list[Event] = []
    changes: list[Event] = []
    everything: list[Event] = []
    subscription = app.subscribe(defined.append, TaskDefined)
    assert isinstance(subscription, Subscription) and subscription.active
    app.subscribe(changes.append, TaskDisabled, TaskEnabled)
    with app.subscribe(everything.append):
        app.task(name="a")(lambda: None)
    assert [type(e) for e in everything] == [TaskDefined]  # cancelled at the block's end
    task = app.tasks["a"]
    task.disable()
    task.enable()
    subscription.cancel()
    subscription.cancel()  # a second cancel does nothing
    assert not subscription.active
    app.task(name="b")(lambda: None)
    assert [(type(e), e.task) for e in defined] == [(TaskDefined, "a")]  # type: ignore[attr-defined]
    assert [type(e) for e in changes] == [TaskDisabled, TaskEnabled]
    assert len(everything) == 1


def test_a_graceful_shutdown_that_becomes_forced_says_so_twice():
    async def scenario() -> list[Event]:
        app = Scheduler(terminate_grace=0.1)
        seen: list[Event] = []
        app.subscribe(seen.append, SchedulerStopping, SchedulerStopped)
        release = threading.Event()

        @app.task(execution="thread")
        def stuck(flag: TerminationFlag = TerminationFlag()) -> None:
            flag.wait(30)
            release.set()

        app.start()
        app.tasks["stuck"].run()
        app.shut_down()  # graceful: waits for the run
        assert [type(e) for e in seen] == [SchedulerStopping]
        app.shut_down()  # the second call forces
        await app.wait(10)
        assert release.is_set()
        return seen

    seen = asyncio.run(scenario())
    assert [(type(e), getattr(e, "forced", None)) for e in seen] == [
        (SchedulerStopping, False), (SchedulerStopping, True), (SchedulerStopped, None),
    ]  # fmt: skip


def test_callbacks_run_on_the_loop_even_when_the_run_is_asked_for_from_a_thread():
    async def scenario() -> tuple[set[int], int]:
        app = Scheduler()
        threads: set[int] = set()
        app.subscribe(lambda e: threads.add(threading.get_ident()), RunStarted, RunFinished)
        app.task(name="t", execution="thread")(lambda: None)
        app.start()
        other = threading.Thread(target=app.tasks["t"].run)
        other.start()
        other.join()
        await until(lambda: app.tasks["t"].last_run is not None and not app.tasks["t"].is_alive())
        await asyncio.sleep(0.05)
        app.shut_down()
        await app.wait(5)
        return threads, threading.get_ident()

    threads, loop_thread = asyncio.run(scenario())
    assert threads == {loop_thread}


def test_a_failing_subscriber_is_logged_and_the_others_still_called(caplog):
    app = Scheduler()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    app.subscribe(broken)
    app.subscribe(seen.append)
    app.task(name="a")(lambda: None)
    assert len(seen) == 1
    assert "an event subscriber failed" in caplog.text


def test_bad_subscriptions_are_refused():
    app = Scheduler()
    with pytest.raises(TypeError, match="callable"):
        app.subscribe("print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"event classes.*int"):
        app.subscribe(print, int)  # type: ignore[arg-type]
