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
