"""The engine at scale, in a plain script: figures 7 (a long run history),
8 (another process holding the ``runs_db`` write lock) and 9 (ten thousand
tasks defined and started). ``ns_script.py`` runs them by name, like its own
scenarios.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import tempfile
import time
from typing import Any

from bench._util import (
    Sleeper,
    bare_window,
    block_figure,
    hhmm,
    locked_window,
    rss_bytes,
    summary,
)
from notebook_sched import Scheduler
from notebook_sched.conds import cron, daily, every, time_of_day, true


async def noop() -> None:
    return None


def close_history(app: Scheduler) -> None:
    """Close the run history's file (engine internals: ``_core.history`` in
    the rebuilt engine, ``_store`` before it; either may be the one measured)."""
    core = getattr(app, "_core", None)
    if core is not None:
        core.history.close()
    else:
        app._store.close()


def fatal_of(app: Scheduler) -> Exception | None:
    """What stopped the scheduler's last session, if it failed (internals, as above)."""
    core = getattr(app, "_core", None)
    return core.fatal if core is not None else getattr(app, "_fatal", None)


# --------------------------------------------------------- 7. run history


async def history(tasks: int, total: int, queries: int, limit_s: float) -> dict[str, Any]:
    """``total`` runs of ``tasks`` no-op async tasks (start condition ``true``:
    each runs again as soon as it ends) recorded in a ``runs_db`` file; RSS
    growth, sustained dispatch rate, and ``app.runs(task=...)`` times."""
    folder = tempfile.mkdtemp(prefix="nsbench-history-")
    path = os.path.join(folder, "runs.sqlite")
    count = 0

    async def tick() -> None:
        nonlocal count
        count += 1

    app = Scheduler(runs_db=path)
    names = [f"h{i}" for i in range(tasks)]
    for name in names:
        app.task(true, name=name)(tick)
    gc.collect()
    rss0 = rss_bytes()
    curve: list[tuple[int, int]] = [(0, rss0)]
    t0 = time.monotonic()
    app.start()
    timed_out = False
    next_sample = 0.5
    marks = [1000, total // 10]
    while count < total:
        await asyncio.sleep(0.05)
        elapsed = time.monotonic() - t0
        if elapsed >= next_sample or (marks and count >= marks[0]):
            curve.append((count, rss_bytes()))
            next_sample = elapsed + 0.5
            while marks and count >= marks[0]:
                marks.pop(0)
        if elapsed > limit_s:
            timed_out = True
            break
    elapsed = time.monotonic() - t0
    app.shut_down()
    await asyncio.wait_for(app.wait(), 30)
    gc.collect()
    rss1 = rss_bytes()
    curve.append((count, rss1))
    recorded = sum(sum(c.values()) for c in app.run_counts().values())
    one = names[0]

    def timed(**kw: Any) -> tuple[list[float], int]:
        times, size = [], 0
        for _ in range(queries):
            t = time.perf_counter()
            size = len(app.runs(**kw))
            times.append(time.perf_counter() - t)
        return times, size

    q_task, n_task = timed(task=one)
    q_limit, n_limit = timed(task=one, limit=100)
    size = os.path.getsize(path) + sum(
        os.path.getsize(path + s) for s in ("-wal", "-shm") if os.path.exists(path + s)
    )
    close_history(app)
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    os.rmdir(folder)
    # The growth that matters: from after the first tenth of the runs (caches
    # warm) to the end, and from before the first run.
    tenth = next((rss for c, rss in curve if c >= total / 10), rss0)
    thousand = next((rss for c, rss in curve if c >= 1000), rss0)
    return {
        "tasks": tasks,
        "target_runs": total,
        "recorded_runs": recorded,
        "timed_out": timed_out,
        "elapsed_s": elapsed,
        "runs_per_s": count / elapsed if elapsed else None,
        "rss_before_mb": rss0 / 2**20,
        "rss_after_mb": rss1 / 2**20,
        "rss_growth_mb": (rss1 - rss0) / 2**20,
        "rss_growth_after_first_tenth_mb": (rss1 - tenth) / 2**20,
        "rss_growth_after_first_1000_mb": (rss1 - thousand) / 2**20,
        "rss_curve": [(c, round(r / 2**20, 2)) for c, r in curve],
        "db_bytes": size,
        "runs_task_s": summary(q_task),
        "runs_task_records": n_task,
        "runs_task_limit100_s": summary(q_limit),
        "runs_task_limit100_records": n_limit,
    }


# ------------------------------- 8. loop block while runs_db is locked


async def locked_db(
    rounds: int,
    window_s: float = 5.0,
    lock_after: float = 1.0,
    hold: float = 3.0,
    interval: float = 0.2,
) -> dict[str, Any]:
    """The 1 ms sleeper on the scheduler's loop while another process holds
    the ``runs_db`` file's write lock: ``Scheduler(runs_db=file)`` with one
    async no-op task ``every(interval)``, started with ``app.start()`` on the
    running loop at the window's start; ``lock_after`` s later a separate
    process takes the lock (``BEGIN IMMEDIATE``), holds it ``hold`` s, rolls
    back; the window lasts ``window_s`` s. Then the same window with no
    scheduler (the locker on a file of its own): the bare loop's figure.
    The task's runs are counted by its function's entries in the window."""
    folder = tempfile.mkdtemp(prefix="nsbench-locked-")
    ns_blocks: list[tuple[float, float]] = []
    locked_blocks: list[tuple[float, float]] = []
    bare_blocks: list[tuple[float, float]] = []
    per_round: list[dict[str, Any]] = []
    runs: list[int] = []
    problems: list[str] = []
    try:
        for r in range(rounds):
            entered: list[float] = []

            async def tick() -> None:
                entered.append(time.time())  # noqa: B023 (runs within this round)

            path = os.path.join(folder, f"runs{r}.sqlite")
            app = Scheduler(runs_db=path)
            app.task(every(f"{interval} seconds"), name="tick", execution="async")(tick)
            sleeper, lock, w0, w1 = await locked_window(path, window_s, lock_after, hold, app.start)
            state = app.state
            app.shut_down(force=True)
            try:
                await asyncio.wait_for(app.wait(), 30)
            except TimeoutError:
                problems.append(f"round {r}: the scheduler did not stop within 30 s")
            fatal = fatal_of(app)
            recorded = len(app.runs(task="tick"))
            close_history(app)
            if "locked" not in lock or "released" not in lock:
                problems.append(f"round {r}: the locker did not hold the lock: {lock}")
            if state != "running" or fatal is not None:
                problems.append(f"round {r}: scheduler {state} at the window's end; {fatal!r}")
            in_window = sum(w0 <= e <= w1 for e in entered)
            runs.append(in_window)
            chosen = sleeper.select()
            ns_blocks.extend(chosen)
            held = []
            if "locked" in lock and "released" in lock:
                lo, hi = lock["locked"], lock["released"]
                held = [(b, e) for b, e in chosen if lo <= e <= hi + 0.5]
                locked_blocks.extend(held)
                while_locked = sum(w0 + lo <= e <= w0 + hi for e in entered)
            else:
                while_locked = None
            del app
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
                    "records_after": recorded,
                    "lock_s_after_window_start": lock,
                    "bare_lock_s_after_window_start": bare_lock,
                    "window_s": w1 - w0,
                }
            )
            gc.collect()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "rounds": rounds,
        "interval_s": interval,
        "expected_runs": round(window_s / interval),
        "loop_block": block_figure(ns_blocks),
        "loop_block_while_locked": block_figure(locked_blocks),
        "bare_loop_block": block_figure(bare_blocks),
        "runs_in_window": summary(runs),
        "per_round": per_round,
        "problems": problems[:5],
    }


# ---------------------------- 9. loop block while 10,000 tasks are defined


def _spread_conditions(n: int) -> list[Any]:
    """``n`` start conditions not due for hours, a mix of the kinds users
    write (one in four each): ``daily.between``, ``time_of_day.between``,
    ``cron`` (once a day), and ``every("2 hours") & time_of_day.between``
    (``every`` alone is true at once for a task that has not run). Windows
    open 60-119 minutes from now (one minute per task, cycling) and last an
    hour; built while defining, as a user's loop would."""
    now = time.time()
    conds: list[Any] = []
    for i in range(n):
        opens = now + 3600 + 60 * (i % 60)
        a, b = hhmm(opens), hhmm(opens + 3600)
        kind = i % 4
        if kind == 0:
            conds.append(("daily", a, b))
        elif kind == 1:
            conds.append(("tod", a, b))
        elif kind == 2:
            lt = time.localtime(opens)
            conds.append(("cron", f"{lt.tm_min} {lt.tm_hour} * * *", None))
        else:
            conds.append(("every", a, b))
    return conds


def _make_condition(spec: tuple[str, str, str | None]) -> Any:
    kind, a, b = spec
    if kind == "daily":
        return daily.between(a, b)
    if kind == "tod":
        return time_of_day.between(a, b)
    if kind == "cron":
        return cron(a)
    return every("2 hours") & time_of_day.between(a, b)


async def many_tasks(
    rounds: int, n: int = 10_000, per_slice: int = 500, after_s: float = 2.0
) -> dict[str, Any]:
    """The 1 ms sleeper on the loop while ``n`` tasks not due for hours are
    defined (``per_slice`` definitions, then ``await asyncio.sleep(0)``: the
    user's own code, yielding) and the scheduler is started with
    ``app.start()``; measured until ``after_s`` s after the start. Then the
    bare loop: the same sleeper, same duration, nothing else."""
    total: list[tuple[float, float]] = []
    after: list[tuple[float, float]] = []
    defining: list[tuple[float, float]] = []
    bare_blocks: list[tuple[float, float]] = []
    per_round: list[dict[str, Any]] = []
    problems: list[str] = []
    for r in range(rounds):
        specs = _spread_conditions(n)
        app = Scheduler()
        sleeper = Sleeper()
        sleeper.start()
        await asyncio.sleep(0.05)
        t_define = sleeper.mark("define")
        slices: list[float] = []
        for lo in range(0, n, per_slice):
            t = time.perf_counter()
            for i in range(lo, min(n, lo + per_slice)):
                app.task(_make_condition(specs[i]), name=f"t{i}")(noop)
            slices.append(time.perf_counter() - t)
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)  # the sleeper's next sample holds no definition
        t_start = sleeper.mark("start")
        app.start()
        await asyncio.sleep(after_s)
        await sleeper.stop()
        duration = sleeper.t1 - sleeper.t0
        state = app.state
        ran = len(app.runs())
        app.shut_down(force=True)
        await asyncio.wait_for(app.wait(), 30)
        if ran:
            problems.append(f"round {r}: {ran} runs started (none should be due)")
        if state != "running":
            problems.append(f"round {r}: scheduler {state} {after_s:g} s after its start")
        all_ = sleeper.select()
        post = sleeper.select(since=t_start)
        pre = sleeper.select(since=t_define, until=t_start)
        total.extend(all_)
        after.extend(post)
        defining.extend(pre)
        del app, specs
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
