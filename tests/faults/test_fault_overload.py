"""Overload: far more due than the scheduler can do — 2,000 thread tasks
``every("0.01 seconds")``, 200,000 runs a second asked for — and the loop it
shares with the user still answers. A 1 ms sleeper on the same loop (what a
kernel's shell message meets) is late by at most a few slices; timeouts stay
on time; every task has its turn. Generous bounds: before the scheduler kept
to its share of the loop (``_engine/share.py``) and reused its worker threads,
the same load held the loop 200-450 ms at a time (sleeper p99 120-375 ms,
38-557 wake-ups in 3-6 s at load average 1-5)."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from notebook_sched.args import TerminationFlag
from notebook_sched.conds import every
from notebook_sched.exc import TaskTerminationException

pytestmark = pytest.mark.faults

TASKS = 2_000
WINDOW = 3.0  # seconds the sleeper measures the loaded loop
TIMEOUT = 0.2


def noop() -> None:
    pass


def waits_for_its_flag(flag=TerminationFlag()) -> None:
    flag.wait(30)
    raise TaskTerminationException()


def _percentile(values: list[float], q: float) -> float:
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, int(len(ranked) * q))]


def test_a_saturated_scheduler_leaves_the_loop_to_others(make_scheduler):
    app = make_scheduler()
    for i in range(TASKS):
        app.task(every("0.01 seconds"), name=f"t{i}", execution="thread")(noop)
    for i in range(5):
        app.task(every("0.3 seconds"), name=f"late{i}", execution="thread", timeout=TIMEOUT)(
            waits_for_its_flag
        )
    blocks: list[float] = []

    async def main() -> None:
        app.start()
        await asyncio.sleep(0.5)  # the first round of 2,000 starts is under way
        end = time.perf_counter() + WINDOW
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            blocks.append(time.perf_counter() - t0 - 0.001)
        app.shut_down(force=True)
        await app.wait()

    asyncio.run(main())

    p99 = _percentile(blocks, 0.99)
    assert p99 <= 0.100, f"the loop was held {p99 * 1000:.0f} ms (p99 of {len(blocks)} wake-ups)"
    # A free loop wakes the sleeper ~900 times a second; one the scheduler
    # kept to itself, a few dozen times.
    assert len(blocks) >= 200 * WINDOW, f"{len(blocks)} wake-ups in {WINDOW} s"

    runs = app.runs()
    counts = {name: sum(n.values()) for name, n in app.run_counts().items()}
    served = sum(1 for i in range(TASKS) if counts.get(f"t{i}", 0) > 0)
    assert served == TASKS, f"{TASKS - served} of {TASKS} tasks never started"
    late = [
        r.end.timestamp() - r.start.timestamp() - TIMEOUT
        for r in runs
        if r.task.startswith("late") and r.reason == "timeout"
    ]
    assert late, "no run reached its timeout"
    assert statistics.median(late) <= 0.050, f"timeouts late by {statistics.median(late):.3f} s"
