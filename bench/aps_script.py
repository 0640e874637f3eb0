"""APScheduler 3.11 ``AsyncIOScheduler`` in a plain script (run with
``bench/.venvs/apscheduler``): what it has of the suite's figures.

APScheduler 3 has no job timeout, no end condition and no run history, so the
termination, end-condition and history figures are "n/a" for it; it has idle
cost and dispatch (coroutine jobs run as tasks on the loop by its
``AsyncIOExecutor``), and the two loop-block figures: 8 with its
``SQLAlchemyJobStore`` on a SQLite file (the file it writes as it runs: each
run's next fire time), 9 with 10,000 ``add_job`` calls.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bench._util import (
    Sleeper,
    args_from_argv,
    bare_window,
    block_figure,
    emit,
    hold_until_told,
    locked_window,
    next_whole_second,
    quiet_logging,
    summary,
)


async def noop() -> None:
    return None


async def idle(n: int, warmup: float, hold_s: float) -> dict[str, Any]:
    """``n`` jobs whose first run is an hour away (then every 10 hours)."""
    sched = AsyncIOScheduler()
    first = datetime.now().astimezone() + timedelta(hours=1)
    t0 = time.perf_counter()
    for i in range(n):
        sched.add_job(noop, IntervalTrigger(hours=10, start_date=first), id=f"idle{i}")
    define_s = time.perf_counter() - t0
    sched.start()
    await asyncio.sleep(warmup)
    held = await hold_until_told(hold_s)
    sched.shutdown(wait=False)
    return {"n": n, "rusage": held, "define_s": define_s}


async def burst(n: int, rounds: int) -> dict[str, Any]:
    """``n`` coroutine jobs with a ``DateTrigger`` at the same whole second;
    a fresh scheduler per round."""
    latencies: list[float] = []
    throughputs: list[float] = []
    problems: list[str] = []
    for _ in range(rounds):
        entered: list[float] = []

        async def f() -> None:
            entered.append(time.time())

        sched = AsyncIOScheduler(job_defaults={"misfire_grace_time": 60})
        due = next_whole_second(1.0)
        when = datetime.fromtimestamp(due).astimezone()
        for i in range(n):
            sched.add_job(f, DateTrigger(run_date=when), id=f"b{i}")
        sched.start()
        limit = time.monotonic() + (due - time.time()) + 30
        while len(entered) < n and time.monotonic() < limit:
            await asyncio.sleep(0.01)
        if len(entered) < n:
            problems.append(f"only {len(entered)} of {n} ran within 30 s of the due time")
        if entered:
            latencies.extend(e - due for e in entered)
            throughputs.append(len(entered) / max(max(entered) - due, 1e-9))
        await asyncio.sleep(0.1)
        sched.shutdown(wait=False)
        gc.collect()
    return {
        "n": n,
        "start_latency_s": summary(latencies),
        "throughput_per_s": summary(throughputs, low_is_bad=True),
        "throughputs": throughputs,
        "problems": problems[:5],
    }


# ------------------------------- 8. loop block while the job store is locked

TICKS: list[float] = []


async def tick() -> None:  # module level: the SQLAlchemy job store keeps a reference
    TICKS.append(time.time())


async def locked_db(
    rounds: int,
    window_s: float = 5.0,
    lock_after: float = 1.0,
    hold: float = 3.0,
    interval: float = 0.2,
) -> dict[str, Any]:
    """APScheduler keeps no run history; what it writes as it runs is its job
    store. ``SQLAlchemyJobStore`` on a SQLite file, one coroutine job every
    ``interval`` s (``IntervalTrigger``), ``start()`` at the window's start;
    another process holds the file's write lock as for notebook_sched."""
    try:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    except ImportError as exc:
        return {"error": f"n/a: SQLAlchemy is not installed in its venv ({exc})"}
    folder = tempfile.mkdtemp(prefix="nsbench-aps-locked-")
    aps_blocks: list[tuple[float, float]] = []
    locked_blocks: list[tuple[float, float]] = []
    bare_blocks: list[tuple[float, float]] = []
    per_round: list[dict[str, Any]] = []
    runs: list[int] = []
    problems: list[str] = []
    try:
        for r in range(rounds):
            TICKS.clear()
            path = os.path.join(folder, f"jobs{r}.sqlite")
            store = SQLAlchemyJobStore(url=f"sqlite:///{path}")
            sched = AsyncIOScheduler(jobstores={"default": store})
            sched.add_job(tick, IntervalTrigger(seconds=interval), id="tick")
            sleeper, lock, w0, w1 = await locked_window(
                path, window_s, lock_after, hold, sched.start
            )
            running = sched.running
            sched.shutdown(wait=False)
            if "locked" not in lock or "released" not in lock:
                problems.append(f"round {r}: the locker did not hold the lock: {lock}")
            if not running:
                problems.append(f"round {r}: the scheduler was not running at the window's end")
            in_window = sum(w0 <= e <= w1 for e in TICKS)
            runs.append(in_window)
            chosen = sleeper.select()
            aps_blocks.extend(chosen)
            while_locked = None
            if "locked" in lock and "released" in lock:
                lo, hi = lock["locked"], lock["released"]
                locked_blocks.extend((b, e) for b, e in chosen if lo <= e <= hi + 0.5)
                while_locked = sum(w0 + lo <= e <= w0 + hi for e in TICKS)
            del sched, store
            gc.collect()
            bare, bare_lock, _, _ = await locked_window(
                os.path.join(folder, f"bare{r}.sqlite"), window_s, lock_after, hold
            )
            bare_blocks.extend(bare.select())
            per_round.append(
                {
                    "loop_block": block_figure(chosen),
                    "bare_loop_block": bare.figure(),
                    "runs_in_window": in_window,
                    "runs_while_locked": while_locked,
                    "lock_s_after_window_start": lock,
                    "bare_lock_s_after_window_start": bare_lock,
                    "window_s": w1 - w0,
                }
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "rounds": rounds,
        "interval_s": interval,
        "expected_runs": round(window_s / interval),
        "jobstore": "SQLAlchemyJobStore(sqlite file)",
        "loop_block": block_figure(aps_blocks),
        "loop_block_while_locked": block_figure(locked_blocks),
        "bare_loop_block": block_figure(bare_blocks),
        "runs_in_window": summary(runs),
        "per_round": per_round,
        "problems": problems[:5],
    }


# ---------------------------- 9. loop block while 10,000 jobs are added


def _trigger(i: int, now: datetime) -> Any:
    """Not due for hours: half ``IntervalTrigger(hours=10)`` from 60-119
    minutes ahead, half ``CronTrigger`` once a day at such a minute."""
    first = now + timedelta(minutes=60 + i % 60)
    if i % 2 == 0:
        return IntervalTrigger(hours=10, start_date=first)
    return CronTrigger(hour=first.hour, minute=first.minute)


async def many_tasks(
    rounds: int, n: int = 10_000, per_slice: int = 500, after_s: float = 2.0
) -> dict[str, Any]:
    """``n`` ``add_job`` calls on an ``AsyncIOScheduler`` in slices of
    ``per_slice`` (then ``await asyncio.sleep(0)``), then ``start()``; the
    1 ms sleeper runs throughout and ``after_s`` s after the start; then the
    bare loop for the same duration."""
    total: list[tuple[float, float]] = []
    after: list[tuple[float, float]] = []
    defining: list[tuple[float, float]] = []
    bare_blocks: list[tuple[float, float]] = []
    per_round: list[dict[str, Any]] = []
    problems: list[str] = []
    for r in range(rounds):
        sched = AsyncIOScheduler()
        now = datetime.now().astimezone()
        sleeper = Sleeper()
        sleeper.start()
        await asyncio.sleep(0.05)
        t_define = sleeper.mark("define")
        slices: list[float] = []
        for lo in range(0, n, per_slice):
            t = time.perf_counter()
            for i in range(lo, min(n, lo + per_slice)):
                sched.add_job(noop, _trigger(i, now), id=f"t{i}")
            slices.append(time.perf_counter() - t)
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        t_start = sleeper.mark("start")
        sched.start()
        await asyncio.sleep(after_s)
        await sleeper.stop()
        duration = sleeper.t1 - sleeper.t0
        jobs = len(sched.get_jobs())
        sched.shutdown(wait=False)
        if jobs != n:
            problems.append(f"round {r}: {jobs} jobs in the store, not {n}")
        all_ = sleeper.select()
        post = sleeper.select(since=t_start)
        pre = sleeper.select(since=t_define, until=t_start)
        total.extend(all_)
        after.extend(post)
        defining.extend(pre)
        del sched
        gc.collect()
        bare = await bare_window(duration)
        bare_blocks.extend(bare.select())
        per_round.append(
            {
                "loop_block": block_figure(all_),
                "loop_block_after_start": block_figure(post),
                "loop_block_while_defining": block_figure(pre),
                "bare_loop_block": bare.figure(),
                "define_s": t_start - t_define - 0.01,
                "slice_s": summary(slices),
                "window_s": duration,
            }
        )
        gc.collect()
    return {
        "n": n,
        "rounds": rounds,
        "per_slice": per_slice,
        "after_start_s": after_s,
        "loop_block": block_figure(total),
        "loop_block_after_start": block_figure(after),
        "loop_block_while_defining": block_figure(defining),
        "bare_loop_block": block_figure(bare_blocks),
        "define_s": summary(p["define_s"] for p in per_round),
        "longest_slice_s": max(p["slice_s"]["max"] for p in per_round),
        "per_round": per_round,
        "problems": problems[:5],
    }


SCENARIOS = {"idle": idle, "burst": burst, "locked_db": locked_db, "many_tasks": many_tasks}


def main() -> None:
    quiet_logging()
    args = args_from_argv()
    name = args.pop("scenario")
    t0 = time.monotonic()
    result = asyncio.run(SCENARIOS[name](**args))
    result["wall_s"] = time.monotonic() - t0
    result["pid"] = os.getpid()
    emit(result)


if __name__ == "__main__":
    main()
