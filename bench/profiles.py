"""Profiles behind the README's analysis (cProfile; not part of the suite).

    .venv/bin/python -m bench.profiles burst    # 1,000 tasks due at once
    .venv/bin/python -m bench.profiles panel    # 100 tasks every 0.1 s, panel built
    .venv/bin/python -m bench.profiles phases   # CPU per run of each part of a burst
    .venv/bin/python -m bench.profiles capture  # a printing burst's CPU, captured or not
    .venv/bin/python -m bench.profiles batch [N] # where a queued process run's time goes

``burst`` times each slice of the scheduler's loop and profiles from the one that launches
the burst for 0.2 s; ``panel`` profiles 3 s of a running scheduler with a
panel (widgets without a kernel: no messages are sent, the Python side is
what is measured) and prints the runs per second reached with and without it.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import time
from typing import Any


def burst() -> None:
    from bench import ns_script
    from notebook_sched._engine import loop as engine_loop

    profile = cProfile.Profile()
    steps: list[tuple[float, float, bool]] = []
    original = engine_loop.SchedulingLoop._slice
    started = {"on": False}

    def step(self: Any, loop: Any) -> Any:
        t0 = time.perf_counter()
        launched = original(self, loop)
        steps.append((time.time(), time.perf_counter() - t0, launched))
        if launched and not started["on"]:
            started["on"] = True
            profile.enable()
            asyncio.get_running_loop().call_later(0.2, profile.disable)
        return launched

    engine_loop.SchedulingLoop._slice = step  # type: ignore[method-assign]
    result = asyncio.run(ns_script.burst(1000, 1))
    print("start latency", result["start_latency_s"])
    for at, took, launched in steps:
        if took > 0.001:
            print(
                f"slice at {at:.3f} took {took * 1000:.1f} ms, launched={launched}"
            )
    pstats.Stats(profile).sort_stats("tottime").print_stats(20)


def phases() -> None:
    """CPU per run of each part of a 1,000-run burst (``daily.after``, a
    manual clock, the garbage collector off during the burst): each part is
    timed by a wrapper whose own cost is measured and subtracted."""
    import collections
    import gc
    import statistics
    from datetime import datetime, timedelta

    from notebook_sched import Scheduler
    from notebook_sched._engine import core, ledger, loop
    from notebook_sched._execution import async_
    from notebook_sched.conds import daily
    from notebook_sched.testing import ManualClock

    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()

    def timed(cls: Any, name: str, key: str, coro: bool = False) -> None:
        original = getattr(cls, name)

        if coro:

            async def wrapper(*args: Any) -> Any:
                t = time.perf_counter()
                out = await original(*args)
                spent[key] += time.perf_counter() - t
                calls[key] += 1
                return out
        else:

            def wrapper(*args: Any) -> Any:  # type: ignore[misc]
                t = time.perf_counter()
                out = original(*args)
                spent[key] += time.perf_counter() - t
                calls[key] += 1
                return out

        setattr(cls, name, wrapper)

    parts = {
        "evaluate the start condition": (loop.SchedulingLoop, "_evaluate", False),
        "launch: run, record, ledger": (core.Core, "launch", False),
        "start: job, handle, asyncio task": (core.Core, "start_run", False),
        "body: call, outcome, report": (async_.AsyncHandle, "_body", True),
        "record the ends (after the burst)": (ledger.Ledger, "record_reported", False),
    }
    for key, (cls, name, coro) in parts.items():
        timed(cls, name, key, coro)

    class Empty:
        def f(self) -> None:
            return None

    timed(Empty, "f", "_overhead")
    empty = Empty()
    for _ in range(100_000):
        empty.f()
    overhead = spent.pop("_overhead") / calls.pop("_overhead")

    async def one(n: int = 1000) -> tuple[float, dict[str, float]]:
        noon = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
        clock = ManualClock(noon - timedelta(seconds=1))
        app = Scheduler(clock=clock)
        entered: list[int] = []

        async def f() -> None:
            entered.append(1)

        cond = daily.after("12:00")
        for i in range(n):
            app.task(cond, name=f"b{i}")(f)
        app.start()
        await asyncio.sleep(0.05)
        spent.clear()
        calls.clear()
        gc.collect()
        gc.disable()
        t0 = time.thread_time()
        clock.advance(1.0)
        while len(entered) < n:
            await asyncio.sleep(0)
        total = time.thread_time() - t0
        while app.runs(status="run"):
            await asyncio.sleep(0)
        gc.enable()
        app.shut_down()
        await app.wait(5)
        return total, {k: (spent[k] - calls[k] * overhead) / n for k in parts}

    results = [asyncio.run(one()) for _ in range(7)]
    per_run = statistics.median(r[0] for r in results) / 1000 * 1e6
    print(f"CPU until the last run entered: {per_run:.1f} us/run")
    for key in parts:
        print(f"  {key:36s} {statistics.median(r[1][key] for r in results) * 1e6:5.1f} us/run")


def capture() -> None:
    """CPU per run of a burst of 100 async tasks that each print a line, with
    and without ``capture_output`` (alternated, 41 rounds each; a manual
    clock, the garbage collector off during the burst, ``sys.stdout`` a
    block-buffered ``/dev/null``): until the last run entered, and the ends
    recorded afterwards (``Ledger.record_reported``, where each run's buffer
    is closed into its record)."""
    import gc
    import os
    import statistics
    from datetime import datetime, timedelta

    from bench.capture_bench import _unwrap_streams
    from notebook_sched import Scheduler
    from notebook_sched._engine import ledger
    from notebook_sched.conds import daily
    from notebook_sched.testing import ManualClock

    ends = {"s": 0.0}
    record_reported = ledger.Ledger.record_reported

    def timed_ends(self: Any) -> None:
        t = time.thread_time()
        record_reported(self)
        ends["s"] += time.thread_time() - t

    ledger.Ledger.record_reported = timed_ends  # type: ignore[method-assign]

    async def one(capture: bool, n: int = 100) -> tuple[float, float]:
        noon = datetime.now().replace(hour=12, minute=0, second=0, microsecond=0)
        clock = ManualClock(noon - timedelta(seconds=1))
        app = Scheduler(clock=clock, capture_output=capture)
        entered: list[int] = []

        def make(i: int) -> Any:
            async def f() -> None:
                print(f"a line from p{i}")
                entered.append(1)

            return f

        cond = daily.after("12:00")
        for i in range(n):
            app.task(cond, name=f"p{i}")(make(i))
        app.start()
        await asyncio.sleep(0.05)
        gc.collect()
        gc.disable()
        ends["s"] = 0.0
        t0 = time.thread_time()
        clock.advance(1.0)
        while len(entered) < n:
            await asyncio.sleep(0)
        total = time.thread_time() - t0
        while any(t.is_alive() for t in app.tasks.values()):
            await asyncio.sleep(0)
        gc.enable()
        app.shut_down()
        await app.wait(5)
        _unwrap_streams()
        return total / n, ends["s"] / n

    real, sink = sys.stdout, open(os.devnull, "w")  # noqa: SIM115
    sys.stdout = sink
    try:
        got: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for i in range(42):
            for capture in (True, False) if i % 2 else (False, True):
                got[capture].append(asyncio.run(one(capture)))
    finally:
        sys.stdout = real
        sink.close()
    for capture, rows in got.items():
        rows = rows[1:]  # the first is a warm-up
        entered = statistics.median(r[0] for r in rows) * 1e6
        ended = statistics.median(r[1] for r in rows) * 1e6
        print(
            f"capture_output={capture!s:5}: until the last run entered {entered:5.1f} us/run, "
            f"recording the ends {ended:4.1f} us/run"
        )


async def _panel(with_panel: bool) -> cProfile.Profile:
    from notebook_sched import Scheduler
    from notebook_sched.conds import every

    app = Scheduler()

    async def noop() -> None:
        pass

    for i in range(100):
        app.task(every("0.1 seconds"), name=f"t{i}")(noop)
    app.start()
    panel = app.panel() if with_panel else None
    await asyncio.sleep(1)

    def count() -> int:
        return sum(sum(c.values()) for c in app.run_counts().values())

    c0, t0 = count(), time.time()
    profile = cProfile.Profile()
    profile.enable()
    await asyncio.sleep(3)
    profile.disable()
    print(f"panel={with_panel}: {(count() - c0) / (time.time() - t0):.0f} runs/s of 1,000 asked")
    app.shut_down(force=True)
    await app.wait()
    del panel
    return profile


def panel() -> None:
    asyncio.run(_panel(False))
    profile = asyncio.run(_panel(True))
    pstats.Stats(profile).sort_stats("cumtime").print_stats(25)


if __name__ == "__main__":
    from bench.profile_batch import batch

    {"burst": burst, "panel": panel, "phases": phases, "capture": capture, "batch": batch}[
        sys.argv[1] if len(sys.argv) > 1 else "burst"
    ]()
