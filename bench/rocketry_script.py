"""Rocketry 2.5.1 in a plain script (run with ``bench/.venvs/rocketry``): the
same scenarios as ``ns_script``, written the way Rocketry users write them.

``cycle_sleep`` is ``None`` for Rocketry's default (0.1 s) or a number.
Start and end times come from Rocketry's own log records (a ``MemoryRepo`` of
``TaskLogRecord``, whose ``start`` is the moment Rocketry launched the run and
from which it counts the timeout).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
from typing import Any

from redbird.repos import MemoryRepo
from rocketry import Rocketry
from rocketry.args import TerminationFlag
from rocketry.conds import daily, time_of_day
from rocketry.exc import TaskTerminationException
from rocketry.log import TaskLogRecord

from bench._util import (
    args_from_argv,
    emit,
    far_window,
    hhmmss,
    hold_until_told,
    next_whole_second,
    rss_bytes,
    summary,
)


def make_app(cycle_sleep: float | None, **extra: Any) -> Rocketry:
    config: dict[str, Any] = dict(extra)
    if cycle_sleep is not None:
        config["cycle_sleep"] = cycle_sleep
    return Rocketry(config=config, logger_repo=MemoryRepo(model=TaskLogRecord))


async def sleeps_forever() -> None:
    await asyncio.sleep(3600)


def checks_flag(flag=TerminationFlag()) -> None:
    while True:
        if flag.is_set():
            raise TaskTerminationException()
        time.sleep(0.001)


def sleeps_in_child() -> None:
    time.sleep(3600)


BODIES = {"async": sleeps_forever, "thread": checks_flag, "process": sleeps_in_child}


class Served:
    """Rocketry's ``serve()`` as a task on the running loop, and its stop."""

    def __init__(self, app: Rocketry) -> None:
        self.app = app
        self.task = asyncio.get_running_loop().create_task(app.serve())

    async def stop(self) -> None:
        self.app.session.shut_down()
        try:
            await asyncio.wait_for(self.task, 30)
        except (TimeoutError, Exception):
            self.task.cancel()


def records(app: Rocketry, name: str) -> list[Any]:
    return list(app.session.get_repo().filter_by(task_name=name).all())


async def _wait_idle(app: Rocketry, names: list[str], started_after: float, limit: float) -> bool:
    """Until every task has a finishing record after ``started_after``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done = 0
        for name in names:
            task = app.session[name]
            last = task._last_terminate or 0.0
            if not task.is_alive() and last >= started_after:
                done += 1
        if done == len(names):
            return True
        await asyncio.sleep(0.01)
    return False


async def termination(
    kind: str, rounds: int, width: int, cycle_sleep: float | None, seed: int = 1
) -> dict[str, Any]:
    rng = random.Random(seed)
    app = make_app(cycle_sleep)
    names = [f"{kind}{i}" for i in range(width)]
    for name in names:
        app.task(name=name, execution=kind, timeout=1.0)(BODIES[kind])
    served = Served(app)
    await asyncio.sleep(0.2)
    latencies: list[float] = []
    problems: list[str] = []
    for _ in range(rounds):
        timeouts = {}
        for name in names:
            timeouts[name] = rng.uniform(0.05, 0.5)
            app.session[name].timeout = timeouts[name]
        t0 = time.time()
        for name in names:
            app.session[name].run()
        if not await _wait_idle(app, names, t0, 20):
            problems.append("runs not terminated 20 s after the round started")
            break
        for name in names:
            recs = records(app, name)
            run = [r for r in recs if r.action == "run"][-1]
            end = [r for r in recs if r.action == "terminate"]
            if not end:
                problems.append(f"{name}: no terminate record ({recs[-1].action})")
                continue
            start = run.start.timestamp()
            stop = end[-1].end.timestamp() if end[-1].end else end[-1].created
            latencies.append(stop - (start + timeouts[name]))
    await served.stop()
    return {"latency_s": summary(latencies), "samples": latencies, "problems": problems[:5]}


async def end_cond(rounds: int, width: int, cycle_sleep: float | None) -> dict[str, Any]:
    app = make_app(cycle_sleep)
    served = Served(app)
    latencies: list[float] = []
    problems: list[str] = []
    for r in range(rounds):
        boundary = next_whole_second(1.0)
        cond = ~time_of_day.before(hhmmss(boundary))
        names = [f"e{r}_{i}" for i in range(width)]
        for name in names:
            app.task(name=name, execution="async", end_cond=cond)(sleeps_forever)
        t0 = time.time()
        for name in names:
            app.session[name].run()
        if not await _wait_idle(app, names, t0, 10):
            problems.append("runs not terminated 10 s after the round started")
            break
        for name in names:
            end = [x for x in records(app, name) if x.action == "terminate"]
            if not end:
                problems.append(f"{name}: no terminate record")
                continue
            stop = end[-1].end.timestamp() if end[-1].end else end[-1].created
            latencies.append(stop - boundary)
        for name in names:
            app.session[name].delete()
    await served.stop()
    return {"latency_s": summary(latencies), "samples": latencies, "problems": problems[:5]}


async def noop() -> None:
    return None


async def idle(n: int, warmup: float, hold_s: float, cycle_sleep: float | None) -> dict[str, Any]:
    opens, closes = far_window()
    cond = daily.between(opens, closes)
    app = make_app(cycle_sleep)
    t0 = time.perf_counter()
    for i in range(n):
        app.task(cond, name=f"idle{i}", execution="async")(noop)
    define_s = time.perf_counter() - t0
    served = Served(app)
    await asyncio.sleep(warmup)
    c0 = app.session.scheduler.n_cycles
    held = await hold_until_told(hold_s)
    cycles = app.session.scheduler.n_cycles - c0
    await served.stop()
    return {
        "n": n,
        "rusage": held,
        "define_s": define_s,
        "cycles_per_s": cycles / held["wall_s"] if held["wall_s"] else None,
    }


async def burst(n: int, rounds: int, cycle_sleep: float | None) -> dict[str, Any]:
    """One app; each round defines ``n`` fresh tasks due at a whole second
    (``daily.after(T)``) and deletes them afterwards."""
    app = make_app(cycle_sleep)
    served = Served(app)
    latencies: list[float] = []
    throughputs: list[float] = []
    problems: list[str] = []
    for r in range(rounds):
        entered: list[float] = []

        def make() -> Any:
            async def f() -> None:
                entered.append(time.time())

            return f

        due = next_whole_second(1.0 if n < 2000 else 3.0)
        cond = daily.after(hhmmss(due))
        names = [f"b{r}_{i}" for i in range(n)]
        for name in names:
            app.task(cond, name=name, execution="async")(make())
        limit = time.monotonic() + (due - time.time()) + 60
        while len(entered) < n and time.monotonic() < limit:
            await asyncio.sleep(0.01)
        if len(entered) < n:
            problems.append(f"only {len(entered)} of {n} ran within 60 s of the due time")
        if entered:
            latencies.extend(e - due for e in entered)
            throughputs.append(len(entered) / max(max(entered) - due, 1e-9))
        await asyncio.sleep(0.3)
        for name in names:
            app.session[name].delete()
        gc.collect()
    await served.stop()
    return {
        "n": n,
        "start_latency_s": summary(latencies),
        "throughput_per_s": summary(throughputs, low_is_bad=True),
        "throughputs": throughputs,
        "problems": problems[:5],
    }


async def history(
    tasks: int, total: int, queries: int, limit_s: float, cycle_sleep: float | None
) -> dict[str, Any]:
    """Rocketry keeps its run log in the repo given to it (here its default
    kind, an in-memory ``MemoryRepo``); RSS growth as runs accumulate, and the
    time of ``get_repo().filter_by(task_name=...)``."""
    from rocketry.conds import true

    count = 0

    async def tick() -> None:
        nonlocal count
        count += 1

    app = make_app(cycle_sleep)
    names = [f"h{i}" for i in range(tasks)]
    for name in names:
        app.task(true, name=name, execution="async")(tick)
    gc.collect()
    rss0 = rss_bytes()
    curve = [(0, rss0)]
    t0 = time.monotonic()
    served = Served(app)
    timed_out = False
    next_sample = 0.5
    while count < total:
        await asyncio.sleep(0.05)
        elapsed = time.monotonic() - t0
        if elapsed >= next_sample:
            curve.append((count, rss_bytes()))
            next_sample += 0.5
        if elapsed > limit_s:
            timed_out = True
            break
    elapsed = time.monotonic() - t0
    await served.stop()
    gc.collect()
    rss1 = rss_bytes()
    curve.append((count, rss1))
    times = []
    size = 0
    for _ in range(queries):
        t = time.perf_counter()
        size = len(records(app, names[0]))
        times.append(time.perf_counter() - t)
    return {
        "tasks": tasks,
        "target_runs": total,
        "runs_done": count,
        "timed_out": timed_out,
        "elapsed_s": elapsed,
        "runs_per_s": count / elapsed if elapsed else None,
        "rss_before_mb": rss0 / 2**20,
        "rss_after_mb": rss1 / 2**20,
        "rss_growth_mb": (rss1 - rss0) / 2**20,
        "rss_growth_per_1000_runs_mb": (rss1 - rss0) / 2**20 / max(count, 1) * 1000,
        "rss_curve": [(c, round(r / 2**20, 2)) for c, r in curve],
        "query_task_s": summary(times),
        "query_task_records": size,
    }


SCENARIOS = {
    "termination": termination,
    "end_cond": end_cond,
    "idle": idle,
    "burst": burst,
    "history": history,
}


def main() -> None:
    # No logging.basicConfig here: Rocketry's task logger is at INFO, and a root
    # handler would print every run to stderr (and slow it down). Its records
    # go to its repo only, as in an application that configures no logging.
    args = args_from_argv()
    name = args.pop("scenario")
    t0 = time.monotonic()
    result = asyncio.run(SCENARIOS[name](**args))
    result["wall_s"] = time.monotonic() - t0
    result["pid"] = os.getpid()
    emit(result)


if __name__ == "__main__":
    main()
