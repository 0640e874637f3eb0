"""Reads while records wait for the file: ``app.runs(limit=...)`` merges the
records still in memory with the file's, and a limit larger than what there
is returns everything (it returned only the last ``limit - count`` records:
5 of 10 for ``limit=15``)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from notebook_sched import Scheduler
from tests.conftest import until


def test_a_limit_above_the_count_returns_every_record_while_some_wait(tmp_path: Path):
    db = tmp_path / "runs.db"

    async def scenario() -> tuple[list[int], list[int], list[int]]:
        app = Scheduler(runs_db=str(db))

        @app.task()
        async def job():
            return None

        app.start()
        assert app.tasks["job"].run()
        await until(lambda: not app.tasks["job"].is_alive())
        await until(lambda: len(app.runs("job")) == 1)
        # Another connection holds the file's write lock: new records wait in memory.
        lock = sqlite3.connect(db, timeout=0)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            for _ in range(9):
                assert app.tasks["job"].run()
                await until(lambda: not app.tasks["job"].is_alive())
            every = [r.run_id for r in app.runs("job")]
            above = [r.run_id for r in app.runs("job", limit=15)]
            newest = [r.run_id for r in app.runs("job", limit=3)]
        finally:
            lock.rollback()
            lock.close()
        app.shut_down()
        await app.wait(10)
        return every, above, newest

    every, above, newest = asyncio.run(scenario())
    assert len(every) == 10
    assert above == every
    assert newest == every[-3:]
