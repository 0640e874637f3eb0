"""The zygote's copy of its runs' timeouts: a process run ends at its
deadline even while the kernel cannot act.

The kernel's watchdog is a thread of the kernel: it needs the kernel's GIL,
and a thread of the kernel stuck in C code that holds it (a regular
expression backtracking, a long numpy call) holds the watchdog too. The
zygote is a process of its own, single-threaded, idle in ``select``: told a
run's deadline (on ``time.monotonic``'s clock, CLOCK_MONOTONIC, the same in
every process of the machine) and grace with the fork, it takes the same
steps as the kernel would, on time — the flag set, SIGTERM to the run's
process group, SIGKILL after the grace — and when it reaps the child, it
tells the kernel that the run ended at its deadline, so that the record says
``timeout``. The kernel still takes its own steps when it can; the child
raises ``TaskTerminationException`` once however many SIGTERMs arrive.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import signal
import struct
import time

__all__ = ["HEAD", "Deadlines", "pack", "unpack"]

_FORMAT = "!dd"  # the deadline (CLOCK_MONOTONIC seconds), the grace (seconds)
HEAD = struct.calcsize(_FORMAT)


def pack(at: float, grace: float) -> bytes:
    """The head of a spawn message that carries a deadline."""
    return struct.pack(_FORMAT, at, grace)


def unpack(head: bytes) -> tuple[float, float]:
    at, grace = struct.unpack(_FORMAT, head)
    return at, grace


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the child and whatever it started
    except ProcessLookupError:  # not yet its own group leader
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


class _Run:
    __slots__ = ("flag_w", "grace", "over", "pid", "queued", "reached")

    def __init__(self, pid: int, grace: float, flag_w: int) -> None:
        self.pid = pid
        self.grace = grace
        self.flag_w = flag_w
        self.reached = False  # its deadline came while it lived
        self.over = False  # reaped: a step still queued for it is void (its pid may be reused)
        self.queued = True  # a step of it is in the heap


class Deadlines:
    """The live runs that have a deadline, by child pid, and the steps still
    to take."""

    def __init__(self) -> None:
        self._runs: dict[int, _Run] = {}
        self._steps: list[tuple[float, int, _Run, signal.Signals]] = []
        self._seq = itertools.count()
        self._void = 0  # steps in the heap of runs that are over

    def add(self, pid: int, at: float, grace: float, flag_w: int) -> None:
        os.set_blocking(flag_w, False)  # the zygote never waits on a child
        run = self._runs[pid] = _Run(pid, grace, flag_w)
        heapq.heappush(self._steps, (at, next(self._seq), run, signal.SIGTERM))

    def fds(self) -> list[int]:
        """Their flag pipes' write ends, which no other child may hold."""
        return [run.flag_w for run in self._runs.values()]

    def wait(self) -> float | None:
        """Seconds until the next step (``None``: none to take)."""
        if not self._steps:
            return None
        return max(0.0, self._steps[0][0] - time.monotonic())

    def due(self) -> bool:
        return bool(self._steps) and self._steps[0][0] <= time.monotonic()

    def take_due(self) -> None:
        """Take the steps whose time has come. Call it once the children that
        have exited are reaped: a run that is over is not stepped on."""
        now = time.monotonic()
        while self._steps and self._steps[0][0] <= now:
            when, _, run, sig = heapq.heappop(self._steps)
            run.queued = False
            if run.over:
                self._void -= 1
                continue
            if sig == signal.SIGTERM:
                run.reached = True
                # The flag before the signal: by it the child tells the
                # scheduler's SIGTERM from anyone else's.
                with contextlib.suppress(OSError):  # full, or the child closed its end
                    os.write(run.flag_w, b"x")
                kill = (when + run.grace, next(self._seq), run, signal.SIGKILL)
                heapq.heappush(self._steps, kill)
                run.queued = True
            _signal_group(run.pid, sig)

    def reached(self, pid: int) -> bool:
        """Whether child ``pid``'s run met its deadline (a step was taken)."""
        run = self._runs.get(pid)
        return run is not None and run.reached

    def forget(self, pid: int) -> bool:
        """Child ``pid`` has exited; ``True`` if it was ended at its deadline."""
        run = self._runs.pop(pid, None)
        if run is None:
            return False
        run.over = True
        os.close(run.flag_w)
        if run.queued:
            self._void += 1
            # Most runs end long before their deadline: their steps go in
            # bulk, so the heap holds live runs, not hours of ended ones.
            if self._void > 64 and self._void * 2 > len(self._steps):
                self._steps = [step for step in self._steps if not step[2].over]
                heapq.heapify(self._steps)
                self._void = 0
        return run.reached
