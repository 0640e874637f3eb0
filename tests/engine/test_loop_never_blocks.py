"""Nothing the scheduler does holds its loop: a locked runs_db delays records,
not the loop; ten thousand tasks are evaluated in slices; reads merge what is
in memory with what is in the file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
import textwrap
import time

from notebook_sched.conds import cron, daily, every, time_of_day, true
from tests.conftest import until, wait_until


class Sleeper:
    """A 1 ms sleeper on the loop: the longest it waited beyond its 1 ms is
    the longest time something else held the loop."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = False

    async def run(self) -> None:
        while not self._stop:
            began = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - began - 0.001)

    def stop(self) -> None:
        self._stop = True


def _statuses_in_file(path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT task, status FROM runs ORDER BY run_id").fetchall()


def test_a_locked_runs_db_delays_records_not_the_loop(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)

    @app.task(every("0.2 seconds"), execution="async")
    async def tick():
        return "tock"

    async def scenario() -> tuple[float, int]:
        sleeper = Sleeper()
        watching = asyncio.ensure_future(sleeper.run())
        app.start()
        await until(lambda: len(app.runs(status="success")) >= 2)
        holder = subprocess.Popen(  # another process holds the write lock for 2 s
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
                import sqlite3, sys, time
                conn = sqlite3.connect({str(path)!r}, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                print("locked", flush=True)
                time.sleep(2.0)
                conn.execute("ROLLBACK")
            """),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert await asyncio.to_thread(holder.stdout.readline) == "locked\n"
            sleeper.worst = 0.0
            before = len(app.runs(task="tick"))
            await asyncio.to_thread(holder.wait, 10)
            during = len(app.runs(task="tick")) - before
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
        sleeper.stop()
        await watching
        app.shut_down()
        await app.wait(10)
        return sleeper.worst, during

    worst, during = asyncio.run(scenario())
    # Generous: a full garbage collection of the test process alone can take
    # 100 ms; the scheduler's own share is a few ms (bench/: figure 8).
    assert worst < 0.5, f"the loop was held {worst * 1000:.0f} ms"  # was 2,000 ms
    assert during >= 5, during  # ~10 runs in 2 s: the schedule went on under the lock
    records = app.runs(task="tick")
    assert all(r.status == "success" for r in records)
    wait_until(lambda: len(_statuses_in_file(path)) == len(records), 10)
    assert {status for _, status in _statuses_in_file(path)} == {"success"}


def test_ten_thousand_tasks_are_started_in_slices(make_scheduler):
    app = make_scheduler()
    kinds = [
        lambda i: every(f"{3 + i % 7} hours"),
        lambda i: daily.between("03:00", "03:01") & time_of_day.between("03:00", "03:01"),
        lambda i: cron(f"{i % 60} 3 * * *"),
    ]

    async def scenario() -> float:
        sleeper = Sleeper()
        watching = asyncio.ensure_future(sleeper.run())
        for i in range(10_000):
            app.task(kinds[i % 3](i), name=f"t{i}", execution="async")(_noop)
            if i % 250 == 0:
                await asyncio.sleep(0)  # the definitions are the user's own code
        await asyncio.sleep(0.01)
        sleeper.worst = 0.0
        app.start()
        await asyncio.sleep(0.5)
        worst = sleeper.worst
        sleeper.stop()
        await watching
        app.shut_down(force=True)
        await app.wait(10)
        return worst

    worst = asyncio.run(scenario())
    assert worst < 0.5, f"the loop was held {worst * 1000:.0f} ms"  # was ~2,000 ms (bench: 9)


async def _noop() -> None:
    return None


def test_runs_merges_memory_and_file_while_the_file_is_locked(make_scheduler, tmp_path):
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)
    app.task(name="a", execution="thread")(lambda: "done")
    app.start()
    assert app.tasks["a"].run()
    wait_until(lambda: app.tasks["a"].last_run.status == "success")
    wait_until(lambda: _statuses_in_file(path) == [("a", "success")])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for _ in range(3):
            assert app.tasks["a"].run()
            wait_until(lambda: app.tasks["a"].last_run.status == "success")
        assert _statuses_in_file(path) == [("a", "success")]  # the file waits
        records = app.runs()
        assert [r.status for r in records] == ["success"] * 4
        assert len({r.run_id for r in records}) == 4
        assert app.runs(status="run") == []
        assert [r.run_id for r in app.runs(limit=2)] == [r.run_id for r in records[-2:]]
        assert app.run_counts() == {"a": {"success": 4}}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_until(lambda: _statuses_in_file(path) == [("a", "success")] * 4, 10)
    assert app.runs() == records


def test_records_reach_the_file_when_a_script_exits_at_once(tmp_path):
    path = tmp_path / "runs.sqlite"
    script = textwrap.dedent(f"""
        from notebook_sched import Scheduler
        app = Scheduler(runs_db={str(path)!r})
        app.task(name="job", execution="thread")(lambda: "ok")
        app.start()
        app.tasks["job"].run()
        import time
        while app.tasks["job"].last_run.status == "run":
            time.sleep(0.001)
        # exits now, without shut_down() or join(): the exit flushes the writer
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert _statuses_in_file(path) == [("job", "success")]


def test_runs_short_of_run_ids_start_as_soon_as_ids_are_set_aside(
    make_scheduler, tmp_path, monkeypatch
):
    """A file sets run ids aside in blocks; runs that came due when a block
    was used up start when the next one is at hand — not a retry period
    later, and the block grows while runs start fast. (Found by the
    benchmark: 100 tasks always due ran 4,600 runs/s on a file, 31,000 in
    memory.)"""
    from notebook_sched._history import history

    monkeypatch.setattr(history, "BLOCK", 4)
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)
    count = 0

    async def tick() -> None:
        nonlocal count
        count += 1

    for i in range(20):
        app.task(true, name=f"t{i}")(tick)

    async def scenario() -> float:
        app.start()
        began = time.monotonic()
        await until(lambda: count >= 2000, 20)
        took = time.monotonic() - began
        app.shut_down()
        await app.wait(10)
        return took

    took = asyncio.run(scenario())
    assert took < 5, took  # generous: about 0.1 s here
    assert app._core.history._block > 4  # it grew


def test_no_new_run_starts_while_the_history_is_far_behind(
    make_scheduler, tmp_path, monkeypatch, caplog
):
    """Records wait in memory while the file is locked; past a bound, new
    runs wait too (memory stays bounded, said once, naming the file), and
    they go on once it is free."""
    from notebook_sched._engine import loop

    caplog.set_level(logging.WARNING, logger="notebook_sched")

    monkeypatch.setattr(loop, "MAX_BACKLOG", 50)
    path = tmp_path / "runs.sqlite"
    app = make_scheduler(runs_db=path)
    for i in range(5):
        app.task(true, name=f"t{i}", execution="async")(_noop)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    async def scenario() -> tuple[int, int]:
        app.start()
        await asyncio.sleep(0.5)
        held = len(app.runs())
        holder.execute("ROLLBACK")
        await until(lambda: len(app.runs()) > held + 500, 20)
        app.shut_down()
        await app.wait(10)
        return held, app._core.history.backlog

    try:
        held, left = asyncio.run(scenario())
    finally:
        holder.close()
    assert 50 <= held <= 50 + 2 * 5 + loop.BATCH, held  # bounded while the file was locked
    assert left == 0
    behind = [r.getMessage() for r in caplog.records if "records behind" in r.getMessage()]
    assert len(behind) == 1 and f"than {str(path)!r} takes them" in behind[0], behind
    wait_until(lambda: len(_statuses_in_file(path)) == len(app.runs()), 10)
