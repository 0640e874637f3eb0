"""Profiles behind the README's analysis (cProfile; not part of the suite).

    .venv/bin/python -m bench.profiles burst    # 1,000 tasks due at once
    .venv/bin/python -m bench.profiles panel    # 100 tasks every 0.1 s, panel built

``burst`` times each scheduler step and profiles from the step that launches
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
    from notebook_sched._engine import scheduler as engine

    profile = cProfile.Profile()
    steps: list[tuple[float, float, int]] = []
    original = engine.Scheduler._step
    started = {"on": False}

    def step(self: Any, now: float) -> Any:
        t0 = time.perf_counter()
        launches = original(self, now)
        steps.append((time.time(), time.perf_counter() - t0, len(launches)))
        if launches and not started["on"]:
            started["on"] = True
            profile.enable()
            asyncio.get_running_loop().call_later(0.2, profile.disable)
        return launches

    engine.Scheduler._step = step  # type: ignore[method-assign]
    result = asyncio.run(ns_script.burst(1000, 1))
    print("start latency", result["start_latency_s"])
    for at, took, n in steps:
        if took > 0.001:
            print(f"step at {at:.3f} took {took * 1000:.1f} ms, {n} launches")
    pstats.Stats(profile).sort_stats("tottime").print_stats(20)


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
    {"burst": burst, "panel": panel}[sys.argv[1] if len(sys.argv) > 1 else "burst"]()
