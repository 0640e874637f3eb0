"""A soak: 500 tasks (mostly async and thread, 20 process), every 0.5 to 2
seconds, some timing out and some failing, for ``NOTEBOOK_SCHED_SOAK_SECONDS``
seconds of wall clock (60 by default), on the caller's loop as in a kernel.

RSS (/proc/self/status) and the count of open file descriptors stay flat
(the second half against the first), no child is left a zombie, and every run
ends with exactly one final record: none is left at ``run`` after
``await app.wait()``, run ids are unique, and each started run is reported
finished once. The figures are printed for the README, even without ``-s``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import threading
import time
from collections import Counter

import pytest

from notebook_sched import Scheduler
from notebook_sched._execution.process import zygote
from notebook_sched.args import TerminationFlag
from notebook_sched.events import RunFinished, RunStarted
from notebook_sched.exc import TaskTerminationException
from tests.conftest import until
from tests.faults.faults_support import descendants, fd_count, rss_kb, zombies_below

pytestmark = pytest.mark.faults

SECONDS = float(os.environ.get("NOTEBOOK_SCHED_SOAK_SECONDS", "60"))
TASKS = 500
PROCESS_TASKS = 20
LETTERS = "abcdefghijklmnopqrstuvwxyz"  # around the index in a task's name
INTERVALS = ("0.5 seconds", "0.5 seconds", "1 second", "2 seconds")


def define(app: Scheduler) -> dict[str, str]:
    """The 500 tasks; returns name -> execution."""
    kinds: dict[str, str] = {}
    for i in range(TASKS):
        execution = "process" if i < PROCESS_TASKS else ("async" if i % 2 else "thread")
        name = f"{execution}{i}"
        slow = i % 10 == 3  # runs past its 0.1 s timeout
        long = 0.4 if i % 10 == 5 else 0.0  # takes a while, within its timeout
        fails = i % 25 == 7
        interval = INTERVALS[i % len(INTERVALS)]
        timeout = 0.1 if slow else "10 seconds"
        if execution == "async":

            async def func(slow=slow, long=long, fails=fails, i=i):
                await asyncio.sleep(0.3 if slow else long)
                if fails:
                    raise ValueError(f"task {i} fails on purpose")
                return i

        elif execution == "thread":

            def func(flag=TerminationFlag(), slow=slow, long=long, fails=fails, i=i):
                if flag.wait(0.3 if slow else long):
                    raise TaskTerminationException()
                if fails:
                    raise ValueError(f"task {i} fails on purpose")
                return i

        else:

            def func(slow=slow, long=long, fails=fails, i=i):
                time.sleep(0.3 if slow else long)
                if fails:
                    raise ValueError(f"task {i} fails on purpose")
                return i

        app.task(f"every {interval}", name=name, execution=execution, timeout=timeout)(func)
        kinds[name] = execution
    return kinds


def halves(samples: list[tuple[float, int, int, int, int]], index: int) -> tuple[float, float]:
    """Mean of column ``index`` over the first half (after a 10 % warm-up)
    and over the second half."""
    n = len(samples)
    first = [s[index] for s in samples[n // 10 : n // 2]]
    second = [s[index] for s in samples[n // 2 :]]
    return statistics.mean(first), statistics.mean(second)


@pytest.mark.timeout(SECONDS + 180)
def test_soak(tmp_path, capsys):
    # Constant memory, so as not to measure the test's own bookkeeping: the
    # runs alive now, and how many started, finished, or broke the rules.
    live: dict[int, str] = {}  # run id -> task
    tally = Counter()
    long_tasks: set[str] = set()

    def on_event(event) -> None:
        if isinstance(event, RunStarted):
            tally["started"] += 1
            if event.record.run_id in live:
                tally["started twice"] += 1
            live[event.record.run_id] = event.record.task
            if event.record.task in long_tasks:
                tally["long runs started"] += 1
        elif isinstance(event, RunFinished):
            tally["finished"] += 1
            if event.record.run_id not in live:
                tally["finished twice, or never started"] += 1
            live.pop(event.record.run_id, None)

    # (t, RSS kB, open fds, threads, objects tracked by the garbage collector)
    samples: list[tuple[float, int, int, int, int]] = []

    def sample(t0: float) -> None:
        # Garbage that only waits for the cyclic collector (the tracebacks of
        # failed runs) is not a leak: collect it before measuring.
        gc.collect()
        objects = len(gc.get_objects())
        samples.append(
            (time.monotonic() - t0, rss_kb(), fd_count(), threading.active_count(), objects)
        )

    async def scenario() -> tuple[float, float, int]:
        app = Scheduler(runs_db=tmp_path / "runs.sqlite", terminate_grace=0.5)
        kinds = define(app)
        long_tasks.update(name for name in kinds if int(name.strip(LETTERS)) % 10 == 5)
        assert len(kinds) == TASKS
        assert Counter(kinds.values())["process"] == PROCESS_TASKS
        app.subscribe(on_event)
        t0 = time.monotonic()
        app.start()
        try:
            while time.monotonic() - t0 < SECONDS:
                sample(t0)
                await asyncio.sleep(1.0)
            sample(t0)
            assert app.state == "running"
            # Shut down gracefully just as long runs (0.4 s) start: it waits for them.
            before = tally["long runs started"]
            await until(lambda: tally["long runs started"] > before, 5)
            alive_at_shutdown = len(live)
            app.shut_down()
            stop_began = time.monotonic()
            await app.wait(30)
            stopped_in = time.monotonic() - stop_began
        finally:
            if app.state != "stopped":
                app.shut_down(force=True)
                await app.wait(30)
        await until(lambda: not zombies_below(os.getpid()), 10)
        zygote_pid = zygote.zygote_pid()  # and no process run's child is left
        if zygote_pid is not None:
            await until(lambda: not descendants(zygote_pid), 10)
        sample(t0)
        return time.monotonic() - t0, stopped_in, alive_at_shutdown

    elapsed, stopped_in, alive_at_shutdown = asyncio.run(scenario())

    app_records = _records(tmp_path)
    statuses = Counter(status for _, status, _ in app_records)
    ids = [run_id for run_id, _, _ in app_records]
    rss_first, rss_second = halves(samples, 1)
    fd_first, fd_second = halves(samples, 2)
    objects_first, objects_second = halves(samples, 4)
    mid = samples[len(samples) // 2]
    report = (
        f"\nsoak: {TASKS} tasks ({PROCESS_TASKS} process) for {SECONDS:g} s "
        f"(graceful shutdown with {alive_at_shutdown} runs alive: stopped {stopped_in:.2f} s "
        f"later; {elapsed:.1f} s in all)\n"
        f"  runs done: {len(app_records)} ({len(app_records) / SECONDS:.0f}/s): "
        f"{dict(sorted(statuses.items()))}\n"
        f"  RSS kB   start {samples[0][1]}  middle {mid[1]}  end {samples[-1][1]}  "
        f"(mean first half {rss_first:.0f}, second half {rss_second:.0f})\n"
        f"  open fds start {samples[0][2]}  middle {mid[2]}  end {samples[-1][2]}  "
        f"(mean first half {fd_first:.1f}, second half {fd_second:.1f})\n"
        f"  threads  start {samples[0][3]}  middle {mid[3]}  end {samples[-1][3]}\n"
        f"  objects  start {samples[0][4]}  middle {mid[4]}  end {samples[-1][4]}  "
        f"(mean first half {objects_first:.0f}, second half {objects_second:.0f})\n"
        f"  RSS kB every 10 s: {[s[1] for s in samples[::10]]}"
    )
    with capsys.disabled():  # the figures are for the README: show them without -s
        print(report)

    # Every run has exactly one final record.
    assert statuses["run"] == 0, statuses
    assert len(set(ids)) == len(ids)
    assert tally["started twice"] == tally["finished twice, or never started"] == 0, tally
    assert live == {}  # every run that started has finished
    assert alive_at_shutdown >= 1 and 0.2 < stopped_in < 5, (alive_at_shutdown, stopped_in)
    assert tally["started"] == tally["finished"] == len(ids), (tally, len(ids))
    assert statuses["terminate"] > 0 and statuses["fail"] > 0 and statuses["success"] > 0
    assert len(app_records) > 2 * TASKS * SECONDS / 10  # it really ran, all along
    # Flat: the second half against the first, with modest slack.
    assert rss_second <= rss_first * 1.10 + 8 * 1024, (rss_first, rss_second)
    assert fd_second <= fd_first + 10, (fd_first, fd_second)
    assert objects_second <= objects_first * 1.05, (objects_first, objects_second)
    assert samples[-1][2] <= samples[0][2] + 10, (samples[0], samples[-1])


def _records(tmp_path) -> list[tuple[int, str, str]]:
    import sqlite3

    with sqlite3.connect(tmp_path / "runs.sqlite") as raw:
        return raw.execute("SELECT run_id, status, task FROM runs ORDER BY run_id").fetchall()
