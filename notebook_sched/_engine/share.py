"""The scheduler's share of its loop: in slices of a few ms, and at most
a quarter of the loop once it has been busy for a while.

In a kernel the scheduler's loop is the kernel's: every millisecond the
scheduler works on it, a ``1+1`` the user just sent waits. So its work is
cut into slices (``SLICE``: evaluating what is due, starting runs, recording
ends) with the loop given back between them, and the kernel's messages are
served between two slices. That alone is not enough when more is due than
the scheduler can do: slice after slice, the loop would be the scheduler's
and the kernel's own work — a dozen turns of the loop for one ``1+1`` —
would wait a slice at every turn.

So the share is a token bucket. The scheduler may work back to back for
``BURST`` seconds of work (a thousand runs due at once start at full speed);
beyond that it takes at most ``RATE`` of the loop: after a slice it stays
off the loop until the bucket is no longer in debt, and whatever else is
ready — the kernel's shell messages, the user's tasks, the panel — has the
loop meanwhile. What is left stays queued for the next slice, and each task
starts once when its turn comes, not once per due moment it missed.

Both parts that work on the loop in slices, the scheduling loop
(``loop.py``) and the recording of ends (``ledger.py``), draw on one
bucket. A slice's time is wall time: a slice slowed by other threads holding
the GIL (thousands of thread runs) counts as long, so the scheduler starts
fewer runs, which is what relieves the GIL.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["BURST", "RATE", "SLICE", "LoopShare"]

SLICE = 0.002  # seconds of evaluation in one slice, at most (then its starts: loop.BATCH)
BURST = 0.25  # seconds of work the scheduler may do back to back
RATE = 0.25  # the share of the loop it takes beyond that
_TINY = 1e-6


class LoopShare:
    """How long the scheduler should stay off its loop now."""

    __slots__ = ("_at", "_clock", "_tokens")

    def __init__(self) -> None:
        self._clock = time.perf_counter
        self._tokens = BURST  # seconds of work it may do now, back to back
        self._at = self._clock()  # when ``_tokens`` was last brought up to date

    def now(self) -> float:
        return self._clock()

    def _refill(self, now: float) -> float:
        tokens = min(BURST, self._tokens + (now - self._at) * RATE)
        self._tokens, self._at = tokens, now
        return tokens

    def spent(self, began: float) -> None:
        """A slice that began at ``began`` (``now()``) has just ended."""
        ended = self._clock()
        self._tokens = self._refill(ended) - (ended - began)

    def pause(self) -> float:
        """Seconds to wait before the next slice (0: go on now)."""
        tokens = self._refill(self._clock())
        return -tokens / RATE if tokens < 0 else 0.0

    def over(self, began: float) -> bool:
        """Whether a slice that began at ``began`` has used its time."""
        return self._clock() - began > SLICE

    async def give_back(self) -> None:
        """Let everything else on the loop run, timers that came due
        included, until the pause is over (the recording of ends may
        lengthen it meanwhile).

        ``sleep(0)`` would resume the caller before the timers that came due
        during its slice (the loop moves them to its queue after the
        resumption), so a timer would wait two slices; a timer of our own
        comes after them."""
        await asyncio.sleep(max(self.pause(), _TINY))
        while (pause := self.pause()) > _TINY:
            await asyncio.sleep(pause)
