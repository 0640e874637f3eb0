"""Steps of the wall clock (an NTP step back, a resume from suspend) with
``ManualClock.step_wall``, and one the scheduler is not told of: durations —
``every`` intervals within one process, timeouts, retry delays — are
measured on the monotonic clock, so a step neither stretches nor shortens
them; wall-clock conditions follow the wall clock, and a jump forward starts
at most one run per task. ``every`` still counts from the last start in the
run history across a restart (a real SQLite file)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from notebook_sched import Scheduler
from notebook_sched._engine.clock import SystemClock
from notebook_sched.args import TerminationFlag
from notebook_sched.conds import cron, daily, every
from notebook_sched.testing import ManualClock
from tests.conftest import until, wait_until

pytestmark = pytest.mark.faults

SEVEN = datetime(2026, 1, 5, 6, 59, 50, tzinfo=UTC)  # ten seconds before 07:00:00


async def settle() -> None:
    """Let the loop take a few turns (the ManualClock wakes it at once)."""
    for _ in range(10):
        await asyncio.sleep(0.002)


def counting(app, cond, name: str = "counted") -> Counter[str]:
    ran: Counter[str] = Counter()

    async def work():
        ran[name] += 1

    app.task(cond, name=name)(work)
    return ran


@pytest.mark.parametrize("step", [-20.0, 20.0], ids=["back", "forward"])
def test_every_is_measured_on_the_monotonic_clock(step):
    """every 2 s: a step of the wall clock either way neither brings the next
    run forward nor holds it back; it comes 2 monotonic seconds after the last."""

    async def scenario():
        clock = ManualClock(SEVEN)
        app = Scheduler(clock=clock, tz=UTC)
        ran = counting(app, every("2 seconds"))
        app.start()
        await until(lambda: ran["counted"] == 1)  # at once: no recorded start
        clock.step_wall(step)
        await settle()
        assert ran["counted"] == 1, "the step itself started a run"
        clock.advance(1.5)
        await settle()
        assert ran["counted"] == 1, "the interval was shortened"
        clock.advance(0.5)
        await until(lambda: ran["counted"] == 2, 5)  # was: 20 s more after a step back
        clock.advance(2)
        await until(lambda: ran["counted"] == 3, 5)
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_every_based_on_success_is_measured_on_the_monotonic_clock():
    async def scenario():
        clock = ManualClock(SEVEN)
        app = Scheduler(clock=clock, tz=UTC)
        ran = counting(app, every("3 seconds", based="success"))
        app.start()
        await until(lambda: ran["counted"] == 1)
        await until(lambda: app.tasks["counted"].status == "idle")
        clock.step_wall(-60)
        clock.advance(3)
        await until(lambda: ran["counted"] == 2, 5)
        app.shut_down()
        await app.wait(5)

    asyncio.run(scenario())


def test_every_counts_from_the_recorded_start_across_a_restart(tmp_path):
    """SPEC section 5: a new scheduler on the same runs_db (another process,
    as far as its clock knows) waits out the interval from the recorded
    start, on the wall clock."""
    db = tmp_path / "runs.sqlite"

    async def first():
        clock = ManualClock(SEVEN)
        app = Scheduler(clock=clock, tz=UTC, runs_db=db)
        ran = counting(app, every("10 seconds"))
        app.start()
        await until(lambda: ran["counted"] == 1)
        app.shut_down()
        await app.wait(5)

    async def second():
        clock = ManualClock(SEVEN.timestamp() + 4)  # four seconds after that start
        app = Scheduler(clock=clock, tz=UTC, runs_db=db)
        ran = counting(app, every("10 seconds"))
        app.start()
        await settle()
        assert ran["counted"] == 0, "a restart ran a task whose interval had not passed"
        clock.advance(5.5)
        await settle()
        assert ran["counted"] == 0
        clock.advance(0.5)
        await until(lambda: ran["counted"] == 1, 5)
        app.shut_down()
        await app.wait(5)

    asyncio.run(first())
    asyncio.run(second())


@pytest.mark.parametrize("step", [-20.0, 20.0], ids=["back", "forward"])
def test_a_timeout_is_measured_on_the_monotonic_clock(make_scheduler, step):
    clock = ManualClock(SEVEN)
    app = make_scheduler(clock=clock, tz=UTC, terminate_grace=0.5)
    started = threading.Event()

    @app.task(execution="thread", timeout=5)
    def slow(flag=TerminationFlag()):
        started.set()
        flag.wait(30)
        return "stopped" if flag.is_set() else "not stopped"

    app.start()
    app.tasks["slow"].run()
    assert started.wait(10)
    clock.step_wall(step)
    clock.advance(4.5)
    time.sleep(0.2)  # the watchdog has been woken by both moves: nothing may happen
    assert app.tasks["slow"].status == "running"
    clock.advance(0.5)
    wait_until(lambda: app.tasks["slow"].last_run.status != "run", 5)
    record = app.tasks["slow"].last_run
    assert (record.status, record.reason) == ("terminate", "timeout")


def test_a_retry_delay_is_measured_on_the_monotonic_clock(make_scheduler):
    clock = ManualClock(SEVEN)
    app = make_scheduler(clock=clock, tz=UTC)
    attempts: list[int] = []

    @app.task(execution="async", retries=1, retry_delay=5)
    async def flaky():
        attempts.append(1)
        raise OSError("not yet")

    app.start()
    app.tasks["flaky"].run()
    wait_until(lambda: len(attempts) == 1 and app.tasks["flaky"].status == "idle")
    clock.step_wall(-30)
    clock.advance(4.5)
    time.sleep(0.2)
    assert len(attempts) == 1
    clock.advance(0.5)
    wait_until(lambda: len(attempts) == 2, 5)


def test_daily_at_is_not_skipped_by_a_jump_forward():
    async def scenario():
        clock = ManualClock(SEVEN)
        app = Scheduler(clock=clock, tz=UTC)
        ran = counting(app, daily.at("07:00:00"))
        app.start()
        await settle()
        assert ran["counted"] == 0
        clock.step_wall(15)  # resumed from suspend at 07:00:05
        await until(lambda: ran["counted"] == 1, 5)
        clock.step_wall(1800)
        await settle()
        app.shut_down()
        await app.wait(5)
        return ran["counted"]

    assert asyncio.run(scenario()) == 1


def test_a_jump_forward_starts_at_most_one_run_per_task():
    async def scenario():
        clock = ManualClock(SEVEN)
        app = Scheduler(clock=clock, tz=UTC)
        ran: Counter[str] = Counter()
        for name, cond in (("minute", cron("* * * * *")), ("often", every("1 second"))):

            async def work(name=name):
                ran[name] += 1

            app.task(cond, name=name)(work)
        app.start()
        await until(lambda: sum(ran.values()) == 2)
        clock.step_wall(3600)  # an hour of cron minutes passed on the wall clock
        await settle()
        await settle()
        app.shut_down()
        await app.wait(5)
        return ran

    # cron follows the wall clock: one run for the new minute, not sixty; every
    # measures a monotonic interval that has not passed: none.
    assert asyncio.run(scenario()) == {"minute": 2, "often": 1}


class SteppedClock(SystemClock):
    """The system's clocks, with a wall clock that can be stepped without
    telling anyone — as NTP does to the real one."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


def test_an_unannounced_step_back_does_not_hold_every_back(make_scheduler):
    """The system clock steps back 20 s and nothing says so: the loop sees
    wall minus monotonic time change and looks at every task again."""
    clock = SteppedClock()
    app = make_scheduler(clock=clock)
    starts: list[float] = []

    @app.task(every("0.5 seconds"), execution="async")
    async def often():
        starts.append(time.monotonic())

    app.start()
    wait_until(lambda: len(starts) >= 2, 10)
    clock.offset = -20.0
    count = len(starts)
    wait_until(lambda: len(starts) >= count + 3, 10)  # was: a 20 s pause
    gaps = [b - a for a, b in zip(starts[count - 1 :], starts[count:], strict=False)]
    assert max(gaps) < 3.0, gaps
    assert min(gaps) > 0.3, gaps


@pytest.mark.parametrize("step", [-20.0, 20.0], ids=["back", "forward"])
def test_how_long_the_scheduler_has_run_is_monotonic(step):
    """shut_cond=scheduler_running(more_than="5 seconds"): a step of the wall
    clock neither brings the shutdown forward nor holds it back."""
    from notebook_sched.conds import scheduler_running

    async def scenario():
        clock = ManualClock(SEVEN)
        app = Scheduler(clock=clock, tz=UTC, shut_cond=scheduler_running(more_than="5 seconds"))
        app.start()
        await settle()
        clock.step_wall(step)
        clock.advance(4.5)
        await settle()
        assert app.state == "running"
        clock.advance(0.5)
        await until(lambda: app.state == "stopped", 5)  # was: 20 s more, or at once

    asyncio.run(scenario())
