"""Small helpers shared by every scenario; standard library only (the peers'
virtualenvs import this module too)."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "
READY_LINE = "BENCH-READY"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between the
    closest ranks (numpy's default)."""
    if not values:
        return math.nan
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))


def summary(values: Iterable[float], *, low_is_bad: bool = False) -> dict[str, Any]:
    """Median and p99 of samples. With ``low_is_bad`` (a throughput), "p99" is
    the 1st percentile: the value 99 % of the samples are at least as good as."""
    xs = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return {"n": 0, "median": None, "p99": None, "min": None, "max": None, "mean": None}
    return {
        "n": len(xs),
        "median": percentile(xs, 50),
        "p99": percentile(xs, 1 if low_is_bad else 99),
        "min": min(xs),
        "max": max(xs),
        "mean": sum(xs) / len(xs),
    }


def args_from_argv() -> dict[str, Any]:
    """A scenario's arguments: one JSON object as the last command-line word."""
    return json.loads(sys.argv[-1]) if len(sys.argv) > 1 else {}


def emit(result: dict[str, Any]) -> None:
    """Hand the result to the orchestrator: one prefixed JSON line on stdout."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def rss_bytes() -> int:
    """This process's resident set size now (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def next_whole_second(ahead: float) -> int:
    """The first whole epoch second at least ``ahead`` seconds from now, moved
    past local midnight if the window to it would wrap (conditions given as
    ``HH:MM:SS`` must not straddle midnight)."""
    target = math.ceil(time.time() + ahead)
    lt = time.localtime(target)
    seconds_of_day = lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec
    if seconds_of_day < 10 or seconds_of_day > 86400 - 10:
        # Too close to midnight: wait it out rather than build a wrapping window.
        time.sleep(max(0.0, 86400 - seconds_of_day + 11) if seconds_of_day > 10 else 11)
        return next_whole_second(ahead)
    return target


def hhmmss(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def hhmm(epoch: float) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


def far_window() -> tuple[str, str]:
    """A daily window (``HH:MM``, ``HH:MM``) that opens an hour from now and
    lasts an hour: a start condition not due for hours."""
    now = time.time()
    return hhmm(now + 3600), hhmm(now + 7200)


def quiet_logging() -> None:
    """Keep the schedulers' own INFO logging off stdout (it would be measured)."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def pid() -> int:
    return os.getpid()


async def hold_until_told(limit: float) -> dict[str, float]:
    """For the idle figures: say ``BENCH-READY`` on stdout, then let the loop
    sleep, without one wake-up of our own, until the orchestrator writes a line
    on stdin (it samples this process's CPU from outside meanwhile, through
    /proc). Returns the CPU seconds per wall second over the hold, from
    ``getrusage`` (self, all threads) — the in-process cross-check."""
    import asyncio
    import resource

    loop = asyncio.get_running_loop()
    told: asyncio.Future[None] = loop.create_future()
    fd = sys.stdin.fileno()

    def on_input() -> None:
        if not told.done():
            told.set_result(None)

    loop.add_reader(fd, on_input)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    sys.stdout.write(READY_LINE + "\n")
    sys.stdout.flush()
    try:
        await asyncio.wait_for(told, limit)
    except TimeoutError:
        pass
    finally:
        loop.remove_reader(fd)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - t0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"cpu_s": cpu, "wall_s": wall, "cpu_fraction": cpu / wall if wall else 0.0}


# ------------------------------------------------ loop-block figures (8, 9)


class Sleeper:
    """The "1 ms sleeper": a coroutine on the measured loop that loops
    ``t0 = perf_counter(); await asyncio.sleep(0.001); block = perf_counter()
    - t0 - 0.001`` and keeps every block (s) with the moment its sleep ended,
    so a figure can be read over any part of the window. ``mark(name)`` notes
    a moment (``perf_counter``) to split the window at."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.ends: list[float] = []
        self.blocks: list[float] = []
        self.marks: dict[str, float] = {}
        self._running = False
        self._task: Any = None

    def start(self) -> None:
        import asyncio

        self._running = True
        self.t0 = time.perf_counter()
        self.epoch0 = time.time()  # to place another process's time.time() stamps
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        import asyncio

        interval = self.interval
        perf = time.perf_counter
        ends, blocks = self.ends, self.blocks
        while self._running:
            t0 = perf()
            await asyncio.sleep(interval)
            t1 = perf()
            ends.append(t1)
            blocks.append(t1 - t0 - interval)

    def mark(self, name: str) -> float:
        self.marks[name] = time.perf_counter()
        return self.marks[name]

    def at_epoch(self, epoch: float) -> float:
        """An epoch time (``time.time()``, any process) on this sleeper's clock."""
        return self.t0 + (epoch - self.epoch0)

    async def stop(self) -> None:
        self._running = False
        if self._task is not None:
            await self._task
        self.t1 = time.perf_counter()

    def select(
        self, since: float | None = None, until: float | None = None
    ) -> list[tuple[float, float]]:
        """(block, end) of the sleeps that ended in [since, until] (all, by
        default), ``end`` in seconds after the sleeper started."""
        lo = -math.inf if since is None else since
        hi = math.inf if until is None else until
        return [
            (b, e - self.t0) for b, e in zip(self.blocks, self.ends, strict=True) if lo <= e <= hi
        ]

    def figure(self, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        return block_figure(self.select(since, until))


def block_figure(chosen: list[tuple[float, float]]) -> dict[str, Any]:
    """Longest, p99 and median of (block, end) samples, their count, and the
    five longest with when they ended."""
    xs = [b for b, _ in chosen]
    top = sorted(chosen, reverse=True)[:5]
    return {
        "n": len(xs),
        "longest": max(xs) if xs else None,
        "p99": percentile(xs, 99) if xs else None,
        "median": percentile(xs, 50) if xs else None,
        "top": [(round(b, 6), round(e, 4)) for b, e in top],
    }


async def locked_window(
    path: str, window_s: float, lock_after: float, hold: float, start: Any = None
) -> tuple[Sleeper, dict[str, Any], float, float]:
    """Figure 8's window: a locker process is started first (outside the
    window), set to take ``path``'s write lock ``lock_after`` seconds into it;
    then the sleeper starts, ``start()`` is called (the scheduler's start;
    ``None`` for the bare loop), and the loop runs ``window_s`` seconds.
    Returns the sleeper, the locker's times (s after the window started) and
    the window's epoch bounds."""
    import asyncio

    begin = time.time() + 0.5  # the locker's interpreter starts meanwhile
    proc = start_locker(path, begin + lock_after, hold)
    await asyncio.sleep(max(0.0, begin - time.time()))
    sleeper = Sleeper()
    sleeper.start()
    w0 = time.time()
    if start is not None:
        sleeper.mark("start")
        start()
    await asyncio.sleep(window_s)
    await sleeper.stop()
    w1 = time.time()
    lock = locker_result(proc)  # waits for the locker: after the window
    for k in ("asked", "locked", "released"):
        if k in lock:
            lock[k] = lock[k] - w0
    return sleeper, lock, w0, w1


async def bare_window(duration: float) -> Sleeper:
    """The same sleeper on the same loop with nothing else, ``duration`` s."""
    import asyncio

    sleeper = Sleeper()
    sleeper.start()
    await asyncio.sleep(duration)
    await sleeper.stop()
    return sleeper


# Another process holding a SQLite file's write lock: it connects at once,
# waits until epoch ``at``, takes the lock with BEGIN IMMEDIATE (waiting for
# it if the scheduler is in a write), holds it ``hold`` seconds, rolls back.
LOCKER_CODE = r"""
import sqlite3, sys, time
path, at, hold = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
conn = sqlite3.connect(path, timeout=30, isolation_level=None)
time.sleep(max(0.0, at - time.time()))
asked = time.time()
conn.execute("BEGIN IMMEDIATE")
got = time.time()
print("LOCKED", asked, got, flush=True)
time.sleep(hold)
conn.execute("ROLLBACK")
print("RELEASED", time.time(), flush=True)
conn.close()
"""


def start_locker(path: str, at: float, hold: float) -> Any:
    """Start the locker process (before the measured window: ``subprocess``
    blocks the caller while it forks)."""
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-c", LOCKER_CODE, path, repr(at), repr(hold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def locker_result(proc: Any, timeout: float = 30) -> dict[str, Any]:
    """Wait for the locker and read when it held the lock (epoch seconds)."""
    out, err = proc.communicate(timeout=timeout)
    found: dict[str, Any] = {"returncode": proc.returncode}
    for line in out.splitlines():
        words = line.split()
        if words[:1] == ["LOCKED"]:
            found["asked"], found["locked"] = float(words[1]), float(words[2])
        elif words[:1] == ["RELEASED"]:
            found["released"] = float(words[1])
    if proc.returncode != 0:
        found["error"] = (err.strip().splitlines() or ["?"])[-1][:200]
    return found
