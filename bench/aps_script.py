"""APScheduler 3.11 ``AsyncIOScheduler`` in a plain script (run with
``bench/.venvs/apscheduler``): what it has of the suite's figures.

APScheduler 3 has no job timeout, no end condition and no run history, so the
termination, end-condition and history figures are "n/a" for it; it has idle
cost and dispatch (coroutine jobs run as tasks on the loop by its
``AsyncIOExecutor``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bench._util import (
    args_from_argv,
    emit,
    hold_until_told,
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


SCENARIOS = {"idle": idle, "burst": burst}


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
