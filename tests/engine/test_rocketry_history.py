"""Rocketry's conditions that read the run history, on a real scheduler and a
real runs_db file: status counts and ``retry(n)`` follow the file across a
restart; the file's history is loaded off the loop; ``scheduler_cycles`` and
``env``/``param`` conditions drive a scheduler."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from notebook_sched.conds import (
    IsEnv,
    after_finish,
    every,
    retry,
    running,
    scheduler_cycles,
    started,
    succeeded,
)
from tests.conftest import until
from tests.engine.test_loop_never_blocks import Sleeper


def test_retry_counts_the_failures_in_a_row_of_the_file_across_a_restart(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    attempts = []

    async def first_session() -> None:
        app = make_scheduler(runs_db=path)

        @app.task(every("1 day") | retry(3))
        async def flaky():
            attempts.append(1)
            if len(attempts) == 2:
                app.shut_down()  # two failures in a row, then the kernel restarts
            raise RuntimeError("down")

        app.start()
        await app.wait(10)

    async def second_session() -> list[str]:
        # the day's run is spent; two failures in a row are in the file: two more
        # retries make it four in a row, beyond retry(3)
        app = make_scheduler(
            runs_db=path,
            shut_cond=scheduler_cycles(more_than=10) & ~running("flaky"),
            cycle_sleep=0.01,
        )

        @app.task(every("1 day") | retry(3))
        async def flaky():
            attempts.append(2)
            raise RuntimeError("down")

        app.start()
        await app.wait(10)
        assert app.state == "stopped"
        return [record.status for record in app.runs(task="flaky")]

    asyncio.run(first_session())
    assert attempts == [1, 1]
    assert asyncio.run(second_session()) == ["fail"] * 4
    assert attempts == [1, 1, 2, 2]


def test_status_counts_read_the_runs_of_the_file_across_a_restart(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    ran: list[str] = []

    async def session(number: int) -> None:
        shut = succeeded(task="a").in_past("1 hour") >= 3 if number == 1 else after_finish("b")
        app = make_scheduler(runs_db=path, shut_cond=shut)

        @app.task(started.in_past("1 hour") < 3)  # three runs an hour, not more
        async def a():
            ran.append(f"a{number}")

        if number == 2:

            @app.task((succeeded(task="a").in_past("1 hour") == 3) & every("1 hour"))
            async def b():
                ran.append("b2")

        app.start()
        await app.wait(10)

    asyncio.run(session(1))
    assert ran == ["a1"] * 3
    # after the restart a's three runs of the hour are in the file: a does not
    # run again, and b sees all three (not just the latest)
    asyncio.run(session(2))
    assert ran == ["a1"] * 3 + ["b2"]


def test_a_long_history_is_loaded_off_the_loop_and_counted(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    make_scheduler(runs_db=path)  # creates the file
    now = time.time()
    with sqlite3.connect(path) as raw:
        raw.executemany(
            'INSERT INTO runs (task, status, start, "end", owner) VALUES (?, ?, ?, ?, ?)',
            [("a", "success", now - 7200 - i, now - 7200 - i + 0.5, "old") for i in range(60_000)],
        )

    async def scenario() -> tuple[float, list[str]]:
        # Constructing reads the latest times and the counts per status (a
        # scan, before this test's part); the starts and ends themselves are
        # read on a thread while the loop goes on.
        app = make_scheduler(runs_db=path, shut_cond=after_finish("b"))
        ran = []

        @app.task(every("1 day"))
        def a():  # its day is spent: the file has a start two hours ago
            ran.append("a")

        @app.task(succeeded(task="a").in_past("2 days") >= 60_000)
        async def b():
            ran.append("b")

        sleeper = Sleeper()
        watching = asyncio.ensure_future(sleeper.run())
        app.start()
        await app.wait(20)
        sleeper.stop()
        await watching
        return sleeper.worst, ran

    worst, ran = asyncio.run(scenario())
    assert ran == ["b"]
    assert worst < 0.05, f"the loop was held {worst * 1000:.1f} ms"


def test_env_and_params_conditions_follow_app_params(make_scheduler):
    async def scenario() -> list[str]:
        app = make_scheduler(cycle_sleep=0.01)
        ran = []

        @app.task(IsEnv("prod") & every("1 hour"))
        async def deploy():
            ran.append("deploy")

        @app.task("param 'db' exists & every 1 hour")
        async def backup():
            ran.append("backup")

        app.start()
        # the loop looks again every cycle_sleep: nothing tells it when a param is set
        await until(lambda: app._core.loop.cycles >= 3)
        assert ran == []
        app.session.env = "prod"
        assert app.params["env"] == "prod"
        await until(lambda: ran == ["deploy"])
        app.params["db"] = "sqlite://"
        await until(lambda: ran == ["deploy", "backup"])
        app.shut_down()
        await app.wait(5)
        return ran

    assert asyncio.run(scenario()) == ["deploy", "backup"]
