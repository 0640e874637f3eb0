"""The run history in a SQLite file, through the scheduler."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from notebook_sched import Scheduler
from tests.conftest import pid_alive, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_history_outlives_the_scheduler(make_scheduler, tmp_path):
    db = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=db)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600

    @app.task()
    def job():
        return "first"

    app.start()
    app.tasks["job"].run()
    wait_until(lambda: app.tasks["job"].last_run.status == "success")
    app.shut_down()
    assert app.join(5)

    again = make_scheduler(runs_db=str(db))
    again.task(name="job")(lambda: None)
    assert [(r.task, r.status, r.result) for r in again.runs()] == [("job", "success", "'first'")]
    assert again.tasks["job"].last_run.result == "'first'"


def test_bad_runs_db_path_fails_at_construction(tmp_path):
    missing = tmp_path / "no" / "such" / "runs.sqlite"
    with pytest.raises(ValueError, match=str(missing)):
        Scheduler(runs_db=missing)
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("these are not the runs you are looking for" * 100)
    with pytest.raises(ValueError, match=str(not_sqlite)):
        Scheduler(runs_db=not_sqlite)


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as raw:
        return raw.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def test_runs_alive_when_the_process_dies_are_marked_crash(tmp_path):
    db = tmp_path / "runs.sqlite"
    ready = tmp_path / "ready"
    script = tmp_path / "kernel.py"
    script.write_text(
        textwrap.dedent(f"""
        import asyncio, os, time
        from notebook_sched import Scheduler

        app = Scheduler(runs_db={str(db)!r})

        @app.task(execution="process")
        def in_child():
            time.sleep(600)

        @app.task(execution="thread")
        def in_thread():
            time.sleep(600)

        @app.task(execution="async")
        async def in_loop():
            await asyncio.sleep(600)

        app.start()
        for name in ("in_child", "in_thread", "in_loop"):
            app.tasks[name].run()
        while not all(app.tasks[n].last_run for n in app.tasks):
            time.sleep(0.01)
        open({str(ready)!r}, "w").write("ok")
        time.sleep(600)
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=dict(os.environ, PYTHONPATH=str(ROOT))
    )
    try:
        wait_until(ready.exists, timeout=30)
        # The writer puts the starts in the file within milliseconds.
        wait_until(lambda: _rows(db) == 3, timeout=10)
        alive = Scheduler(runs_db=db)  # the owner is alive: nothing is marked
        assert {r.status for r in alive.runs()} == {"run"}
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait(10)
    reopened = Scheduler(runs_db=db)
    records = reopened.runs()
    assert sorted(r.task for r in records) == ["in_child", "in_loop", "in_thread"]
    assert {r.status for r in records} == {"crash"}
    assert all(str(proc.pid) in r.error and r.end is not None for r in records)
    assert not pid_alive(proc.pid)
