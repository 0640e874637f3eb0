"""``every("10 seconds")``: once at once, then once per interval."""

from __future__ import annotations

from .._durations import format_duration, parse_timedelta
from .base import Condition, Context

__all__ = ["BASED", "Every", "every"]

# Rocketry's every(..., based=...): what the interval counts from
BASED = {"run": None, "success": "success", "fail": "fail", "finish": "finish"}


class Every(Condition):
    """True for a task with no recorded start, and then once ``interval``
    seconds have passed since its last start (as the run history records it,
    so across restarts with a ``runs_db`` file).

    A scheduler-level condition (no task) counts from the scheduler's start.
    With ``based="success"`` (``"fail"``, ``"finish"``), as in Rocketry, the
    interval counts from the task's last success (failure, end) instead.
    """

    def __init__(self, interval: object, based: str = "run") -> None:
        if based not in BASED:
            raise ValueError(
                f"every(based=...) is one of {', '.join(map(repr, BASED))}, got {based!r}"
            )
        self.interval = parse_timedelta(interval, what="every() interval")
        self.based = based

    def _due(self, ctx: Context) -> float | None:
        """When it turns true (wall time, as of now); ``None`` when it is true
        whatever the time."""
        if ctx.task is None:  # a scheduler-level condition: from the scheduler's start
            up = ctx.uptime()
            return None if up is None else ctx.now + (self.interval - up)
        # Since the last start as the run history records it: with a runs_db
        # file, a restarted kernel waits out an interval that has not passed.
        # Within one process the scheduler measures it on the monotonic
        # clock, so a step of the wall clock neither stretches nor shortens it.
        elapsed = ctx.elapsed(ctx.task, BASED[self.based])
        return None if elapsed is None else ctx.now + (self.interval - elapsed)

    def _is_true(self, ctx: Context) -> bool:
        due = self._due(ctx)
        return due is None or ctx.now >= due

    def next_change(self, ctx: Context) -> float | None:
        due = self._due(ctx)
        return due if due is not None and ctx.now < due else None

    def __str__(self) -> str:
        based = "" if self.based == "run" else f" based on {self.based}"
        return f"every {format_duration(self.interval)}{based}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Every) and (other.interval, other.based) == (
            self.interval,
            self.based,
        )

    def __hash__(self) -> int:
        return hash((Every, self.interval, self.based))


def every(interval: object, based: str = "run") -> Condition:
    """True at once for a task with no recorded start, then once per
    ``interval`` (seconds, ``"10 seconds"``, ``"1h20m"``, a
    ``timedelta``) measured from the task's last start — or, with
    ``based="success"``, ``"fail"`` or ``"finish"`` (Rocketry's), from its
    last success, failure or end."""
    return Every(interval, based)
