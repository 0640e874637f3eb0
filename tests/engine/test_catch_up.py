"""Catching up after no scheduler ran (``catch_up=True`` with a ``runs_db``
file), on the injectable clock: once at start, not once per missed time, and
the count of missed times."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from notebook_sched import Scheduler
from notebook_sched._engine.catchup import replayable
from notebook_sched._engine.clock import ManualClock
from notebook_sched.conds import (
    IsEnv,
    ParamExists,
    after_success,
    condition,
    cron,
    every,
    hourly,
    scheduler_cycles,
    time_of_day,
)
from tests.conftest import until

START = datetime(2026, 11, 30, 7, 59, 0).timestamp()  # a Monday, 07:59 local
HOUR = 3600.0


async def settle() -> None:
    await asyncio.sleep(0.05)


async def first_session(db, start_cond) -> None:
    """A scheduler on ``db`` that runs ``job`` once, by hand, at START."""
    app = Scheduler(clock=ManualClock(START), runs_db=db)
    app.task(start_cond, name="job")(_job)
    app.start()
    app.tasks["job"].run()
    await until(lambda: app.tasks["job"].last_run.status == "success")
    app.shut_down()
    await app.wait(5)
    app._core.history.close()


async def _job():
    return "ran"


async def second_session(db, start_cond, at: float, catch_up: bool) -> tuple[int, int]:
    """A scheduler on ``db`` started at ``at``: (runs of this session, missed)."""
    app = Scheduler(clock=ManualClock(at), runs_db=db, catch_up=catch_up)
    app.task(start_cond, name="job")(_job)
    before = len(app.runs(task="job"))
    app.start()
    await settle()
    await until(lambda: app.tasks["job"].status == "idle")
    await settle()
    runs = len(app.runs(task="job")) - before
    missed = app.tasks["job"].missed_runs
    app.shut_down()
    await app.wait(5)
    app._core.history.close()
    return runs, missed


@pytest.mark.parametrize(
    ("later", "catch_up", "expected"),
    [
        # 08:00, 09:00, ..., 13:00 came and went; the new session starts at 13:29
        (5.5 * HOUR, True, (1, 6)),
        (5.5 * HOUR, False, (0, 0)),  # without catch_up missed times are skipped
        (30, True, (0, 0)),  # 07:59:30: nothing was missed
    ],
)
def test_runs_once_at_start_and_counts_the_missed(tmp_path, later, catch_up, expected):
    db = str(tmp_path / "runs.sqlite")

    async def scenario():
        hourly = cron("0 * * * *")
        await first_session(db, hourly)
        return await second_session(db, hourly, START + later, catch_up=catch_up)

    assert asyncio.run(scenario()) == expected


def test_every_counts_its_intervals(tmp_path):
    """``every`` runs at start anyway; catching up says how many it missed."""
    db = str(tmp_path / "runs.sqlite")

    async def scenario():
        await first_session(db, every("1 hour"))
        return await second_session(db, every("1 hour"), START + 3.5 * HOUR, catch_up=True)

    assert asyncio.run(scenario()) == (1, 3)


def test_a_custom_condition_is_not_replayed(tmp_path):
    db = str(tmp_path / "runs.sqlite")
    calls = []

    def ready():
        calls.append(1)
        return False

    async def scenario():
        await first_session(db, condition(ready))
        calls.clear()
        result = await second_session(db, condition(ready), START + 5 * HOUR, catch_up=True)
        return result, len(calls)

    (runs, missed), evaluations = asyncio.run(scenario())
    assert (runs, missed) == (0, 0)
    assert evaluations <= 3  # the loop's own looks; no replay over the five hours


def test_what_time_alone_does_not_decide_is_not_replayed():
    assert replayable(hourly & ~time_of_day.after("18:00"))
    for cond in [
        hourly & IsEnv("prod"),  # the params of the past are not known
        hourly | ParamExists("db"),
        hourly & scheduler_cycles(more_than=2),
        hourly & condition(lambda: True),
        hourly & after_success("other"),
    ]:
        assert not replayable(cond), cond


def test_catch_up_needs_a_bool():
    with pytest.raises(ValueError, match="'yes'"):
        Scheduler(catch_up="yes")


def test_every_counts_from_the_recorded_start_across_restarts(tmp_path):
    """A restarted kernel on the same runs_db waits out the interval."""
    db = str(tmp_path / "runs.sqlite")

    async def scenario():
        await first_session(db, every("1 hour"))
        clock = ManualClock(START + 0.5 * HOUR)
        app = Scheduler(clock=clock, runs_db=db)
        app.task(every("1 hour"), name="job")(_job)
        app.start()
        await settle()
        early = len(app.runs(task="job"))  # only the first session's run
        clock.advance(0.5 * HOUR)  # an hour after that run's start
        await until(lambda: len(app.runs(task="job")) == 2)
        app.shut_down()
        await app.wait(5)
        app._core.history.close()
        return early

    assert asyncio.run(scenario()) == 1
